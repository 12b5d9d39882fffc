// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/ulphistogram.h"

namespace basin::analysis {

std::string_view UlpHistogram::binLabel(int bin)
{
    static constexpr std::array<std::string_view, kBins> labels{
        "0", "1", "2", "3", "4-7", "8-15", "16-31", "32-63", "64-127", "128+"};
    if (bin < 0 || bin >= kBins)
        return "?";
    return labels[static_cast<std::size_t>(bin)];
}

void UlpHistogram::merge(const UlpHistogram &other)
{
    for (std::size_t i = 0; i < counts.size(); ++i)
        counts[i] += other.counts[i];
}

std::uint64_t UlpHistogram::total() const
{
    std::uint64_t sum = 0;
    for (const std::uint64_t count : counts)
        sum += count;
    return sum;
}

std::optional<double> UlpHistogram::oneStepShare() const
{
    const std::uint64_t changed = total() - counts[0];
    if (changed == 0)
        return std::nullopt;
    return static_cast<double>(counts[1]) / static_cast<double>(changed);
}

} // namespace basin::analysis
