// SPDX-License-Identifier: GPL-3.0-or-later
#include "merge/kernels.h"
#include "merge/kernelsupport.h"
#include "merge/reduction.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace basin::merge {

namespace {

constexpr double kProbabilityFloor = 1e-8;

// KL(softmax(b) + ε ‖ softmax(a) + ε) of one row, in f64.
double rowDivergence(const float *a, const float *b, std::uint64_t length)
{
    double maxA = -INFINITY;
    double maxB = -INFINITY;
    for (std::uint64_t k = 0; k < length; ++k) {
        maxA = std::max(maxA, static_cast<double>(a[k]));
        maxB = std::max(maxB, static_cast<double>(b[k]));
    }
    double sumA = 0.0;
    double sumB = 0.0;
    for (std::uint64_t k = 0; k < length; ++k) {
        sumA += std::exp(a[k] - maxA);
        sumB += std::exp(b[k] - maxB);
    }
    double divergence = 0.0;
    for (std::uint64_t k = 0; k < length; ++k) {
        const double p = std::exp(b[k] - maxB) / sumB + kProbabilityFloor;
        const double q = std::exp(a[k] - maxA) / sumA + kProbabilityFloor;
        divergence += p * std::log(p / q);
    }
    return divergence;
}

// The exact quantile at position floor(q·(n − 1)) of the sorted values (no interpolation).
float quantile(std::vector<float> &values, double q)
{
    const auto position =
        static_cast<std::size_t>(std::floor(q * static_cast<double>(values.size() - 1)));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(position),
                     values.end());
    return values[position];
}

} // namespace

// Importance |b − a|·KL(softmax(b)‖softmax(a)) per row (last dimension); the other model's
// value is taken where importance >= median + 1.5·IQR over the whole tensor, the base's
// elsewhere. Quantiles are exact (mergekit samples a million values at random).
Result<void> kernelArceeFusion(const TensorJob &job, std::span<float> out, TensorNotes &)
{
    constexpr std::string_view kMethod = "arcee_fusion";
    BASIN_TRY(checkJob(kMethod, job, out, BaseRule::Required, 1, 1));
    const std::uint64_t n = job.numel;
    if (n == 0)
        return {};
    const float *a = job.base;
    const float *b = job.models[0].data;
    const std::uint64_t cols = job.shape.size() >= 2 ? job.shape.back() : n;
    const auto rows = static_cast<std::int64_t>(cols == 0 ? 0 : n / cols);

    std::vector<float> importance(n);
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
    for (std::int64_t row = 0; row < rows; ++row) {
        const std::uint64_t start = static_cast<std::uint64_t>(row) * cols;
        const auto divergence = static_cast<float>(rowDivergence(a + start, b + start, cols));
        for (std::uint64_t k = start; k < start + cols; ++k)
            importance[k] = std::fabs(b[k] - a[k]) * divergence;
    }

    std::vector<float> scratch(importance);
    const float q1 = quantile(scratch, 0.25);
    const float median = quantile(scratch, 0.5);
    const float q3 = quantile(scratch, 0.75);
    const float threshold = median + 1.5f * (q3 - q1);

    parallelBlocks(n, kReduceChunk, [&](std::uint64_t begin, std::uint64_t end) {
        for (std::uint64_t i = begin; i < end; ++i)
            out[i] = importance[i] >= threshold ? a[i] + (b[i] - a[i]) : a[i];
    });
    return {};
}

} // namespace basin::merge
