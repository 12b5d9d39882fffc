// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

namespace basin {

// A read-only file mapped into memory whole. Reads go through checked copies: before each
// one the file's current size is compared with the range (fstat) and the range's pages are
// mapped in (POPULATE_READ), so a file truncated while mapped yields IoError instead of
// SIGBUS. Residual race: a truncation between those checks and the copy can still raise
// SIGBUS; Basin treats files it reads as immutable and documents this (docs/FORMATS.md).
// Thread-safe.
class MappedFile {
public:
    // Opens and maps `path`. Errors: NotFound, PermissionDenied, IoError (not a regular
    // file, mmap failure).
    static Result<std::unique_ptr<MappedFile>> open(const std::filesystem::path &path);

    ~MappedFile();
    MappedFile(const MappedFile &) = delete;
    MappedFile &operator=(const MappedFile &) = delete;

    const std::filesystem::path &path() const { return m_path; }
    // Size when opened (the mapping's length).
    std::uint64_t size() const { return m_size; }

    // Copies `out.size()` bytes at `offset` with pread (used for headers, before mapping
    // matters). Errors: IoError (short read, range outside the file).
    Result<void> readAt(std::uint64_t offset, std::span<std::byte> out) const;

    // The mapped bytes [offset, offset + length), after checking that the file still holds
    // them. Copy out promptly. Errors: IoError.
    Result<std::span<const std::byte>> view(std::uint64_t offset, std::uint64_t length) const;

    // Drops the pages of the range from this process (madvise DONTNEED); contents stay on
    // disk and are faulted back in on the next read.
    void release(std::uint64_t offset, std::uint64_t length) const;
    // Maps the range's pages into the process in one go (madvise POPULATE_READ, Linux
    // >= 5.14; a no-op on older kernels). view() calls it. Errors: IoError when the pages
    // are gone (file truncated) or unreadable.
    Result<void> populate(std::uint64_t offset, std::uint64_t length) const;
    // Asks the kernel to read the range ahead (madvise WILLNEED).
    void prefetch(std::uint64_t offset, std::uint64_t length) const;

private:
    MappedFile() = default;
    std::filesystem::path m_path;
    int m_fd = -1;
    std::uint64_t m_size = 0;
    void *m_base = nullptr;
};

// Maps errno from a failed system call on `path` to an Error ("PATH: what: strerror").
Error errnoError(int errnum, const std::filesystem::path &path, const std::string &what);

} // namespace basin
