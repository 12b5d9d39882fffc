// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace basin::recipe {

// Optimal-string-alignment distance (insertions, deletions, substitutions and swaps of two
// neighbours each cost 1), so "densty" and "desnity" are both 1 away from "density".
std::size_t editDistance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is close enough to be a likely typo (at most 2
// edits and fewer than half of the candidate's letters), else an empty string.
std::string closestMatch(std::string_view word, const std::vector<std::string_view> &candidates);

// " — did you mean X?" for a close candidate, else an empty string: appended to messages.
std::string didYouMean(std::string_view word, const std::vector<std::string_view> &candidates);

} // namespace basin::recipe
