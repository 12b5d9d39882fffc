// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "model/checkpoint.h"
#include "model/tensorname.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace basin {

// One tensor name across the models of a set.
struct AlignedTensor {
    std::string name;
    TensorNameInfo nameInfo;          // layer index and kind
    std::vector<std::uint64_t> shape; // the base's shape (else the first model's)
    std::uint64_t numel = 0;
    // Per model (index 0 = base, 1..T = fine-tunes): the tensor, or null when missing.
    std::vector<const TensorInfo *> perModel;
    // Models (indices as above) whose shape differs from `shape` (resized vocabularies).
    std::vector<int> shapeMismatch;
    std::vector<int> missing;

    bool complete() const { return missing.empty() && shapeMismatch.empty(); }
};

// A base and fine-tunes aligned by tensor name. Never broadcasts: missing and mis-shaped
// tensors are reported per tensor and left to the caller's rule.
class ModelSet {
public:
    // models[0] is the base. Fails (InvalidArgument) with no model.
    static Result<std::shared_ptr<const ModelSet>>
    create(std::vector<std::shared_ptr<const Checkpoint>> models);

    int modelCount() const;  // base included
    int fineTuneCount() const { return modelCount() - 1; }
    const Checkpoint &model(int index) const;
    std::shared_ptr<const Checkpoint> modelPtr(int index) const;

    // Union of tensor names, in the base's file order then the others' extra names.
    const std::vector<AlignedTensor> &tensors() const;
    // Number of transformer layers seen (max layer index + 1; 0 when none).
    int layerCount() const;
    // Human-readable findings: "ft2: model.embed_tokens.weight has shape [130, 32], base [128, 32]".
    const std::vector<std::string> &problems() const;

    // Counts NaN and ±Inf in one model's tensor (reads it).
    struct NonFiniteCount { std::uint64_t nan = 0, inf = 0; };
    Result<NonFiniteCount> scanNonFinite(int modelIndex, const AlignedTensor &tensor) const;

private:
    ModelSet() = default;
    std::vector<std::shared_ptr<const Checkpoint>> m_models;
    std::vector<AlignedTensor> m_tensors;
    std::vector<std::string> m_problems;
    int m_layerCount = 0;
};

} // namespace basin
