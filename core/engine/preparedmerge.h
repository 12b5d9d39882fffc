// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"
#include "engine/mergerequest.h"
#include "io/shardplanner.h"
#include "merge/method.h"
#include "model/checkpoint.h"
#include "recipe/mergeplan.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace basin::engine {

// How one input tensor enters a kernel (docs/METHODS.md, shape rules).
enum class InputUse {
    Whole,   // same shape as the output
    Cropped, // an embedding larger than the output: its leading block is used
    Skipped, // any other shape mismatch: left out of this tensor, with a warning
};

// One tensor read for an output tensor.
struct InputSource {
    int model = -1;                     // index into PreparedMerge::models
    const TensorInfo *tensor = nullptr; // in that model's catalog
    InputUse use = InputUse::Whole;
    int planInput = -1; // index into the plan tensor's inputs; -1 for the base
};

// One output tensor with everything decided before any data is read.
struct OutputTensor {
    std::vector<std::uint64_t> shape;
    std::uint64_t numel = 0;
    Dtype dtype = Dtype::F32;
    std::optional<InputSource> base; // the base, for methods that treat it apart
    std::vector<InputSource> inputs; // the plan's inputs in order, skipped ones included
    std::vector<std::string> notes;  // crops and skips, known from the headers

    // f32 bytes of the inputs actually read (skipped ones excluded).
    std::uint64_t inputFloatBytes() const;
    // Stored bytes of the inputs actually read.
    std::uint64_t inputRawBytes() const;
};

// A merge after every check that needs no tensor data: the models are open, the plan is
// made, shapes and output dtypes are decided, the shards are planned. A dry run stops here.
struct PreparedMerge {
    recipe::Recipe recipe;
    recipe::MergePlan plan;
    const merge::MethodDecl *method = nullptr;
    std::vector<std::shared_ptr<const Checkpoint>> models; // plan.models order
    std::vector<OutputTensor> outputs;                     // plan.tensors order
    ShardPlan shards;
    std::uint64_t seed = 0;
    // Methods whose output element i depends only on the inputs' element i can be streamed
    // in chunks (MergeOptions::streamElementwise).
    bool elementwise = false;
    int configModel = 0;                         // whose config.json the output starts from
    std::shared_ptr<const Checkpoint> tokenizer; // whose tokenizer/generation files are copied
    Dtype configDtype = Dtype::F32;              // torch_dtype of the output's config.json
    std::vector<std::string> warnings;           // plan warnings, dtype fallbacks, crops, skips
    int embeddingsCropped = 0;
    int modelsSkipped = 0;
};

// Opens every model the recipe reads (headers only), plans the merge (recipe/mergeplan.h),
// applies the shape rules (an embedding — embed_tokens, lm_head — larger than the output is
// cropped; any other mismatch leaves that model out of that tensor with a warning; never a
// broadcast), picks each tensor's output dtype (out_dtype, else dtype, else the stored dtype
// of the base, else of the first input) and plans the shards. Errors: the recipe's own
// (validation), NotFound / the reader's errors naming the model and file, UnsupportedDtype
// (an input tensor Basin cannot decode), ShapeMismatch (too few inputs left for the method
// after skipping), InvalidArgument (plan), Overflow (sizes).
Result<PreparedMerge> prepareMerge(const recipe::Recipe &recipe, const MergeOptions &options);

} // namespace basin::engine
