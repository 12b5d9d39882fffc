// SPDX-License-Identifier: GPL-3.0-or-later
// The generalized task-arithmetic family: task_arithmetic, ties, dare_*, breadcrumbs*,
// della*. One pipeline: sparsify each unweighted δ_i, weight it, optionally elect a sign
// per element, mix, normalise, scale by lambda, add to the base (docs/METHODS.md).
#include "merge/kernels.h"
#include "merge/kernelsupport.h"
#include "merge/reduction.h"
#include "merge/sparsify.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

namespace basin::merge {

namespace {

enum class Sparsifier { None, Magnitude, Random, Outliers, Della };

struct Family {
    std::string_view method;
    Sparsifier sparsifier = Sparsifier::None;
    bool signConsensus = false;
};

// Elements mixed per step: small enough that every model's weighted delta for the block
// stays in L1/L2, large enough to amortise the per-block dispatch.
constexpr std::uint64_t kBlock = 2048;

// value when keep, else +0: a bit mask instead of a branch the data would mispredict.
inline float maskFloat(float value, bool keep)
{
    return std::bit_cast<float>(std::bit_cast<std::uint32_t>(value) &
                                (0u - static_cast<std::uint32_t>(keep)));
}

Result<KeepRule> sparsifyModel(const Family &family, const TensorJob &job, const ModelInput &model,
                               bool rescale, TensorNotes &notes)
{
    if (family.sparsifier == Sparsifier::None)
        return KeepRule{};
    const auto density = modelParam(family.method, job, model, "density");
    if (!density.ok())
        return density.error();
    const SparsifyInput in{family.method, job, model, *density, rescale};
    switch (family.sparsifier) {
    case Sparsifier::Magnitude:
        return magnitudeRule(in);
    case Sparsifier::Random:
        return randomRule(in);
    case Sparsifier::Outliers: {
        const auto gamma = modelParam(family.method, job, model, "gamma");
        if (!gamma.ok())
            return gamma.error();
        return outlierRule(in, *gamma, notes);
    }
    case Sparsifier::Della: {
        const auto epsilon = modelParam(family.method, job, model, "epsilon");
        if (!epsilon.ok())
            return epsilon.error();
        return dellaRule(in, *epsilon);
    }
    case Sparsifier::None:
        break;
    }
    return KeepRule{};
}

Result<void> runFamily(const Family &family, const TensorJob &job, std::span<float> out,
                       TensorNotes &notes)
{
    BASIN_TRY(checkJob(family.method, job, out, BaseRule::Required, 1, 1 << 20));
    if (job.numel == 0)
        return {};
    const auto normalizeParam = globalParam(family.method, job, "normalize");
    const auto rescaleParam = globalParam(family.method, job, "rescale");
    const auto lambdaParam = globalParam(family.method, job, "lambda");
    for (const auto *param : {&normalizeParam, &rescaleParam, &lambdaParam}) {
        if (!param->ok())
            return param->error();
    }
    const bool normalize = *normalizeParam != 0.0;
    const bool rescale = *rescaleParam != 0.0;
    const auto lambda = static_cast<float>(*lambdaParam);

    const std::size_t count = job.models.size();
    std::vector<float> weights(count);
    std::vector<KeepRule> rules(count);
    for (std::size_t m = 0; m < count; ++m) {
        const auto weight = modelParam(family.method, job, job.models[m], "weight");
        if (!weight.ok())
            return weight.error();
        weights[m] = static_cast<float>(*weight);
        auto rule = sparsifyModel(family, job, job.models[m], rescale, notes);
        if (!rule.ok())
            return rule.takeError();
        rules[m] = std::move(rule).value();
    }

    // Without sign consensus the divisor is one scalar: Σ w_i in f32, |Σ| < 1e-8 → 1.
    float scalarDivisor = 0.0f;
    for (const float w : weights)
        scalarDivisor += w;
    if (std::fabs(scalarDivisor) < 1e-8f)
        scalarDivisor = 1.0f;

    const float *base = job.base;
    parallelBlocks(job.numel, kBlock, [&](std::uint64_t begin, std::uint64_t end) {
        const std::uint64_t size = end - begin;
        // Per thread and reused: a fresh vector per block cost an allocation and a zero
        // fill of count × kBlock floats every 2048 elements (a fifth of a sampled preview).
        // Every value read below is written first.
        thread_local std::vector<float> weighted;
        if (weighted.size() < count * kBlock)
            weighted.resize(count * kBlock);
        for (std::size_t m = 0; m < count; ++m) {
            const float *x = job.models[m].data;
            const float w = weights[m];
            const float factor = rules[m].factor;
            float *row = weighted.data() + m * kBlock;
            visitKeep(rules[m], begin, end, [&](auto keep) {
                for (std::uint64_t j = 0; j < size; ++j) {
                    const std::uint64_t i = begin + j;
                    const float d = x[i] - base[i];
                    row[j] = maskFloat((d * factor) * w, keep(i, d));
                }
            });
        }

        float mixed[kBlock];
        if (family.signConsensus) {
            float sum[kBlock];
            float divisor[kBlock];
            for (std::uint64_t j = 0; j < size; ++j) {
                sum[j] = 0.0f;
                mixed[j] = 0.0f;
                divisor[j] = 0.0f;
            }
            for (std::size_t m = 0; m < count; ++m) {
                const float *row = weighted.data() + m * kBlock;
                for (std::uint64_t j = 0; j < size; ++j)
                    sum[j] += row[j];
            }
            for (std::size_t m = 0; m < count; ++m) {
                const float *row = weighted.data() + m * kBlock;
                const float w = weights[m];
                for (std::uint64_t j = 0; j < size; ++j) {
                    // The elected sign is +1 when the sum is >= 0; a zero never matches.
                    const bool plus = sum[j] >= 0.0f;
                    const bool agrees = (plus & (row[j] > 0.0f)) | (!plus & (row[j] < 0.0f));
                    mixed[j] += maskFloat(row[j], agrees);
                    divisor[j] += maskFloat(w, agrees);
                }
            }
            if (normalize) {
                // A zero divisor (no model agrees) divides by 1: d + (d == 0) is exact and,
                // unlike a conditional, compiles to vector code without a branch.
                for (std::uint64_t j = 0; j < size; ++j)
                    mixed[j] /= divisor[j] + static_cast<float>(divisor[j] == 0.0f);
            }
            for (std::uint64_t j = 0; j < size; ++j)
                mixed[j] = base[begin + j] + mixed[j] * lambda;
        } else {
            for (std::uint64_t j = 0; j < size; ++j)
                mixed[j] = 0.0f;
            for (std::size_t m = 0; m < count; ++m) {
                const float *row = weighted.data() + m * kBlock;
                for (std::uint64_t j = 0; j < size; ++j)
                    mixed[j] += row[j];
            }
            if (normalize) {
                for (std::uint64_t j = 0; j < size; ++j)
                    mixed[j] /= scalarDivisor;
            }
            for (std::uint64_t j = 0; j < size; ++j)
                mixed[j] = base[begin + j] + mixed[j] * lambda;
        }
        // Computed in the block's own array, then copied: out may be the base's buffer
        // (MethodDecl::outputOverBase), and writing it in the loops above made the compiler's
        // overlap check fall back to scalar code.
        std::copy_n(mixed, size, out.begin() + static_cast<std::ptrdiff_t>(begin));
    });
    return {};
}

} // namespace

Result<void> kernelTaskArithmetic(const TensorJob &job, std::span<float> out, TensorNotes &notes)
{
    return runFamily({"task_arithmetic", Sparsifier::None, false}, job, out, notes);
}

Result<void> kernelTies(const TensorJob &job, std::span<float> out, TensorNotes &notes)
{
    return runFamily({"ties", Sparsifier::Magnitude, true}, job, out, notes);
}

Result<void> kernelDareLinear(const TensorJob &job, std::span<float> out, TensorNotes &notes)
{
    return runFamily({"dare_linear", Sparsifier::Random, false}, job, out, notes);
}

Result<void> kernelDareTies(const TensorJob &job, std::span<float> out, TensorNotes &notes)
{
    return runFamily({"dare_ties", Sparsifier::Random, true}, job, out, notes);
}

Result<void> kernelBreadcrumbs(const TensorJob &job, std::span<float> out, TensorNotes &notes)
{
    return runFamily({"breadcrumbs", Sparsifier::Outliers, false}, job, out, notes);
}

Result<void> kernelBreadcrumbsTies(const TensorJob &job, std::span<float> out, TensorNotes &notes)
{
    return runFamily({"breadcrumbs_ties", Sparsifier::Outliers, true}, job, out, notes);
}

Result<void> kernelDella(const TensorJob &job, std::span<float> out, TensorNotes &notes)
{
    return runFamily({"della", Sparsifier::Della, true}, job, out, notes);
}

Result<void> kernelDellaLinear(const TensorJob &job, std::span<float> out, TensorNotes &notes)
{
    return runFamily({"della_linear", Sparsifier::Della, false}, job, out, notes);
}

} // namespace basin::merge
