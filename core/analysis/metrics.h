// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/statsblock.h"

#include <optional>

namespace basin::analysis {

// Derived statistics of a StatsBlock, exactly as docs/ANALYSIS.md defines them. Fine-tune
// indices are 0-based here. Each returns nothing where the value is undefined (no present
// coordinates, a zero norm, an empty denominator) — reports print that as null / "–".

double l2(const ModelAccum &m);                   // ‖τ‖
std::optional<double> relL2(const ModelAccum &m); // ‖τ‖ / ‖B‖ over the same coordinates
std::optional<double> mean(const ModelAccum &m);
std::optional<double> stddev(const ModelAccum &m); // population
std::optional<double> zeroFrac(const ModelAccum &m);
std::optional<double> maxAbs(const ModelAccum &m);
std::optional<double> tiesDroppedFrac(const ModelAccum &m); // untrimmed TIES disagreement
std::optional<double> tiesDroppedL1Frac(const ModelAccum &m);
std::optional<double> tiesTrimmedFrac(const ModelAccum &m);       // at the pass's density
std::optional<double> quantileAbs(const ModelAccum &m, double p); // |τ| p-quantile (bf16 res.)

double baseL2(const StatsBlock &s); // ‖B‖
std::optional<double> cosine(const StatsBlock &s, int i, int j);
std::optional<double> bothNonzeroFrac(const StatsBlock &s, int i, int j);
std::optional<double> signConflict(const StatsBlock &s, int i, int j);
std::optional<double> pairTiesDisagree(const StatsBlock &s, int i, int j);
std::optional<double> tiesConflictFrac(const StatsBlock &s);
std::optional<double> tiesTrimmedConflictFrac(const StatsBlock &s);

// Mean over all pairs of a pair metric (pairs where it is undefined are left out).
std::optional<double> meanPairCosine(const StatsBlock &s);
std::optional<double> meanSignConflict(const StatsBlock &s);

} // namespace basin::analysis
