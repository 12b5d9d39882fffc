// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/tensorkernel.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <type_traits>

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
    std::vector<double> againstAbs;     // … their Σ |τ| (untrimmed election only)
    std::uint64_t any = 0;              // coordinates with some non-zero model
    std::uint64_t conflict = 0;         // … where some non-zero model is against

    explicit Election(int used)
        : nonzero(std::size_t(used)), against(std::size_t(used)), againstAbs(std::size_t(used))
    {
    }
};

// The arrays one chunk's election reads and writes; tau / sign / keep hold nUsed rows of
// kChunk.
struct ElectionInput {
    int nUsed = 0;
    std::uint64_t n = 0;
    const double *tau = nullptr;
    const std::int8_t *sign = nullptr;
    double *total = nullptr;
    std::int8_t *elected = nullptr;
    std::uint8_t *any = nullptr;
    std::uint8_t *conflict = nullptr;
};

// Elects sgn⁺(Σ_t τ_t) per coordinate of a chunk (the sum in model order) and counts the
// models against it. Trimmed: only the deltas whose keep flag is set take part, and the
// coordinates flagged in skip are left out of every count (they are elected later).
template <bool Trimmed>
void elect(const ElectionInput &in, const std::uint8_t *keep, const std::uint8_t *skip,
           Election &out)
{
    const std::uint64_t n = in.n;
    double *total = in.total;
    std::fill(total, total + n, 0.0);
    for (int k = 0; k < in.nUsed; ++k) {
        const double *tk = in.tau + static_cast<std::size_t>(k) * kChunk;
        if constexpr (Trimmed) {
            const std::uint8_t *kk = keep + static_cast<std::size_t>(k) * kChunk;
            for (std::uint64_t i = 0; i < n; ++i)
                total[i] += masked(tk[i], kk[i]);
        } else {
            for (std::uint64_t i = 0; i < n; ++i)
                total[i] += tk[i];
        }
    }
    std::int8_t *elected = in.elected;
    for (std::uint64_t i = 0; i < n; ++i)
        elected[i] = static_cast<std::int8_t>(1 - 2 * isNegative(total[i]));
    std::uint8_t *any = in.any;
    std::uint8_t *conflict = in.conflict;
    std::fill(any, any + n, std::uint8_t{0});
    std::fill(conflict, conflict + n, std::uint8_t{0});
    for (int k = 0; k < in.nUsed; ++k) {
        const double *tk = in.tau + static_cast<std::size_t>(k) * kChunk;
        const std::int8_t *sk = in.sign + static_cast<std::size_t>(k) * kChunk;
        unsigned nz = 0;
        unsigned against = 0;
        if constexpr (Trimmed) {
            const std::uint8_t *kk = keep + static_cast<std::size_t>(k) * kChunk;
            for (std::uint64_t i = 0; i < n; ++i) {
                const std::uint8_t isNonzero = (sk[i] != 0) & kk[i] & (skip[i] ^ 1u);
                const std::uint8_t differs = isNonzero & (sk[i] != elected[i]);
                nz += isNonzero;
                against += differs;
                any[i] |= isNonzero;
                conflict[i] |= differs;
            }
        } else {
            for (std::uint64_t i = 0; i < n; ++i) {
                const std::uint8_t isNonzero = sk[i] != 0;
                const std::uint8_t differs = isNonzero & (sk[i] != elected[i]);
                nz += isNonzero;
                against += differs;
                any[i] |= isNonzero;
                conflict[i] |= differs;
            }
            out.againstAbs[std::size_t(k)] = sum4(n, [&](std::uint64_t i) {
                const int differs = (sk[i] != 0) & (sk[i] != elected[i]);
                return masked(std::fabs(tk[i]), differs);
            });
        }
        out.nonzero[std::size_t(k)] = nz;
        out.against[std::size_t(k)] = against;
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

// Deltas and their signs (0 below the zero threshold) of one model over a chunk.
void deltasAndSigns(const float *base, const float *x, std::uint64_t n, double zeroThreshold,
                    double *tau, std::int8_t *sign)
{
    for (std::uint64_t i = 0; i < n; ++i) {
        const double d = static_cast<double>(x[i]) - static_cast<double>(base[i]);
        tau[i] = d;
        sign[i] = static_cast<std::int8_t>(signOf(d, zeroThreshold));
    }
}

// 1 where the exact top-k cut keeps the element at flat index first + i.
void keepFlags(const double *tau, std::uint64_t n, std::uint64_t first, const TopKCut &cut,
               std::uint8_t *keep)
{
    for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t key = magnitudeKey(tau[i]);
        keep[i] = static_cast<std::uint8_t>((key > cut.key) |
                                            ((key == cut.key) & (first + i <= cut.index)));
    }
}
// Sparse and crowded bands settle most coordinates in the sweep and defer the rest; a dense
// band leaves the whole trimmed election to a second sweep.
bool defersCoordinates(const TrimBand &band)
{
    return band.mode == TrimBand::Mode::Sparse || band.mode == TrimBand::Mode::Crowded;
}

// Reads the tensor's consecutive ranges of at most `size` elements through `read` and calls
// visit(slice) on each, in index order; stops at the first read error.
template <typename Visit>
Result<void> forEachSlice(const TensorKernel::RangeReader &read, std::uint64_t numel,
                          std::uint64_t size, Visit visit)
{
    for (std::uint64_t first = 0; first < numel; first += size) {
        Result<TensorData> slice = read(first, std::min(size, numel - first));
        if (!slice)
            return slice.takeError();
        visit(*slice);
    }
    return {};
}
} // namespace

void TensorKernel::TrimCounts::reset(int used)
{
    kept.assign(std::size_t(used), 0);
    dropped.assign(std::size_t(used), 0);
    any = 0;
    conflict = 0;
}

void TensorKernel::TrimCounts::add(const TrimCounts &other)
{
    for (std::size_t q = 0; q < kept.size(); ++q) {
        kept[q] += other.kept[q];
        dropped[q] += other.dropped[q];
    }
    any += other.any;
    conflict += other.conflict;
}

std::vector<TensorKernel::TrimCounts> TensorKernel::zeroCountsPerThread() const
{
    // Every slot reset: a team of one leaves the other threads' counts untouched.
    std::vector<TrimCounts> perThread(static_cast<std::size_t>(m_team));
    for (TrimCounts &counts : perThread)
        counts.reset(static_cast<int>(m_used.size()));
    return perThread;
}

TensorKernel::TrimCounts TensorKernel::sumOf(const std::vector<TrimCounts> &parts) const
{
    TrimCounts sum;
    sum.reset(static_cast<int>(m_used.size()));
    for (const TrimCounts &part : parts)
        sum.add(part);
    return sum;
}

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
        s.keep.resize(perModel);
        s.total.resize(kChunk);
        s.elected.resize(kChunk);
        s.any.resize(kChunk);
        s.conflict.resize(kChunk);
        s.deferred.resize(kChunk);
    }
}

TensorResult TensorKernel::run(const TensorData &data)
{
    assert(data.first == 0 && data.base.size() == data.tensorSize());
    start(data, sampleOf(data));
    sweep(data);
    // Every value is at hand: a range is a view into data.
    Result<TensorResult> result = finish([&data](std::uint64_t first, std::uint64_t count) {
        TensorData range = data;
        range.numel = data.tensorSize();
        range.first = first;
        range.base = data.base.subspan(first, count);
        for (std::size_t t = 0; t < range.fineTunes.size(); ++t) {
            if (data.present[t])
                range.fineTunes[t] = data.fineTunes[t].subspan(first, count);
        }
        return Result<TensorData>(std::move(range));
    });
    assert(result.ok()); // views cannot fail
    return std::move(*result);
}

void TensorKernel::start(const TensorData &tensor, TensorSample sample)
{
    assert(static_cast<int>(tensor.fineTunes.size()) == m_fineTunes);
    assert(static_cast<int>(tensor.present.size()) == m_fineTunes);
    m_numel = tensor.tensorSize();
    m_swept = 0;
    m_used = presentModels(tensor);
    m_band = planTrimBand(sample, m_used, m_numel, topKCount(m_options.density, m_numel));
    m_result = TensorResult{StatsBlock(m_fineTunes), std::move(sample)};
    const int nUsed = static_cast<int>(m_used.size());
    for (Scratch &scratch : m_scratch) {
        scratch.candidates.resize(static_cast<std::size_t>(nUsed));
        for (auto &list : scratch.candidates)
            list.clear();
        scratch.trim.reset(nUsed);
        scratch.census.resize(static_cast<std::size_t>(nUsed));
        for (KeyCensus &census : scratch.census)
            census.clear();
        scratch.censusEntries.clear();
        scratch.censusFull = false;
    }
    if (defersCoordinates(m_band))
        m_deferredBits.assign(static_cast<std::size_t>(chunkCount(m_numel)) * (kChunk / 64), 0);
}

void TensorKernel::sweep(const TensorData &data)
{
    assert(data.first == m_swept && data.first % kChunk == 0);
    assert(data.first + data.base.size() <= m_numel);
    // Chunks of this slice; c below counts from the tensor's first chunk.
    const std::int64_t firstChunk = static_cast<std::int64_t>(data.first / kChunk);
    const std::int64_t chunks = chunkCount(data.base.size());
    const std::uint64_t sliceEnd = data.first + data.base.size();
    m_swept = sliceEnd;
    const std::vector<int> &used = m_used;
    const TrimBand &band = m_band;
    const int nUsed = static_cast<int>(used.size());
    const int T = m_fineTunes;
    const double zeroThreshold = m_options.zeroThreshold;
    std::vector<StatsBlock> partials(static_cast<std::size_t>(chunks), StatsBlock(T));

#pragma omp parallel num_threads(m_team) if (chunks > 1)
    {
        const int thread = omp_get_thread_num();
        Scratch &scratch = m_scratch[static_cast<std::size_t>(thread)];
        Election election(nUsed);
        Election trimmed(nUsed);
        const ElectionInput chunkArrays{nUsed,
                                        0,
                                        scratch.tau.data(),
                                        scratch.sign.data(),
                                        scratch.total.data(),
                                        scratch.elected.data(),
                                        scratch.any.data(),
                                        scratch.conflict.data()};
#pragma omp for schedule(dynamic, 1)
        for (std::int64_t c = firstChunk; c < firstChunk + chunks; ++c) {
            const auto [lo, n] = chunkRange(c, sliceEnd);
            StatsBlock &part = partials[static_cast<std::size_t>(c - firstChunk)];
            const float *base = data.base.data() + (lo - data.first);
            std::uint8_t *deferred = scratch.deferred.data();
            const bool defer = defersCoordinates(band);
            if (defer)
                std::fill(deferred, deferred + n, std::uint8_t{0});

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
                const float *x =
                    data.fineTunes[static_cast<std::size_t>(t)].data() + (lo - data.first);
                double *tk = scratch.tau.data() + static_cast<std::size_t>(k) * kChunk;
                std::int8_t *sk = scratch.sign.data() + static_cast<std::size_t>(k) * kChunk;
                const MomentSums sums = deltaMoments(base, x, n, zeroThreshold, tk, sk);
                const double sum = sums.sum;
                const double sumSq = sums.sumSq;
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
                m.sumAbs = sums.sumAbs;
                m.maxAbs = sums.maxAbs;
                m.baseSumSq = set.baseSumSq;
                m.baseDot = sums.baseDot;
                m.zeros = static_cast<unsigned>(sums.zeros);
                // A NaN or Inf anywhere makes these sums non-finite; only then count them.
                const bool finite = std::isfinite(sum) && std::isfinite(sumSq);
                if (!finite)
                    countNonFinite(x, n, m.nanCount, m.infCount);

                // Histogram of |τ|; its occupied range follows from min/max |τ| (binOf is
                // monotonic), except that NaN lands above every finite bin.
                const std::size_t slot =
                    static_cast<std::size_t>(thread) * std::size_t(T) + static_cast<std::size_t>(t);
                std::uint64_t *hist = m_hist.data() + slot * kBins;
                if (band.active()) {
                    // The same loop notes the elements inside the band, the candidates for
                    // the exact cut: as a list (sparse band) or in the chunk's key census
                    // (crowded, dense). Unless the band is dense it also settles the trimmed
                    // keep flag where the band decides it (above: kept, below: dropped) and
                    // defers the coordinates of the elements inside. Exact zeros are never
                    // candidates: keeping one or not changes no statistic.
                    const std::uint32_t low = band.low[std::size_t(k)];
                    const std::uint32_t width = band.high[std::size_t(k)] - low;
                    std::uint8_t *keep = scratch.keep.data() + static_cast<std::size_t>(k) * kChunk;
                    const auto settle = [&](auto note, auto settles) {
                        for (std::uint64_t i = 0; i < n; ++i) {
                            const double d = tk[i];
                            const std::uint32_t bin =
                                AbsHistogram::binOf(static_cast<float>(std::fabs(d)));
                            ++hist[bin];
                            const std::uint32_t offset = bin - low;
                            const bool inside = (offset <= width) & (d != 0.0);
                            if constexpr (decltype(settles)::value) {
                                keep[i] = static_cast<std::uint8_t>(offset > width && bin > low);
                                deferred[i] |= static_cast<std::uint8_t>(inside);
                            }
                            if (inside)
                                note(magnitudeKey(d), lo + i);
                        }
                    };
                    if (band.mode == TrimBand::Mode::Sparse) {
                        auto &list = scratch.candidates[std::size_t(k)];
                        settle(
                            [&](std::uint64_t key, std::uint64_t index) {
                                list.push_back(TopKCandidate{key, index});
                            },
                            std::true_type{});
                    } else {
                        KeyCensus &census = scratch.census[std::size_t(k)];
                        bool &full = scratch.censusFull;
                        const auto count = [&](std::uint64_t key, std::uint64_t) {
                            full = !census.add(key) || full;
                        };
                        if (defer)
                            settle(count, std::true_type{});
                        else
                            settle(count, std::false_type{});
                        census.forEach([&](KeyCensus::Entry entry) {
                            scratch.censusEntries.push_back({static_cast<std::uint32_t>(c),
                                                             static_cast<std::uint32_t>(k), entry});
                        });
                        census.clear();
                    }
                } else {
                    for (std::uint64_t i = 0; i < n; ++i)
                        ++hist[AbsHistogram::binOf(static_cast<float>(std::fabs(tk[i])))];
                }
                const std::uint32_t binLo =
                    finite ? AbsHistogram::binOf(static_cast<float>(sums.minAbs)) : 0;
                const std::uint32_t binHi =
                    finite ? AbsHistogram::binOf(static_cast<float>(sums.maxAbs)) : kBins - 1;
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
            ElectionInput arrays = chunkArrays;
            arrays.n = n;
            elect<false>(arrays, nullptr, nullptr, election);
            set.anyNonzero = election.any;
            set.tiesConflict = election.conflict;
            for (int k = 0; k < nUsed; ++k) {
                ModelAccum &m = part.models[static_cast<std::size_t>(used[std::size_t(k)])];
                m.tiesDropped = election.against[std::size_t(k)];
                m.tiesDroppedAbs = election.againstAbs[std::size_t(k)];
            }

            // Trimmed TIES where the band settles every model's keep flag.
            if (defer) {
                elect<true>(arrays, scratch.keep.data(), deferred, trimmed);
                TrimCounts &trim = scratch.trim;
                for (int k = 0; k < nUsed; ++k) {
                    trim.kept[std::size_t(k)] += trimmed.nonzero[std::size_t(k)];
                    trim.dropped[std::size_t(k)] += trimmed.against[std::size_t(k)];
                }
                trim.any += trimmed.any;
                trim.conflict += trimmed.conflict;
                std::uint64_t *bits =
                    m_deferredBits.data() + static_cast<std::size_t>(c) * (kChunk / 64);
                for (std::uint64_t i = 0; i < n; ++i)
                    bits[i / 64] |= std::uint64_t{deferred[i]} << (i % 64);
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

    for (const StatsBlock &part : partials)
        m_result.stats.merge(part);
}

Result<TensorResult> TensorKernel::finish(const RangeReader &read)
{
    assert(m_swept == m_numel);
    foldHistograms(m_result.stats);
    BASIN_TRY(finishTrimmed(read, m_result.stats));
    return std::move(m_result);
}

void TensorKernel::foldHistograms(StatsBlock &out)
{
    const int T = m_fineTunes;
    // The per-thread histograms hold exact integer counts; clear them for the next tensor.
    for (const int t : m_used) {
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

Result<void> TensorKernel::finishTrimmed(const RangeReader &read, StatsBlock &out)
{
    const std::uint64_t numel = m_numel;
    const std::vector<int> &used = m_used;
    const TrimBand &band = m_band;
    const int nUsed = static_cast<int>(used.size());
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
        return {};
    }
    // Nothing kept: no kept coordinate, nothing against.
    if (k == 0 || nUsed == 0)
        return {};

    std::vector<AbsHistogram::Cut> at(static_cast<std::size_t>(nUsed));
    bool inBand = band.active();
    for (int q = 0; q < nUsed; ++q) {
        at[std::size_t(q)] =
            out.models[static_cast<std::size_t>(used[std::size_t(q)])].absHist.cutForLargest(k);
        inBand = inBand && at[std::size_t(q)].bin >= band.low[std::size_t(q)] &&
                 at[std::size_t(q)].bin <= band.high[std::size_t(q)];
    }

    TrimCounts counts;
    counts.reset(nUsed);
    for (const Scratch &scratch : m_scratch)
        inBand = inBand && !scratch.censusFull;
    if (inBand) {
        std::vector<TopKCut> cuts;
        if (band.mode == TrimBand::Mode::Sparse) {
            cuts = resolveCuts(k, at);
        } else {
            Result<std::vector<TopKCut>> resolved = resolveCensus(read, k, at);
            if (!resolved)
                return resolved.takeError();
            cuts = std::move(*resolved);
        }
        Result<TrimCounts> rest =
            defersCoordinates(band) ? electDeferred(read, cuts) : electSweep(read, cuts);
        if (!rest)
            return rest.takeError();
        if (defersCoordinates(band)) {
            for (const Scratch &scratch : m_scratch)
                counts.add(scratch.trim);
        }
        counts.add(*rest);
    } else {
        Result<TrimCounts> swept = sweepTrimmed(read, at, k);
        if (!swept)
            return swept.takeError();
        counts = std::move(*swept);
    }
    for (int q = 0; q < nUsed; ++q) {
        ModelAccum &m = out.models[static_cast<std::size_t>(used[std::size_t(q)])];
        m.trimKept = counts.kept[std::size_t(q)];
        m.trimDropped = counts.dropped[std::size_t(q)];
    }
    out.set.trimAnyKept = counts.any;
    out.set.trimConflict = counts.conflict;
    return {};
}

std::vector<TopKCut> TensorKernel::resolveCuts(std::uint64_t k,
                                               const std::vector<AbsHistogram::Cut> &at)
{
    const int used = static_cast<int>(m_used.size());
    std::vector<TopKCut> cuts(static_cast<std::size_t>(used));
    for (int q = 0; q < used; ++q) {
        // Only the cut's own bin matters; the threads' lists may hold a whole band.
        const std::uint32_t bin = at[std::size_t(q)].bin;
        m_candidates.clear();
        for (const Scratch &scratch : m_scratch) {
            for (const TopKCandidate &candidate : scratch.candidates[std::size_t(q)]) {
                const auto magnitude = static_cast<float>(std::bit_cast<double>(candidate.key));
                if (AbsHistogram::binOf(magnitude) == bin)
                    m_candidates.push_back(candidate);
            }
        }
        const std::uint64_t need = k - at[std::size_t(q)].above;
        // More needed than the bin has non-zero elements: the cut falls among exact zeros,
        // every non-zero delta is kept, and which zeros are kept does not matter.
        cuts[std::size_t(q)] = need > m_candidates.size()
                                   ? TopKCut{TopKCut::Mode::Threshold, 0, ~std::uint64_t{0}}
                                   : resolveTopK(m_candidates, need);
    }
    return cuts;
}

Result<std::vector<TopKCut>> TensorKernel::resolveCensus(const RangeReader &read, std::uint64_t k,
                                                         const std::vector<AbsHistogram::Cut> &at)
{
    const auto chunks = static_cast<std::size_t>(chunkCount(m_numel));
    const int nUsed = static_cast<int>(m_used.size());
    std::vector<TopKCut> cuts(static_cast<std::size_t>(nUsed));
    std::vector<std::uint64_t> perChunk(chunks);
    for (int q = 0; q < nUsed; ++q) {
        const std::uint32_t bin = at[std::size_t(q)].bin;
        const auto inCutBin = [&](std::uint64_t key) {
            return AbsHistogram::binOf(static_cast<float>(std::bit_cast<double>(key))) == bin;
        };
        // The keys of the cut's bin with their totals, largest first.
        std::map<std::uint64_t, std::uint64_t, std::greater<>> totals;
        for (const Scratch &scratch : m_scratch) {
            for (const auto &e : scratch.censusEntries) {
                if (e.model == std::uint32_t(q) && inCutBin(e.entry.key))
                    totals[e.entry.key] += e.entry.count;
            }
        }
        const std::uint64_t need = k - at[std::size_t(q)].above;
        std::uint64_t before = 0;
        auto cutKey = totals.end();
        for (auto it = totals.begin(); it != totals.end(); ++it) {
            if (before + it->second >= need) {
                cutKey = it;
                break;
            }
            before += it->second;
        }
        if (cutKey == totals.end()) {
            // More needed than the bin has non-zero elements: as in resolveCuts().
            cuts[std::size_t(q)] = TopKCut{TopKCut::Mode::Threshold, 0, ~std::uint64_t{0}};
            continue;
        }
        // The cut is the rank-th element (in index order) carrying that key: find its chunk
        // from the censuses, then its index by reading that chunk once more.
        const std::uint64_t key = cutKey->first;
        std::uint64_t rank = need - before;
        std::fill(perChunk.begin(), perChunk.end(), 0);
        for (const Scratch &scratch : m_scratch) {
            for (const auto &e : scratch.censusEntries) {
                if (e.model == std::uint32_t(q) && e.entry.key == key)
                    perChunk[e.chunk] += e.entry.count;
            }
        }
        std::size_t c = 0;
        while (c + 1 < chunks && rank > perChunk[c]) {
            rank -= perChunk[c];
            ++c;
        }
        const auto [lo, n] = chunkRange(static_cast<std::int64_t>(c), m_numel);
        Result<TensorData> chunk = read(lo, n);
        if (!chunk)
            return chunk.takeError();
        const float *base = chunk->base.data();
        const float *x = chunk->fineTunes[static_cast<std::size_t>(m_used[std::size_t(q)])].data();
        std::uint64_t index = lo;
        for (std::uint64_t i = 0; i < n; ++i) {
            const double d = static_cast<double>(x[i]) - static_cast<double>(base[i]);
            if (magnitudeKey(d) == key && --rank == 0) {
                index = lo + i;
                break;
            }
        }
        cuts[std::size_t(q)] = TopKCut{TopKCut::Mode::Threshold, key, index};
    }
    return cuts;
}

Result<TensorKernel::TrimCounts> TensorKernel::electDeferred(const RangeReader &read,
                                                             const std::vector<TopKCut> &cuts)
{
    const int nUsed = static_cast<int>(m_used.size());
    const double zeroThreshold = m_options.zeroThreshold;
    std::vector<TrimCounts> perThread = zeroCountsPerThread();
    const auto electSlice = [&](const TensorData &slice) {
        const std::int64_t firstChunk = static_cast<std::int64_t>(slice.first / kChunk);
        const std::int64_t chunks = chunkCount(slice.base.size());
#pragma omp parallel num_threads(m_team) if (chunks > 1)
        {
            TrimCounts &counts = perThread[static_cast<std::size_t>(omp_get_thread_num())];
            std::vector<std::int8_t> signs(static_cast<std::size_t>(nUsed));
            // Pointers shifted so that the tensor's flat index addresses the slice.
            std::vector<const float *> xs(static_cast<std::size_t>(nUsed));
            for (int q = 0; q < nUsed; ++q)
                xs[std::size_t(q)] =
                    slice.fineTunes[static_cast<std::size_t>(m_used[std::size_t(q)])].data() -
                    slice.first;
            const float *base = slice.base.data() - slice.first;
            // Branch-free (the keep flags and signs of a deferred coordinate are close to
            // random), with TopKCut::keeps() spelt out: every cut here is a Threshold.
            const auto electAt = [&](std::uint64_t i) {
                // The same operations, in the same order, as elect<true>() on a chunk.
                const double b = base[i];
                double total = 0.0;
                for (int q = 0; q < nUsed; ++q) {
                    const double d = static_cast<double>(xs[std::size_t(q)][i]) - b;
                    const TopKCut &cut = cuts[std::size_t(q)];
                    const std::uint64_t key = magnitudeKey(d);
                    const int keep = (key > cut.key) | ((key == cut.key) & (i <= cut.index));
                    total += masked(d, keep);
                    signs[std::size_t(q)] =
                        static_cast<std::int8_t>(signOf(d, zeroThreshold) * keep);
                }
                const int elected = 1 - 2 * isNegative(total);
                unsigned any = 0;
                unsigned conflict = 0;
                for (int q = 0; q < nUsed; ++q) {
                    const int s = signs[std::size_t(q)];
                    const unsigned nonzero = s != 0;
                    const unsigned against = nonzero & (s != elected);
                    counts.kept[std::size_t(q)] += nonzero;
                    counts.dropped[std::size_t(q)] += against;
                    any |= nonzero;
                    conflict |= against;
                }
                counts.any += any;
                counts.conflict += conflict;
            };
            // Integer counts: any split over threads adds up the same.
#pragma omp for schedule(dynamic, 4)
            for (std::int64_t c = firstChunk; c < firstChunk + chunks; ++c) {
                const std::uint64_t first = static_cast<std::uint64_t>(c) * kChunk;
                const std::uint64_t *bits =
                    m_deferredBits.data() + static_cast<std::size_t>(c) * (kChunk / 64);
                for (std::uint64_t w = 0; w < kChunk / 64; ++w) {
                    for (std::uint64_t word = bits[w]; word != 0; word &= word - 1)
                        electAt(first + w * 64 +
                                static_cast<std::uint64_t>(std::countr_zero(word)));
                }
            }
        }
    };
    // Only slices holding a deferred coordinate are read again.
    const std::uint64_t sliceElements = m_options.sliceElements;
    for (std::uint64_t first = 0; first < m_numel; first += sliceElements) {
        const std::uint64_t count = std::min(sliceElements, m_numel - first);
        const auto words = m_deferredBits.begin() + static_cast<std::ptrdiff_t>(first / 64);
        const auto wordsEnd = words + static_cast<std::ptrdiff_t>((count + 63) / 64);
        if (std::all_of(words, wordsEnd, [](std::uint64_t word) { return word == 0; }))
            continue;
        Result<TensorData> slice = read(first, count);
        if (!slice)
            return slice.takeError();
        electSlice(*slice);
    }
    return sumOf(perThread);
}

Result<TensorKernel::TrimCounts>
TensorKernel::sweepTrimmed(const RangeReader &read, const std::vector<AbsHistogram::Cut> &at,
                           std::uint64_t k)
{
    const int nUsed = static_cast<int>(m_used.size());
    // Candidates: the elements in the histogram bin where each model's cut falls. Each
    // thread collects its own; their union is the same for any thread count, and
    // resolveTopK does not depend on the order.
    for (Scratch &scratch : m_scratch) {
        scratch.candidates.resize(static_cast<std::size_t>(nUsed));
        for (auto &list : scratch.candidates)
            list.clear();
    }
    const auto collectSlice = [&](const TensorData &slice) {
        const std::int64_t firstChunk = static_cast<std::int64_t>(slice.first / kChunk);
        const std::int64_t chunks = chunkCount(slice.base.size());
        const std::uint64_t end = slice.first + slice.base.size();
#pragma omp parallel num_threads(m_team) if (chunks > 1)
        {
            Scratch &scratch = m_scratch[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(dynamic, 1)
            for (std::int64_t c = firstChunk; c < firstChunk + chunks; ++c) {
                const auto [lo, n] = chunkRange(c, end);
                const float *base = slice.base.data() + (lo - slice.first);
                for (int q = 0; q < nUsed; ++q) {
                    const std::uint32_t bin = at[std::size_t(q)].bin;
                    const float *x =
                        slice.fineTunes[static_cast<std::size_t>(m_used[std::size_t(q)])].data() +
                        (lo - slice.first);
                    auto &list = scratch.candidates[std::size_t(q)];
                    for (std::uint64_t i = 0; i < n; ++i) {
                        const double d = static_cast<double>(x[i]) - static_cast<double>(base[i]);
                        if (d != 0.0 &&
                            AbsHistogram::binOf(static_cast<float>(std::fabs(d))) == bin)
                            list.push_back(TopKCandidate{magnitudeKey(d), lo + i});
                    }
                }
            }
        }
    };
    BASIN_TRY(forEachSlice(read, m_numel, m_options.sliceElements, collectSlice));
    return electSweep(read, resolveCuts(k, at));
}

Result<TensorKernel::TrimCounts> TensorKernel::electSweep(const RangeReader &read,
                                                          const std::vector<TopKCut> &cuts)
{
    const int nUsed = static_cast<int>(m_used.size());
    const double zeroThreshold = m_options.zeroThreshold;
    std::vector<TrimCounts> perThread = zeroCountsPerThread();
    const auto electSlice = [&](const TensorData &slice) {
        const std::int64_t firstChunk = static_cast<std::int64_t>(slice.first / kChunk);
        const std::int64_t chunks = chunkCount(slice.base.size());
        const std::uint64_t end = slice.first + slice.base.size();
#pragma omp parallel num_threads(m_team) if (chunks > 1)
        {
            const int thread = omp_get_thread_num();
            Scratch &scratch = m_scratch[static_cast<std::size_t>(thread)];
            TrimCounts &counts = perThread[static_cast<std::size_t>(thread)];
            Election e(nUsed);
            const std::uint8_t *none = scratch.deferred.data();
            std::fill(scratch.deferred.begin(), scratch.deferred.end(), std::uint8_t{0});
#pragma omp for schedule(dynamic, 1)
            for (std::int64_t c = firstChunk; c < firstChunk + chunks; ++c) {
                const auto [lo, n] = chunkRange(c, end);
                const float *base = slice.base.data() + (lo - slice.first);
                for (int q = 0; q < nUsed; ++q) {
                    const float *x =
                        slice.fineTunes[static_cast<std::size_t>(m_used[std::size_t(q)])].data() +
                        (lo - slice.first);
                    double *tq = scratch.tau.data() + static_cast<std::size_t>(q) * kChunk;
                    std::int8_t *sq = scratch.sign.data() + static_cast<std::size_t>(q) * kChunk;
                    deltasAndSigns(base, x, n, zeroThreshold, tq, sq);
                    keepFlags(tq, n, lo, cuts[std::size_t(q)],
                              scratch.keep.data() + static_cast<std::size_t>(q) * kChunk);
                }
                const ElectionInput arrays{nUsed,
                                           n,
                                           scratch.tau.data(),
                                           scratch.sign.data(),
                                           scratch.total.data(),
                                           scratch.elected.data(),
                                           scratch.any.data(),
                                           scratch.conflict.data()};
                elect<true>(arrays, scratch.keep.data(), none, e);
                for (int q = 0; q < nUsed; ++q) {
                    counts.kept[std::size_t(q)] += e.nonzero[std::size_t(q)];
                    counts.dropped[std::size_t(q)] += e.against[std::size_t(q)];
                }
                counts.any += e.any;
                counts.conflict += e.conflict;
            }
        }
    };
    BASIN_TRY(forEachSlice(read, m_numel, m_options.sliceElements, electSlice));
    return sumOf(perThread);
}

TensorSample TensorKernel::sampleOf(const TensorData &data) const
{
    assert(data.first == 0 && data.base.size() == data.tensorSize());
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
