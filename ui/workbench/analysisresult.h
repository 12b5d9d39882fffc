// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysisoptions.h"
#include "analysis/analysissnapshot.h"
#include "common/progress.h"
#include "common/result.h"
#include "model/modelset.h"
#include "workbench/modelentry.h"

#include <memory>
#include <vector>

namespace basin::ui {

// Statistics of each (group, tensor kind) cell: the per-kind heatmap's data, merged in the
// background so the view only derives numbers from finished blocks.
struct KindTable {
    std::vector<TensorKind>
        kinds; // columns: kinds present, q k v o gate up down norm embed head other
    std::vector<analysis::StatsBlock> blocks; // groups × kinds, row-major
    std::vector<bool> present;                // whether the cell has any tensor

    int columns() const { return static_cast<int>(kinds.size()); }
    const analysis::StatsBlock *cell(int group, int column) const;
};

// Everything one analysis job produces for the GUI. Immutable once built; shared as
// std::shared_ptr<const AnalysisResult> between the views.
struct AnalysisResult {
    std::shared_ptr<const ModelSet> modelSet;
    std::shared_ptr<const analysis::AnalysisSnapshot> snapshot;
    std::vector<ModelProblems> problems; // per model, base first
    KindTable kinds;
};

// Builds the per-kind table of a snapshot.
KindTable buildKindTable(const analysis::AnalysisSnapshot &snapshot);

// Problems of each model of a set (missing tensors, shape mismatches, undecodable dtypes,
// NaN/Inf counted by the pass). Details name the first few tensors.
std::vector<ModelProblems> collectProblems(const ModelSet &set,
                                           const analysis::AnalysisSnapshot &snapshot);

// The analysis job: aligns the models (base first), runs the streaming pass and derives
// the tables above. Runs on a worker thread. Errors: those of ModelSet::create and
// analysis::analyse (Cancelled when *cancel became true).
Result<AnalysisResult> runAnalysis(std::vector<std::shared_ptr<const Checkpoint>> models,
                                   const analysis::AnalysisOptions &options,
                                   const ProgressSink &progress, const CancelFlag &cancel);

} // namespace basin::ui
