// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/topk.h"

#include <algorithm>
#include <cassert>

namespace basin::analysis {

std::uint64_t topKCount(double density, std::uint64_t n)
{
    if (!(density > 0.0))
        return 0;
    const double k = std::floor(density * static_cast<double>(n));
    if (k >= static_cast<double>(n))
        return n;
    return static_cast<std::uint64_t>(k);
}

TopKCut resolveTopK(std::vector<TopKCandidate> &candidates, std::uint64_t need)
{
    assert(need >= 1 && need <= candidates.size());
    // Rank order: larger key first, then lower index first. The element at rank need − 1
    // is the last one kept.
    const auto before = [](const TopKCandidate &a, const TopKCandidate &b) {
        return a.key != b.key ? a.key > b.key : a.index < b.index;
    };
    const auto nth = candidates.begin() + static_cast<std::ptrdiff_t>(need - 1);
    std::nth_element(candidates.begin(), nth, candidates.end(), before);
    TopKCut cut;
    cut.mode = TopKCut::Mode::Threshold;
    cut.key = nth->key;
    cut.index = nth->index;
    return cut;
}

} // namespace basin::analysis
