// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/abshistogram.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace basin::analysis {

void AbsHistogram::addRange(std::uint32_t firstBin, std::span<const std::uint64_t> counts)
{
    // Trim empty bins at both ends so the stored range stays tight.
    std::size_t lo = 0;
    std::size_t hi = counts.size();
    while (lo < hi && counts[lo] == 0)
        ++lo;
    while (hi > lo && counts[hi - 1] == 0)
        --hi;
    if (lo == hi)
        return;
    const std::uint32_t first = firstBin + static_cast<std::uint32_t>(lo);
    const std::uint32_t last = firstBin + static_cast<std::uint32_t>(hi); // exclusive
    assert(last <= kBins);
    if (m_counts.empty()) {
        m_first = first;
        m_counts.assign(counts.begin() + std::ptrdiff_t(lo), counts.begin() + std::ptrdiff_t(hi));
    } else {
        const std::uint32_t oldLast = m_first + static_cast<std::uint32_t>(m_counts.size());
        const std::uint32_t newFirst = std::min(m_first, first);
        const std::uint32_t newLast = std::max(oldLast, last);
        if (newFirst != m_first || newLast != oldLast) {
            std::vector<std::uint64_t> grown(newLast - newFirst, 0);
            std::copy(m_counts.begin(), m_counts.end(), grown.begin() + (m_first - newFirst));
            m_counts = std::move(grown);
            m_first = newFirst;
        }
        for (std::size_t i = lo; i < hi; ++i)
            m_counts[first - m_first + (i - lo)] += counts[i];
    }
    for (std::size_t i = lo; i < hi; ++i)
        m_total += counts[i];
}

void AbsHistogram::merge(const AbsHistogram &other)
{
    addRange(other.m_first, other.m_counts);
}

std::uint64_t AbsHistogram::count(std::uint32_t bin) const
{
    if (bin < m_first || bin >= m_first + m_counts.size())
        return 0;
    return m_counts[bin - m_first];
}

std::optional<double> AbsHistogram::quantile(double p) const
{
    if (m_total == 0 || !(p >= 0.0 && p <= 1.0))
        return std::nullopt;
    const auto rank = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(m_total))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < m_counts.size(); ++i) {
        seen += m_counts[i];
        if (seen >= rank)
            return binLowerEdge(m_first + static_cast<std::uint32_t>(i));
    }
    return binLowerEdge(m_first + static_cast<std::uint32_t>(m_counts.size() - 1));
}

AbsHistogram::Cut AbsHistogram::cutForLargest(std::uint64_t k) const
{
    assert(k >= 1 && k <= m_total);
    std::uint64_t above = 0;
    for (std::size_t i = m_counts.size(); i-- > 0;) {
        if (above + m_counts[i] >= k)
            return Cut{m_first + static_cast<std::uint32_t>(i), above};
        above += m_counts[i];
    }
    return Cut{m_first, above};
}

} // namespace basin::analysis
