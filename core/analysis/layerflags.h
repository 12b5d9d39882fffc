// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysissnapshot.h"

#include <string>

namespace basin::analysis {

// When a row of the layer table is flagged. One letter per finding:
//   O  opposed:   some pair of task vectors has cosine < cosineBelow;
//   C  conflict:  some pair disagrees in sign on more than conflictAbove of the weights
//                 both change (independent random signs give 0.5);
//   R  large:     some fine-tune has ρ = ‖τ‖/‖B‖ > rhoAbove;
//   N  non-finite: NaN or ±Inf in the base or a fine-tune;
//   S  skipped:   a tensor of the row was left out for some fine-tune.
struct FlagRule {
    double cosineBelow = -0.05;
    double conflictAbove = 0.55;
    double rhoAbove = 0.1;
};

// The letters (in the order O, C, R, N, S) that apply to a block; empty when none.
// skippedSomewhere marks the S flag (the block itself cannot tell).
std::string flagsFor(const StatsBlock &stats, bool skippedSomewhere, const FlagRule &rule = {});
// Flags of a group row: as above, with S from its tensors' presence.
std::string groupFlags(const AnalysisSnapshot &snapshot, const GroupEntry &group,
                       const FlagRule &rule = {});
// Multi-line legend that states the rule with its thresholds.
std::string flagLegend(const FlagRule &rule = {});

} // namespace basin::analysis
