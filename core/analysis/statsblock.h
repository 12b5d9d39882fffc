// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/abshistogram.h"
#include "analysis/ulphistogram.h"

#include <cstdint>
#include <vector>

namespace basin::analysis {

// Sufficient statistics of one fine-tune's task vector τ = f64(X) − f64(B) over a set of
// coordinates (a chunk, a tensor, a layer, the whole model). Everything is a count, an
// f64 sum, a max, or a histogram, so blocks of disjoint coordinate sets merge exactly into
// the block of their concatenation; merging in a fixed order makes f64 sums reproducible.
struct ModelAccum {
    std::uint64_t count = 0; // coordinates where this model was present
    double sum = 0.0;        // Σ τ
    double sumSq = 0.0;      // Σ τ² (= G_tt)
    double m2 = 0.0;         // Σ (τ − mean)², combined with Chan's formula
    double sumAbs = 0.0;     // Σ |τ|
    double maxAbs = 0.0;     // max |τ| (NaN ignored)
    double baseSumSq = 0.0;  // Σ B² over the same coordinates
    double baseDot = 0.0;    // Σ B·τ (= b_t)
    std::uint64_t zeros = 0; // |τ| < zero threshold
    // TIES against the elected sign E = sgn⁺(Σ_k τ_k), no trimming.
    std::uint64_t tiesDropped = 0; // non-zero τ with sign ≠ E
    double tiesDroppedAbs = 0.0;   // their Σ |τ|
    // TIES after top-k trimming of every model at the pass's density.
    std::uint64_t trimKept = 0;    // kept non-zero coordinates
    std::uint64_t trimDropped = 0; // of those, sign ≠ the elected sign of the trimmed sum
    std::uint64_t nanCount = 0;    // NaN / ±Inf in the fine-tune's weights
    std::uint64_t infCount = 0;
    AbsHistogram absHist;  // |τ| at bf16 resolution
    bool ulpValid = false; // true when base and fine-tune were both stored as bf16
    UlpHistogram ulp;

    // Adds the statistics of a disjoint coordinate set (variance by Chan's formula).
    void merge(const ModelAccum &other);
};

// Statistics of a pair of fine-tunes (i < j) over the coordinates where both are present.
struct PairAccum {
    double dot = 0.0;        // Σ τ_i τ_j (= G_ij)
    std::uint64_t count = 0; // coordinates where both are present
    std::uint64_t bothNonzero = 0;
    std::uint64_t signConflicts = 0; // both non-zero, opposite signs
    std::uint64_t unionNonzero = 0;  // τ_i or τ_j non-zero
    std::uint64_t tiesDisagree = 0;  // … and a non-zero one differs from sgn⁺(τ_i + τ_j)

    // Adds the statistics of a disjoint coordinate set.
    void merge(const PairAccum &other);
};

// Statistics of the whole set (base plus every present fine-tune).
struct SetAccum {
    std::uint64_t numel = 0;
    double baseSumSq = 0.0;         // w = ‖B‖²
    std::uint64_t anyNonzero = 0;   // some τ_k non-zero
    std::uint64_t tiesConflict = 0; // … and some non-zero τ_k differs from E
    std::uint64_t trimAnyKept = 0;  // after trimming: some kept τ_k non-zero
    std::uint64_t trimConflict = 0; // … and some kept non-zero τ_k differs from the trimmed E
    std::uint64_t baseNanCount = 0;
    std::uint64_t baseInfCount = 0;

    // Adds the statistics of a disjoint coordinate set.
    void merge(const SetAccum &other);
};

// Index of pair (i, j), 0 <= i < j < fineTunes, in the order (0,1), (0,2), …, (1,2), …
inline int pairIndex(int i, int j, int fineTunes)
{
    return i * fineTunes - i * (i + 1) / 2 + (j - i - 1);
}
inline int pairCount(int fineTunes)
{
    return fineTunes * (fineTunes - 1) / 2;
}

// All statistics of one coordinate set for T fine-tunes (indices 0..T−1 here; model index
// t + 1 in a ModelSet and in reports).
struct StatsBlock {
    std::vector<ModelAccum> models;
    std::vector<PairAccum> pairs;
    SetAccum set;

    StatsBlock() = default;
    // Empty accumulators for T fine-tunes.
    explicit StatsBlock(int fineTunes);
    int fineTunes() const { return static_cast<int>(models.size()); }
    // The pair of fine-tunes i and j (i != j, either order).
    const PairAccum &pair(int i, int j) const;
    // Adds a disjoint block (same T). Call in a fixed order for reproducible f64 sums.
    void merge(const StatsBlock &other);
};

} // namespace basin::analysis
