// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysissnapshot.h"
#include "common/progress.h"
#include "common/result.h"
#include "model/modelset.h"
#include "plots/histogramwidget.h"

#include <vector>

namespace basin::ui {

// The Distribution view's data for one tensor and a choice of fine-tunes (0-based).

// A histogram and the footnote that goes under it (what the bins leave out).
struct Distribution {
    HistogramData histogram;
    QString note;
};

// |τ| on log-spaced bins, from the exact bit histograms the pass kept (no tensor data is
// read). Values below the snapshot's zero threshold are left out; the note says how many.
// Empty series for fine-tunes that did not change the tensor at all.
Distribution absTauHistogram(const analysis::AnalysisSnapshot &snapshot,
                             const analysis::TensorEntry &tensor, const std::vector<int> &models,
                             int bins = 64);

// |τ| in bf16 steps of the base value (0, 1, 2, 3, 4–7, …, 128+) for fine-tunes stored in
// bf16 like their base; other fine-tunes are left out. The note gives each model's share
// of one-step changes. Bins are numbered 0…9 on the x axis (see ulpBinLabels()).
Distribution ulpHistogram(const analysis::AnalysisSnapshot &snapshot,
                          const analysis::TensorEntry &tensor, const std::vector<int> &models);
QStringList ulpBinLabels();
// Whether any chosen fine-tune of the tensor has a bf16-step histogram.
bool hasUlpHistogram(const analysis::TensorEntry &tensor, const std::vector<int> &models);

// Signed τ of one tensor on `bins` equal bins over [−m, m], m = the largest max |τ| of the
// chosen fine-tunes (taken from the snapshot, so the tensor is read once). Reads the base
// and the fine-tunes in chunks, so memory stays bounded for any tensor size; meant to run
// as a background job. Values below the zero threshold are counted apart (in the note).
// Errors: InvalidArgument (unknown tensor, no model chosen), the reader's errors,
// Cancelled.
Result<Distribution> signedTauHistogram(const ModelSet &models,
                                        const analysis::AnalysisSnapshot &snapshot,
                                        const std::string &tensorName,
                                        const std::vector<int> &fineTunes, int bins,
                                        const ProgressSink &progress, const CancelFlag &cancel);

} // namespace basin::ui
