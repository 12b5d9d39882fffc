// SPDX-License-Identifier: GPL-3.0-or-later
// The per-tensor kernel against a plain whole-tensor reference written independently in
// this file: exact counts, f64 sums, top-k trimming with ties, merging, thread counts.
#include "analysis/metrics.h"
#include "analysis/tensorkernel.h"
#include "analysis/topk.h"

#include <QtTest>

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>
#include <random>

using namespace basin::analysis;

namespace {

float toBf16(float value)
{
    // Round to nearest even at 16 bits, as a bf16 checkpoint stores it.
    auto bits = std::bit_cast<std::uint32_t>(value);
    bits += 0x7FFFu + ((bits >> 16) & 1u);
    return std::bit_cast<float>(bits & 0xFFFF0000u);
}

// A synthetic family: base ~ N(0, 0.02); fine-tune t adds a shared direction with
// coefficient c_t, its own noise, exact zeros on a share of coordinates and (optionally)
// values quantised to a coarse grid so that many |τ| are equal (top-k ties).
struct Family {
    std::vector<float> base;
    std::vector<std::vector<float>> fts;
};

Family makeFamily(std::size_t n, int T, unsigned seed, bool quantised, bool bf16,
                  double zeroShare = 0.1)
{
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    Family f;
    // Quantised families put base and deltas on a 2^-12 grid, so τ is exact and many |τ|
    // are equal.
    const double grid = std::ldexp(1.0, -12);
    f.base.resize(n);
    for (auto &b : f.base) {
        b = static_cast<float>(0.02 * normal(rng));
        if (quantised)
            b = static_cast<float>(std::round(b / grid) * grid);
    }
    std::vector<double> shared(n);
    for (auto &s : shared)
        s = normal(rng);
    const double coeff[] = {1.0, -0.6, 0.8, 0.3, -1.0};
    for (int t = 0; t < T; ++t) {
        std::vector<float> x(n);
        for (std::size_t i = 0; i < n; ++i) {
            double d = 1e-3 * (coeff[t % 5] * shared[i] + 0.7 * normal(rng));
            if (uniform(rng) < zeroShare)
                d = 0.0;
            if (quantised)
                d = std::round(d / grid) * grid;
            float value = static_cast<float>(f.base[i] + d);
            if (bf16)
                value = toBf16(value);
            x[i] = value;
        }
        f.fts.push_back(std::move(x));
    }
    if (bf16) {
        for (auto &b : f.base)
            b = toBf16(b);
    }
    return f;
}

TensorData view(const Family &f, std::string_view name, std::vector<bool> present = {},
                bool bf16 = false)
{
    TensorData data;
    data.name = name;
    data.base = f.base;
    for (const auto &x : f.fts)
        data.fineTunes.emplace_back(x);
    data.present = present.empty() ? std::vector<bool>(f.fts.size(), true) : present;
    data.bf16.assign(f.fts.size(), bf16);
    return data;
}

// ---- The reference: one straightforward loop per statistic over the whole tensor. ------

int sgn(double tau)
{
    if (std::fabs(tau) < 1e-8)
        return 0;
    return tau > 0 ? 1 : -1;
}

double tauAt(const Family &f, int t, std::size_t i)
{
    return static_cast<double>(f.fts[std::size_t(t)][i]) - static_cast<double>(f.base[i]);
}

// Keep-masks of "the k largest |τ|, lower index first among equals", by full sort.
std::vector<std::vector<char>> referenceKeep(const Family &f, double density)
{
    const std::size_t n = f.base.size();
    const auto k = static_cast<std::size_t>(std::floor(density * double(n)));
    std::vector<std::vector<char>> keep;
    for (int t = 0; t < int(f.fts.size()); ++t) {
        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return std::fabs(tauAt(f, t, a)) > std::fabs(tauAt(f, t, b));
        });
        std::vector<char> mask(n, 0);
        for (std::size_t r = 0; r < std::min(k, n); ++r)
            mask[order[r]] = 1;
        keep.push_back(std::move(mask));
    }
    return keep;
}

bool close(double a, double b, double rel = 1e-12, double floor = 1e-300)
{
    return std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b)) + floor;
}

#define CHECK_CLOSE(actual, expected)                                                              \
    QVERIFY2(close((actual), (expected)), qPrintable(QStringLiteral("%1 = %2, expected %3")        \
                                                         .arg(QLatin1String(#actual))              \
                                                         .arg(double(actual), 0, 'g', 17)          \
                                                         .arg(double(expected), 0, 'g', 17)))

// Families that steer the kernel into one way of settling trimmed TIES (see
// matchesReference_data()).
void applyTweak(Family &f, const QString &tweak, const AnalysisOptions &options)
{
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    if (tweak == QLatin1String("many keys")) {
        // |τ| spread evenly over one binade (distinct values, ~1 % per bf16 bin), except
        // that 15 % of the coordinates sit exactly at its middle, where the median cut falls.
        for (auto &x : f.fts) {
            for (std::size_t i = 0; i < f.base.size(); ++i) {
                const double u = uniform(rng) < 0.15 ? 0.5 : uniform(rng);
                const double magnitude = 1e-3 * std::exp2(u);
                f.base[i] = 0.0f;
                x[i] = static_cast<float>(uniform(rng) < 0.5 ? magnitude : -magnitude);
            }
        }
    }
    if (tweak == QLatin1String("few magnitudes")) {
        // |τ| ∈ {1, 2, 3} · 2^-10 (a third each) or 0, random signs: any cut lies on a value
        // a third of the elements share. The base sits on a 2^-12 grid, so τ is exact.
        for (float &b : f.base)
            b = std::round(b * 4096.0f) / 4096.0f;
        for (auto &x : f.fts) {
            for (std::size_t i = 0; i < f.base.size(); ++i) {
                const double magnitude =
                    uniform(rng) < 0.1 ? 0.0 : std::ldexp(double(1 + i % 3), -10);
                x[i] = f.base[i] + static_cast<float>(uniform(rng) < 0.5 ? magnitude : -magnitude);
            }
        }
    }
    if (tweak == QLatin1String("skewed")) {
        // Deltas 1000× smaller exactly where the sample looks.
        for (const std::uint64_t i :
             sampleIndices(options.sampleSeed, "w", f.base.size(), options.sampleSize)) {
            for (auto &x : f.fts)
                x[i] = f.base[i] + (x[i] - f.base[i]) * 1e-3f;
        }
    }
}

std::uint64_t bitsOf(double value)
{
    return std::bit_cast<std::uint64_t>(value);
}

// Every field of two blocks equal, f64 sums to the bit.
void compareBlocks(const StatsBlock &a, const StatsBlock &b)
{
    QCOMPARE(a.models.size(), b.models.size());
    for (std::size_t t = 0; t < a.models.size(); ++t) {
        const ModelAccum &x = a.models[t];
        const ModelAccum &y = b.models[t];
        QCOMPARE(x.count, y.count);
        QCOMPARE(bitsOf(x.sum), bitsOf(y.sum));
        QCOMPARE(bitsOf(x.sumSq), bitsOf(y.sumSq));
        QCOMPARE(bitsOf(x.m2), bitsOf(y.m2));
        QCOMPARE(bitsOf(x.sumAbs), bitsOf(y.sumAbs));
        QCOMPARE(bitsOf(x.maxAbs), bitsOf(y.maxAbs));
        QCOMPARE(bitsOf(x.baseSumSq), bitsOf(y.baseSumSq));
        QCOMPARE(bitsOf(x.baseDot), bitsOf(y.baseDot));
        QCOMPARE(x.zeros, y.zeros);
        QCOMPARE(x.tiesDropped, y.tiesDropped);
        QCOMPARE(bitsOf(x.tiesDroppedAbs), bitsOf(y.tiesDroppedAbs));
        QCOMPARE(x.trimKept, y.trimKept);
        QCOMPARE(x.trimDropped, y.trimDropped);
        QCOMPARE(x.nanCount, y.nanCount);
        QCOMPARE(x.infCount, y.infCount);
        QVERIFY(x.absHist == y.absHist);
        QCOMPARE(x.ulpValid, y.ulpValid);
        QVERIFY(x.ulp == y.ulp);
    }
    QCOMPARE(a.pairs.size(), b.pairs.size());
    for (std::size_t p = 0; p < a.pairs.size(); ++p) {
        QCOMPARE(bitsOf(a.pairs[p].dot), bitsOf(b.pairs[p].dot));
        QCOMPARE(a.pairs[p].bothNonzero, b.pairs[p].bothNonzero);
        QCOMPARE(a.pairs[p].signConflicts, b.pairs[p].signConflicts);
        QCOMPARE(a.pairs[p].unionNonzero, b.pairs[p].unionNonzero);
    }
    QCOMPARE(a.set.numel, b.set.numel);
    QCOMPARE(bitsOf(a.set.baseSumSq), bitsOf(b.set.baseSumSq));
    QCOMPARE(a.set.anyNonzero, b.set.anyNonzero);
    QCOMPARE(a.set.tiesConflict, b.set.tiesConflict);
    QCOMPARE(a.set.trimAnyKept, b.set.trimAnyKept);
    QCOMPARE(a.set.trimConflict, b.set.trimConflict);
}

} // namespace

class TestTensorKernel : public QObject {
    Q_OBJECT

private slots:
    // Every row runs three ways: without a sample (trimmed TIES by a second sweep), with a
    // sample holding the whole tensor (exact TrimBand) and with an 8192-coordinate sample (an
    // estimated band: sparse, or crowded for bf16-like data). Tweaked rows break the band on
    // purpose, so the kernel must notice and fall back: "skewed sample" makes the sampled
    // coordinates' deltas tiny (the band misses the cut); "crowded band, many keys" puts 15 %
    // of the deltas on one value and the rest of its bin on distinct values (a crowded band
    // whose key census overflows).
    void matchesReference_data()
    {
        QTest::addColumn<int>("numel");
        QTest::addColumn<int>("fineTunes");
        QTest::addColumn<bool>("quantised");
        QTest::addColumn<bool>("bf16");
        QTest::addColumn<double>("density");
        QTest::addColumn<double>("zeroShare");
        QTest::addColumn<int>("sampleSize");
        QTest::addColumn<QString>("tweak");
        struct Row {
            const char *name;
            int numel;
            int fineTunes;
            bool quantised;
            bool bf16;
            double density;
            double zeroShare;
        };
        const Row rows[] = {
            {"small, one chunk", 1000, 3, false, false, 0.2, 0.1},
            {"several chunks, uneven tail", 50000, 3, false, false, 0.29, 0.1},
            {"ties at the top-k cut", 40000, 3, true, false, 0.2, 0.1},
            {"two models, density 0.5", 20000, 2, true, false, 0.5, 0.1},
            {"five models", 17000, 5, false, false, 0.1, 0.1},
            {"density 1 keeps all", 5000, 3, false, false, 1.0, 0.1},
            {"density below 1/n keeps none", 5000, 3, false, false, 1e-5, 0.1},
            {"cut among exact zeros (bf16-like)", 40000, 3, true, false, 0.2, 0.9},
            {"all deltas zero", 20000, 2, false, false, 0.3, 1.0},
            {"bf16 values, density 0.2", 60000, 3, false, true, 0.2, 0.1},
            {"bf16 values, density 0.5", 60000, 3, false, true, 0.5, 0.05},
        };
        const std::pair<const char *, int> samples[] = {
            {"no sample", 0}, {"whole sample", 65536}, {"sample 8192", 8192}};
        for (const Row &r : rows) {
            for (const auto &[label, size] : samples) {
                QTest::newRow(qPrintable(
                    QStringLiteral("%1, %2").arg(QLatin1String(r.name), QLatin1String(label))))
                    << r.numel << r.fineTunes << r.quantised << r.bf16 << r.density << r.zeroShare
                    << size << QString();
            }
        }
        QTest::newRow("skewed sample, density 0.2")
            << 100000 << 3 << false << false << 0.2 << 0.1 << 8192 << QStringLiteral("skewed");
        QTest::newRow("skewed sample, density 0.5")
            << 100000 << 2 << false << false << 0.5 << 0.3 << 8192 << QStringLiteral("skewed");
        QTest::newRow("dense band, whole sample") << 60000 << 3 << false << false << 0.5 << 0.0
                                                  << 65536 << QStringLiteral("few magnitudes");
        QTest::newRow("dense band, sample 8192") << 100000 << 3 << false << false << 0.3 << 0.0
                                                 << 8192 << QStringLiteral("few magnitudes");
        QTest::newRow("crowded band, many keys")
            << 100000 << 3 << false << false << 0.5 << 0.0 << 8192 << QStringLiteral("many keys");
    }

    void matchesReference()
    {
        QFETCH(int, numel);
        QFETCH(int, fineTunes);
        QFETCH(bool, quantised);
        QFETCH(bool, bf16);
        QFETCH(double, density);
        QFETCH(double, zeroShare);
        QFETCH(int, sampleSize);
        QFETCH(QString, tweak);
        Family f = makeFamily(std::size_t(numel), fineTunes, 7, quantised, bf16, zeroShare);
        AnalysisOptions options;
        options.density = density;
        options.sampleSize = std::uint64_t(sampleSize);
        applyTweak(f, tweak, options);
        TensorKernel kernel(fineTunes, options);
        const TensorResult result = kernel.run(view(f, "w"));
        const StatsBlock &s = result.stats;
        const std::size_t n = f.base.size();

        double w = 0;
        for (std::size_t i = 0; i < n; ++i)
            w += double(f.base[i]) * double(f.base[i]);
        CHECK_CLOSE(s.set.baseSumSq, w);
        QCOMPARE(s.set.numel, std::uint64_t(n));

        // Per model.
        for (int t = 0; t < fineTunes; ++t) {
            double sum = 0, sumSq = 0, sumAbs = 0, maxA = 0, bdot = 0;
            std::uint64_t zeros = 0;
            std::vector<double> abs(n);
            for (std::size_t i = 0; i < n; ++i) {
                const double d = tauAt(f, t, i);
                sum += d;
                sumSq += d * d;
                sumAbs += std::fabs(d);
                maxA = std::max(maxA, std::fabs(d));
                bdot += double(f.base[i]) * d;
                zeros += std::fabs(d) < 1e-8;
                abs[i] = std::fabs(d);
            }
            const double mu = sum / double(n);
            double m2 = 0;
            for (std::size_t i = 0; i < n; ++i)
                m2 += (tauAt(f, t, i) - mu) * (tauAt(f, t, i) - mu);
            const ModelAccum &m = s.models[std::size_t(t)];
            QCOMPARE(m.count, std::uint64_t(n));
            QCOMPARE(m.zeros, zeros);
            CHECK_CLOSE(m.sum, sum);
            CHECK_CLOSE(m.sumSq, sumSq);
            CHECK_CLOSE(m.sumAbs, sumAbs);
            QCOMPARE(m.maxAbs, maxA);
            CHECK_CLOSE(m.baseDot, bdot);
            QVERIFY(close(*stddev(m), std::sqrt(m2 / double(n)), 1e-10));
            QCOMPARE(m.absHist.total(), std::uint64_t(n));
            // Quantiles: the bin of the nearest-rank value.
            std::sort(abs.begin(), abs.end());
            for (const double p : {0.5, 0.9, 0.99}) {
                const auto rank = std::max<std::size_t>(1, std::size_t(std::ceil(p * double(n))));
                const float exact = static_cast<float>(abs[rank - 1]);
                const double expected = AbsHistogram::binLowerEdge(AbsHistogram::binOf(exact));
                QCOMPARE(*quantileAbs(m, p), expected);
                QVERIFY(*quantileAbs(m, p) <= exact);
            }
        }

        // TIES, untrimmed and trimmed, and pairs.
        const auto keep = referenceKeep(f, density);
        std::vector<std::uint64_t> dropped(std::size_t(fineTunes), 0), kept(dropped),
            trimDropped(dropped);
        std::vector<double> droppedAbs(std::size_t(fineTunes), 0);
        std::uint64_t any = 0, conflict = 0, trimAny = 0, trimConflict = 0;
        const int P = pairCount(fineTunes);
        std::vector<double> dot(std::size_t(P), 0);
        std::vector<std::uint64_t> both(std::size_t(P), 0), opposite(both), uni(both),
            disagree(both);
        for (std::size_t i = 0; i < n; ++i) {
            double S = 0, St = 0;
            for (int t = 0; t < fineTunes; ++t) {
                S += tauAt(f, t, i);
                St += keep[std::size_t(t)][i] ? tauAt(f, t, i) : 0.0;
            }
            const int E = S >= 0 ? 1 : -1;
            const int Et = St >= 0 ? 1 : -1;
            bool a = false, c = false, ta = false, tc = false;
            for (int t = 0; t < fineTunes; ++t) {
                const double d = tauAt(f, t, i);
                const int st = sgn(d);
                if (st != 0) {
                    a = true;
                    if (st != E) {
                        c = true;
                        ++dropped[std::size_t(t)];
                        droppedAbs[std::size_t(t)] += std::fabs(d);
                    }
                    if (keep[std::size_t(t)][i]) {
                        ta = true;
                        ++kept[std::size_t(t)];
                        if (st != Et) {
                            tc = true;
                            ++trimDropped[std::size_t(t)];
                        }
                    }
                }
            }
            any += a;
            conflict += c;
            trimAny += ta;
            trimConflict += tc;
            for (int x = 0; x < fineTunes; ++x) {
                for (int y = x + 1; y < fineTunes; ++y) {
                    const auto p = std::size_t(pairIndex(x, y, fineTunes));
                    const double dx = tauAt(f, x, i), dy = tauAt(f, y, i);
                    dot[p] += dx * dy;
                    if (sgn(dx) && sgn(dy)) {
                        ++both[p];
                        opposite[p] += sgn(dx) != sgn(dy);
                    }
                    if (sgn(dx) || sgn(dy)) {
                        ++uni[p];
                        const int e = dx + dy >= 0 ? 1 : -1;
                        disagree[p] += (sgn(dx) && sgn(dx) != e) || (sgn(dy) && sgn(dy) != e);
                    }
                }
            }
        }
        QCOMPARE(s.set.anyNonzero, any);
        QCOMPARE(s.set.tiesConflict, conflict);
        QCOMPARE(s.set.trimAnyKept, trimAny);
        QCOMPARE(s.set.trimConflict, trimConflict);
        for (int t = 0; t < fineTunes; ++t) {
            const ModelAccum &m = s.models[std::size_t(t)];
            QCOMPARE(m.tiesDropped, dropped[std::size_t(t)]);
            CHECK_CLOSE(m.tiesDroppedAbs, droppedAbs[std::size_t(t)]);
            QCOMPARE(m.trimKept, kept[std::size_t(t)]);
            QCOMPARE(m.trimDropped, trimDropped[std::size_t(t)]);
        }
        for (int p = 0; p < P; ++p) {
            const PairAccum &pa = s.pairs[std::size_t(p)];
            CHECK_CLOSE(pa.dot, dot[std::size_t(p)]);
            QCOMPARE(pa.bothNonzero, both[std::size_t(p)]);
            QCOMPARE(pa.signConflicts, opposite[std::size_t(p)]);
            QCOMPARE(pa.unionNonzero, uni[std::size_t(p)]);
            QCOMPARE(pa.tiesDisagree, disagree[std::size_t(p)]);
            QCOMPARE(pa.count, std::uint64_t(n));
        }
    }

    void topKTieRuleKeepsLowerIndices()
    {
        // |τ| = 1 at indices 0..9 and 2 at 10, 11: k = 5 keeps 10, 11 and 0, 1, 2.
        std::vector<TopKCandidate> candidates;
        for (std::uint64_t i = 0; i < 10; ++i)
            candidates.push_back({magnitudeKey(i % 2 ? -1.0 : 1.0), 9 - i});
        const TopKCut cut = resolveTopK(candidates, 3);
        QCOMPARE(cut.key, magnitudeKey(1.0));
        QCOMPARE(cut.index, std::uint64_t(2));
        QVERIFY(cut.keeps(magnitudeKey(2.0), 11));
        QVERIFY(cut.keeps(magnitudeKey(1.0), 2));
        QVERIFY(!cut.keeps(magnitudeKey(1.0), 3));
        QCOMPARE(topKCount(0.29, 100), std::uint64_t(28));
        QCOMPARE(topKCount(1.0, 100), std::uint64_t(100));
        QCOMPARE(topKCount(0.0, 100), std::uint64_t(0));
    }

    void mergeEqualsConcatenation()
    {
        // Statistics of two halves merged equal those of the whole (counts exactly).
        const Family f = makeFamily(60000, 3, 11, true, false);
        Family a, b;
        const std::size_t cut = 23456;
        a.base.assign(f.base.begin(), f.base.begin() + cut);
        b.base.assign(f.base.begin() + cut, f.base.end());
        for (const auto &x : f.fts) {
            a.fts.emplace_back(x.begin(), x.begin() + cut);
            b.fts.emplace_back(x.begin() + cut, x.end());
        }
        AnalysisOptions options;
        options.density = 1.0;
        options.sampleSize = 0;
        TensorKernel kernel(3, options);
        const StatsBlock whole = kernel.run(view(f, "w")).stats;
        StatsBlock merged = kernel.run(view(a, "a")).stats;
        merged.merge(kernel.run(view(b, "b")).stats);
        for (int t = 0; t < 3; ++t) {
            const ModelAccum &x = whole.models[std::size_t(t)];
            const ModelAccum &y = merged.models[std::size_t(t)];
            QCOMPARE(y.count, x.count);
            QCOMPARE(y.zeros, x.zeros);
            QCOMPARE(y.tiesDropped, x.tiesDropped);
            QCOMPARE(y.maxAbs, x.maxAbs);
            QVERIFY(y.absHist == x.absHist);
            CHECK_CLOSE(y.sum, x.sum);
            CHECK_CLOSE(y.sumSq, x.sumSq);
            QVERIFY(close(y.m2, x.m2, 1e-11));
            CHECK_CLOSE(y.tiesDroppedAbs, x.tiesDroppedAbs);
        }
        QCOMPARE(merged.set.tiesConflict, whole.set.tiesConflict);
        QCOMPARE(merged.pair(0, 2).signConflicts, whole.pair(0, 2).signConflicts);
        CHECK_CLOSE(merged.pair(1, 2).dot, whole.pair(1, 2).dot);
    }

    void slicedEqualsWhole_data()
    {
        QTest::addColumn<int>("sampleSize");
        QTest::addColumn<bool>("bf16");
        QTest::addColumn<double>("density");
        QTest::addColumn<QString>("tweak");
        QTest::addColumn<bool>("fallback"); // trimmed TIES by two more sweeps
        QTest::newRow("no sample (second sweep over slices)")
            << 0 << false << 0.2 << QString() << true;
        QTest::newRow("sparse band") << 8192 << false << 0.2 << QString() << false;
        QTest::newRow("crowded band (bf16)") << 8192 << true << 0.3 << QString() << false;
        QTest::newRow("dense band")
            << 8192 << false << 0.5 << QStringLiteral("few magnitudes") << false;
        QTest::newRow("skewed sample: band misses")
            << 8192 << false << 0.2 << QStringLiteral("skewed") << true;
    }

    void slicedEqualsWhole()
    {
        // A tensor streamed in slices (as the pass streams large ones) gives the same bits
        // as the whole tensor at once, whichever way trimmed TIES is settled; finish()
        // reads back only through the reader.
        QFETCH(int, sampleSize);
        QFETCH(bool, bf16);
        QFETCH(double, density);
        QFETCH(QString, tweak);
        QFETCH(bool, fallback);
        Family f = makeFamily(100000, 3, 9, false, bf16, 0.1);
        AnalysisOptions options;
        options.density = density;
        options.sampleSize = std::uint64_t(sampleSize);
        options.sliceElements = 2 * TensorKernel::kChunk; // finish() reads in slices too
        applyTweak(f, tweak, options);
        const TensorData whole = view(f, "w", {}, bf16);
        TensorKernel reference(3, options);
        const TensorResult expected = reference.run(whole);

        TensorKernel kernel(3, options);
        kernel.start(whole, kernel.sampleOf(whole));
        const auto range = [&](std::uint64_t first, std::uint64_t count) {
            TensorData slice = whole;
            slice.numel = whole.base.size();
            slice.first = first;
            slice.base = whole.base.subspan(first, count);
            for (auto &x : slice.fineTunes)
                x = x.subspan(first, count);
            return slice;
        };
        // Uneven slices: 3 chunks, 1 chunk, the rest.
        const std::uint64_t chunk = TensorKernel::kChunk;
        kernel.sweep(range(0, 3 * chunk));
        kernel.sweep(range(3 * chunk, chunk));
        kernel.sweep(range(4 * chunk, f.base.size() - 4 * chunk));
        int reads = 0;
        const basin::Result<TensorResult> sliced =
            kernel.finish([&](std::uint64_t first, std::uint64_t count) {
                ++reads;
                return basin::Result<TensorData>(range(first, count));
            });
        QVERIFY(sliced.ok());
        compareBlocks(sliced->stats, expected.stats);
        QCOMPARE(sliced->sample.tau, expected.sample.tau);
        // finish() reads in slices of two chunks: 4 of them here. The fallback reads every
        // slice twice (candidates, then the election); a band reads each slice at most once
        // (deferred coordinates, or a dense band's election) plus one chunk per crowded or
        // dense cut (3 models), so never the whole tensor twice.
        const int slices = 4;
        if (fallback) {
            QCOMPARE(reads, 2 * slices);
        } else {
            QVERIFY2(reads >= 1 && reads <= slices + 3, qPrintable(QString::number(reads)));
        }

        // A read error in finish() is returned, not swallowed.
        kernel.start(whole, kernel.sampleOf(whole));
        kernel.sweep(whole);
        const basin::Result<TensorResult> failed = kernel.finish([](std::uint64_t, std::uint64_t) {
            return basin::Result<TensorData>(
                basin::makeError(basin::ErrorCode::IoError, "disk went away"));
        });
        if (density > 0.0 && density < 1.0) {
            QVERIFY(!failed.ok());
            QCOMPARE(failed.error().code, basin::ErrorCode::IoError);
        }
    }

    void threadCountDoesNotChangeBits()
    {
        const Family f = makeFamily(100000, 3, 5, false, false);
        AnalysisOptions options;
        options.sampleSize = 1000;
        options.threads = 1;
        TensorKernel one(3, options);
        options.threads = 2;
        TensorKernel two(3, options);
        const TensorResult r1 = one.run(view(f, "w"));
        const TensorResult r2 = two.run(view(f, "w"));
        for (int t = 0; t < 3; ++t) {
            const ModelAccum &x = r1.stats.models[std::size_t(t)];
            const ModelAccum &y = r2.stats.models[std::size_t(t)];
            QCOMPARE(std::bit_cast<std::uint64_t>(y.sum), std::bit_cast<std::uint64_t>(x.sum));
            QCOMPARE(std::bit_cast<std::uint64_t>(y.m2), std::bit_cast<std::uint64_t>(x.m2));
            QCOMPARE(std::bit_cast<std::uint64_t>(y.sumSq), std::bit_cast<std::uint64_t>(x.sumSq));
            QCOMPARE(std::bit_cast<std::uint64_t>(y.baseDot),
                     std::bit_cast<std::uint64_t>(x.baseDot));
            QCOMPARE(y.trimDropped, x.trimDropped);
            QVERIFY(y.absHist == x.absHist);
        }
        QCOMPARE(std::bit_cast<std::uint64_t>(r2.stats.pair(0, 1).dot),
                 std::bit_cast<std::uint64_t>(r1.stats.pair(0, 1).dot));
        QCOMPARE(r2.sample.indices, r1.sample.indices);
        QCOMPARE(r2.sample.tau, r1.sample.tau);
    }

    void absentModelIsLeftOut()
    {
        // Model 1 absent: its accumulators stay empty and the others match a 2-model run.
        const Family f = makeFamily(30000, 3, 3, false, false);
        Family two;
        two.base = f.base;
        two.fts = {f.fts[0], f.fts[2]};
        AnalysisOptions options;
        options.sampleSize = 0;
        TensorKernel k3(3, options);
        TensorKernel k2(2, options);
        const StatsBlock s3 = k3.run(view(f, "w", {true, false, true})).stats;
        const StatsBlock s2 = k2.run(view(two, "w")).stats;
        QCOMPARE(s3.models[1].count, std::uint64_t(0));
        QCOMPARE(s3.pair(0, 1).count, std::uint64_t(0));
        QVERIFY(!cosine(s3, 0, 1).has_value());
        QCOMPARE(s3.models[2].tiesDropped, s2.models[1].tiesDropped);
        QCOMPARE(s3.models[2].trimDropped, s2.models[1].trimDropped);
        QCOMPARE(s3.set.tiesConflict, s2.set.tiesConflict);
        QCOMPARE(s3.pair(0, 2).dot, s2.pair(0, 1).dot);
    }

    void bf16UlpSteps()
    {
        QCOMPARE(UlpHistogram::steps(0x3F80, 0x3F81), 1u);
        QCOMPARE(UlpHistogram::steps(0x3F80, 0x3F7F), 1u); // across a binade: one step down
        QCOMPARE(UlpHistogram::steps(0x0001, 0x8001), 2u); // through zero
        QCOMPARE(UlpHistogram::steps(0x0000, 0x8000), 0u); // +0 and −0
        QCOMPARE(UlpHistogram::binOf(4), 4);
        QCOMPARE(UlpHistogram::binOf(7), 4);
        QCOMPARE(UlpHistogram::binOf(8), 5);
        QCOMPARE(UlpHistogram::binOf(127), 8);
        QCOMPARE(UlpHistogram::binOf(128), 9);

        // In a bf16 family every τ is a whole number of bf16 steps; count them directly.
        const Family f = makeFamily(20000, 2, 9, false, true);
        AnalysisOptions options;
        options.sampleSize = 0;
        TensorKernel kernel(2, options);
        const StatsBlock s = kernel.run(view(f, "w", {}, true)).stats;
        for (int t = 0; t < 2; ++t) {
            UlpHistogram expected;
            for (std::size_t i = 0; i < f.base.size(); ++i) {
                const auto pb = std::uint16_t(std::bit_cast<std::uint32_t>(f.base[i]) >> 16);
                const auto px =
                    std::uint16_t(std::bit_cast<std::uint32_t>(f.fts[std::size_t(t)][i]) >> 16);
                expected.add(UlpHistogram::steps(pb, px));
            }
            const ModelAccum &m = s.models[std::size_t(t)];
            QVERIFY(m.ulpValid);
            QVERIFY(m.ulp == expected);
            QVERIFY(m.ulp.counts[1] > 0);
            QCOMPARE(m.ulp.counts[0], m.zeros); // bf16: unchanged ⇔ τ = 0
        }
    }

    void histogramMergesAndQuantiles()
    {
        AbsHistogram a, b;
        const std::uint64_t ca[] = {0, 2, 3, 0};
        const std::uint64_t cb[] = {5, 0, 1};
        a.addRange(100, ca);
        b.addRange(90, cb);
        a.merge(b);
        QCOMPARE(a.total(), std::uint64_t(11));
        QCOMPARE(a.firstBin(), 90u);
        QCOMPARE(a.count(90), std::uint64_t(5));
        QCOMPARE(a.count(92), std::uint64_t(1));
        QCOMPARE(a.count(101), std::uint64_t(2));
        QCOMPARE(a.count(102), std::uint64_t(3));
        QCOMPARE(a.count(103), std::uint64_t(0));
        QCOMPARE(*a.quantile(0.5), double(AbsHistogram::binLowerEdge(92))); // rank 6
        QCOMPARE(*a.quantile(1.0), double(AbsHistogram::binLowerEdge(102)));
        QCOMPARE(a.cutForLargest(3).bin, 102u);
        QCOMPARE(a.cutForLargest(3).above, std::uint64_t(0));
        QCOMPARE(a.cutForLargest(5).bin, 101u);
        QCOMPARE(a.cutForLargest(5).above, std::uint64_t(3));
        QCOMPARE(a.cutForLargest(6).bin, 92u);
        QCOMPARE(a.cutForLargest(6).above, std::uint64_t(5));
        QVERIFY(!AbsHistogram().quantile(0.5).has_value());
        QVERIFY(AbsHistogram::binOf(1.0f) > AbsHistogram::binOf(0.999f));
        QCOMPARE(AbsHistogram::binLowerEdge(AbsHistogram::binOf(0.75f)), 0.75f);
    }
};

QTEST_GUILESS_MAIN(TestTensorKernel)
#include "tst_tensorkernel.moc"
