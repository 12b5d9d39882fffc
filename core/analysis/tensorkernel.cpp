// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/tensorkernel.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cmath>
#include <limits>

#include <omp.h>

namespace basin::analysis {

// The loops below are written for speed without giving up reproducibility: every f64 sum
// runs over one chunk in a fixed order (sum4 splits it into four interleaved partial sums,
// always the same way, to break the add latency chain), counts are integers, and signs
// live in int8 arrays so the counting loops vectorise and never branch on (near random)
// signs.

namespace {
constexpr std::uint32_t kBins = AbsHistogram::kBins;
constexpr std::uint64_t kChunk = TensorKernel::kChunk;

std::int64_t chunkCount(std::uint64_t numel)
{
    return static_cast<std::int64_t>((numel + kChunk - 1) / kChunk);
}

struct ChunkRange {
    std::uint64_t lo = 0;
    std::uint64_t n = 0;
};

ChunkRange chunkRange(std::int64_t c, std::uint64_t numel)
{
    const std::uint64_t lo = static_cast<std::uint64_t>(c) * kChunk;
    return ChunkRange{lo, std::min(numel, lo + kChunk) - lo};
}

// Σ term(i) for i < n as ((s0 + s1) + (s2 + s3)) + tail, s_j summing i ≡ j (mod 4).
template <typename Term> double sum4(std::uint64_t n, Term term)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    std::uint64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += term(i);
        s1 += term(i + 1);
        s2 += term(i + 2);
        s3 += term(i + 3);
    }
    double tail = 0.0;
    for (; i < n; ++i)
        tail += term(i);
    return ((s0 + s1) + (s2 + s3)) + tail;
}

// UlpHistogram::binOf for 0..255 steps.
constexpr std::array<std::uint8_t, 256> kStepBins = [] {
    std::array<std::uint8_t, 256> table{};
    for (std::uint32_t steps = 0; steps < table.size(); ++steps)
        table[steps] = static_cast<std::uint8_t>(UlpHistogram::binOf(steps));
    return table;
}();

std::uint16_t bf16Pattern(float value)
{
    return static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(value) >> 16);
}

// NaN and ±Inf among n floats, from the bit patterns.
void countNonFinite(const float *values, std::uint64_t n, std::uint64_t &nans, std::uint64_t &infs)
{
    std::uint64_t nan = 0;
    std::uint64_t inf = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint32_t bits = std::bit_cast<std::uint32_t>(values[i]);
        const bool special = (bits & 0x7F800000u) == 0x7F800000u;
        const bool mantissa = (bits & 0x007FFFFFu) != 0;
        nan += special && mantissa ? 1 : 0;
        inf += special && !mantissa ? 1 : 0;
    }
    nans += nan;
    infs += inf;
}

// value where keep is 1, +0.0 where it is 0 (NaN-safe, no branch).
double masked(double value, int keep)
{
    const std::uint64_t mask = std::uint64_t{0} - static_cast<std::uint64_t>(keep);
    return std::bit_cast<double>(std::bit_cast<std::uint64_t>(value) & mask);
}

// −1, 0, +1; 0 when |d| is below the zero threshold (and for NaN).
int signOf(double d, double zeroThreshold)
{
    const int nonzero = std::fabs(d) >= zeroThreshold;
    return ((d > 0.0) - (d < 0.0)) * nonzero;
}

// The per-model sums of one chunk's deltas τ = x − b (in f64, exact for f32 inputs).
struct MomentSums {
    double sum = 0.0;
    double sumSq = 0.0;
    double sumAbs = 0.0;
    double baseDot = 0.0;
    double maxAbs = 0.0;
    double minAbs = std::numeric_limits<double>::infinity();
    std::uint64_t zeros = 0;
};

// Writes the deltas and their signs (tau, sign) and returns their sums. Each sum runs in
// four interleaved lanes (i mod 4) combined as ((l0 + l1) + (l2 + l3)) + tail, like sum4:
// a fixed order, so the result never depends on the thread count, and four independent
// add chains instead of one, which the compiler turns into vector adds.
MomentSums deltaMoments(const float *base, const float *x, std::uint64_t n, double zeroThreshold,
                        double *tau, std::int8_t *sign)
{
    constexpr int kLanes = 4;
    double sum[kLanes] = {}, sumSq[kLanes] = {}, sumAbs[kLanes] = {}, baseDot[kLanes] = {};
    double maxAbs[kLanes] = {};
    double minAbs[kLanes];
    std::uint64_t zeros[kLanes] = {};
    for (double &m : minAbs)
        m = std::numeric_limits<double>::infinity();
    const std::uint64_t whole = n - n % kLanes;
    for (std::uint64_t i = 0; i < whole; i += kLanes) {
        for (int l = 0; l < kLanes; ++l) {
            const double b = base[i + l];
            const double d = static_cast<double>(x[i + l]) - b;
            const double a = std::fabs(d);
            tau[i + l] = d;
            const int s = signOf(d, zeroThreshold);
            sign[i + l] = static_cast<std::int8_t>(s);
            zeros[l] += s == 0;
            sum[l] += d;
            sumSq[l] += d * d;
            sumAbs[l] += a;
            baseDot[l] += b * d;
            maxAbs[l] = a > maxAbs[l] ? a : maxAbs[l];
            minAbs[l] = a < minAbs[l] ? a : minAbs[l];
        }
    }
    MomentSums tail;
    for (std::uint64_t i = whole; i < n; ++i) {
        const double b = base[i];
        const double d = static_cast<double>(x[i]) - b;
        const double a = std::fabs(d);
        tau[i] = d;
        const int s = signOf(d, zeroThreshold);
        sign[i] = static_cast<std::int8_t>(s);
        tail.zeros += s == 0;
        tail.sum += d;
        tail.sumSq += d * d;
        tail.sumAbs += a;
        tail.baseDot += b * d;
        tail.maxAbs = a > tail.maxAbs ? a : tail.maxAbs;
        tail.minAbs = a < tail.minAbs ? a : tail.minAbs;
    }
    auto combine = [](const double(&lane)[kLanes], double rest) {
        return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + rest;
    };
    MomentSums out;
    out.sum = combine(sum, tail.sum);
    out.sumSq = combine(sumSq, tail.sumSq);
    out.sumAbs = combine(sumAbs, tail.sumAbs);
    out.baseDot = combine(baseDot, tail.baseDot);
    out.maxAbs = tail.maxAbs;
    out.minAbs = tail.minAbs;
    out.zeros = tail.zeros;
    for (int l = 0; l < kLanes; ++l) {
        // NaN never wins a comparison; the sums above carry it to the non-finite check.
        out.maxAbs = maxAbs[l] > out.maxAbs ? maxAbs[l] : out.maxAbs;
        out.minAbs = minAbs[l] < out.minAbs ? minAbs[l] : out.minAbs;
        out.zeros += zeros[l];
    }
    return out;
}

// The fine-tunes present in this tensor, in index order.
std::vector<int> presentModels(const TensorData &data)
{
    std::vector<int> used;
    for (std::size_t t = 0; t < data.present.size(); ++t) {
        if (data.present[t])
            used.push_back(static_cast<int>(t));
    }
    return used;
}

// 1 when d < 0, else 0 (also for −0 and NaN), from the bits: GCC compiles `d < 0.0` into
// a branch here, which the (near random) signs of a sum mispredict half the time.
int isNegative(double d)
{
    const std::uint64_t bits = std::bit_cast<std::uint64_t>(d);
    const std::uint64_t magnitude = bits & 0x7fffffffffffffffull;
    // 0 < magnitude <= +Inf: not a zero and not a NaN.
    const std::uint64_t nonzeroNumber = (magnitude - 1) < 0x7ff0000000000000ull;
    return static_cast<int>((bits >> 63) & nonzeroNumber);
}

struct Election {
    std::vector<std::uint64_t> nonzero; // per present model: non-zero coordinates
    std::vector<std::uint64_t> against; // … whose sign differs from the elected one
    std::vector<double> againstAbs;     // … their Σ |τ|
    std::uint64_t any = 0;              // coordinates with some non-zero model
    std::uint64_t conflict = 0;         // … where some non-zero model is against
};

// Elects sgn⁺(Σ_t τ_t) per coordinate of a chunk (the sum in model order) and counts the
// models against it. tau / sign hold nUsed rows of kChunk.
void elect(int nUsed, std::uint64_t n, const double *tau, const std::int8_t *sign, double *total,
           std::int8_t *elected, std::uint8_t *any, std::uint8_t *conflict, bool withAbs,
           Election &out)
{
    std::fill(total, total + n, 0.0);
    for (int k = 0; k < nUsed; ++k) {
        const double *tk = tau + static_cast<std::size_t>(k) * kChunk;
        for (std::uint64_t i = 0; i < n; ++i)
            total[i] += tk[i];
    }
    for (std::uint64_t i = 0; i < n; ++i)
        elected[i] = static_cast<std::int8_t>(1 - 2 * isNegative(total[i]));
    std::fill(any, any + n, std::uint8_t{0});
    std::fill(conflict, conflict + n, std::uint8_t{0});
    for (int k = 0; k < nUsed; ++k) {
        const double *tk = tau + static_cast<std::size_t>(k) * kChunk;
        const std::int8_t *sk = sign + static_cast<std::size_t>(k) * kChunk;
        unsigned nz = 0;
        unsigned against = 0;
        for (std::uint64_t i = 0; i < n; ++i) {
            const std::uint8_t isNonzero = sk[i] != 0;
            const std::uint8_t differs = isNonzero & (sk[i] != elected[i]);
            nz += isNonzero;
            against += differs;
            any[i] |= isNonzero;
            conflict[i] |= differs;
        }
        out.nonzero[std::size_t(k)] = nz;
        out.against[std::size_t(k)] = against;
        out.againstAbs[std::size_t(k)] =
            withAbs ? sum4(n,
                           [&](std::uint64_t i) {
                               const int differs = (sk[i] != 0) & (sk[i] != elected[i]);
                               return masked(std::fabs(tk[i]), differs);
                           })
                    : 0.0;
    }
    unsigned anyCount = 0;
    unsigned conflictCount = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        anyCount += any[i];
        conflictCount += conflict[i];
    }
    out.any = anyCount;
    out.conflict = conflictCount;
}
} // namespace

TensorKernel::TensorKernel(int fineTunes, const AnalysisOptions &options)
    : m_fineTunes(fineTunes), m_options(options)
{
    m_team = options.threads > 0 ? options.threads : omp_get_max_threads();
    const auto slots = static_cast<std::size_t>(m_team) * static_cast<std::size_t>(fineTunes);
    m_hist.assign(slots * kBins, 0);
    m_histLo.assign(slots, kBins);
    m_histHi.assign(slots, 0);
    m_scratch.resize(static_cast<std::size_t>(m_team));
    const std::size_t perModel = static_cast<std::size_t>(std::max(fineTunes, 1)) * kChunk;
    for (Scratch &s : m_scratch) {
        s.tau.resize(perModel);
        s.sign.resize(perModel);
        s.total.resize(kChunk);
        s.elected.resize(kChunk);
        s.any.resize(kChunk);
        s.conflict.resize(kChunk);
    }
}

TensorResult TensorKernel::run(const TensorData &data)
{
    assert(static_cast<int>(data.fineTunes.size()) == m_fineTunes);
    assert(static_cast<int>(data.present.size()) == m_fineTunes);
    TensorResult result;
    result.stats = StatsBlock(m_fineTunes);
    sweepMoments(data, result.stats);
    sweepTrimmed(data, result.stats);
    result.sample = gatherSample(data);
    return result;
}

void TensorKernel::sweepMoments(const TensorData &data, StatsBlock &out)
{
    const std::uint64_t numel = data.base.size();
    const std::int64_t chunks = chunkCount(numel);
    const std::vector<int> used = presentModels(data);
    const int nUsed = static_cast<int>(used.size());
    const int T = m_fineTunes;
    const double zeroThreshold = m_options.zeroThreshold;
    std::vector<StatsBlock> partials(static_cast<std::size_t>(chunks), StatsBlock(T));

#pragma omp parallel num_threads(m_team) if (chunks > 1)
    {
        const int thread = omp_get_thread_num();
        Scratch &scratch = m_scratch[static_cast<std::size_t>(thread)];
        Election election;
        election.nonzero.resize(static_cast<std::size_t>(nUsed));
        election.against.resize(static_cast<std::size_t>(nUsed));
        election.againstAbs.resize(static_cast<std::size_t>(nUsed));
#pragma omp for schedule(dynamic, 1)
        for (std::int64_t c = 0; c < chunks; ++c) {
            const auto [lo, n] = chunkRange(c, numel);
            StatsBlock &part = partials[static_cast<std::size_t>(c)];
            const float *base = data.base.data() + lo;

            SetAccum &set = part.set;
            set.numel = n;
            set.baseSumSq = sum4(n, [&](std::uint64_t i) {
                const double b = base[i];
                return b * b;
            });
            if (!std::isfinite(set.baseSumSq))
                countNonFinite(base, n, set.baseNanCount, set.baseInfCount);

            // Per model: deltas and signs into scratch, moments, histogram, ulp steps.
            for (int k = 0; k < nUsed; ++k) {
                const int t = used[static_cast<std::size_t>(k)];
                const float *x = data.fineTunes[static_cast<std::size_t>(t)].data() + lo;
                double *tk = scratch.tau.data() + static_cast<std::size_t>(k) * kChunk;
                std::int8_t *sk = scratch.sign.data() + static_cast<std::size_t>(k) * kChunk;
                const MomentSums sums = deltaMoments(base, x, n, zeroThreshold, tk, sk);
                const double sum = sums.sum;
                const double sumSq = sums.sumSq;
                const double sumAbs = sums.sumAbs;
                const double baseDot = sums.baseDot;
                const double maxAbs = sums.maxAbs;
                const double minAbs = sums.minAbs;
                const auto zeros = static_cast<unsigned>(sums.zeros);
                const double chunkMean = sum / static_cast<double>(n);
                const double m2 = sum4(n, [&](std::uint64_t i) {
                    const double centred = tk[i] - chunkMean;
                    return centred * centred;
                });
                ModelAccum &m = part.models[static_cast<std::size_t>(t)];
                m.count = n;
                m.sum = sum;
                m.sumSq = sumSq;
                m.m2 = m2;
                m.sumAbs = sumAbs;
                m.maxAbs = maxAbs;
                m.baseSumSq = set.baseSumSq;
                m.baseDot = baseDot;
                m.zeros = zeros;
                // A NaN or Inf anywhere makes these sums non-finite; only then count them.
                const bool finite = std::isfinite(sum) && std::isfinite(sumSq);
                if (!finite)
                    countNonFinite(x, n, m.nanCount, m.infCount);

                // Histogram of |τ|; its occupied range follows from min/max |τ| (binOf is
                // monotonic), except that NaN lands above every finite bin.
                const std::size_t slot =
                    static_cast<std::size_t>(thread) * std::size_t(T) + static_cast<std::size_t>(t);
                std::uint64_t *hist = m_hist.data() + slot * kBins;
                for (std::uint64_t i = 0; i < n; ++i)
                    ++hist[AbsHistogram::binOf(static_cast<float>(std::fabs(tk[i])))];
                const std::uint32_t binLo =
                    finite ? AbsHistogram::binOf(static_cast<float>(minAbs)) : 0;
                const std::uint32_t binHi =
                    finite ? AbsHistogram::binOf(static_cast<float>(maxAbs)) : kBins - 1;
                m_histLo[slot] = std::min(m_histLo[slot], binLo);
                m_histHi[slot] = std::max(m_histHi[slot], binHi);

                if (data.bf16[static_cast<std::size_t>(t)]) {
                    m.ulpValid = true;
                    if (finite) {
                        // Most deltas are 0–3 steps: a table lookup, no branch per element.
                        // Four count arrays by i mod 4: runs of equal steps (the usual
                        // case) would otherwise wait on the previous increment's store.
                        std::array<std::array<unsigned, UlpHistogram::kBins>, 4> counts{};
                        for (std::uint64_t i = 0; i < n; ++i) {
                            const std::uint32_t steps =
                                UlpHistogram::steps(bf16Pattern(base[i]), bf16Pattern(x[i]));
                            ++counts[i & 3][steps < kStepBins.size() ? kStepBins[steps]
                                                                     : UlpHistogram::kBins - 1];
                        }
                        for (std::size_t b = 0; b < UlpHistogram::kBins; ++b)
                            m.ulp.counts[b] +=
                                (counts[0][b] + counts[1][b]) + (counts[2][b] + counts[3][b]);
                    } else {
                        for (std::uint64_t i = 0; i < n; ++i) {
                            if (std::isfinite(x[i]) && std::isfinite(base[i]))
                                m.ulp.add(
                                    UlpHistogram::steps(bf16Pattern(base[i]), bf16Pattern(x[i])));
                        }
                    }
                }
            }

            // Untrimmed TIES election over all present models.
            elect(nUsed, n, scratch.tau.data(), scratch.sign.data(), scratch.total.data(),
                  scratch.elected.data(), scratch.any.data(), scratch.conflict.data(), true,
                  election);
            set.anyNonzero = election.any;
            set.tiesConflict = election.conflict;
            for (int k = 0; k < nUsed; ++k) {
                ModelAccum &m = part.models[static_cast<std::size_t>(used[std::size_t(k)])];
                m.tiesDropped = election.against[std::size_t(k)];
                m.tiesDroppedAbs = election.againstAbs[std::size_t(k)];
            }

            // Pairs.
            for (int ka = 0; ka < nUsed; ++ka) {
                for (int kb = ka + 1; kb < nUsed; ++kb) {
                    const double *ta = scratch.tau.data() + static_cast<std::size_t>(ka) * kChunk;
                    const double *tb = scratch.tau.data() + static_cast<std::size_t>(kb) * kChunk;
                    const std::int8_t *sa =
                        scratch.sign.data() + static_cast<std::size_t>(ka) * kChunk;
                    const std::int8_t *sb =
                        scratch.sign.data() + static_cast<std::size_t>(kb) * kChunk;
                    PairAccum &p = part.pairs[static_cast<std::size_t>(
                        pairIndex(used[std::size_t(ka)], used[std::size_t(kb)], T))];
                    p.dot = sum4(n, [&](std::uint64_t i) { return ta[i] * tb[i]; });
                    unsigned both = 0, opposite = 0, either = 0;
                    for (std::uint64_t i = 0; i < n; ++i) {
                        const std::uint8_t nzA = sa[i] != 0;
                        const std::uint8_t nzB = sb[i] != 0;
                        both += nzA & nzB;
                        opposite += nzA & nzB & (sa[i] != sb[i]);
                        either += nzA | nzB;
                    }
                    p.count = n;
                    p.bothNonzero = both;
                    p.signConflicts = opposite;
                    p.unionNonzero = either;
                    // Pairwise TIES: e = sgn⁺(τ_a + τ_b). With one model zero (|τ| below the
                    // threshold) the other's sign wins, so nobody disagrees; with equal signs
                    // nobody does; with opposite signs exactly one does. So the count equals
                    // the sign conflicts (tst_tensorkernel checks it against the definition).
                    p.tiesDisagree = opposite;
                }
            }
        }
    }

    out = StatsBlock(T);
    for (const StatsBlock &part : partials)
        out.merge(part);

    // Fold the per-thread histograms (exact integer sums) and clear them for the next tensor.
    for (const int t : used) {
        ModelAccum &m = out.models[static_cast<std::size_t>(t)];
        for (int thread = 0; thread < m_team; ++thread) {
            const std::size_t slot =
                static_cast<std::size_t>(thread) * std::size_t(T) + static_cast<std::size_t>(t);
            if (m_histLo[slot] > m_histHi[slot])
                continue;
            std::uint64_t *hist = m_hist.data() + slot * kBins;
            const std::uint32_t lo = m_histLo[slot];
            const std::uint32_t hi = m_histHi[slot] + 1;
            m.absHist.addRange(lo, std::span<const std::uint64_t>(hist + lo, hi - lo));
            std::fill(hist + lo, hist + hi, 0);
            m_histLo[slot] = kBins;
            m_histHi[slot] = 0;
        }
    }
}

void TensorKernel::sweepTrimmed(const TensorData &data, StatsBlock &out)
{
    const std::uint64_t numel = data.base.size();
    const std::vector<int> used = presentModels(data);
    const int nUsed = static_cast<int>(used.size());
    const double zeroThreshold = m_options.zeroThreshold;
    const std::uint64_t k = topKCount(m_options.density, numel);

    // Every model keeps everything: the trimmed election is the untrimmed one.
    if (k >= numel) {
        for (const int t : used) {
            ModelAccum &m = out.models[static_cast<std::size_t>(t)];
            m.trimKept = m.count - m.zeros;
            m.trimDropped = m.tiesDropped;
        }
        out.set.trimAnyKept = out.set.anyNonzero;
        out.set.trimConflict = out.set.tiesConflict;
        return;
    }
    // Nothing kept: no kept coordinate, nothing against.
    if (k == 0 || nUsed == 0)
        return;

    std::vector<TopKCut> cuts(static_cast<std::size_t>(nUsed));
    std::vector<AbsHistogram::Cut> histCuts(static_cast<std::size_t>(nUsed));
    for (int q = 0; q < nUsed; ++q)
        histCuts[std::size_t(q)] =
            out.models[static_cast<std::size_t>(used[std::size_t(q)])].absHist.cutForLargest(k);

    const std::int64_t chunks = chunkCount(numel);
    // Candidates: the elements in the histogram bin where each model's cut falls. Each
    // thread collects its own; their union is the same for any thread count, and
    // resolveTopK does not depend on the order.
    for (Scratch &scratch : m_scratch) {
        scratch.candidates.resize(static_cast<std::size_t>(nUsed));
        for (auto &list : scratch.candidates)
            list.clear();
    }
#pragma omp parallel num_threads(m_team) if (chunks > 1)
    {
        Scratch &scratch = m_scratch[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(dynamic, 1)
        for (std::int64_t c = 0; c < chunks; ++c) {
            const auto [lo, n] = chunkRange(c, numel);
            const float *base = data.base.data() + lo;
            for (int q = 0; q < nUsed; ++q) {
                const std::uint32_t bin = histCuts[std::size_t(q)].bin;
                const float *x =
                    data.fineTunes[static_cast<std::size_t>(used[std::size_t(q)])].data() + lo;
                auto &list = scratch.candidates[std::size_t(q)];
                for (std::uint64_t i = 0; i < n; ++i) {
                    const double d = static_cast<double>(x[i]) - static_cast<double>(base[i]);
                    // Exact zeros are left out: keeping one or not changes no statistic
                    // (it adds 0 and has no sign), and they are often most of a bin.
                    if (d != 0.0 && AbsHistogram::binOf(static_cast<float>(std::fabs(d))) == bin)
                        list.push_back(TopKCandidate{magnitudeKey(d), lo + i});
                }
            }
        }
    }
    for (int q = 0; q < nUsed; ++q) {
        m_candidates.clear();
        for (Scratch &scratch : m_scratch) {
            const auto &list = scratch.candidates[std::size_t(q)];
            m_candidates.insert(m_candidates.end(), list.begin(), list.end());
        }
        const std::uint64_t need = k - histCuts[std::size_t(q)].above;
        if (need > m_candidates.size()) {
            // The cut falls among exact zeros: every non-zero delta is kept, and which zeros
            // are kept does not matter.
            cuts[std::size_t(q)] = TopKCut{TopKCut::Mode::Threshold, 0, ~std::uint64_t{0}};
        } else {
            cuts[std::size_t(q)] = resolveTopK(m_candidates, need);
        }
    }

    std::vector<Election> results(static_cast<std::size_t>(chunks));
#pragma omp parallel num_threads(m_team) if (chunks > 1)
    {
        Scratch &scratch = m_scratch[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(dynamic, 1)
        for (std::int64_t c = 0; c < chunks; ++c) {
            const auto [lo, n] = chunkRange(c, numel);
            const float *base = data.base.data() + lo;
            for (int q = 0; q < nUsed; ++q) {
                const TopKCut &cut = cuts[std::size_t(q)];
                const float *x =
                    data.fineTunes[static_cast<std::size_t>(used[std::size_t(q)])].data() + lo;
                double *tq = scratch.tau.data() + static_cast<std::size_t>(q) * kChunk;
                std::int8_t *sq = scratch.sign.data() + static_cast<std::size_t>(q) * kChunk;
                for (std::uint64_t i = 0; i < n; ++i) {
                    const double d = static_cast<double>(x[i]) - static_cast<double>(base[i]);
                    const std::uint64_t key = magnitudeKey(d);
                    const int keep = (key > cut.key) | ((key == cut.key) & (lo + i <= cut.index));
                    tq[i] = masked(d, keep);
                    sq[i] = static_cast<std::int8_t>(signOf(d, zeroThreshold) * keep);
                }
            }
            Election &e = results[static_cast<std::size_t>(c)];
            e.nonzero.resize(static_cast<std::size_t>(nUsed));
            e.against.resize(static_cast<std::size_t>(nUsed));
            e.againstAbs.resize(static_cast<std::size_t>(nUsed));
            elect(nUsed, n, scratch.tau.data(), scratch.sign.data(), scratch.total.data(),
                  scratch.elected.data(), scratch.any.data(), scratch.conflict.data(), false, e);
        }
    }
    // Integer counts only: any order gives the same sums.
    for (const Election &e : results) {
        for (int q = 0; q < nUsed; ++q) {
            ModelAccum &m = out.models[static_cast<std::size_t>(used[std::size_t(q)])];
            m.trimKept += e.nonzero[std::size_t(q)];
            m.trimDropped += e.against[std::size_t(q)];
        }
        out.set.trimAnyKept += e.any;
        out.set.trimConflict += e.conflict;
    }
}

TensorSample TensorKernel::gatherSample(const TensorData &data) const
{
    TensorSample sample;
    sample.indices =
        sampleIndices(m_options.sampleSeed, data.name, data.base.size(), m_options.sampleSize);
    const std::size_t m = sample.indices.size();
    sample.present = data.present;
    sample.base.resize(m);
    sample.tau.assign(m * static_cast<std::size_t>(m_fineTunes), 0.0f);
    for (std::size_t s = 0; s < m; ++s)
        sample.base[s] = data.base[sample.indices[s]];
    for (int t = 0; t < m_fineTunes; ++t) {
        if (!data.present[static_cast<std::size_t>(t)])
            continue;
        const auto &x = data.fineTunes[static_cast<std::size_t>(t)];
        float *dst = sample.tau.data() + static_cast<std::size_t>(t) * m;
        for (std::size_t s = 0; s < m; ++s) {
            const std::uint64_t i = sample.indices[s];
            dst[s] =
                static_cast<float>(static_cast<double>(x[i]) - static_cast<double>(data.base[i]));
        }
    }
    return sample;
}

} // namespace basin::analysis
