// SPDX-License-Identifier: GPL-3.0-or-later
#include "merge/kernels.h"
#include "merge/kernelsupport.h"
#include "merge/reduction.h"

#include <cmath>

namespace basin::merge {

namespace {

// Past this |cos| the two directions are too close for a stable slerp: lerp instead.
constexpr double kDotThreshold = 0.9995;
constexpr double kNormEpsilon = 1e-8;

} // namespace

// v0 = base, v1 = the other model; the angle comes from the normalised tensors (f64 dots),
// the interpolation is applied to the un-normalised ones in f32.
Result<void> kernelSlerp(const TensorJob &job, std::span<float> out, TensorNotes &notes)
{
    constexpr std::string_view kMethod = "slerp";
    BASIN_TRY(checkJob(kMethod, job, out, BaseRule::Required, 1, 1));
    const auto tParam = globalParam(kMethod, job, "t");
    if (!tParam.ok())
        return tParam.error();
    const double t = *tParam;
    const float *v0 = job.base;
    const float *v1 = job.models[0].data;

    const auto sums = chunkedSums<3>(job.numel, [&](std::uint64_t i) {
        const double a = v0[i];
        const double b = v1[i];
        return std::array<double, 3>{a * a, b * b, a * b};
    });
    const double norm0 = std::sqrt(sums[0]);
    const double norm1 = std::sqrt(sums[1]);
    const double dot =
        sums[2] / (norm0 > kNormEpsilon ? norm0 : 1.0) / (norm1 > kNormEpsilon ? norm1 : 1.0);

    float c0 = 0.0f;
    float c1 = 0.0f;
    if (std::fabs(dot) > kDotThreshold) {
        notes.slerpFellBack = true;
        c0 = static_cast<float>(1.0 - t);
        c1 = static_cast<float>(t);
    } else {
        const double theta = std::acos(dot);
        const double sinTheta = std::sin(theta);
        c0 = static_cast<float>(std::sin((1.0 - t) * theta) / sinTheta);
        c1 = static_cast<float>(std::sin(t * theta) / sinTheta);
    }
    parallelBlocks(job.numel, kReduceChunk, [&](std::uint64_t begin, std::uint64_t end) {
        for (std::uint64_t i = begin; i < end; ++i)
            out[i] = c0 * v0[i] + c1 * v1[i];
    });
    return {};
}

} // namespace basin::merge
