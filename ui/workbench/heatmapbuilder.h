// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysissnapshot.h"
#include "plots/heatmapdata.h"
#include "workbench/analysisresult.h"
#include "workbench/metric.h"

#include <QStringList>

#include <utility>
#include <vector>

namespace basin::ui {

// Turns a finished analysis into what the heatmap widgets draw. Pure functions over an
// immutable snapshot: cheap (no tensor data) and run when a snapshot or a choice changes,
// never in paint code.

// Fine-tunes (for a per-model metric) or pairs of fine-tunes (for a pair metric), in the
// order of the heatmap's columns: (0, 0), (1, 1), … or (0, 1), (0, 2), …, (1, 2), …
std::vector<std::pair<int, int>> metricTargets(int fineTunes, Metric metric);
// Their labels: "ft1", … or "ft1·ft2", …
QStringList metricTargetLabels(const analysis::AnalysisSnapshot &snapshot, Metric metric);

// Rows = the snapshot's groups (embed, L0…, norm, head), columns = pairs or fine-tunes.
HeatmapData interferenceHeatmap(const analysis::AnalysisSnapshot &snapshot, Metric metric);

// The per-kind heatmap and the snapshot group of each of its rows.
struct KindHeatmap {
    HeatmapData data;
    std::vector<int> rowGroups;
};

// Rows = transformer layers, columns = the tensor kinds found in them (q, k, v, o, gate,
// up, down, norm, …), for one target (an index into metricTargets()). Embeddings, final
// norm and head have a kind of their own each and are left to the interference heatmap.
KindHeatmap kindHeatmap(const AnalysisResult &result, Metric metric, int target);

// T×T matrix of a pair metric (Cosine, Conflict, or the pairwise TIES disagreement for
// Ties) over one block; `scope` names the block in the title ("L3", "all layers").
HeatmapData pairMatrix(const analysis::AnalysisSnapshot &snapshot,
                       const analysis::StatsBlock &stats, Metric metric, const QString &scope);

} // namespace basin::ui
