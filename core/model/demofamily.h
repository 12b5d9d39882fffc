// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/progress.h"
#include "common/result.h"
#include "io/dtype.h"
#include "io/shardplanner.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

// A generated Llama-shaped model family (base + fine-tunes) whose task vectors have a
// known structure, so every analysis view has something true to show. Used by
// `basin demo`, the GUI's built-in example, tests and benchmarks.
namespace basin {

struct DemoFamilyOptions {
    std::string size = "tiny"; // tiny | small | medium | 1b
    int fineTunes = 3;
    Dtype dtype = Dtype::BF16; // BF16, F16 or F32
    std::uint64_t seed = 1;
    // Overrides of the preset (0 = keep the preset's value).
    int layers = 0;
    int hidden = 0;
    int intermediate = 0;
    int vocab = 0;
    int heads = 0;
    int kvHeads = 0;
    // Models whose tensor data exceeds this are sharded (0 = never).
    std::uint64_t maxShardBytes = 1'000'000'000;
    // RMS of a task vector relative to the RMS of its base tensor (the first fine-tune;
    // later ones are 1.25× and 1.5× larger). 0.01 puts bf16 deltas a few ulps from the
    // base, as in real bf16 fine-tunes.
    double relativeScale = 0.01;
};

struct DemoShape {
    int layers = 0;
    int hidden = 0;
    int intermediate = 0;
    int vocab = 0;
    int heads = 0;
    int kvHeads = 0;
    int headDim = 0;
};

// The preset with overrides applied and heads derived (head_dim 64 from hidden 256 up,
// kv heads = heads / 4 from 8 heads up). Errors: InvalidArgument (unknown size, values out
// of range, heads not dividing hidden).
Result<DemoShape> resolveDemoShape(const DemoFamilyOptions &options);

// Tensor names, dtypes and shapes in Llama order (embed, per layer: input norm, q, k, v,
// o, post-attention norm, gate, up, down; final norm; lm_head).
std::vector<PlannedTensor> demoTensorPlan(const DemoShape &shape, Dtype dtype);

struct DemoFamilyResult {
    DemoShape shape;
    std::vector<std::filesystem::path> modelFolders; // base first, then ft1…ftN
    std::uint64_t parametersPerModel = 0;
    std::uint64_t bytesPerModel = 0; // tensor data
};

// Writes OUT/base, OUT/ft1 … OUT/ftN (Hugging Face folders: config.json, tokenizer files,
// safetensors, sharded above maxShardBytes) and OUT/family.json. Each model is written
// into a temporary folder inside OUT and renamed into place when complete. Deterministic
// for a seed (independent of thread count). Errors: InvalidArgument, DestinationExists
// (OUT/base or OUT/ftK already there), Cancelled, NoSpace, PermissionDenied, IoError; no
// partial model folder is left behind.
Result<DemoFamilyResult> writeDemoFamily(const std::filesystem::path &outDir,
                                         const DemoFamilyOptions &options,
                                         const ProgressSink &progress = {},
                                         const CancelFlag *cancel = nullptr);

} // namespace basin
