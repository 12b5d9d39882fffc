// SPDX-License-Identifier: GPL-3.0-or-later
#include "merge/sparsify.h"

#include "merge/kernelsupport.h"
#include "merge/reduction.h"

#include <algorithm>
#include <cmath>

namespace basin::merge {

namespace {

// Below this L1 norm (before or after masking) rescaling is skipped, as in mergekit.
constexpr double kRescaleEpsilon = 1e-7;

struct DeltaBits {
    const float *x;
    const float *b;
    std::uint32_t operator()(std::uint64_t i) const { return magnitudeBits(x[i] - b[i]); }
};

std::uint64_t floorCount(double fraction, std::uint64_t n)
{
    // d·n as a double, like mergekit's int(density * numel): 0.29·100 keeps 28.
    const double product = std::floor(fraction * static_cast<double>(n));
    if (product <= 0.0)
        return 0;
    return std::min(n, static_cast<std::uint64_t>(product));
}

// The L1 match: kept values are multiplied by Σ|δ| / Σ|kept| over the whole tensor, summed
// in f64 (mergekit sums in the compute dtype and overflows in fp16).
void applyRescale(const SparsifyInput &in, KeepRule &rule)
{
    if (!in.rescale || rule.kind == KeepRule::Kind::All || rule.kind == KeepRule::Kind::None)
        return;
    const float *x = in.model.data;
    const float *b = in.job.base;
    const auto sums = visitKeep(rule, 0, in.job.numel, [&](auto keep) {
        return chunkedSums<2>(in.job.numel, [&](std::uint64_t i) {
            const float d = x[i] - b[i];
            const double magnitude = std::fabs(static_cast<double>(d));
            return std::array<double, 2>{magnitude, magnitude * static_cast<double>(keep(i, d))};
        });
    });
    if (sums[0] < kRescaleEpsilon || sums[1] < kRescaleEpsilon)
        return;
    rule.factor = static_cast<float>(sums[0] / sums[1]);
}

KeepRule allRule()
{
    return KeepRule{};
}

KeepRule noneRule()
{
    KeepRule rule;
    rule.kind = KeepRule::Kind::None;
    return rule;
}

} // namespace

Result<KeepRule> magnitudeRule(const SparsifyInput &in)
{
    if (in.density >= 1.0)
        return allRule();
    const std::uint64_t n = in.job.numel;
    const std::uint64_t k = floorCount(in.density, n);
    if (k == 0) {
        return kernelError(ErrorCode::OutOfRange, in.method, in.job, &in.model,
                           "density " + formatValue(in.density) + " keeps no element of " +
                               std::to_string(n) + " (floor(density·n) = 0)");
    }
    const DeltaBits bitsAt{in.model.data, in.job.base};
    // The k-th largest magnitude is the one at ascending rank n − k.
    const std::uint64_t rank = n - k;
    RankFinder finder(n, bitsAt);
    const RankValue cut = finder.at(rank);
    const std::uint64_t above = n - cut.below - cut.equal;
    const std::uint64_t keptEqual = k - above; // 1 … cut.equal; the lowest indices win

    KeepRule rule;
    rule.kind = KeepRule::Kind::Magnitude;
    rule.cut.hasLow = true;
    rule.cut.lowBits = cut.bits;
    rule.cut.lowEqualBegin = 0;
    rule.cut.lowEqualEnd = keptEqual == cut.equal ? n : finder.nthEqualIndex(cut.bits, keptEqual);
    applyRescale(in, rule);
    return rule;
}

Result<KeepRule> randomRule(const SparsifyInput &in)
{
    if (in.density >= 1.0)
        return allRule();
    if (in.density <= 0.0)
        return noneRule();
    KeepRule rule;
    rule.kind = KeepRule::Kind::Random;
    const CounterRng rng(in.job.seed, in.job.tensorName,
                         static_cast<std::uint64_t>(in.model.modelIndex));
    const std::uint64_t threshold = CounterRng::threshold32(in.density);
    // The coin flips are drawn once, 64 to a word, and reused by rescale and mixing.
    rule.bits.resize((in.job.numel + 63) / 64);
    std::uint64_t *words = rule.bits.data();
    const auto wordCount = static_cast<std::int64_t>(rule.bits.size());
#pragma omp parallel for schedule(static) if (in.job.numel >= kParallelMinElements)
    for (std::int64_t w = 0; w < wordCount; ++w)
        words[w] = rng.keepWord(static_cast<std::uint64_t>(w), threshold);
    applyRescale(in, rule);
    return rule;
}

Result<KeepRule> outlierRule(const SparsifyInput &in, double gamma, TensorNotes &notes)
{
    if (in.density >= 1.0)
        return allRule();
    const std::uint64_t n = in.job.numel;
    const auto target = static_cast<std::int64_t>(floorCount(in.density, n));
    auto top = static_cast<std::int64_t>(floorCount(gamma, n));
    auto bottom = static_cast<std::int64_t>(n) - target - top;
    if (bottom < 0) {
        // Remove fewer outliers so that the density is still met.
        top += bottom;
        bottom = 0;
    }
    if (top == 0 && gamma > 0.0) {
        notes.warnings.push_back(
            std::string(in.method) + ": gamma " + formatValue(gamma) + " drops no outlier of " +
            std::string(in.job.tensorName) + " (" + in.model.label + ", floor(gamma·n) = 0); " +
            "kept ranks [n_bot, n) where mergekit would erase the whole delta");
    }
    const auto keepEnd = static_cast<std::uint64_t>(static_cast<std::int64_t>(n) - top);
    const auto keepBegin = static_cast<std::uint64_t>(bottom);
    if (keepBegin >= keepEnd)
        return noneRule();

    const DeltaBits bitsAt{in.model.data, in.job.base};
    // Both cuts come from one pass over the task vector.
    std::vector<std::uint64_t> ranks;
    if (keepBegin > 0)
        ranks.push_back(keepBegin);
    if (keepEnd < n)
        ranks.push_back(keepEnd);
    RankFinder finder(n, bitsAt);
    const auto values = finder.at(ranks);

    KeepRule rule;
    rule.kind = KeepRule::Kind::Magnitude;
    std::size_t next = 0;
    if (keepBegin > 0) {
        // Rank keepBegin is the first kept; among its equals the lower indices rank lower
        // and are the ones dropped.
        const RankValue &low = values[next++];
        const std::uint64_t droppedEqual = keepBegin - low.below;
        rule.cut.hasLow = true;
        rule.cut.lowBits = low.bits;
        rule.cut.lowEqualBegin =
            droppedEqual == 0 ? 0 : finder.nthEqualIndex(low.bits, droppedEqual);
        rule.cut.lowEqualEnd = n;
    }
    if (keepEnd < n) {
        // Rank keepEnd is the first dropped outlier; the equals below it in index order stay.
        const RankValue &high = values[next];
        const std::uint64_t keptEqual = keepEnd - high.below;
        rule.cut.hasHigh = true;
        rule.cut.highBits = high.bits;
        rule.cut.highEqualEnd = keptEqual == 0 ? 0 : finder.nthEqualIndex(high.bits, keptEqual);
    }
    applyRescale(in, rule);
    return rule;
}

Result<KeepRule> dellaRule(const SparsifyInput &in, double epsilon)
{
    if (in.density >= 1.0)
        return allRule();
    if (in.density <= 0.0)
        return noneRule();
    const double lowest = in.density - epsilon;
    const double highest = in.density + epsilon;
    if (lowest <= 0.0 || highest >= 1.0) {
        return kernelError(ErrorCode::OutOfRange, in.method, in.job, &in.model,
                           "density ± epsilon must lie inside (0, 1), got density " +
                               formatValue(in.density) + " and epsilon " + formatValue(epsilon));
    }
    const std::uint64_t n = in.job.numel;
    const std::uint64_t cols = in.job.shape.size() >= 2 ? in.job.shape.back() : n;
    if (cols == 0 || n % cols != 0 || cols > 0xffffffffull) {
        return kernelError(ErrorCode::Unsupported, in.method, in.job, &in.model,
                           "rows of " + std::to_string(cols) + " values cannot be ranked");
    }
    const auto rows = static_cast<std::int64_t>(n / cols);
    const float *x = in.model.data;
    const float *b = in.job.base;
    const CounterRng rng(in.job.seed, in.job.tensorName,
                         static_cast<std::uint64_t>(in.model.modelIndex));

    KeepRule rule;
    rule.kind = KeepRule::Kind::Mask;
    rule.mask.assign(n, 0);
    std::uint8_t *mask = rule.mask.data();
#pragma omp parallel if (n >= kParallelMinElements)
    {
        std::vector<std::uint64_t> keys(cols);
#pragma omp for schedule(static)
        for (std::int64_t row = 0; row < rows; ++row) {
            const std::uint64_t start = static_cast<std::uint64_t>(row) * cols;
            // (magnitude, column) packed into one key: sorting the keys ranks ties by index.
            for (std::uint64_t c = 0; c < cols; ++c)
                keys[c] = (std::uint64_t{magnitudeBits(x[start + c] - b[start + c])} << 32) | c;
            std::sort(keys.begin(), keys.end());
            for (std::uint64_t r = 0; r < cols; ++r) {
                const std::uint64_t index = start + (keys[r] & 0xffffffffull);
                // A one-column row has no rank spread: it gets the mean probability.
                const double position =
                    cols > 1 ? static_cast<double>(r) / static_cast<double>(cols - 1) : 0.5;
                const double probability = lowest + 2.0 * epsilon * position;
                mask[index] = rng.uniform(index) < probability ? 1 : 0;
            }
        }
    }
    applyRescale(in, rule);
    return rule;
}

} // namespace basin::merge
