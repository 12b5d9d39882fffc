// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Sums over a tensor whose value does not depend on the thread count: every fixed-size
// chunk is summed in index order (in a few fixed lanes so the loop vectorises), and the
// chunk partials are added in chunk order.

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

namespace basin::merge {

inline constexpr std::uint64_t kReduceChunk = 1u << 16;

// Below this many elements a kernel stays on the calling thread: waking a team costs more
// than the work, and far more when the machine is oversubscribed and the team spins.
inline constexpr std::uint64_t kParallelMinElements = 1u << 17;

// Returns K sums over i in [0, n) of valueAt(i), an std::array<double, K>.
template <std::size_t K, typename ValueAt>
std::array<double, K> chunkedSums(std::uint64_t n, ValueAt valueAt)
{
    constexpr std::uint64_t kLanes = 4;
    const auto chunks = static_cast<std::int64_t>((n + kReduceChunk - 1) / kReduceChunk);
    std::vector<std::array<double, K>> partials(static_cast<std::size_t>(chunks));
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
    for (std::int64_t c = 0; c < chunks; ++c) {
        const std::uint64_t begin = static_cast<std::uint64_t>(c) * kReduceChunk;
        const std::uint64_t end = std::min(n, begin + kReduceChunk);
        std::array<std::array<double, kLanes>, K> lanes{};
        std::uint64_t i = begin;
        for (; i + kLanes <= end; i += kLanes) {
            for (std::uint64_t l = 0; l < kLanes; ++l) {
                const std::array<double, K> v = valueAt(i + l);
                for (std::size_t k = 0; k < K; ++k)
                    lanes[k][l] += v[k];
            }
        }
        std::array<double, K> sum{};
        for (std::size_t k = 0; k < K; ++k)
            sum[k] = (lanes[k][0] + lanes[k][1]) + (lanes[k][2] + lanes[k][3]);
        for (; i < end; ++i) {
            const std::array<double, K> v = valueAt(i);
            for (std::size_t k = 0; k < K; ++k)
                sum[k] += v[k];
        }
        partials[static_cast<std::size_t>(c)] = sum;
    }
    std::array<double, K> total{};
    for (const auto &partial : partials) {
        for (std::size_t k = 0; k < K; ++k)
            total[k] += partial[k];
    }
    return total;
}

// Returns k sums: accumulate(begin, end, sums) adds the values of elements [begin, end) to
// sums[0..k) in index order; it is called once per fixed-size chunk and the chunk partials
// are added in chunk order.
template <typename Accumulate>
std::vector<double> chunkedRangeSums(std::uint64_t n, std::size_t k, Accumulate accumulate)
{
    const auto chunks = static_cast<std::int64_t>((n + kReduceChunk - 1) / kReduceChunk);
    std::vector<double> partials(static_cast<std::size_t>(chunks) * k, 0.0);
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
    for (std::int64_t c = 0; c < chunks; ++c) {
        const std::uint64_t begin = static_cast<std::uint64_t>(c) * kReduceChunk;
        accumulate(begin, std::min(n, begin + kReduceChunk),
                   partials.data() + static_cast<std::size_t>(c) * k);
    }
    std::vector<double> total(k, 0.0);
    for (std::int64_t c = 0; c < chunks; ++c) {
        for (std::size_t j = 0; j < k; ++j)
            total[j] += partials[static_cast<std::size_t>(c) * k + j];
    }
    return total;
}

// Runs body(begin, end) over [0, n) in blocks of `block` elements, in parallel.
template <typename Body> void parallelBlocks(std::uint64_t n, std::uint64_t block, Body body)
{
    const auto blocks = static_cast<std::int64_t>((n + block - 1) / block);
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
    for (std::int64_t b = 0; b < blocks; ++b) {
        const std::uint64_t begin = static_cast<std::uint64_t>(b) * block;
        body(begin, std::min(n, begin + block));
    }
}

} // namespace basin::merge
