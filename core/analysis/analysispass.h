// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysisoptions.h"
#include "analysis/analysissnapshot.h"
#include "common/progress.h"
#include "common/result.h"
#include "model/modelset.h"

#include <memory>

namespace basin::analysis {

// One streaming pass over a ModelSet (ANALYSIS.md, Tier 1): reads every tensor of the base
// and the fine-tunes once, in the set's order, prefetching the next tensor on one thread
// while the current one is analysed with OpenMP, and returns the immutable snapshot.
// A tensor missing, mis-shaped or of an undecodable dtype in some model is skipped for that
// model (for every model when the base lacks it) and listed in the snapshot's `skipped`.
// The sink (may be empty) gets phase "analysing" after each tensor, throttled to ≥ 0.1 %
// steps. Errors: InvalidArgument for bad options, Cancelled when *cancel became true
// (checked between tensors), the reader's error (naming file and tensor) when a read
// fails, Internal when memory runs out.
Result<std::shared_ptr<const AnalysisSnapshot>> analyse(const ModelSet &models,
                                                        const AnalysisOptions &options,
                                                        const ProgressSink &progress = {},
                                                        const CancelFlag *cancel = nullptr);

} // namespace basin::analysis
