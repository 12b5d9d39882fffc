// SPDX-License-Identifier: GPL-3.0-or-later
// RAM (reinforced agent merging) and its tensor-local plus variant: a task-vector element
// counts as changed when |δ| > epsilon; changes only one model made are added whole, changes
// c > 1 models share are averaged over c.
#include "merge/kernels.h"
#include "merge/kernelsupport.h"
#include "merge/reduction.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace basin::merge {

namespace {

// boost: scale each model's unique changes by its λ_i (ramplus_tl) or not (ram).
Result<void> runRam(std::string_view method, bool boost, const TensorJob &job, std::span<float> out)
{
    BASIN_TRY(checkJob(method, job, out, BaseRule::Required, 1, 1 << 20));
    const auto epsilonParam = globalParam(method, job, "epsilon");
    if (!epsilonParam.ok())
        return epsilonParam.error();
    const auto epsilon = static_cast<float>(*epsilonParam);
    const std::size_t count = job.models.size();
    const std::uint64_t n = job.numel;
    const float *base = job.base;
    const auto changed = [&](std::size_t m, std::uint64_t i) {
        return std::fabs(job.models[m].data[i] - base[i]) > epsilon;
    };
    const auto contributors = [&](std::uint64_t i) {
        unsigned c = 0;
        for (std::size_t m = 0; m < count; ++m)
            c += changed(m, i) ? 1u : 0u;
        return c;
    };

    std::vector<float> lambdas(count, 1.0f);
    if (boost) {
        const auto r = globalParam(method, job, "r");
        const auto alpha = globalParam(method, job, "alpha");
        for (const auto *param : {&r, &alpha}) {
            if (!param->ok())
                return param->error();
        }
        // Per model: how many of its changes are shared vs unique (exact integer counts).
        const auto counts =
            chunkedRangeSums(n, 2 * count, [&](std::uint64_t b, std::uint64_t e, double *s) {
                for (std::uint64_t i = b; i < e; ++i) {
                    const unsigned c = contributors(i);
                    for (std::size_t m = 0; m < count; ++m) {
                        if (changed(m, i))
                            s[2 * m + (c > 1 ? 0 : 1)] += 1.0;
                    }
                }
            });
        for (std::size_t m = 0; m < count; ++m) {
            const double rho = counts[2 * m] / std::max(counts[2 * m + 1], *epsilonParam);
            lambdas[m] = static_cast<float>(1.0 + *r * std::clamp(rho, 0.0, *alpha));
        }
    }

    parallelBlocks(n, kReduceChunk, [&](std::uint64_t begin, std::uint64_t end) {
        for (std::uint64_t i = begin; i < end; ++i) {
            const unsigned c = contributors(i);
            float merged = 0.0f;
            for (std::size_t m = 0; m < count; ++m) {
                if (!changed(m, i))
                    continue;
                const float d = job.models[m].data[i] - base[i];
                merged += c == 1 ? d * lambdas[m] : d / static_cast<float>(c);
            }
            out[i] = base[i] + merged;
        }
    });
    return {};
}

} // namespace

Result<void> kernelRam(const TensorJob &job, std::span<float> out, TensorNotes &)
{
    return runRam("ram", false, job, out);
}

// ramplus_tl: λ_i = 1 + r·clamp(ρ_i, 0, alpha), ρ_i = shared_i / max(unique_i, epsilon) over
// this tensor.
Result<void> kernelRamplusTl(const TensorJob &job, std::span<float> out, TensorNotes &)
{
    return runRam("ramplus_tl", true, job, out);
}

} // namespace basin::merge
