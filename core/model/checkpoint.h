// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"
#include "io/dtype.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace basin {

// One tensor of a checkpoint, as its header describes it.
struct TensorInfo {
    std::string name;
    Dtype dtype = Dtype::F32;
    std::vector<std::uint64_t> shape;
    std::uint64_t numel = 0; // product of shape (1 for a scalar)
    std::uint64_t byteSize = 0;
    int fileIndex = 0;            // into Checkpoint::files()
    std::uint64_t fileOffset = 0; // absolute byte offset of the data in that file
};

// A validated, header-only view of a model on disk: a .safetensors file, a folder with
// model.safetensors, or a sharded folder with model.safetensors.index.json. Tensor bytes
// are memory-mapped per file and read on demand. Thread-safe for concurrent reads.
class Checkpoint {
public:
    // Opens and validates every header (FORMATS.md rules, fail closed). Returns an error
    // naming the file, the tensor and the rule on any violation.
    static Result<std::shared_ptr<const Checkpoint>> open(const std::filesystem::path &path);

    ~Checkpoint();
    Checkpoint(const Checkpoint &) = delete;
    Checkpoint &operator=(const Checkpoint &) = delete;

    // The folder (or the single file) that was opened.
    const std::filesystem::path &path() const;
    // A short display name: the folder's (or file's) name.
    std::string displayName() const;
    // Data files, in the order tensors refer to them (fileIndex).
    const std::vector<std::filesystem::path> &files() const;
    // Tensors in file order (file index, then offset): the order to stream them in.
    const std::vector<TensorInfo> &tensors() const;
    const TensorInfo *find(std::string_view name) const;

    // __metadata__ of the first file (string → string).
    const std::map<std::string, std::string> &metadata() const;
    // config.json of the folder, or null when absent.
    const nlohmann::json &config() const;
    // Tokenizer / generation files present in the folder (absolute paths).
    const std::vector<std::filesystem::path> &sideFiles() const;
    // Non-fatal findings (total_size mismatch, extra shards, index beats model.safetensors).
    const std::vector<std::string> &warnings() const;

    std::uint64_t parameterCount() const;
    std::uint64_t totalBytes() const;

    // Decodes a tensor to f32 into out (out.size() == numel). Errors: UnsupportedDtype
    // (names dtype and tensor), IoError when the mapping cannot be read.
    Result<void> readF32(const TensorInfo &tensor, std::span<float> out) const;
    // Decodes elements [firstElement, firstElement + out.size()) of the tensor (flat,
    // row-major), for chunked passes over large tensors. Errors as above, plus
    // InvalidArgument when the range is outside the tensor.
    Result<void> readF32(const TensorInfo &tensor, std::uint64_t firstElement,
                         std::span<float> out) const;
    // Decodes the elements at the given flat indices (each < numel) into out (same size):
    // the sample of a tensor that is otherwise streamed in slices. Errors as readF32, and
    // InvalidArgument for an index outside the tensor.
    Result<void> gatherF32(const TensorInfo &tensor, std::span<const std::uint64_t> indices,
                           std::span<float> out) const;
    // Copies the raw little-endian bytes (out.size() == byteSize).
    Result<void> readRaw(const TensorInfo &tensor, std::span<std::byte> out) const;
    // Tells the kernel the tensor's pages are no longer needed (madvise DONTNEED), so
    // streaming a model larger than RAM keeps memory bounded.
    void release(const TensorInfo &tensor) const;
    // The same for elements [firstElement, firstElement + count) only (a slice already read).
    void release(const TensorInfo &tensor, std::uint64_t firstElement, std::uint64_t count) const;
    // Asks the kernel to start reading the tensor's pages (madvise WILLNEED); a prefetch
    // thread calls this one tensor ahead.
    void prefetch(const TensorInfo &tensor) const;

    struct Impl;

private:
    explicit Checkpoint(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace basin
