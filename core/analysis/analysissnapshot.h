// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysisoptions.h"
#include "analysis/gram.h"
#include "analysis/samplecache.h"
#include "analysis/statsblock.h"
#include "model/tensorname.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace basin::analysis {

// One analysed tensor: its accumulators (which hold the Gram cache), its sample, and the
// per-tensor slerp / Model Stock figures derived from the Gram cache.
struct TensorEntry {
    std::string name;
    TensorNameInfo nameInfo;
    std::vector<std::uint64_t> shape;
    std::uint64_t numel = 0;
    std::vector<std::string> dtypes; // per model, base first ("" when absent)
    std::vector<bool> present;       // per fine-tune: analysed (not skipped)
    StatsBlock stats;
    TensorSample sample;
    std::vector<std::optional<SlerpInfo>> slerp; // per fine-tune, base → fine-tune
    std::optional<ModelStockInfo> modelStock;

    Gram gram() const { return Gram::fromStats(stats); }
};

// The rows of the layer views: transformer layers, then tensors outside them by kind.
enum class GroupKind { Embed, Layer, Norm, Head, Other };

struct GroupEntry {
    GroupKind kind = GroupKind::Other;
    int layer = -1;                   // for GroupKind::Layer
    std::string label;                // "embed", "L0", …, "norm", "head", "other"
    std::vector<std::size_t> tensors; // indices into AnalysisSnapshot::tensors, in order
    StatsBlock stats;                 // the tensors' blocks merged in that order
    std::optional<ModelStockInfo> modelStock;
};

// A tensor (or one model's copy of it) the pass left out, and why.
struct SkippedTensor {
    std::string tensor;
    int model = 0;      // 0 = base (then the tensor is skipped for every model)
    std::string reason; // "missing", "shape_mismatch", "unsupported_dtype"
    std::string message;
};

// The immutable result of one analysis pass (shared between threads as
// shared_ptr<const AnalysisSnapshot>). Fine-tune indices in the accumulators are 0-based;
// model index 0 is the base in names and paths.
struct AnalysisSnapshot {
    AnalysisOptions options;
    std::vector<std::string> modelPaths; // base first
    std::vector<std::string> modelNames; // display names, base first
    std::vector<TensorEntry> tensors;    // in the ModelSet's order
    std::vector<GroupEntry> groups;      // embed, L0 … Ln−1, norm, head, other (non-empty)
    StatsBlock total;
    std::optional<ModelStockInfo> totalModelStock;
    std::vector<SkippedTensor> skipped;
    std::vector<std::string> warnings;
    std::uint64_t bytesRead = 0;
    double seconds = 0.0;

    int fineTunes() const { return static_cast<int>(modelNames.size()) - 1; }
    // The analysed tensor of that name, or null (never analysed or skipped for the base).
    const TensorEntry *findTensor(std::string_view name) const;
    // The group of transformer layer `layer`, or null when no tensor has that index.
    const GroupEntry *findLayer(int layer) const;
    // Label of fine-tune t (0-based): its display name, or "ft<t+1>" when names repeat.
    std::string fineTuneLabel(int t) const;
};

// Group a tensor belongs to.
GroupKind groupKindOf(const TensorNameInfo &info);
std::string_view groupKindName(GroupKind kind); // "embed", "layer", "norm", "head", "other"

// Fills the derived per-tensor figures (slerp, Model Stock) from each tensor's Gram cache,
// then builds groups and total by merging tensor blocks in tensor order (a fixed order, so
// the sums are reproducible). Called by the pass; exposed for tests and tools.
void finishSnapshot(AnalysisSnapshot &snapshot);

// Merges the blocks of the tensors a predicate selects, in tensor order (e.g. one kind in
// one layer for the per-kind heatmap).
StatsBlock combineTensors(const AnalysisSnapshot &snapshot,
                          const std::function<bool(const TensorEntry &)> &select);

} // namespace basin::analysis
