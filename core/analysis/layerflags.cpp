// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/layerflags.h"

#include "analysis/metrics.h"

#include <cstdio>

namespace basin::analysis {

std::string flagsFor(const StatsBlock &s, bool skippedSomewhere, const FlagRule &rule)
{
    bool opposed = false;
    bool conflict = false;
    for (int i = 0; i < s.fineTunes(); ++i) {
        for (int j = i + 1; j < s.fineTunes(); ++j) {
            if (const auto c = cosine(s, i, j); c && *c < rule.cosineBelow)
                opposed = true;
            if (const auto c = signConflict(s, i, j); c && *c > rule.conflictAbove)
                conflict = true;
        }
    }
    bool large = false;
    bool nonFinite = s.set.baseNanCount + s.set.baseInfCount > 0;
    for (const ModelAccum &m : s.models) {
        if (const auto rho = relL2(m); rho && *rho > rule.rhoAbove)
            large = true;
        if (m.nanCount + m.infCount > 0)
            nonFinite = true;
    }
    std::string flags;
    if (opposed)
        flags += 'O';
    if (conflict)
        flags += 'C';
    if (large)
        flags += 'R';
    if (nonFinite)
        flags += 'N';
    if (skippedSomewhere)
        flags += 'S';
    return flags;
}

std::string groupFlags(const AnalysisSnapshot &snapshot, const GroupEntry &group,
                       const FlagRule &rule)
{
    bool skipped = false;
    for (const std::size_t index : group.tensors) {
        for (const bool present : snapshot.tensors[index].present)
            skipped = skipped || !present;
    }
    return flagsFor(group.stats, skipped, rule);
}

std::string flagLegend(const FlagRule &rule)
{
    char text[1024];
    std::snprintf(
        text, sizeof text,
        "Flags: O = some pair of task vectors points apart (cosine < %g)\n"
        "       C = some pair has opposite signs on more than %g of the weights both change\n"
        "           (independent random signs give 0.5)\n"
        "       R = some fine-tune changed the row by more than %g of its norm (rho > %g)\n"
        "       N = NaN or Inf values in the base or a fine-tune\n"
        "       S = a tensor of the row was skipped for some fine-tune (see --json)\n",
        rule.cosineBelow, rule.conflictAbove, rule.rhoAbove, rule.rhoAbove);
    return text;
}

} // namespace basin::analysis
