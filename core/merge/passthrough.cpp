// SPDX-License-Identifier: GPL-3.0-or-later
#include "merge/kernels.h"
#include "merge/kernelsupport.h"
#include "merge/reduction.h"

#include <algorithm>

namespace basin::merge {

// The single input, times its optional per-model scale. Layer stacking (slices) and the
// renumbering of output layers are the plan's job, not the kernel's.
Result<void> kernelPassthrough(const TensorJob &job, std::span<float> out, TensorNotes &)
{
    constexpr std::string_view kMethod = "passthrough";
    BASIN_TRY(checkJob(kMethod, job, out, BaseRule::AsInput, 1, 1));
    const ModelInput &model = job.models[0];
    const auto scale = model.params.get("scale");
    const float *x = model.data;
    if (!scale) {
        std::copy(x, x + job.numel, out.begin());
        return {};
    }
    const auto factor = static_cast<float>(*scale);
    parallelBlocks(job.numel, kReduceChunk, [&](std::uint64_t begin, std::uint64_t end) {
        for (std::uint64_t i = begin; i < end; ++i)
            out[i] = x[i] * factor;
    });
    return {};
}

} // namespace basin::merge
