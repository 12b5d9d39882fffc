// SPDX-License-Identifier: GPL-3.0-or-later
#include "merge/kernels.h"
#include "merge/kernelsupport.h"
#include "merge/reduction.h"

#include <cmath>
#include <vector>

namespace basin::merge {

// Weighted barycentre on the hypersphere: unit directions u_i = v_i/(‖v_i‖ + eps), their
// normalised weighted mean m, the weighted tangent average τ at m, the exponential map
// back, scaled by Σ w_i‖v_i‖. v_i are the models, or their task vectors when a base is set.
Result<void> kernelMultislerp(const TensorJob &job, std::span<float> out, TensorNotes &notes)
{
    constexpr std::string_view kMethod = "multislerp";
    BASIN_TRY(checkJob(kMethod, job, out, BaseRule::Optional, 1, 1 << 20));
    if (job.numel == 0)
        return {};
    const auto normalizeWeights = globalParam(kMethod, job, "normalize_weights");
    const auto epsParam = globalParam(kMethod, job, "eps");
    for (const auto *param : {&normalizeWeights, &epsParam}) {
        if (!param->ok())
            return param->error();
    }
    const std::size_t count = job.models.size();
    const std::uint64_t n = job.numel;
    if (count == 1) {
        // One model is its own barycentre (mergekit returns it untouched, base or not).
        std::copy(job.models[0].data, job.models[0].data + n, out.begin());
        return {};
    }

    std::vector<float> weights(count);
    float weightSum = 0.0f;
    for (std::size_t m = 0; m < count; ++m) {
        const auto weight = modelParam(kMethod, job, job.models[m], "weight");
        if (!weight.ok())
            return weight.error();
        weights[m] = static_cast<float>(*weight);
        weightSum += weights[m];
    }
    if (*normalizeWeights != 0.0) {
        if (weightSum == 0.0f) {
            return kernelError(ErrorCode::MergeFailed, kMethod, job, nullptr,
                               "the weights sum to 0, so normalize_weights cannot divide by them");
        }
        for (float &w : weights)
            w /= weightSum;
    }
    const auto eps = static_cast<float>(*epsParam);
    const float *base = job.base;
    const auto value = [&](std::size_t m, std::uint64_t i) {
        const float x = job.models[m].data[i];
        return base ? x - base[i] : x;
    };

    const auto squares =
        chunkedRangeSums(n, count, [&](std::uint64_t b, std::uint64_t e, double *s) {
            for (std::size_t m = 0; m < count; ++m) {
                for (std::uint64_t i = b; i < e; ++i) {
                    const double v = value(m, i);
                    s[m] += v * v;
                }
            }
        });
    std::vector<float> norms(count);
    std::vector<float> unitScale(count);
    for (std::size_t m = 0; m < count; ++m) {
        norms[m] = static_cast<float>(std::sqrt(squares[m]));
        unitScale[m] = norms[m] + eps;
    }
    const auto unit = [&](std::size_t m, std::uint64_t i) { return value(m, i) / unitScale[m]; };

    // out holds the weighted mean of the directions, then the normalised mean m.
    parallelBlocks(n, kReduceChunk, [&](std::uint64_t b, std::uint64_t e) {
        for (std::uint64_t i = b; i < e; ++i) {
            float mean = 0.0f;
            for (std::size_t m = 0; m < count; ++m)
                mean += unit(m, i) * weights[m];
            out[i] = mean;
        }
    });
    const auto meanSquare = chunkedSums<1>(n, [&](std::uint64_t i) {
        const double v = out[i];
        return std::array<double, 1>{v * v};
    });
    const auto meanNorm = static_cast<float>(std::sqrt(meanSquare[0]));
    if (meanNorm < eps) {
        if (count != 2) {
            return kernelError(ErrorCode::MergeFailed, kMethod, job, nullptr,
                               "the weighted directions cancel out (antipodal inputs with "
                               "balancing weights); change the weights");
        }
        notes.slerpFellBack = true;
        parallelBlocks(n, kReduceChunk, [&](std::uint64_t b, std::uint64_t e) {
            for (std::uint64_t i = b; i < e; ++i) {
                const float mixed = value(0, i) * weights[0] + value(1, i) * weights[1];
                out[i] = base ? mixed + base[i] : mixed;
            }
        });
        return {};
    }
    parallelBlocks(n, kReduceChunk, [&](std::uint64_t b, std::uint64_t e) {
        for (std::uint64_t i = b; i < e; ++i)
            out[i] /= meanNorm;
    });

    const auto dotSums =
        chunkedRangeSums(n, count, [&](std::uint64_t b, std::uint64_t e, double *s) {
            for (std::size_t m = 0; m < count; ++m) {
                for (std::uint64_t i = b; i < e; ++i)
                    s[m] += static_cast<double>(unit(m, i)) * out[i];
            }
        });
    std::vector<float> dots(count);
    for (std::size_t m = 0; m < count; ++m)
        dots[m] = static_cast<float>(dotSums[m]);

    std::vector<float> tangent(n);
    parallelBlocks(n, kReduceChunk, [&](std::uint64_t b, std::uint64_t e) {
        for (std::uint64_t i = b; i < e; ++i) {
            float sum = 0.0f;
            for (std::size_t m = 0; m < count; ++m)
                sum += (unit(m, i) - dots[m] * out[i]) * weights[m];
            tangent[i] = sum;
        }
    });
    const auto tangentSquare = chunkedSums<1>(n, [&](std::uint64_t i) {
        const double v = tangent[i];
        return std::array<double, 1>{v * v};
    });
    const float tangentNorm = static_cast<float>(std::sqrt(tangentSquare[0])) + eps;
    const auto cosNorm = static_cast<float>(std::cos(static_cast<double>(tangentNorm)));
    const auto sinRatio = static_cast<float>(std::sin(static_cast<double>(tangentNorm)) /
                                             static_cast<double>(tangentNorm));
    float averageNorm = 0.0f;
    for (std::size_t m = 0; m < count; ++m)
        averageNorm += norms[m] * weights[m];

    parallelBlocks(n, kReduceChunk, [&](std::uint64_t b, std::uint64_t e) {
        for (std::uint64_t i = b; i < e; ++i) {
            const float result = (out[i] * cosNorm + tangent[i] * sinRatio) * averageNorm;
            out[i] = base ? result + base[i] : result;
        }
    });
    return {};
}

} // namespace basin::merge
