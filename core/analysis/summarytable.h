// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysissnapshot.h"
#include "analysis/layerflags.h"

#include <string>

namespace basin::analysis {

// The readable report of `basin inspect`: the models, one row per group (embed, L0…,
// norm, head, other) and a total row with ρ per fine-tune, mean pairwise cosine, mean sign
// conflict, the TIES conflict share and flags, then the flag legend and the flagged rows.
std::string summaryTable(const AnalysisSnapshot &snapshot, const FlagRule &rule = {});

// Every figure of one tensor: per fine-tune moments, quantiles, TIES, slerp and bf16 ulp
// steps; per pair cosine and conflicts; Model Stock; non-finite counts.
std::string tensorDetail(const AnalysisSnapshot &snapshot, const TensorEntry &tensor);

} // namespace basin::analysis
