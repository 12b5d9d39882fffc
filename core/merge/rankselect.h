// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Order statistics over magnitudes without sorting, for the top-k and rank cuts of ties,
// breadcrumbs and sce. The bit pattern of a non-negative f32 orders like its value, so:
// - valuesAtRanks(): a two-level radix histogram (high 16 bits, then the low 15 bits inside
//   the one bin that matters) finds the exact value at any rank in at most two passes, in
//   parallel, with integer counts only (so the answer cannot depend on the thread count).
//   The first pass also counts the elements with non-zero low bits per bin; a rank among a
//   bin's others (its smallest value) needs no second pass, as on bf16 data. Below
//   kSmallRankElements it takes a single-threaded path instead (an L1-sized coarse
//   histogram, then nth_element on the one coarse bin): the radix histograms cost ~2 MB of
//   allocation and clearing per call, which dominates on samples of a few 10^4 values;
// - countGuesses(): one pass of compares (it vectorises) counting the elements below and
//   equal to a few guessed values, and the equal ones per chunk;
// - RankFinder: usually one pass. Continuous data: a sample brackets each rank in a
//   narrow window, and one pass collects the few elements inside. bf16 data (long runs of
//   equal magnitudes, which crowd any window): the values a small sample holds most often
//   near the rank are tried with countGuesses(), and one of them is usually the answer.
//   valuesAtRanks() is the exact fallback of both.
// Ties at a cut are resolved by flat index (indexOfNthEqual(), RankFinder::nthEqualIndex()):
// from the window's lists or the guesses' per-chunk counts when those hold the value.

#include "merge/reduction.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
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
// most kFlushEvery elements: fill(local, begin, end). Only a thread with more elements than
// that flushes into a 64-bit copy (the usual case allocates and clears none).
template <typename Fill>
std::vector<std::uint64_t> histogram(std::uint64_t n, std::size_t bins, bool parallel, Fill fill)
{
    std::vector<std::uint64_t> total(bins, 0);
#pragma omp parallel if (parallel)
    {
        std::vector<std::uint32_t> local(bins, 0);
        std::vector<std::uint64_t> wide;
        const auto threads = static_cast<std::uint64_t>(omp_get_num_threads());
        const auto thread = static_cast<std::uint64_t>(omp_get_thread_num());
        const std::uint64_t share = (n + threads - 1) / threads;
        const std::uint64_t first = std::min(n, thread * share);
        const std::uint64_t last = std::min(n, first + share);
        for (std::uint64_t begin = first; begin < last; begin += kFlushEvery) {
            const std::uint64_t end = std::min(last, begin + kFlushEvery);
            fill(local, begin, end);
            if (end < last) {
                wide.resize(bins, 0);
                for (std::size_t b = 0; b < bins; ++b) {
                    wide[b] += local[b];
                    local[b] = 0;
                }
            }
        }
#pragma omp critical(basin_rankselect_merge)
        for (std::size_t b = 0; b < bins; ++b)
            total[b] += local[b] + (wide.empty() ? 0 : wide[b]);
    }
    return total;
}

} // namespace rankselect_detail

// The counts of a pass over a tensor that compares every magnitude with up to four guessed
// values (countGuesses()): per guess, the elements below it and equal to it, and the equal
// ones per chunk. A guess whose [below, below + equal) holds a rank is the exact value at
// that rank, found without a histogram; the index of its j-th equal (the tie cut) then
// comes from a scan of one chunk (nthEqualFromCounts()).
struct EqualCounts {
    static constexpr std::uint64_t kChunk = std::uint64_t{1} << 16;
    static constexpr std::size_t kGuesses = 4;
    static constexpr std::uint32_t kNoGuess = 0xffffffffu; // no magnitude has these bits

    std::array<std::uint32_t, kGuesses> guess{kNoGuess, kNoGuess, kNoGuess, kNoGuess};
    std::array<std::uint64_t, kGuesses> below{};
    std::array<std::uint64_t, kGuesses> equal{};
    std::vector<std::uint64_t> perChunk; // [chunk · kGuesses + g]; empty until counted

    // The slot of `bits` among the counted guesses, or kGuesses.
    std::size_t slotOf(std::uint32_t bits) const
    {
        if (perChunk.empty() || bits == kNoGuess)
            return kGuesses;
        return static_cast<std::size_t>(std::find(guess.begin(), guess.end(), bits) -
                                        guess.begin());
    }

    // The value at `rank` when one of the guesses is it (its counts hold the rank).
    std::optional<RankValue> valueAt(std::uint64_t rank) const
    {
        for (std::size_t g = 0; g < kGuesses && !perChunk.empty(); ++g) {
            if (guess[g] != kNoGuess && rank >= below[g] && rank - below[g] < equal[g])
                return RankValue{guess[g], below[g], equal[g]};
        }
        return std::nullopt;
    }
};

// Fills equal.below, equal.equal and equal.perChunk for equal.guess in one pass: only
// compares and adds, which vectorise (a histogram's scattered increments do not), so the
// pass costs a fraction of a radix pass. Integer counts: independent of the thread count.
template <typename BitsAt> void countGuesses(std::uint64_t n, BitsAt bitsAt, EqualCounts &equal)
{
    constexpr std::uint64_t kChunk = EqualCounts::kChunk;
    constexpr std::size_t kGuesses = EqualCounts::kGuesses;
    constexpr std::size_t kRun = 512; // elements whose bits are computed at once
    const auto chunks = static_cast<std::int64_t>((n + kChunk - 1) / kChunk);
    equal.perChunk.assign(static_cast<std::size_t>(chunks) * kGuesses, 0);
    std::vector<std::uint64_t> belowPerChunk(equal.perChunk.size(), 0);
    // Signed: magnitude bits are below 2^31, and SSE2 compares signed integers only. An
    // unused guess (kNoGuess, −1 here) counts nothing.
    std::array<std::int32_t, kGuesses> guess{};
    for (std::size_t g = 0; g < kGuesses; ++g)
        guess[g] = static_cast<std::int32_t>(equal.guess[g]);
    std::uint64_t *equalOut = equal.perChunk.data();
    std::uint64_t *belowOut = belowPerChunk.data();
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
    for (std::int64_t c = 0; c < chunks; ++c) {
        const std::uint64_t begin = static_cast<std::uint64_t>(c) * kChunk;
        const std::uint64_t end = std::min(n, begin + kChunk);
        std::array<std::uint64_t, kGuesses> below{};
        std::array<std::uint64_t, kGuesses> same{};
        for (std::uint64_t run = begin; run < end; run += kRun) {
            const auto size = static_cast<std::size_t>(std::min<std::uint64_t>(kRun, end - run));
            std::array<std::int32_t, kRun> bits;
            for (std::size_t k = 0; k < size; ++k)
                bits[k] = static_cast<std::int32_t>(bitsAt(run + k));
            for (std::size_t g = 0; g < kGuesses; ++g) {
                const std::int32_t value = guess[g];
                std::uint32_t less = 0;
                std::uint32_t equalHere = 0;
                for (std::size_t k = 0; k < size; ++k) {
                    less += static_cast<std::uint32_t>(bits[k] < value);
                    equalHere += static_cast<std::uint32_t>(bits[k] == value);
                }
                below[g] += less;
                same[g] += equalHere;
            }
        }
        const auto slot = static_cast<std::size_t>(c) * kGuesses;
        std::copy(below.begin(), below.end(), belowOut + slot);
        std::copy(same.begin(), same.end(), equalOut + slot);
    }
    equal.below = {};
    equal.equal = {};
    for (std::size_t slot = 0; slot < belowPerChunk.size(); ++slot) {
        equal.below[slot % kGuesses] += belowPerChunk[slot];
        equal.equal[slot % kGuesses] += equal.perChunk[slot];
    }
}

namespace rankselect_detail {

// The first radix pass: per high bin (the top 16 of the 31 magnitude bits), how many
// elements it holds and how many of them have non-zero low bits. The others all hold the
// bin's smallest value (low bits 0), so a rank among them needs no second pass: bf16 task
// vectors are differences of bf16 values, nearly all exact in bf16, whose low bits are 0.
struct HighCounts {
    std::vector<std::uint64_t> counts;
    std::vector<std::uint64_t> lowNonZero;
};

template <typename BitsAt> HighCounts highHistogram(std::uint64_t n, BitsAt bitsAt, bool parallel)
{
    constexpr std::uint64_t kRun = 512; // elements whose bits are computed at once
    // Two counters per bin: elements with low bits 0, and the others. One increment per
    // element selects between them, without a branch.
    const auto both =
        histogram(n, 2 * kHighBins, parallel,
                  [&](std::vector<std::uint32_t> &local, std::uint64_t begin, std::uint64_t end) {
                      std::uint32_t *counts = local.data();
                      for (std::uint64_t run = begin; run < end; run += kRun) {
                          const auto size = static_cast<std::size_t>(std::min(kRun, end - run));
                          // The bits first, in a loop that vectorises; the increments after.
                          std::array<std::uint32_t, kRun> bits;
                          for (std::size_t k = 0; k < size; ++k)
                              bits[k] = bitsAt(run + k);
                          for (std::size_t k = 0; k < size; ++k) {
                              const std::uint32_t slot =
                                  2 * (bits[k] >> kLowBits) +
                                  static_cast<std::uint32_t>((bits[k] & (kLowBins - 1)) != 0);
                              ++counts[slot];
                          }
                      }
                  });
    HighCounts high;
    high.counts.resize(kHighBins);
    high.lowNonZero.resize(kHighBins);
    for (std::size_t b = 0; b < kHighBins; ++b) {
        high.counts[b] = both[2 * b] + both[2 * b + 1];
        high.lowNonZero[b] = both[2 * b + 1];
    }
    return high;
}

// Where each rank falls in a histogram: its bin, the elements in lower bins, and the
// distinct bins holding some rank (ascending).
struct RankBins {
    std::vector<std::uint32_t> binOf;
    std::vector<std::uint64_t> belowBin;
    std::vector<std::uint32_t> bins;
};

template <typename Counts>
RankBins locateRanks(const Counts &counts, std::span<const std::uint64_t> ranks)
{
    RankBins located;
    located.binOf.resize(ranks.size());
    located.belowBin.resize(ranks.size());
    for (std::size_t r = 0; r < ranks.size(); ++r) {
        std::uint64_t cumulative = 0;
        std::size_t bin = 0;
        while (cumulative + counts[bin] <= ranks[r]) {
            cumulative += counts[bin];
            ++bin;
        }
        located.binOf[r] = static_cast<std::uint32_t>(bin);
        located.belowBin[r] = cumulative;
    }
    located.bins = located.binOf;
    std::sort(located.bins.begin(), located.bins.end());
    located.bins.erase(std::unique(located.bins.begin(), located.bins.end()), located.bins.end());
    return located;
}

} // namespace rankselect_detail

// Below this many elements valuesAtRanks() takes the small path.
inline constexpr std::uint64_t kSmallRankElements = std::uint64_t{1} << 17;

namespace rankselect_detail {

// The small path of valuesAtRanks(): one pass counts the elements per coarse bin (the top 11
// of the 31 magnitude bits: 2048 counters, 8 KB, in L1), a second pass gathers the bits of
// the elements inside the coarse bins holding the ranks, and nth_element over each gathered
// bin reads off the exact value; below and equal are counted exactly, so the result equals
// the radix path's. Single-threaded; scratch is 4 bytes per element; bitsAt is called once
// per element. Counts are 32-bit: n < 2^32 (valuesAtRanks() sends only n < 2^17 here).
template <typename BitsAt>
std::vector<RankValue> smallValuesAtRanks(std::uint64_t n, BitsAt bitsAt,
                                          std::span<const std::uint64_t> ranks)
{
    constexpr int kCoarseShift = 20;
    constexpr std::size_t kCoarseBins = std::size_t{1} << (31 - kCoarseShift);
    // The bits first, in one streaming pass: the counting and gathering loops below then
    // read one array instead of recomputing each element (about twice as fast).
    // (Not zero-filled first: every slot is written.)
    const auto storage = std::make_unique_for_overwrite<std::uint32_t[]>(n);
    const std::span<std::uint32_t> all(storage.get(), n);
    for (std::uint64_t i = 0; i < n; ++i)
        all[i] = bitsAt(i);
    // Four partial histograms by i mod 4, summed after: neighbouring values mostly share a
    // bin, and one histogram would make every increment wait for the previous one's store.
    std::array<std::array<std::uint32_t, kCoarseBins>, 4> partial{};
    std::uint64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        ++partial[0][all[i] >> kCoarseShift];
        ++partial[1][all[i + 1] >> kCoarseShift];
        ++partial[2][all[i + 2] >> kCoarseShift];
        ++partial[3][all[i + 3] >> kCoarseShift];
    }
    for (; i < n; ++i)
        ++partial[0][all[i] >> kCoarseShift];
    std::array<std::uint32_t, kCoarseBins> coarse{};
    for (std::size_t b = 0; b < kCoarseBins; ++b)
        coarse[b] = (partial[0][b] + partial[1][b]) + (partial[2][b] + partial[3][b]);

    const RankBins located = locateRanks(coarse, ranks);
    const std::vector<std::uint32_t> &binOf = located.binOf;
    const std::vector<std::uint64_t> &belowBin = located.belowBin;
    const std::vector<std::uint32_t> &bins = located.bins;
    std::vector<std::vector<std::uint32_t>> gathered(bins.size());
    if (bins.size() == 1) {
        // Branch-free compaction: every element is written, only those in the bin advance
        // the cursor (the bin's count is known, plus one slot for the last write).
        const std::uint32_t only = bins.front();
        std::vector<std::uint32_t> &into = gathered.front();
        into.resize(coarse[only] + 1);
        std::uint32_t *slot = into.data();
        std::size_t cursor = 0;
        for (const std::uint32_t bits : all) {
            slot[cursor] = bits;
            cursor += (bits >> kCoarseShift) == only ? 1 : 0;
        }
        into.resize(cursor);
    } else {
        for (std::size_t b = 0; b < bins.size(); ++b)
            gathered[b].reserve(coarse[bins[b]]);
        for (const std::uint32_t bits : all) {
            const std::uint32_t key = bits >> kCoarseShift;
            for (std::size_t b = 0; b < bins.size(); ++b) {
                if (key == bins[b])
                    gathered[b].push_back(bits);
            }
        }
    }

    std::vector<RankValue> result(ranks.size());
    for (std::size_t r = 0; r < ranks.size(); ++r) {
        const auto slot = static_cast<std::size_t>(
            std::lower_bound(bins.begin(), bins.end(), binOf[r]) - bins.begin());
        std::vector<std::uint32_t> &values = gathered[slot];
        // nth_element only permutes, so several ranks can share one gathered bin.
        const auto position = static_cast<std::ptrdiff_t>(ranks[r] - belowBin[r]);
        std::nth_element(values.begin(), values.begin() + position, values.end());
        const std::uint32_t value = values[static_cast<std::size_t>(position)];
        std::uint64_t below = 0;
        std::uint64_t equal = 0;
        for (const std::uint32_t v : values) {
            below += v < value ? 1 : 0;
            equal += v == value ? 1 : 0;
        }
        result[r].bits = value;
        result[r].below = belowBin[r] + below;
        result[r].equal = equal;
    }
    return result;
}

// The two-level radix path of valuesAtRanks(), for any n.
template <typename BitsAt>
std::vector<RankValue> radixValuesAtRanks(std::uint64_t n, BitsAt bitsAt,
                                          std::span<const std::uint64_t> ranks)
{
    const bool parallel = n >= kParallelMinElements;
    const HighCounts high = highHistogram(n, bitsAt, parallel);

    // The high bin holding each rank and the count below that bin. A rank among a bin's
    // elements with low bits 0 (its smallest value) is answered now; the second pass looks
    // into the other bins only.
    const RankBins located = locateRanks(high.counts, ranks);
    const std::vector<std::uint32_t> &binOf = located.binOf;
    const std::vector<std::uint64_t> &belowBin = located.belowBin;
    std::vector<RankValue> result(ranks.size());
    std::vector<bool> answered(ranks.size(), false);
    std::vector<std::uint32_t> bins;
    for (std::size_t r = 0; r < ranks.size(); ++r) {
        const std::uint32_t bin = binOf[r];
        const std::uint64_t lowZero = high.counts[bin] - high.lowNonZero[bin];
        if (ranks[r] - belowBin[r] < lowZero) {
            result[r].bits = bin << kLowBits;
            result[r].below = belowBin[r];
            result[r].equal = lowZero;
            answered[r] = true;
        } else if (std::find(bins.begin(), bins.end(), bin) == bins.end()) {
            bins.push_back(bin);
        }
    }
    std::sort(bins.begin(), bins.end()); // the slot lookup below bisects them
    if (bins.empty())
        return result;
    const auto low =
        histogram(n, bins.size() * kLowBins, parallel,
                  [&](std::vector<std::uint32_t> &local, std::uint64_t begin, std::uint64_t end) {
                      if (bins.size() == 1) {
                          // The usual case (one cut), without a branch: a bin holds a share of
                          // the elements the branch predictor cannot guess (bf16 data puts a
                          // fifth of a tensor and more in one bin). Elements outside the bin
                          // add 0 to some count.
                          const std::uint32_t only = bins.front();
                          for (std::uint64_t i = begin; i < end; ++i) {
                              const std::uint32_t bits = bitsAt(i);
                              local[bits & (kLowBins - 1)] +=
                                  static_cast<std::uint32_t>((bits >> kLowBits) == only);
                          }
                          return;
                      }
                      for (std::uint64_t i = begin; i < end; ++i) {
                          const std::uint32_t bits = bitsAt(i);
                          const std::uint32_t key = bits >> kLowBits;
                          for (std::size_t b = 0; b < bins.size(); ++b) {
                              if (key == bins[b])
                                  ++local[b * kLowBins + (bits & (kLowBins - 1))];
                          }
                      }
                  });

    for (std::size_t r = 0; r < ranks.size(); ++r) {
        if (answered[r])
            continue;
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

} // namespace rankselect_detail

// For each rank r < n (ascending order of magnitude), the magnitude at that rank and the
// counts below and equal to it. bitsAt(i) gives magnitudeBits() of element i; it is called
// once or twice per element, from several threads for large n. Small n
// (< kSmallRankElements) runs on the calling thread without the radix histograms; both
// paths return the same values.
template <typename BitsAt>
std::vector<RankValue> valuesAtRanks(std::uint64_t n, BitsAt bitsAt,
                                     std::span<const std::uint64_t> ranks)
{
    if (n < kSmallRankElements)
        return rankselect_detail::smallValuesAtRanks(n, bitsAt, ranks);
    return rankselect_detail::radixValuesAtRanks(n, bitsAt, ranks);
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

// indexOfNthEqual() from the per-chunk counts of `bits` that valuesAtRanks() gathered
// (equal.slotOf(bits) < kGuesses): scans the one chunk holding the j-th equal.
template <typename BitsAt>
std::uint64_t nthEqualFromCounts(std::uint64_t n, BitsAt bitsAt, const EqualCounts &equal,
                                 std::uint32_t bits, std::uint64_t j)
{
    const std::size_t slot = equal.slotOf(bits);
    const std::size_t chunks = equal.perChunk.size() / EqualCounts::kGuesses;
    std::uint64_t seen = 0;
    for (std::size_t c = 0; c < chunks; ++c) {
        const std::uint64_t inChunk = equal.perChunk[c * EqualCounts::kGuesses + slot];
        if (seen + inChunk > j) {
            const std::uint64_t begin = static_cast<std::uint64_t>(c) * EqualCounts::kChunk;
            const std::uint64_t end = std::min(n, begin + EqualCounts::kChunk);
            for (std::uint64_t i = begin; i < end; ++i) {
                if (bitsAt(i) == bits && seen++ == j)
                    return i;
            }
        }
        seen += inChunk;
    }
    return n;
}

// Finds the values at a few ranks with one pass in the common case. Continuous data: a
// sample of the magnitudes brackets each rank's value in a narrow window [low, high] (five
// standard deviations of the sample quantile either side); one pass counts the elements
// below each window and collects the few inside it, in index order, and the answers are
// read off them. Data with long runs of equal magnitudes (bf16 task vectors, zeros), which
// crowd any window: a small sample shows it, and one pass of compares (countGuesses()) tests
// the values that sample holds most often near each rank; the guess whose run holds the
// rank is the answer, and its per-chunk counts locate the tie cut. A rank neither path
// answers, or a small tensor, uses the radix selection above. All paths give the exact
// answer, so the result never depends on which one ran or on the thread count.
//
// The candidates are bounded: at most max(kMinCandidateBudget, n / kBudgetFraction) of them
// (8 bytes each) are kept over all windows. bf16-quantised task vectors put long runs of
// equal magnitudes inside a window; once the budget is spent the collection stops and
// another path answers instead, so scratch stays at a few percent of the tensor's size.
template <typename BitsAt> class RankFinder {
public:
    RankFinder(std::uint64_t n, BitsAt bitsAt) : m_n(n), m_bitsAt(bitsAt) {}

    // The magnitude at each ascending rank (each < n), with the counts below and equal to it.
    std::vector<RankValue> at(std::span<const std::uint64_t> ranks)
    {
        m_found.clear();
        m_foundBytes = 0;
        m_peakScratch = 0;
        m_quick.clear();
        m_equal = EqualCounts{};
        m_guessed = 0;
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
                ranks[r] - window.below < window.total) {
                values[r] = valueInWindow(r, ranks[r] - window.below);
            } else {
                window.valid = false;
                missed.push_back(ranks[r]);
            }
        }
        if (missed.empty())
            return values;
        // Long runs of equal magnitudes (bf16 data) crowd the windows out: the values the
        // quick sample holds most often near the ranks are tried first, by one pass of
        // compares, and usually one of them is the answer. The radix path answers the rest.
        std::vector<RankValue> found(missed.size());
        std::vector<std::uint64_t> unknown;
        if (m_n >= kSmallRankElements) {
            guessValues(missed);
            countGuesses(m_n, m_bitsAt, m_equal);
        }
        for (std::size_t r = 0; r < missed.size(); ++r) {
            if (const std::optional<RankValue> guessed = m_equal.valueAt(missed[r])) {
                found[r] = *guessed;
                ++m_guessed;
            } else {
                unknown.push_back(missed[r]);
            }
        }
        if (!unknown.empty()) {
            const auto radix = valuesAtRanks(m_n, m_bitsAt, unknown);
            std::size_t next = 0;
            for (std::size_t r = 0; r < missed.size(); ++r) {
                if (!m_equal.valueAt(missed[r]))
                    found[r] = radix[next++];
            }
        }
        std::size_t next = 0;
        for (std::size_t r = 0; r < ranks.size(); ++r) {
            if (!m_windows[r].valid)
                values[r] = found[next++];
        }
        return values;
    }

    RankValue at(std::uint64_t rank) { return at(std::span<const std::uint64_t>(&rank, 1))[0]; }

    // The flat index of the j-th (0-based, in index order) element whose magnitude bits
    // equal `bits` (a value at() returned); n when there are fewer.
    std::uint64_t nthEqualIndex(std::uint32_t bits, std::uint64_t j) const
    {
        for (std::size_t r = 0; r < m_windows.size(); ++r) {
            const Window &window = m_windows[r];
            if (!window.valid || bits < window.low || bits > window.high)
                continue;
            // Every element with these bits is a candidate; chunks and their lists are in
            // index order.
            std::uint64_t seen = 0;
            for (std::size_t c = 0; c * m_windows.size() + r < m_found.size(); ++c) {
                for (const Candidate &candidate : m_found[c * m_windows.size() + r]) {
                    if (candidate.bits == bits && seen++ == j)
                        return static_cast<std::uint64_t>(c) * kChunk + candidate.offset;
                }
            }
            return m_n;
        }
        if (m_equal.slotOf(bits) < EqualCounts::kGuesses)
            return nthEqualFromCounts(m_n, m_bitsAt, m_equal, bits, j);
        return indexOfNthEqual(m_n, m_bitsAt, bits, j);
    }

    // How many ranks of the last at() a guessed value answered (countGuesses()).
    std::size_t guessedRanks() const { return m_guessed; }

    // The most candidate scratch (bytes) the last at() held at once: the collected lists,
    // the threads' per-chunk buffers and the copy a window's selection sorts.
    std::uint64_t peakScratchBytes() const { return m_peakScratch; }

    // The most candidates at() keeps over all windows for a tensor of n elements.
    static std::uint64_t candidateBudget(std::uint64_t n)
    {
        return std::max(kMinCandidateBudget, n / kBudgetFraction);
    }

private:
    // A candidate inside one chunk: its bits and its offset from the chunk's first index.
    struct Candidate {
        std::uint32_t bits;
        std::uint32_t offset;
    };

    struct Window {
        bool valid = false;
        std::uint32_t low = 0;
        std::uint32_t high = 0;
        std::uint64_t below = 0; // elements below low
        std::uint64_t total = 0; // candidates: elements in [low, high]
    };

    static constexpr std::uint64_t kMinWindowElements = std::uint64_t{1} << 18;
    static constexpr std::uint64_t kSamples = std::uint64_t{1} << 15;
    static constexpr std::size_t kQuickSamples = 1024;
    static constexpr std::uint64_t kChunk = std::uint64_t{1} << 16;
    static constexpr std::size_t kMaxWindows = 2;
    // A continuous distribution puts ~2.6 % of the elements in a window (±5σ of the sample
    // quantile); n/32 (3.1 %) leaves room for that and stops anything much more crowded.
    static constexpr std::uint64_t kBudgetFraction = 32;
    static constexpr std::uint64_t kMinCandidateBudget = std::uint64_t{1} << 18; // 2 MiB

    RankValue valueInWindow(std::size_t r, std::uint64_t position)
    {
        const Window &window = m_windows[r];
        std::vector<std::uint32_t> bits;
        bits.reserve(window.total);
        for (std::size_t c = 0; c * m_windows.size() + r < m_found.size(); ++c) {
            for (const Candidate &candidate : m_found[c * m_windows.size() + r])
                bits.push_back(candidate.bits);
        }
        m_peakScratch = std::max(m_peakScratch, m_foundBytes + bits.capacity() * 4);
        std::nth_element(bits.begin(), bits.begin() + static_cast<std::ptrdiff_t>(position),
                         bits.end());
        RankValue value;
        value.bits = bits[position];
        value.below = window.below;
        for (const std::uint32_t b : bits) {
            value.below += b < value.bits ? 1 : 0;
            value.equal += b == value.bits ? 1 : 0;
        }
        return value;
    }

    // Whether the quick sample shows the value at some rank repeated in more than 1/128 of
    // it (~0.8 % of the elements): data with runs of equal magnitudes, as bf16 task vectors
    // have. Then the guesses (one pass of compares that vectorises) usually answer, for less
    // than the full sample's sort and the window's collection pass, which such runs also
    // tend to overflow. Only decides which exact path answers, never the answer.
    bool crowdedAtRank(std::span<const std::uint64_t> ranks)
    {
        const std::span<const std::uint32_t> sample = quickSample();
        const std::uint64_t crowd = kQuickSamples / 128;
        for (const std::uint64_t rank : ranks) {
            const std::uint32_t value = sample[rank * kQuickSamples / m_n];
            const auto equal = std::upper_bound(sample.begin(), sample.end(), value) -
                               std::lower_bound(sample.begin(), sample.end(), value);
            if (static_cast<std::uint64_t>(equal) > crowd)
                return true;
        }
        return false;
    }

    // Sets m_equal's guesses of the values at the ranks (at most kMaxWindows): the values
    // the quick sample holds most often near each rank's quantile (within three standard
    // deviations of the sample quantile), kGuesses / ranks of them per rank. A rank at the
    // edge of a long run of equal magnitudes often holds the value of the run next to it.
    void guessValues(std::span<const std::uint64_t> ranks)
    {
        static_assert(kMaxWindows <= EqualCounts::kGuesses);
        const std::span<const std::uint32_t> sample = quickSample();
        const std::size_t perRank = EqualCounts::kGuesses / ranks.size();
        std::size_t next = 0;
        for (const std::uint64_t rank : ranks) {
            const double q = static_cast<double>(rank) / static_cast<double>(m_n);
            const double spread =
                3.0 * std::sqrt(static_cast<double>(kQuickSamples) * q * (1.0 - q)) + 2.0;
            const double centre = q * static_cast<double>(kQuickSamples);
            const auto first = static_cast<std::size_t>(std::max(0.0, centre - spread));
            const auto end = static_cast<std::size_t>(
                std::min(static_cast<double>(kQuickSamples), centre + spread + 1.0));
            // Runs of equal values in sample[first, end): (count, value), most frequent
            // first, the smaller value first among equally frequent ones.
            std::vector<std::pair<std::size_t, std::uint32_t>> runs;
            for (std::size_t i = first; i < end;) {
                std::size_t j = i;
                while (j < end && sample[j] == sample[i])
                    ++j;
                runs.emplace_back(j - i, sample[i]);
                i = j;
            }
            std::stable_sort(runs.begin(), runs.end(),
                             [](const auto &a, const auto &b) { return a.first > b.first; });
            for (std::size_t k = 0; k < std::min(perRank, runs.size()); ++k)
                m_equal.guess[next++] = runs[k].second;
        }
    }

    // The j-th of s sample positions (s <= n): one in each stretch [j·n/s, (j+1)·n/s), at
    // an offset hashed from j, the same for every run. Not at the stretch's start: a stride
    // that is a multiple of the row length would sample one column only, and a low-rank
    // task vector's columns differ in scale (the samples then bracketed the wrong values).
    std::uint64_t samplePosition(std::uint64_t j, std::uint64_t s) const
    {
        const std::uint64_t begin = j * m_n / s;
        const std::uint64_t width = (j + 1) * m_n / s - begin;
        const std::uint64_t hash = (j * 0x9e3779b97f4a7c15ull) >> 32;
        return begin + hash % width;
    }

    // kQuickSamples magnitudes at samplePosition()s, sorted; taken once per at().
    std::span<const std::uint32_t> quickSample()
    {
        if (m_quick.empty()) {
            m_quick.resize(kQuickSamples);
            for (std::uint64_t j = 0; j < kQuickSamples; ++j)
                m_quick[j] = m_bitsAt(samplePosition(j, kQuickSamples));
            std::sort(m_quick.begin(), m_quick.end());
        }
        return m_quick;
    }

    void collectWindows(std::span<const std::uint64_t> ranks)
    {
        if (crowdedAtRank(ranks)) {
            m_windows.assign(ranks.size(), Window{});
            return;
        }
        std::vector<std::uint32_t> sample(kSamples);
        for (std::uint64_t j = 0; j < kSamples; ++j)
            sample[j] = m_bitsAt(samplePosition(j, kSamples));
        std::sort(sample.begin(), sample.end());
        const std::size_t count = ranks.size();
        m_windows.assign(count, Window{});
        std::array<std::uint32_t, kMaxWindows> lows{};
        std::array<std::uint32_t, kMaxWindows> widths{};
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
        }

        const auto chunks = static_cast<std::size_t>((m_n + kChunk - 1) / kChunk);
        const std::uint64_t budget = candidateBudget(m_n);
        // The sample already shows a window that will not fit (a value repeated at the cut,
        // as bf16 data has): skip the collection pass, the radix path answers.
        std::uint64_t expected = 0;
        for (std::size_t r = 0; r < count; ++r) {
            const auto inside = std::upper_bound(sample.begin(), sample.end(), m_windows[r].high) -
                                std::lower_bound(sample.begin(), sample.end(), m_windows[r].low);
            expected += static_cast<std::uint64_t>(inside) * (m_n / kSamples);
        }
        if (expected > budget) {
            m_windows.assign(count, Window{});
            return;
        }
        // Per chunk and window: candidates (exactly sized), the count below, and whether the
        // chunk was too crowded or came after the budget ran out.
        m_found.assign(chunks * count, {});
        std::vector<std::uint64_t> below(chunks * count, 0);
        std::atomic<bool> failed{false};
        std::uint64_t collected = 0;    // candidates kept so far, all threads
        std::uint64_t bufferBytes = 0;  // the threads' per-chunk buffers, summed at the end
        const BitsAt bitsAt = m_bitsAt; // a local copy: push_back cannot alias it
#pragma omp parallel if (m_n >= kParallelMinElements)
        {
            // One reusable buffer per window and thread; a chunk fills at most a quarter.
            std::array<std::vector<Candidate>, kMaxWindows> buffer;
#pragma omp for schedule(static)
            for (std::int64_t c = 0; c < static_cast<std::int64_t>(chunks); ++c) {
                const std::uint64_t begin = static_cast<std::uint64_t>(c) * kChunk;
                const std::uint64_t end = std::min(m_n, begin + kChunk);
                const std::uint64_t crowd = (end - begin) / 4;
                // Windows are few (one for ties, two for breadcrumbs): one read of each
                // element serves all of them.
                const std::size_t first = static_cast<std::size_t>(c) * count;
                std::array<std::uint64_t, kMaxWindows> under{};
                std::array<std::uint32_t, kMaxWindows> low = lows;     // locals: push_back cannot
                std::array<std::uint32_t, kMaxWindows> width = widths; // alias them
                for (std::size_t r = 0; r < count; ++r)
                    buffer[r].clear();
                // Once the collection has failed only the counts below are left to do, and
                // they are not needed either: skip the chunk.
                bool collecting = !failed.load(std::memory_order_relaxed);
                for (std::uint64_t i = begin; i < end && collecting; ++i) {
                    const std::uint32_t bits = bitsAt(i);
                    for (std::size_t r = 0; r < count; ++r) {
                        // Arithmetic, not a branch: about half the elements lie below.
                        under[r] += static_cast<std::uint64_t>(bits < low[r]);
                        if (bits - low[r] <= width[r]) { // low <= bits <= high in one compare
                            buffer[r].push_back({bits, static_cast<std::uint32_t>(i - begin)});
                            // A window this crowded is a tie (or a bad sample): the radix
                            // path is cheaper.
                            if (buffer[r].size() > crowd)
                                collecting = false;
                        }
                    }
                }
                std::uint64_t size = 0;
                for (std::size_t r = 0; r < count; ++r)
                    size += buffer[r].size();
                if (collecting) {
                    std::uint64_t total = 0;
#pragma omp atomic capture
                    total = collected += size;
                    collecting = total <= budget;
                }
                if (!collecting) {
                    failed.store(true, std::memory_order_relaxed);
                } else {
                    for (std::size_t r = 0; r < count; ++r) {
                        below[first + r] = under[r];
                        m_found[first + r].assign(buffer[r].begin(), buffer[r].end());
                    }
                }
            }
            std::uint64_t bytes = 0;
            for (std::size_t r = 0; r < count; ++r)
                bytes += buffer[r].capacity() * sizeof(Candidate);
#pragma omp atomic
            bufferBytes += bytes;
        }
        if (failed.load()) {
            m_found.clear();
            m_found.shrink_to_fit();
            m_foundBytes = 0;
            // At most the budget was held in lists next to the buffers.
            m_peakScratch = std::min(collected, budget) * sizeof(Candidate) + bufferBytes;
            return; // every window invalid: the radix path answers
        }
        m_foundBytes = 0;
        for (const auto &list : m_found)
            m_foundBytes += list.capacity() * sizeof(Candidate);
        // The buffers and the lists were alive together at the end of the pass.
        m_peakScratch = m_foundBytes + bufferBytes;
        for (std::size_t r = 0; r < count; ++r) {
            Window &window = m_windows[r];
            window.valid = true;
            for (std::size_t c = 0; c < chunks; ++c) {
                window.below += below[c * count + r];
                window.total += m_found[c * count + r].size();
            }
        }
    }

    std::uint64_t m_n;
    BitsAt m_bitsAt;
    std::vector<Window> m_windows;
    std::vector<std::vector<Candidate>> m_found; // [chunk · windows + window]
    std::uint64_t m_foundBytes = 0;
    std::uint64_t m_peakScratch = 0;
    std::vector<std::uint32_t> m_quick; // quickSample(); empty until taken
    EqualCounts m_equal;                // countGuesses() of the last at(), if it ran
    std::size_t m_guessed = 0;
};

} // namespace basin::merge
