// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace basin::analysis {

// A fixed set of coordinates of one tensor with the base value and every fine-tune's delta
// there, as f32. The coordinates depend only on (seed, tensor name, numel, size limit), so
// they are the same in every model and in every run. Non-linear previews (TIES trim and
// elect, DARE keep, breadcrumbs, della) run on these and are labelled as estimates.
struct TensorSample {
    std::vector<std::uint64_t> indices; // ascending flat indices
    std::vector<float> base;            // B at each index
    std::vector<float> tau;             // fine-tune t's deltas at [t·size(), (t+1)·size())
    std::vector<bool> present;          // per fine-tune: false when skipped (deltas are 0)

    std::size_t size() const { return indices.size(); }
    std::span<const float> deltas(int t) const
    {
        return std::span<const float>(tau).subspan(static_cast<std::size_t>(t) * size(), size());
    }
};

// 64-bit FNV-1a of a tensor name: the name's part of the sampling key.
std::uint64_t nameHash(std::string_view name);
// The sampling hash of one sample slot (splitmix64-style finaliser of seed, name, slot).
std::uint64_t coordinateHash(std::uint64_t seed, std::uint64_t name, std::uint64_t index);

// The coordinates of a tensor's sample, ascending: all of 0..numel−1 when numel <= limit;
// otherwise exactly `limit` of them, one per stratum: [0, numel) is cut into `limit` equal
// strata (k·numel/limit, rounded down) and stratum k contributes the coordinate at offset
// coordinateHash(seed, name, k) mod its size. Stratifying spreads the sample evenly over
// rows and columns and costs O(limit), not O(numel). limit 0 gives an empty sample.
std::vector<std::uint64_t> sampleIndices(std::uint64_t seed, std::string_view name,
                                         std::uint64_t numel, std::uint64_t limit);

} // namespace basin::analysis
