// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysissnapshot.h"

#include <string>

namespace basin::analysis {

// `basin inspect --csv`: a header line, then one line per row of the layer table (embed,
// L0…, norm, head, other; in that order) × fine-tune pair (i < j), with the pair's cosine,
// both-non-zero share, sign conflict, pairwise TIES disagreement, each model's ρ and the
// row's TIES conflict share. Empty fields are undefined values. Labels are quoted when
// they contain a comma or a quote (RFC 4180).
std::string layerPairCsv(const AnalysisSnapshot &snapshot);

} // namespace basin::analysis
