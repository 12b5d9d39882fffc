// SPDX-License-Identifier: GPL-3.0-or-later
#include "recipe/suggest.h"

#include <algorithm>

namespace basin::recipe {

std::size_t editDistance(std::string_view a, std::string_view b)
{
    // Three rolling rows are enough for the swap rule, which looks two rows back.
    const std::size_t n = b.size();
    std::vector<std::size_t> before(n + 1), previous(n + 1), current(n + 1);
    for (std::size_t j = 0; j <= n; ++j)
        previous[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j <= n; ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                current[j] = std::min(current[j], before[j - 2] + 1);
        }
        std::swap(before, previous);
        std::swap(previous, current);
    }
    return previous[n];
}

std::string closestMatch(std::string_view word, const std::vector<std::string_view> &candidates)
{
    std::string best;
    std::size_t bestDistance = 0;
    for (const auto candidate : candidates) {
        const std::size_t distance = editDistance(word, candidate);
        if (distance == 0 || distance > 2 ||
            2 * distance >= std::max<std::size_t>(candidate.size(), 2))
            continue;
        if (best.empty() || distance < bestDistance) {
            best = std::string(candidate);
            bestDistance = distance;
        }
    }
    return best;
}

std::string didYouMean(std::string_view word, const std::vector<std::string_view> &candidates)
{
    const std::string match = closestMatch(word, candidates);
    if (match.empty())
        return {};
    return " \u2014 did you mean " + match + "?";
}

} // namespace basin::recipe
