// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"
#include "io/safetensorsheader.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace basin {

// Writes one .safetensors file whose tensor sizes are known up front: the header first,
// then the tensors' bytes streamed in order (any chunking), so no tensor needs to be held
// whole. Everything goes to a temporary sibling that finish() fsyncs and renames onto the
// final path; a writer destroyed before finish() removes its temporary.
class SafetensorsFileWriter {
public:
    // Creates the temporary file and writes the 8-byte length and the header built from
    // `entries` (data_offsets as given, contiguous from 0) and `metadata` (null: none).
    // Errors: InvalidArgument (entries not contiguous), PermissionDenied, NoSpace, IoError.
    static Result<std::unique_ptr<SafetensorsFileWriter>>
    create(const std::filesystem::path &finalPath, const std::vector<HeaderEntry> &entries,
           const std::map<std::string, std::string> *metadata);

    ~SafetensorsFileWriter();
    SafetensorsFileWriter(const SafetensorsFileWriter &) = delete;
    SafetensorsFileWriter &operator=(const SafetensorsFileWriter &) = delete;

    // Appends tensor data. Errors: InvalidArgument (more bytes than the header announced),
    // NoSpace, IoError.
    Result<void> append(std::span<const std::byte> bytes);
    // Checks every announced byte arrived, flushes, fsyncs and renames into place.
    // Errors: IncompleteBuffer (bytes missing), NoSpace, IoError.
    Result<void> finish();
    // Removes the temporary file; the final path is never touched.
    void abort();

    std::uint64_t dataBytesExpected() const { return m_expected; }
    std::uint64_t dataBytesWritten() const { return m_written; }
    const std::filesystem::path &finalPath() const { return m_final; }

private:
    SafetensorsFileWriter() = default;
    Result<void> writeAll(const std::byte *data, std::size_t size);
    Result<void> flush();

    std::filesystem::path m_final;
    std::filesystem::path m_temp;
    int m_fd = -1;
    std::uint64_t m_expected = 0;
    std::uint64_t m_written = 0;
    std::vector<std::byte> m_buffer;
    std::size_t m_buffered = 0;
    bool m_done = false;
};

} // namespace basin
