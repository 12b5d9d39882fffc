// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/metrics.h"

#include <cmath>

namespace basin::analysis {

namespace {
std::optional<double> ratio(double numerator, double denominator)
{
    if (!(denominator > 0.0))
        return std::nullopt;
    return numerator / denominator;
}

std::optional<double> ratio(std::uint64_t numerator, std::uint64_t denominator)
{
    return ratio(static_cast<double>(numerator), static_cast<double>(denominator));
}

template <typename Metric> std::optional<double> meanOverPairs(const StatsBlock &s, Metric metric)
{
    double sum = 0.0;
    int n = 0;
    for (int i = 0; i < s.fineTunes(); ++i) {
        for (int j = i + 1; j < s.fineTunes(); ++j) {
            if (const auto value = metric(s, i, j)) {
                sum += *value;
                ++n;
            }
        }
    }
    if (n == 0)
        return std::nullopt;
    return sum / n;
}
} // namespace

double l2(const ModelAccum &m)
{
    return std::sqrt(m.sumSq);
}

std::optional<double> relL2(const ModelAccum &m)
{
    if (m.count == 0)
        return std::nullopt;
    return ratio(std::sqrt(m.sumSq), std::sqrt(m.baseSumSq));
}

std::optional<double> mean(const ModelAccum &m)
{
    return ratio(m.sum, static_cast<double>(m.count));
}

std::optional<double> stddev(const ModelAccum &m)
{
    if (m.count == 0)
        return std::nullopt;
    return std::sqrt(m.m2 / static_cast<double>(m.count));
}

std::optional<double> zeroFrac(const ModelAccum &m)
{
    return ratio(m.zeros, m.count);
}

std::optional<double> maxAbs(const ModelAccum &m)
{
    if (m.count == 0)
        return std::nullopt;
    return m.maxAbs;
}

std::optional<double> tiesDroppedFrac(const ModelAccum &m)
{
    return ratio(m.tiesDropped, m.count - m.zeros);
}

std::optional<double> tiesDroppedL1Frac(const ModelAccum &m)
{
    if (m.count == m.zeros)
        return std::nullopt;
    return ratio(m.tiesDroppedAbs, m.sumAbs);
}

std::optional<double> tiesTrimmedFrac(const ModelAccum &m)
{
    return ratio(m.trimDropped, m.trimKept);
}

std::optional<double> quantileAbs(const ModelAccum &m, double p)
{
    return m.absHist.quantile(p);
}

double baseL2(const StatsBlock &s)
{
    return std::sqrt(s.set.baseSumSq);
}

std::optional<double> cosine(const StatsBlock &s, int i, int j)
{
    const double ni = s.models[static_cast<std::size_t>(i)].sumSq;
    const double nj = s.models[static_cast<std::size_t>(j)].sumSq;
    if (!(ni > 0.0) || !(nj > 0.0))
        return std::nullopt;
    return s.pair(i, j).dot / (std::sqrt(ni) * std::sqrt(nj));
}

std::optional<double> bothNonzeroFrac(const StatsBlock &s, int i, int j)
{
    const PairAccum &p = s.pair(i, j);
    return ratio(p.bothNonzero, p.count);
}

std::optional<double> signConflict(const StatsBlock &s, int i, int j)
{
    const PairAccum &p = s.pair(i, j);
    return ratio(p.signConflicts, p.bothNonzero);
}

std::optional<double> pairTiesDisagree(const StatsBlock &s, int i, int j)
{
    const PairAccum &p = s.pair(i, j);
    if (p.count == 0)
        return std::nullopt;
    // No non-zero coordinate at all: nothing can disagree (the reference reports 0).
    if (p.unionNonzero == 0)
        return 0.0;
    return ratio(p.tiesDisagree, p.unionNonzero);
}

std::optional<double> tiesConflictFrac(const StatsBlock &s)
{
    if (s.set.numel == 0)
        return std::nullopt;
    if (s.set.anyNonzero == 0)
        return 0.0;
    return ratio(s.set.tiesConflict, s.set.anyNonzero);
}

std::optional<double> tiesTrimmedConflictFrac(const StatsBlock &s)
{
    if (s.set.numel == 0)
        return std::nullopt;
    if (s.set.trimAnyKept == 0)
        return 0.0;
    return ratio(s.set.trimConflict, s.set.trimAnyKept);
}

std::optional<double> meanPairCosine(const StatsBlock &s)
{
    return meanOverPairs(s, [](const StatsBlock &b, int i, int j) { return cosine(b, i, j); });
}

std::optional<double> meanSignConflict(const StatsBlock &s)
{
    return meanOverPairs(s,
                         [](const StatsBlock &b, int i, int j) { return signConflict(b, i, j); });
}

} // namespace basin::analysis
