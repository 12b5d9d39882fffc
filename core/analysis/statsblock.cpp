// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/statsblock.h"

#include <algorithm>
#include <cassert>

namespace basin::analysis {

void ModelAccum::merge(const ModelAccum &other)
{
    if (other.count > 0) {
        if (count == 0) {
            m2 = other.m2;
        } else {
            // Chan et al.: M2 of the union from the parts' means and M2s.
            const double na = static_cast<double>(count);
            const double nb = static_cast<double>(other.count);
            const double delta = other.sum / nb - sum / na;
            m2 = m2 + other.m2 + delta * delta * na * nb / (na + nb);
        }
    }
    count += other.count;
    sum += other.sum;
    sumSq += other.sumSq;
    sumAbs += other.sumAbs;
    maxAbs = std::max(maxAbs, other.maxAbs);
    baseSumSq += other.baseSumSq;
    baseDot += other.baseDot;
    zeros += other.zeros;
    tiesDropped += other.tiesDropped;
    tiesDroppedAbs += other.tiesDroppedAbs;
    trimKept += other.trimKept;
    trimDropped += other.trimDropped;
    nanCount += other.nanCount;
    infCount += other.infCount;
    absHist.merge(other.absHist);
    ulpValid = ulpValid || other.ulpValid;
    ulp.merge(other.ulp);
}

void PairAccum::merge(const PairAccum &other)
{
    dot += other.dot;
    count += other.count;
    bothNonzero += other.bothNonzero;
    signConflicts += other.signConflicts;
    unionNonzero += other.unionNonzero;
    tiesDisagree += other.tiesDisagree;
}

void SetAccum::merge(const SetAccum &other)
{
    numel += other.numel;
    baseSumSq += other.baseSumSq;
    anyNonzero += other.anyNonzero;
    tiesConflict += other.tiesConflict;
    trimAnyKept += other.trimAnyKept;
    trimConflict += other.trimConflict;
    baseNanCount += other.baseNanCount;
    baseInfCount += other.baseInfCount;
}

StatsBlock::StatsBlock(int fineTunes)
    : models(static_cast<std::size_t>(fineTunes)),
      pairs(static_cast<std::size_t>(pairCount(fineTunes)))
{
}

const PairAccum &StatsBlock::pair(int i, int j) const
{
    assert(i != j);
    if (i > j)
        std::swap(i, j);
    return pairs[static_cast<std::size_t>(pairIndex(i, j, fineTunes()))];
}

void StatsBlock::merge(const StatsBlock &other)
{
    if (models.empty() && pairs.empty() && set.numel == 0) {
        *this = other;
        return;
    }
    assert(other.models.size() == models.size());
    for (std::size_t t = 0; t < models.size(); ++t)
        models[t].merge(other.models[t]);
    for (std::size_t p = 0; p < pairs.size(); ++p)
        pairs[p].merge(other.pairs[p]);
    set.merge(other.set);
}

} // namespace basin::analysis
