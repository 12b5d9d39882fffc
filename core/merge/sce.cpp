// SPDX-License-Identifier: GPL-3.0-or-later
#include "merge/kernels.h"
#include "merge/kernelsupport.h"
#include "merge/rankselect.h"
#include "merge/reduction.h"
#include "merge/sparsify.h"

#include <cmath>
#include <vector>

namespace basin::merge {

namespace {

// The select_topk mask: keep the k = floor(select_topk · #nonzero variances) elements whose
// variance across the task vectors is largest; the lower flat index wins a tie at the cut.
// Kind::All when no selection applies, Kind::None when k = 0.
KeepRule topVarianceRule(const TensorJob &job, double selectTopk, std::vector<float> &variance,
                         TensorNotes &notes)
{
    KeepRule rule;
    if (selectTopk >= 1.0)
        return rule;
    const std::uint64_t n = job.numel;
    const std::size_t count = job.models.size();
    variance.resize(n);
    parallelBlocks(n, kReduceChunk, [&](std::uint64_t b, std::uint64_t e) {
        for (std::uint64_t i = b; i < e; ++i) {
            double mean = 0.0;
            for (std::size_t m = 0; m < count; ++m)
                mean += static_cast<double>(job.models[m].data[i] - job.base[i]);
            mean /= static_cast<double>(count);
            double spread = 0.0;
            for (std::size_t m = 0; m < count; ++m) {
                const double d = static_cast<double>(job.models[m].data[i] - job.base[i]) - mean;
                spread += d * d;
            }
            variance[i] = static_cast<float>(spread / static_cast<double>(count));
        }
    });
    const auto nonzero = static_cast<std::uint64_t>(chunkedSums<1>(n, [&](std::uint64_t i) {
        return std::array<double, 1>{variance[i] != 0.0f ? 1.0 : 0.0};
    })[0]);
    const double product = std::floor(std::fabs(selectTopk) * static_cast<double>(nonzero));
    const auto k = product > 0.0 ? static_cast<std::uint64_t>(product) : std::uint64_t{0};
    if (k == 0) {
        notes.warnings.push_back("sce: select_topk " + formatValue(selectTopk) +
                                 " selects no element of " + std::string(job.tensorName) +
                                 "; the base is kept");
        rule.kind = KeepRule::Kind::None;
        return rule;
    }
    const auto bitsAt = [&](std::uint64_t i) { return magnitudeBits(variance[i]); };
    const std::uint64_t rank = n - k;
    RankFinder finder(n, bitsAt);
    const RankValue cut = finder.at(rank);
    const std::uint64_t keptEqual = k - (n - cut.below - cut.equal);
    rule.kind = KeepRule::Kind::Magnitude;
    rule.cut.hasLow = true;
    rule.cut.lowBits = cut.bits;
    rule.cut.lowEqualEnd = keptEqual == cut.equal ? n : finder.nthEqualIndex(cut.bits, keptEqual);
    return rule;
}

} // namespace

// SCE: select elements by variance across the task vectors, weight each model by the mean
// square of its (selected) task vector, erase minority signs (unweighted election), and take
// the weighted mean of what is left.
Result<void> kernelSce(const TensorJob &job, std::span<float> out, TensorNotes &notes)
{
    constexpr std::string_view kMethod = "sce";
    BASIN_TRY(checkJob(kMethod, job, out, BaseRule::Required, 1, 1 << 20));
    if (job.numel == 0)
        return {};
    const auto selectTopk = globalParam(kMethod, job, "select_topk");
    if (!selectTopk.ok())
        return selectTopk.error();
    const std::uint64_t n = job.numel;
    const std::size_t count = job.models.size();
    const float *base = job.base;

    std::vector<float> variance;
    const KeepRule selection = topVarianceRule(job, *selectTopk, variance, notes);
    // The masked task vector; the rule looks at the variance, not at δ.
    const auto delta = [&](std::size_t m, std::uint64_t i) {
        const float d = job.models[m].data[i] - base[i];
        if (selection.kind == KeepRule::Kind::All)
            return d;
        if (selection.kind == KeepRule::Kind::None)
            return d * 0.0f;
        return selection.cut.keeps(magnitudeBits(variance[i]), i) ? d : d * 0.0f;
    };

    const auto squares =
        chunkedRangeSums(n, count, [&](std::uint64_t b, std::uint64_t e, double *s) {
            for (std::size_t m = 0; m < count; ++m) {
                for (std::uint64_t i = b; i < e; ++i) {
                    const double d = delta(m, i);
                    s[m] += d * d;
                }
            }
        });
    double total = 0.0;
    for (const double s : squares)
        total += s / static_cast<double>(n);
    std::vector<float> weights(count);
    for (std::size_t m = 0; m < count; ++m) {
        weights[m] = total == 0.0 ? static_cast<float>(1.0 / static_cast<double>(count))
                                  : static_cast<float>(squares[m] / static_cast<double>(n) / total);
    }

    parallelBlocks(n, kReduceChunk, [&](std::uint64_t b, std::uint64_t e) {
        for (std::uint64_t i = b; i < e; ++i) {
            float sum = 0.0f;
            for (std::size_t m = 0; m < count; ++m)
                sum += delta(m, i);
            const bool positive = sum >= 0.0f;
            float mixed = 0.0f;
            float divisor = 0.0f;
            for (std::size_t m = 0; m < count; ++m) {
                const float d = delta(m, i);
                if (positive ? d > 0.0f : d < 0.0f) {
                    mixed += d * weights[m];
                    divisor += weights[m];
                }
            }
            out[i] = base[i] + mixed / (divisor == 0.0f ? 1.0f : divisor);
        }
    });
    return {};
}

} // namespace basin::merge
