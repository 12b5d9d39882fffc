// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace basin::analysis {

// Exact histogram of |τ| over the 65,536 values of the top 16 bits of the f32 bit pattern
// (bf16 resolution). Bins are integer counts, so histograms of chunks, threads, tensors and
// layers merge exactly in any order. Only the occupied range of bins is stored: a tensor's
// deltas span a few dozen binades, not the whole f32 range.
class AbsHistogram {
public:
    static constexpr std::uint32_t kBins = 65536;

    // The bin of a non-negative value: the top 16 bits of its f32 pattern. Monotonic in the
    // value (NaN lands above +inf).
    static std::uint32_t binOf(float absValue)
    {
        return std::bit_cast<std::uint32_t>(absValue) >> 16;
    }
    // The smallest f32 value of a bin (its bf16 value).
    static float binLowerEdge(std::uint32_t bin) { return std::bit_cast<float>(bin << 16); }

    // Adds counts for bins firstBin, firstBin + 1, … (counts.size() bins).
    void addRange(std::uint32_t firstBin, std::span<const std::uint64_t> counts);
    void merge(const AbsHistogram &other);

    std::uint64_t total() const { return m_total; }
    std::uint64_t count(std::uint32_t bin) const;
    // First occupied-range bin and the dense counts from there (empty when total() == 0).
    std::uint32_t firstBin() const { return m_first; }
    std::span<const std::uint64_t> counts() const { return m_counts; }

    // Nearest-rank quantile: the lower edge of the bin holding the ceil(p·N)-th smallest
    // value (rank 1 at least). The exact quantile lies in [result, next bf16 value).
    // Returns nothing for an empty histogram or p outside [0, 1].
    std::optional<double> quantile(double p) const;
    // The bin holding the k-th largest value (1-based) and how many values lie in higher
    // bins. Requires 1 <= k <= total().
    struct Cut {
        std::uint32_t bin = 0;
        std::uint64_t above = 0;
    };
    Cut cutForLargest(std::uint64_t k) const;

    bool operator==(const AbsHistogram &other) const = default;

private:
    std::uint32_t m_first = 0;
    std::vector<std::uint64_t> m_counts;
    std::uint64_t m_total = 0;
};

} // namespace basin::analysis
