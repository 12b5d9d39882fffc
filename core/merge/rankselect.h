// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Order statistics over magnitudes without sorting, for the top-k and rank cuts of ties,
// breadcrumbs and sce. The bit pattern of a non-negative f32 orders like its value, so:
// - valuesAtRanks(): a two-level radix histogram (high 16 bits, then the low 15 bits inside
//   the one bin that matters) finds the exact value at any rank in two passes, in parallel,
//   with integer counts only (so the answer cannot depend on the thread count);
// - RankFinder: usually one pass, by sampling a narrow window around the cut first, with
//   valuesAtRanks() as its exact fallback.
// Ties at a cut are resolved by flat index (indexOfNthEqual(), RankFinder::nthEqualIndex()).

#include "merge/reduction.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace basin::merge {

// Bit pattern of |x|: as unsigned integers these order like the magnitudes.
inline std::uint32_t magnitudeBits(float x)
{
    return std::bit_cast<std::uint32_t>(x) & 0x7fffffffu;
}

// The value found at an ascending rank, with how many elements lie below it and equal it.
struct RankValue {
    std::uint32_t bits = 0;
    std::uint64_t below = 0;
    std::uint64_t equal = 0;
};

namespace rankselect_detail {

inline constexpr int kLowBits = 15;
inline constexpr std::size_t kHighBins = std::size_t{1} << 16;
inline constexpr std::size_t kLowBins = std::size_t{1} << kLowBits;

// Elements per pass of a thread's 32-bit histogram before it is flushed to 64 bits.
inline constexpr std::uint64_t kFlushEvery = std::uint64_t{1} << 31;

// Adds per-thread histograms into one; integer sums, so the order does not matter. Each
// thread counts in 32 bits (half the cache footprint of 64) over [begin, end) ranges of at
// most kFlushEvery elements: fill(local, begin, end).
template <typename Fill>
std::vector<std::uint64_t> histogram(std::uint64_t n, std::size_t bins, bool parallel, Fill fill)
{
    std::vector<std::uint64_t> total(bins, 0);
#pragma omp parallel if (parallel)
    {
        std::vector<std::uint32_t> local(bins, 0);
        std::vector<std::uint64_t> wide(bins, 0);
        const auto threads = static_cast<std::uint64_t>(omp_get_num_threads());
        const auto thread = static_cast<std::uint64_t>(omp_get_thread_num());
        const std::uint64_t share = (n + threads - 1) / threads;
        const std::uint64_t first = std::min(n, thread * share);
        const std::uint64_t last = std::min(n, first + share);
        for (std::uint64_t begin = first; begin < last; begin += kFlushEvery) {
            fill(local, begin, std::min(last, begin + kFlushEvery));
            for (std::size_t b = 0; b < bins; ++b) {
                wide[b] += local[b];
                local[b] = 0;
            }
        }
#pragma omp critical(basin_rankselect_merge)
        for (std::size_t b = 0; b < bins; ++b)
            total[b] += wide[b];
    }
    return total;
}

} // namespace rankselect_detail

// For each rank r < n (ascending order of magnitude), the magnitude at that rank and the
// counts below and equal to it. bitsAt(i) gives magnitudeBits() of element i; it is called
// twice per element, from several threads.
template <typename BitsAt>
std::vector<RankValue> valuesAtRanks(std::uint64_t n, BitsAt bitsAt,
                                     std::span<const std::uint64_t> ranks)
{
    using namespace rankselect_detail;
    const bool parallel = n >= kParallelMinElements;
    const auto high =
        histogram(n, kHighBins, parallel,
                  [&](std::vector<std::uint32_t> &local, std::uint64_t begin, std::uint64_t end) {
                      for (std::uint64_t i = begin; i < end; ++i)
                          ++local[bitsAt(i) >> kLowBits];
                  });

    // The high bin holding each rank and the count below that bin.
    std::vector<std::uint32_t> binOf(ranks.size());
    std::vector<std::uint64_t> belowBin(ranks.size());
    for (std::size_t r = 0; r < ranks.size(); ++r) {
        std::uint64_t cumulative = 0;
        std::size_t bin = 0;
        while (cumulative + high[bin] <= ranks[r]) {
            cumulative += high[bin];
            ++bin;
        }
        binOf[r] = static_cast<std::uint32_t>(bin);
        belowBin[r] = cumulative;
    }

    std::vector<std::uint32_t> bins(binOf);
    std::sort(bins.begin(), bins.end());
    bins.erase(std::unique(bins.begin(), bins.end()), bins.end());
    const auto low =
        histogram(n, bins.size() * kLowBins, parallel,
                  [&](std::vector<std::uint32_t> &local, std::uint64_t begin, std::uint64_t end) {
                      for (std::uint64_t i = begin; i < end; ++i) {
                          const std::uint32_t bits = bitsAt(i);
                          const std::uint32_t key = bits >> kLowBits;
                          for (std::size_t b = 0; b < bins.size(); ++b) {
                              if (key == bins[b])
                                  ++local[b * kLowBins + (bits & (kLowBins - 1))];
                          }
                      }
                  });

    std::vector<RankValue> result(ranks.size());
    for (std::size_t r = 0; r < ranks.size(); ++r) {
        const auto slot = static_cast<std::size_t>(
            std::lower_bound(bins.begin(), bins.end(), binOf[r]) - bins.begin());
        const std::uint64_t *counts = low.data() + slot * kLowBins;
        std::uint64_t cumulative = belowBin[r];
        std::size_t l = 0;
        while (cumulative + counts[l] <= ranks[r]) {
            cumulative += counts[l];
            ++l;
        }
        result[r].bits = (binOf[r] << kLowBits) | static_cast<std::uint32_t>(l);
        result[r].below = cumulative;
        result[r].equal = counts[l];
    }
    return result;
}

// The flat index of the j-th (0-based, in index order) element whose bits equal `bits`;
// n when fewer than j + 1 elements do.
template <typename BitsAt>
std::uint64_t indexOfNthEqual(std::uint64_t n, BitsAt bitsAt, std::uint32_t bits, std::uint64_t j)
{
    constexpr std::uint64_t kChunk = std::uint64_t{1} << 16;
    const auto chunks = static_cast<std::int64_t>((n + kChunk - 1) / kChunk);
    std::vector<std::uint64_t> counts(static_cast<std::size_t>(chunks), 0);
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
    for (std::int64_t c = 0; c < chunks; ++c) {
        const std::uint64_t begin = static_cast<std::uint64_t>(c) * kChunk;
        const std::uint64_t end = std::min(n, begin + kChunk);
        std::uint64_t equal = 0;
        for (std::uint64_t i = begin; i < end; ++i)
            equal += bitsAt(i) == bits ? 1 : 0;
        counts[static_cast<std::size_t>(c)] = equal;
    }
    std::uint64_t seen = 0;
    for (std::int64_t c = 0; c < chunks; ++c) {
        const std::uint64_t inChunk = counts[static_cast<std::size_t>(c)];
        if (seen + inChunk > j) {
            const std::uint64_t begin = static_cast<std::uint64_t>(c) * kChunk;
            const std::uint64_t end = std::min(n, begin + kChunk);
            for (std::uint64_t i = begin; i < end; ++i) {
                if (bitsAt(i) == bits && seen++ == j)
                    return i;
            }
        }
        seen += inChunk;
    }
    return n;
}

// Finds the values at a few ranks with one pass in the common case: a strided sample of
// the magnitudes brackets each rank's value in a narrow window [low, high] (five standard
// deviations of the sample quantile either side); one pass counts the elements below each
// window and collects the few inside it, in index order, and the answers are read off them.
// A rank whose window misses it, a window crowded by a huge tie (e.g. zeros), or a small
// tensor uses the two-pass radix selection above instead. Both give the exact answer, so
// the result never depends on which path ran or on the thread count.
template <typename BitsAt> class RankFinder {
public:
    RankFinder(std::uint64_t n, BitsAt bitsAt) : m_n(n), m_bitsAt(bitsAt) {}

    // The magnitude at each ascending rank (each < n), with the counts below and equal to it.
    std::vector<RankValue> at(std::span<const std::uint64_t> ranks)
    {
        if (ranks.size() > kMaxWindows) {
            m_windows.assign(ranks.size(), Window{});
            return valuesAtRanks(m_n, m_bitsAt, ranks);
        }
        std::vector<RankValue> values(ranks.size());
        std::vector<std::uint64_t> missed;
        if (m_n >= kMinWindowElements)
            collectWindows(ranks);
        else
            m_windows.assign(ranks.size(), Window{});
        for (std::size_t r = 0; r < ranks.size(); ++r) {
            Window &window = m_windows[r];
            if (window.valid && ranks[r] >= window.below &&
                ranks[r] - window.below < window.candidates.size()) {
                values[r] = valueInWindow(window, ranks[r] - window.below);
            } else {
                window.valid = false;
                missed.push_back(ranks[r]);
            }
        }
        if (!missed.empty()) {
            const auto found = valuesAtRanks(m_n, m_bitsAt, missed);
            std::size_t next = 0;
            for (std::size_t r = 0; r < ranks.size(); ++r) {
                if (!m_windows[r].valid)
                    values[r] = found[next++];
            }
        }
        return values;
    }

    RankValue at(std::uint64_t rank) { return at(std::span<const std::uint64_t>(&rank, 1))[0]; }

    // The flat index of the j-th (0-based, in index order) element whose magnitude bits
    // equal `bits` (a value at() returned); n when there are fewer.
    std::uint64_t nthEqualIndex(std::uint32_t bits, std::uint64_t j) const
    {
        for (const Window &window : m_windows) {
            if (!window.valid || bits < window.low || bits > window.high)
                continue;
            // Every element with these bits is a candidate, and candidates are in index order.
            std::uint64_t seen = 0;
            for (const Candidate &c : window.candidates) {
                if (c.bits == bits && seen++ == j)
                    return c.index;
            }
            return m_n;
        }
        return indexOfNthEqual(m_n, m_bitsAt, bits, j);
    }

private:
    struct Candidate {
        std::uint32_t bits;
        std::uint64_t index;
    };

    struct Window {
        bool valid = false;
        std::uint32_t low = 0;
        std::uint32_t high = 0;
        std::uint64_t below = 0; // elements below low
        std::vector<Candidate> candidates;
    };

    static constexpr std::uint64_t kMinWindowElements = std::uint64_t{1} << 18;
    static constexpr std::uint64_t kSamples = std::uint64_t{1} << 15;
    static constexpr std::uint64_t kChunk = std::uint64_t{1} << 16;
    static constexpr std::size_t kMaxWindows = 2;

    static RankValue valueInWindow(const Window &window, std::uint64_t position)
    {
        std::vector<std::uint32_t> bits(window.candidates.size());
        for (std::size_t c = 0; c < bits.size(); ++c)
            bits[c] = window.candidates[c].bits;
        std::nth_element(bits.begin(), bits.begin() + static_cast<std::ptrdiff_t>(position),
                         bits.end());
        RankValue value;
        value.bits = bits[position];
        value.below = window.below;
        for (const Candidate &c : window.candidates) {
            value.below += c.bits < value.bits ? 1 : 0;
            value.equal += c.bits == value.bits ? 1 : 0;
        }
        return value;
    }

    void collectWindows(std::span<const std::uint64_t> ranks)
    {
        // A strided sample: positions j·n/s, the same for every run.
        std::vector<std::uint32_t> sample(kSamples);
        for (std::uint64_t j = 0; j < kSamples; ++j)
            sample[j] = m_bitsAt(j * m_n / kSamples);
        std::sort(sample.begin(), sample.end());
        const std::size_t count = ranks.size();
        m_windows.assign(count, Window{});
        std::vector<std::uint32_t> lows(count);
        std::vector<std::uint32_t> widths(count);
        std::vector<std::uint64_t> expected(count); // candidates per chunk, with a margin
        for (std::size_t r = 0; r < count; ++r) {
            const double q = static_cast<double>(ranks[r]) / static_cast<double>(m_n);
            const double spread =
                5.0 * std::sqrt(static_cast<double>(kSamples) * q * (1.0 - q)) + 8.0;
            const double first = q * static_cast<double>(kSamples) - spread;
            const double last = q * static_cast<double>(kSamples) + spread;
            Window &window = m_windows[r];
            window.low = first <= 0.0 ? 0u : sample[static_cast<std::size_t>(first)];
            window.high = last >= static_cast<double>(kSamples - 1)
                              ? 0xffffffffu
                              : sample[static_cast<std::size_t>(last)];
            lows[r] = window.low;
            widths[r] = window.high - window.low;
            expected[r] = static_cast<std::uint64_t>(3.0 * spread / static_cast<double>(kSamples) *
                                                     static_cast<double>(kChunk));
        }

        const auto chunks = static_cast<std::size_t>((m_n + kChunk - 1) / kChunk);
        // Per chunk and window: candidates, the count below, and a crowding flag.
        std::vector<std::vector<Candidate>> found(chunks * count);
        std::vector<std::uint64_t> below(chunks * count, 0);
        std::vector<unsigned char> crowded(chunks * count, 0);
        const BitsAt bitsAt = m_bitsAt; // a local copy: push_back cannot alias it
#pragma omp parallel for schedule(static) if (m_n >= kParallelMinElements)
        for (std::int64_t c = 0; c < static_cast<std::int64_t>(chunks); ++c) {
            const std::uint64_t begin = static_cast<std::uint64_t>(c) * kChunk;
            const std::uint64_t end = std::min(m_n, begin + kChunk);
            // Windows are few (one for ties, two for breadcrumbs): one read of each element
            // serves all of them.
            const std::size_t first = static_cast<std::size_t>(c) * count;
            std::array<std::uint64_t, kMaxWindows> under{};
            std::array<std::uint32_t, kMaxWindows> low{};   // locals: push_back cannot alias
            std::array<std::uint32_t, kMaxWindows> width{}; // them, so they stay in registers
            for (std::size_t r = 0; r < count; ++r) {
                low[r] = lows[r];
                width[r] = widths[r];
                found[first + r].reserve(expected[r] * (end - begin) / kChunk + 64);
            }
            for (std::uint64_t i = begin; i < end; ++i) {
                const std::uint32_t bits = bitsAt(i);
                for (std::size_t r = 0; r < count; ++r) {
                    // Arithmetic, not a branch: about half the elements lie below, at random.
                    under[r] += static_cast<std::uint64_t>(bits < low[r]);
                    if (bits - low[r] <= width[r]) // low <= bits <= high in one compare
                        found[first + r].push_back({bits, i});
                }
            }
            for (std::size_t r = 0; r < count; ++r) {
                below[first + r] = under[r];
                // A window this crowded is a tie (or a bad sample): the radix path is cheaper.
                crowded[first + r] = found[first + r].size() > (end - begin) / 4 ? 1 : 0;
            }
        }
        for (std::size_t r = 0; r < count; ++r) {
            Window &window = m_windows[r];
            window.valid = true;
            std::size_t total = 0;
            for (std::size_t c = 0; c < chunks; ++c) {
                const std::size_t slot = c * count + r;
                window.valid = window.valid && crowded[slot] == 0;
                window.below += below[slot];
                total += found[slot].size();
            }
            if (!window.valid)
                continue;
            window.candidates.reserve(total);
            for (std::size_t c = 0; c < chunks; ++c) {
                const auto &list = found[c * count + r];
                window.candidates.insert(window.candidates.end(), list.begin(), list.end());
            }
        }
    }

    std::uint64_t m_n;
    BitsAt m_bitsAt;
    std::vector<Window> m_windows;
};

} // namespace basin::merge
