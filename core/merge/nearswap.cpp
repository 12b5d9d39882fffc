// SPDX-License-Identifier: GPL-3.0-or-later
#include "merge/kernels.h"
#include "merge/kernelsupport.h"
#include "merge/reduction.h"

#include <algorithm>
#include <cmath>

namespace basin::merge {

// Per element w = clamp(t / max(|a − b|, 1e-6), 0, 1) and out = w·b + (1 − w)·a, a = base:
// the other model's value is taken where it is within t of the base, faded out beyond.
Result<void> kernelNearswap(const TensorJob &job, std::span<float> out, TensorNotes &)
{
    constexpr std::string_view kMethod = "nearswap";
    BASIN_TRY(checkJob(kMethod, job, out, BaseRule::Required, 1, 1));
    const auto tParam = globalParam(kMethod, job, "t");
    if (!tParam.ok())
        return tParam.error();
    if (!(*tParam > 0.0)) {
        return kernelError(ErrorCode::OutOfRange, kMethod, job, nullptr,
                           "t must be greater than 0, got " + formatValue(*tParam));
    }
    const auto t = static_cast<float>(*tParam);
    const float *a = job.base;
    const float *b = job.models[0].data;
    parallelBlocks(job.numel, kReduceChunk, [&](std::uint64_t begin, std::uint64_t end) {
        for (std::uint64_t i = begin; i < end; ++i) {
            const float distance = std::max(std::fabs(a[i] - b[i]), 1e-6f);
            const float w = std::clamp(t / distance, 0.0f, 1.0f);
            out[i] = w * b[i] + (1.0f - w) * a[i];
        }
    });
    return {};
}

} // namespace basin::merge
