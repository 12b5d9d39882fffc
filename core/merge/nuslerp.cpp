// SPDX-License-Identifier: GPL-3.0-or-later
#include "merge/kernels.h"
#include "merge/kernelsupport.h"
#include "merge/reduction.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

namespace basin::merge {

namespace {

constexpr double kNormFloor = 1e-7;   // norms are clamped up to this before dividing
constexpr double kColinearSin = 1e-8; // |sin θ| below this: lerp

// The vectors nuslerp interpolates, as (count, length, stride between elements, stride
// between vectors): the whole tensor, each row (last dimension), or each vector along the
// first dimension (mergekit's nuslerp_row_wise, which transposes dim 0 to the end).
struct VectorLayout {
    std::uint64_t count = 1;
    std::uint64_t length = 0;
    std::uint64_t elementStride = 1;
    std::uint64_t vectorStride = 0;

    std::uint64_t index(std::uint64_t vector, std::uint64_t k) const
    {
        return vector * vectorStride + k * elementStride;
    }
};

VectorLayout layoutFor(const TensorJob &job, bool flatten, bool rowWise)
{
    const std::uint64_t n = job.numel;
    if (flatten || job.shape.size() < 2)
        return {1, n, 1, 0};
    if (rowWise) {
        const std::uint64_t length = job.shape.front();
        return {n / length, length, n / length, 1};
    }
    const std::uint64_t length = job.shape.back();
    return {n / length, length, 1, length};
}

struct Coefficients {
    float c0 = 0.0f;
    float c1 = 0.0f;
    float divisor = 1.0f;
    bool lerp = false;
};

Coefficients coefficients(double t, double norm0, double norm1, double dot)
{
    const double cosTheta =
        std::clamp(dot / (std::max(norm0, kNormFloor) * std::max(norm1, kNormFloor)), -1.0, 1.0);
    const double theta = std::acos(cosTheta);
    const double sinTheta = std::sin(theta);
    if (std::fabs(sinTheta) < kColinearSin)
        return {static_cast<float>(1.0 - t), static_cast<float>(t), 1.0f, true};
    return {static_cast<float>(std::sin((1.0 - t) * theta)),
            static_cast<float>(std::sin(t * theta)), static_cast<float>(sinTheta), false};
}

} // namespace

// Slerp of two models at t = w_1/(w_0 + w_1); with a base, of their task vectors, added back
// to the base. Flattened (default) or per vector, each vector falling back to lerp alone.
Result<void> kernelNuslerp(const TensorJob &job, std::span<float> out, TensorNotes &notes)
{
    constexpr std::string_view kMethod = "nuslerp";
    BASIN_TRY(checkJob(kMethod, job, out, BaseRule::Optional, 2, 2));
    const auto flatten = globalParam(kMethod, job, "nuslerp_flatten");
    const auto rowWise = globalParam(kMethod, job, "nuslerp_row_wise");
    const auto w0 = modelParam(kMethod, job, job.models[0], "weight");
    const auto w1 = modelParam(kMethod, job, job.models[1], "weight");
    for (const auto *param : {&flatten, &rowWise, &w0, &w1}) {
        if (!param->ok())
            return param->error();
    }
    const double weightSum = *w0 + *w1;
    const double t = std::fabs(weightSum) < 1e-6 ? 0.5 : *w1 / weightSum;
    if (job.numel == 0)
        return {};

    const float *x0 = job.models[0].data;
    const float *x1 = job.models[1].data;
    const float *base = job.base;
    // The interpolated vectors: the models, or their task vectors when a base is given.
    const auto v0 = [=](std::uint64_t i) { return base ? x0[i] - base[i] : x0[i]; };
    const auto v1 = [=](std::uint64_t i) { return base ? x1[i] - base[i] : x1[i]; };
    const auto write = [&](std::uint64_t i, const Coefficients &c) {
        const float mixed =
            c.lerp ? c.c0 * v0(i) + c.c1 * v1(i) : (c.c0 * v0(i) + c.c1 * v1(i)) / c.divisor;
        out[i] = base ? base[i] + mixed : mixed;
    };

    const VectorLayout layout = layoutFor(job, *flatten != 0.0, *rowWise != 0.0);
    if (layout.count == 1) {
        const auto sums = chunkedSums<3>(job.numel, [&](std::uint64_t i) {
            const double a = v0(i);
            const double b = v1(i);
            return std::array<double, 3>{a * a, b * b, a * b};
        });
        const Coefficients c = coefficients(t, std::sqrt(sums[0]), std::sqrt(sums[1]), sums[2]);
        notes.slerpFellBack = c.lerp;
        parallelBlocks(job.numel, kReduceChunk, [&](std::uint64_t begin, std::uint64_t end) {
            for (std::uint64_t i = begin; i < end; ++i)
                write(i, c);
        });
        return {};
    }

    // One vector per iteration; each vector's sums run in index order on one thread.
    std::atomic<std::uint64_t> fellBack{0};
    const auto count = static_cast<std::int64_t>(layout.count);
#pragma omp parallel for schedule(static) if (job.numel >= kParallelMinElements)
    for (std::int64_t v = 0; v < count; ++v) {
        const auto vector = static_cast<std::uint64_t>(v);
        double sq0 = 0.0;
        double sq1 = 0.0;
        double dot = 0.0;
        for (std::uint64_t k = 0; k < layout.length; ++k) {
            const std::uint64_t i = layout.index(vector, k);
            const double a = v0(i);
            const double b = v1(i);
            sq0 += a * a;
            sq1 += b * b;
            dot += a * b;
        }
        const Coefficients c = coefficients(t, std::sqrt(sq0), std::sqrt(sq1), dot);
        if (c.lerp)
            fellBack.fetch_add(1, std::memory_order_relaxed);
        for (std::uint64_t k = 0; k < layout.length; ++k)
            write(layout.index(vector, k), c);
    }
    if (fellBack.load() > 0) {
        notes.slerpFellBack = true;
        notes.warnings.push_back("nuslerp: " + std::to_string(fellBack.load()) + " of " +
                                 std::to_string(layout.count) + " vectors of " +
                                 std::string(job.tensorName) +
                                 " are (anti)parallel and were interpolated linearly");
    }
    return {};
}

} // namespace basin::merge
