// SPDX-License-Identifier: GPL-3.0-or-later
#include "merge/kernels.h"
#include "merge/kernelsupport.h"
#include "merge/reduction.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace basin::merge {

namespace {

double squaredNorm(std::uint64_t n, const float *v)
{
    return chunkedSums<1>(n, [&](std::uint64_t i) {
        const double x = v[i];
        return std::array<double, 1>{x * x};
    })[0];
}

} // namespace

// The Riemannian (Karcher) mean of every input's direction on the unit sphere, equal
// weights, found by gradient steps along the sphere (log map, average, exp map) until the
// step's norm falls below tol or max_iter steps; scaled by the inputs' mean norm. Inputs
// whose norm is not above tol have no direction and only count towards that scale.
Result<void> kernelKarcher(const TensorJob &job, std::span<float> out, TensorNotes &notes)
{
    constexpr std::string_view kMethod = "karcher";
    BASIN_TRY(checkJob(kMethod, job, out, BaseRule::AsInput, 1, 1 << 20));
    if (job.numel == 0)
        return {};
    const auto maxIterParam = globalParam(kMethod, job, "max_iter");
    const auto tolParam = globalParam(kMethod, job, "tol");
    for (const auto *param : {&maxIterParam, &tolParam}) {
        if (!param->ok())
            return param->error();
    }
    const auto maxIter = static_cast<long>(*maxIterParam);
    const double tol = *tolParam;
    const std::size_t count = job.models.size();
    const std::uint64_t n = job.numel;
    if (count == 1) {
        std::copy(job.models[0].data, job.models[0].data + n, out.begin());
        return {};
    }

    const auto squares =
        chunkedRangeSums(n, count, [&](std::uint64_t b, std::uint64_t e, double *s) {
            for (std::size_t m = 0; m < count; ++m) {
                const float *x = job.models[m].data;
                for (std::uint64_t i = b; i < e; ++i)
                    s[m] += static_cast<double>(x[i]) * x[i];
            }
        });
    std::vector<double> norms(count);
    std::vector<const float *> points;
    std::vector<float> pointNorms;
    for (std::size_t m = 0; m < count; ++m) {
        norms[m] = std::sqrt(squares[m]);
        if (norms[m] > tol) {
            points.push_back(job.models[m].data);
            pointNorms.push_back(static_cast<float>(norms[m]));
        }
    }
    if (points.empty()) {
        std::fill(out.begin(), out.end(), 0.0f);
        return {};
    }
    const std::size_t valid = points.size();
    // Equal weights over the points that have a direction.
    const auto alpha = static_cast<float>(1.0 / static_cast<double>(valid));
    const auto unit = [&](std::size_t p, std::uint64_t i) { return points[p][i] / pointNorms[p]; };

    // out holds the current mean direction throughout.
    float *mean = out.data();
    parallelBlocks(n, kReduceChunk, [&](std::uint64_t b, std::uint64_t e) {
        for (std::uint64_t i = b; i < e; ++i) {
            float sum = 0.0f;
            for (std::size_t p = 0; p < valid; ++p)
                sum += alpha * unit(p, i);
            mean[i] = sum;
        }
    });
    const double startNorm = std::sqrt(squaredNorm(n, mean));
    parallelBlocks(n, kReduceChunk, [&](std::uint64_t b, std::uint64_t e) {
        const auto scale = static_cast<float>(startNorm);
        for (std::uint64_t i = b; i < e; ++i)
            mean[i] = startNorm < tol ? unit(0, i) : mean[i] / scale;
    });

    std::vector<float> tangent(n);
    std::vector<float> coefficient(valid);
    std::vector<float> dotsF(valid);
    bool converged = false;
    for (long iteration = 0; iteration < maxIter; ++iteration) {
        const auto dots =
            chunkedRangeSums(n, valid, [&](std::uint64_t b, std::uint64_t e, double *s) {
                for (std::size_t p = 0; p < valid; ++p) {
                    for (std::uint64_t i = b; i < e; ++i)
                        s[p] += static_cast<double>(mean[i]) * unit(p, i);
                }
            });
        for (std::size_t p = 0; p < valid; ++p) {
            const double dot = std::clamp(dots[p], -1.0, 1.0);
            const double theta = std::acos(dot);
            dotsF[p] = static_cast<float>(dot);
            // Points within tol of the mean pull no further (and θ/sinθ would be 0/0).
            coefficient[p] =
                theta < tol ? 0.0f : static_cast<float>(alpha * (theta / std::sin(theta)));
        }
        parallelBlocks(n, kReduceChunk, [&](std::uint64_t b, std::uint64_t e) {
            for (std::uint64_t i = b; i < e; ++i) {
                float sum = 0.0f;
                for (std::size_t p = 0; p < valid; ++p) {
                    if (coefficient[p] != 0.0f)
                        sum += coefficient[p] * (unit(p, i) - dotsF[p] * mean[i]);
                }
                tangent[i] = sum;
            }
        });
        const double tangentNorm = std::sqrt(squaredNorm(n, tangent.data()));
        if (tangentNorm < tol) {
            converged = true;
            break;
        }
        const auto cosNorm = static_cast<float>(std::cos(tangentNorm));
        const auto sinNorm = static_cast<float>(std::sin(tangentNorm));
        const auto normF = static_cast<float>(tangentNorm);
        parallelBlocks(n, kReduceChunk, [&](std::uint64_t b, std::uint64_t e) {
            for (std::uint64_t i = b; i < e; ++i)
                mean[i] = cosNorm * mean[i] + sinNorm * (tangent[i] / normF);
        });
        const double unitNorm = std::sqrt(squaredNorm(n, mean));
        if (unitNorm > tol) {
            const auto unitF = static_cast<float>(unitNorm);
            parallelBlocks(n, kReduceChunk, [&](std::uint64_t b, std::uint64_t e) {
                for (std::uint64_t i = b; i < e; ++i)
                    mean[i] /= unitF;
            });
        }
    }
    if (!converged && maxIter > 0) {
        notes.warnings.push_back("karcher: " + std::string(job.tensorName) +
                                 " did not converge within max_iter = " + std::to_string(maxIter) +
                                 " steps (tol " + formatValue(tol) + ")");
    }

    // Scale by the mean norm of all inputs, with or without a direction.
    double scale = 0.0;
    for (std::size_t m = 0; m < count; ++m)
        scale += norms[m] / static_cast<double>(count);
    const auto scaleF = static_cast<float>(scale);
    parallelBlocks(n, kReduceChunk, [&](std::uint64_t b, std::uint64_t e) {
        for (std::uint64_t i = b; i < e; ++i)
            mean[i] *= scaleF;
    });
    return {};
}

} // namespace basin::merge
