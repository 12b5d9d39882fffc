// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/gram.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace basin::analysis {

Gram Gram::fromStats(const StatsBlock &stats)
{
    const int n = stats.fineTunes();
    Gram gram;
    gram.g = Eigen::MatrixXd::Zero(n, n);
    gram.b = Eigen::VectorXd::Zero(n);
    gram.w = stats.set.baseSumSq;
    for (int i = 0; i < n; ++i) {
        const ModelAccum &m = stats.models[static_cast<std::size_t>(i)];
        gram.g(i, i) = m.sumSq;
        gram.b(i) = m.baseDot;
        for (int j = i + 1; j < n; ++j) {
            const double dot = stats.pair(i, j).dot;
            gram.g(i, j) = dot;
            gram.g(j, i) = dot;
        }
    }
    return gram;
}

double Gram::mergedNormSq(const Eigen::VectorXd &lambda) const
{
    assert(lambda.size() == b.size());
    return std::max(0.0, lambda.dot(g * lambda));
}

std::optional<double> Gram::relativePerturbation(const Eigen::VectorXd &lambda) const
{
    if (!(w > 0.0))
        return std::nullopt;
    return std::sqrt(mergedNormSq(lambda) / w);
}

std::optional<double> Gram::mergedCosine(const Eigen::VectorXd &lambda, int t) const
{
    const double normSq = mergedNormSq(lambda);
    const double own = g(t, t);
    if (!(normSq > 0.0) || !(own > 0.0))
        return std::nullopt;
    return (g * lambda)(t) / std::sqrt(normSq * own);
}

std::optional<double> Gram::retention(const Eigen::VectorXd &lambda, int t) const
{
    const double own = g(t, t);
    if (!(own > 0.0))
        return std::nullopt;
    return (g * lambda)(t) / own;
}

double Gram::distanceSqToParent(const Eigen::VectorXd &lambda, int t) const
{
    return std::max(0.0, mergedNormSq(lambda) - 2.0 * (g * lambda)(t) + g(t, t));
}

double Gram::rawDot(int a, int bIndex) const
{
    double dot = w;
    if (a > 0)
        dot += b(a - 1);
    if (bIndex > 0)
        dot += b(bIndex - 1);
    if (a > 0 && bIndex > 0)
        dot += g(a - 1, bIndex - 1);
    return dot;
}

std::optional<double> Gram::rawCosine(int a, int bIndex) const
{
    const double na = rawDot(a, a);
    const double nb = rawDot(bIndex, bIndex);
    if (!(na > 0.0) || !(nb > 0.0))
        return std::nullopt;
    return rawDot(a, bIndex) / (std::sqrt(na) * std::sqrt(nb));
}

SlerpInfo slerpInfo(const Gram &gram, int t)
{
    const double n0 = std::sqrt(std::max(0.0, gram.rawDot(0, 0)));
    const double n1 = std::sqrt(std::max(0.0, gram.rawDot(t + 1, t + 1)));
    // mergekit normalises an input only when its norm exceeds 1e-8.
    const double d0 = n0 > 1e-8 ? n0 : 1.0;
    const double d1 = n1 > 1e-8 ? n1 : 1.0;
    SlerpInfo info;
    info.cosine = gram.rawDot(0, t + 1) / (d0 * d1);
    info.lerpFallback = std::abs(info.cosine) > 0.9995;
    info.angle = std::acos(std::clamp(info.cosine, -1.0, 1.0));
    return info;
}

std::optional<ModelStockInfo> modelStockInfo(const Gram &gram, const std::vector<bool> &present)
{
    std::vector<int> used;
    for (int t = 0; t < gram.fineTunes(); ++t) {
        if (t < static_cast<int>(present.size()) && present[static_cast<std::size_t>(t)])
            used.push_back(t);
    }
    if (used.size() < 2)
        return std::nullopt;
    double sum = 0.0;
    int pairs = 0;
    for (std::size_t a = 0; a < used.size(); ++a) {
        for (std::size_t c = a + 1; c < used.size(); ++c) {
            const int i = used[a];
            const int j = used[c];
            const double denominator =
                std::max(std::sqrt(gram.g(i, i)) * std::sqrt(gram.g(j, j)), 1e-6);
            sum += std::clamp(gram.g(i, j) / denominator, -1.0, 1.0);
            ++pairs;
        }
    }
    ModelStockInfo info;
    info.n = static_cast<int>(used.size());
    info.cosine = sum / pairs;
    const double denominator = 1.0 + (info.n - 1) * info.cosine;
    info.t = info.n * info.cosine / denominator;
    return info;
}

} // namespace basin::analysis
