// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysissnapshot.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace basin::analysis {

// What an interference heatmap shows (ANALYSIS.md, Views).
enum class HeatmapMetric {
    Cosine,   // cos(τ_i, τ_j), columns = pairs
    Conflict, // sign-conflict rate, columns = pairs
    Rho,      // ‖τ_t‖ / ‖B‖, columns = fine-tunes
    Ties,     // untrimmed TIES disagreement of each fine-tune, columns = fine-tunes
};

// "cosine", "conflict", "rho", "ties"; nothing for another name.
std::optional<HeatmapMetric> parseHeatmapMetric(std::string_view name);
std::string_view heatmapMetricName(HeatmapMetric metric);

// A heatmap's matrix, toolkit-free: rows = the snapshot's groups (embed, L0…, norm, head,
// other), values row-major with NaN where a value is undefined.
struct HeatmapMatrix {
    int rows = 0;
    int cols = 0;
    std::vector<double> values;
    std::vector<std::string> rowLabels;
    std::vector<std::string> colLabels;
    std::string title;
    std::string valueName;
    bool diverging = false;                         // signed, centred on 0
    std::optional<std::pair<double, double>> range; // fixed colour range
};

// Builds the matrix of one metric from a snapshot (the snapshot is not modified).
HeatmapMatrix heatmapMatrix(const AnalysisSnapshot &snapshot, HeatmapMetric metric);

} // namespace basin::analysis
