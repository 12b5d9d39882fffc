// SPDX-License-Identifier: GPL-3.0-or-later
#include "merge/kernels.h"
#include "merge/kernelsupport.h"
#include "merge/reduction.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace basin::merge {

namespace {

constexpr double kDenominatorFloor = 1e-6;

// t from the Gram matrix of the offsets o_i = X_i − B (packed upper triangle, row-major):
// the mean of the pairwise cosines, then t = N·cos / (1 + (N − 1)·cos), not clamped.
double interpolationRatio(const double *gram, std::size_t count)
{
    const auto at = [&](std::size_t i, std::size_t j) {
        return gram[i * count - i * (i + 1) / 2 + j]; // j >= i
    };
    double cosSum = 0.0;
    std::size_t pairs = 0;
    for (std::size_t i = 0; i < count; ++i) {
        for (std::size_t j = i + 1; j < count; ++j) {
            const double denominator =
                std::max(std::sqrt(at(i, i)) * std::sqrt(at(j, j)), kDenominatorFloor);
            cosSum += std::clamp(at(i, j) / denominator, -1.0, 1.0);
            ++pairs;
        }
    }
    const double cosTheta = cosSum / static_cast<double>(pairs);
    const double modelCount = static_cast<double>(count);
    return modelCount * cosTheta / (1.0 + (modelCount - 1.0) * cosTheta);
}

} // namespace

// out = t·mean(X_i) + (1 − t)·B with t from the angles between the task vectors, over the
// whole tensor or (filter_wise) per row of the last dimension.
Result<void> kernelModelStock(const TensorJob &job, std::span<float> out, TensorNotes &)
{
    constexpr std::string_view kMethod = "model_stock";
    BASIN_TRY(checkJob(kMethod, job, out, BaseRule::Required, 2, 1 << 20));
    if (job.numel == 0)
        return {};
    const auto filterWise = globalParam(kMethod, job, "filter_wise");
    if (!filterWise.ok())
        return filterWise.error();
    const std::size_t count = job.models.size();
    const std::size_t gramSize = count * (count + 1) / 2;
    const float *base = job.base;
    const auto modelCount = static_cast<float>(count);

    // Adds the Gram matrix of the offsets over [b, e) to gram.
    const auto accumulateGram = [&](std::uint64_t b, std::uint64_t e, double *gram) {
        std::vector<double> offsets(count);
        for (std::uint64_t i = b; i < e; ++i) {
            for (std::size_t m = 0; m < count; ++m)
                offsets[m] = job.models[m].data[i] - base[i];
            std::size_t slot = 0;
            for (std::size_t m = 0; m < count; ++m) {
                for (std::size_t k = m; k < count; ++k)
                    gram[slot++] += offsets[m] * offsets[k];
            }
        }
    };
    const auto blend = [&](std::uint64_t b, std::uint64_t e, double t) {
        const auto tF = static_cast<float>(t);
        const float oneMinusT = 1.0f - tF;
        for (std::uint64_t i = b; i < e; ++i) {
            float sum = 0.0f;
            for (std::size_t m = 0; m < count; ++m)
                sum += job.models[m].data[i];
            out[i] = tF * (sum / modelCount) + oneMinusT * base[i];
        }
    };

    if (*filterWise == 0.0 || job.shape.size() < 2) {
        const auto gram = chunkedRangeSums(job.numel, gramSize, accumulateGram);
        const double t = interpolationRatio(gram.data(), count);
        parallelBlocks(job.numel, kReduceChunk,
                       [&](std::uint64_t b, std::uint64_t e) { blend(b, e, t); });
        return {};
    }
    const std::uint64_t cols = job.shape.back();
    const auto rows = static_cast<std::int64_t>(cols == 0 ? 0 : job.numel / cols);
#pragma omp parallel for schedule(static) if (job.numel >= kParallelMinElements)
    for (std::int64_t row = 0; row < rows; ++row) {
        const std::uint64_t b = static_cast<std::uint64_t>(row) * cols;
        std::vector<double> gram(gramSize, 0.0);
        accumulateGram(b, b + cols, gram.data());
        blend(b, b + cols, interpolationRatio(gram.data(), count));
    }
    return {};
}

} // namespace basin::merge
