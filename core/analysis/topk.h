// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

namespace basin::analysis {

// "Keep the k largest |τ|" with the fixtures' tie rule: among equal |τ| the lower flat
// index ranks higher. Values are compared through the bit pattern of |τ| as f64, a total
// order that agrees with numeric order (and puts NaN above +inf instead of breaking sorts).
inline std::uint64_t magnitudeKey(double tau)
{
    return std::bit_cast<std::uint64_t>(std::fabs(tau));
}

// Which elements a top-k selection keeps: everything, nothing, or those ranking at or above
// (key, index) — a larger key, or the same key and an index no greater.
struct TopKCut {
    enum class Mode { KeepAll, KeepNone, Threshold };
    Mode mode = Mode::KeepAll;
    std::uint64_t key = 0;
    std::uint64_t index = 0;

    bool keeps(std::uint64_t elementKey, std::uint64_t elementIndex) const
    {
        switch (mode) {
        case Mode::KeepAll:
            return true;
        case Mode::KeepNone:
            return false;
        case Mode::Threshold:
            return elementKey > key || (elementKey == key && elementIndex <= index);
        }
        return false;
    }
};

// k = floor(density · n) as a double product, like mergekit (0.29 · 100 keeps 28).
std::uint64_t topKCount(double density, std::uint64_t n);

struct TopKCandidate {
    std::uint64_t key = 0;
    std::uint64_t index = 0;
};

// Given the elements of the one histogram bin where the cut falls (any order) and how many
// of them are kept (1 <= need <= candidates.size()), returns the threshold. Reorders
// candidates. Deterministic: the result does not depend on the candidates' order.
TopKCut resolveTopK(std::vector<TopKCandidate> &candidates, std::uint64_t need);

} // namespace basin::analysis
