// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/progress.h"
#include "common/result.h"
#include "engine/mergerequest.h"
#include "engine/preparedmerge.h"

namespace basin::engine {

// Merges a whole model and exports it (docs/ENGINE.md): prepares the merge (prepareMerge),
// then streams the output tensors in order — one prefetch thread reads the next inputs while
// the OpenMP kernels merge the current tensor — converts each to its output dtype and writes
// it straight into the planned shards, then writes the index, config.json, tokenizer and
// generation files, basin_recipe.yml and a README.md model card, all into a temporary
// sibling of request.outDir that is renamed into place only when everything succeeded.
// Memory stays bounded by a few tensors whatever the model size.
// `progress` is called from the calling thread; `cancel` is checked between tensors (and
// chunks of streamed tensors). Returns the report, or an error naming the file, tensor and
// rule: any prepareMerge() error, the destination's (checkDestination), NonFinite (NaN in an
// input without allowNan), the kernels' (MergeFailed, OutOfRange, …), file errors (NoSpace,
// PermissionDenied, IoError), Cancelled. On any error nothing is left at the destination
// (an existing folder being overwritten stays as it was).
Result<MergeReport> runMerge(const MergeRequest &request, const ProgressSink &progress,
                             const CancelFlag &cancel);

// The same for a merge already prepared (a caller that showed the plan first);
// `options` must be the ones it was prepared with.
Result<MergeReport> runPreparedMerge(const PreparedMerge &prepared,
                                     const std::filesystem::path &outDir,
                                     const MergeOptions &options, const ProgressSink &progress,
                                     const CancelFlag &cancel);

} // namespace basin::engine
