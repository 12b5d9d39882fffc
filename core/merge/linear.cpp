// SPDX-License-Identifier: GPL-3.0-or-later
#include "merge/kernels.h"
#include "merge/kernelsupport.h"
#include "merge/reduction.h"

#include <vector>

namespace basin::merge {

// Σ w_i·X_i, divided by Σ w_i when normalize is on; f32 arithmetic in model order, as
// mergekit's stack-multiply-sum does.
Result<void> kernelLinear(const TensorJob &job, std::span<float> out, TensorNotes &)
{
    constexpr std::string_view kMethod = "linear";
    BASIN_TRY(checkJob(kMethod, job, out, BaseRule::AsInput, 1, 1 << 20));
    const auto normalize = globalParam(kMethod, job, "normalize");
    if (!normalize.ok())
        return normalize.error();

    const std::size_t count = job.models.size();
    std::vector<float> weights(count);
    float weightSum = 0.0f;
    for (std::size_t m = 0; m < count; ++m) {
        const auto weight = modelParam(kMethod, job, job.models[m], "weight");
        if (!weight.ok())
            return weight.error();
        weights[m] = static_cast<float>(*weight);
        weightSum += weights[m];
    }
    if (*normalize != 0.0 && weightSum == 0.0f) {
        return kernelError(ErrorCode::MergeFailed, kMethod, job, nullptr,
                           "the weights sum to 0, so normalize cannot divide by them");
    }
    const float divisor = *normalize != 0.0 ? weightSum : 1.0f;

    parallelBlocks(job.numel, kReduceChunk, [&](std::uint64_t begin, std::uint64_t end) {
        const float *first = job.models[0].data;
        for (std::uint64_t i = begin; i < end; ++i)
            out[i] = weights[0] * first[i];
        for (std::size_t m = 1; m < count; ++m) {
            const float *x = job.models[m].data;
            const float w = weights[m];
            for (std::uint64_t i = begin; i < end; ++i)
                out[i] += w * x[i];
        }
        if (divisor != 1.0f) {
            for (std::uint64_t i = begin; i < end; ++i)
                out[i] /= divisor;
        }
    });
    return {};
}

} // namespace basin::merge
