// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "io/dtype.h"
#include "recipe/recipe.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

// What a merge is asked to do and what it reports back. The CLI (`basin merge`) and the
// GUI's export fill a MergeRequest and call runMerge() (engine/mergerunner.h).
namespace basin::engine {

// Hugging Face's default shard limit: 5 GB of tensor data per file.
inline constexpr std::uint64_t kDefaultShardBytes = 5'000'000'000ull;

struct MergeOptions {
    // Tensor bytes per output file; 0 writes one model.safetensors whatever its size.
    std::uint64_t maxShardBytes = kDefaultShardBytes;
    // OpenMP threads for the kernels; 0 keeps the current default (OMP_NUM_THREADS, cores).
    int threads = 0;
    // Seed of the random methods (dare, della); overrides the recipe's `seed:`. Without
    // either the seed is 0, so a merge is reproducible by default.
    std::optional<std::uint64_t> seed;
    // Merge tensors holding NaN instead of refusing them (ErrorCode::NonFinite).
    bool allowNan = false;
    // Replace an existing non-empty output folder (only after the new one is complete).
    bool overwrite = false;
    // Whole-tensor methods: decode the next tensor's inputs to f32 on the prefetch thread,
    // ahead of the kernels (true), or on the engine's OpenMP threads right before the kernel
    // while the prefetch thread only reads the next tensors' bytes ahead (false: faster on a
    // small machine, and only one tensor's f32 inputs are ever held).
    bool decodeAhead = false;
    // Bytes read ahead of the tensor being merged, at most (the tensor being merged counts;
    // one tensor is always allowed, whatever its size): f32 buffers with decodeAhead, stored
    // bytes otherwise. Also bounds the idle f32 buffers kept for reuse.
    std::uint64_t prefetchBytes = 256ull << 20;
    // Stream element-wise methods (linear, task_arithmetic, passthrough, nearswap) in
    // cache-sized chunks instead of whole tensors. The bytes are the same either way; tests
    // turn this off to prove it.
    bool streamElementwise = true;
};

struct MergeRequest {
    recipe::Recipe recipe; // validated, model paths resolved (readRecipeFile does both)
    std::filesystem::path outDir;
    MergeOptions options;
};

// One output tensor, as merged.
struct TensorReport {
    std::string name;
    Dtype dtype = Dtype::F32;
    std::vector<std::uint64_t> shape;
    bool slerpFellBack = false;
    std::uint64_t overflowed = 0; // finite values that became ±Inf in the output dtype
    std::vector<std::string> warnings;
};

struct ShardReport {
    std::string fileName;
    std::uint64_t fileBytes = 0; // whole file, header included
    std::string sha256;          // lower-case hex of the whole file
};

struct MergeReport {
    std::filesystem::path outDir;
    std::vector<TensorReport> tensors; // output order
    std::vector<ShardReport> shards;
    // Findings worth a line each: plan warnings, models skipped, embeddings cropped, slerp
    // fallbacks, NaN merged, overflow. Per-tensor detail is in `tensors`.
    std::vector<std::string> warnings;
    std::uint64_t seed = 0;
    std::uint64_t tensorBytes = 0; // tensor data written
    int slerpFallbacks = 0;        // tensors whose slerp fell back to lerp
    int modelsSkipped = 0;         // (tensor, model) pairs left out for a shape mismatch
    int embeddingsCropped = 0;     // (tensor, model) pairs cropped to the base's shape
    std::uint64_t nanValues = 0;   // NaN found in inputs (merged only with allowNan)
    std::uint64_t infValues = 0;   // ±Inf found in inputs
    std::uint64_t overflowed = 0;  // output values that overflowed to ±Inf
    double seconds = 0.0;
};

} // namespace basin::engine
