// SPDX-License-Identifier: GPL-3.0-or-later
// Rank selection over magnitudes (merge/rankselect.h): the small-n path, the radix path and
// RankFinder's windowed path must return the same (bits, below, equal) and the same tie
// resolution by flat index, whatever the data (many bf16 ties, all equal, zeros, −0) and the
// thread count; RankFinder's candidate scratch stays within its budget.
#include "merge/rankselect.h"
#include "merge/sparsify.h"

#include <QTest>

#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <optional>
#include <random>

using namespace basin;
using namespace basin::merge;

namespace {

// f32 rounded to bf16 (nearest even) and back: bf16-valued data, as a bf16 checkpoint holds.
float bf16(float x)
{
    const std::uint32_t u = std::bit_cast<std::uint32_t>(x);
    const std::uint32_t rounded = u + 0x7fffu + ((u >> 16) & 1u);
    return std::bit_cast<float>(rounded & 0xffff0000u);
}

// A task vector as a bf16 fine-tune produces it: δ = bf16(B + ε) − B with B bf16-valued, so
// δ is a few ulps of B and magnitudes repeat massively (and ~half of them are 0).
std::vector<float> bf16Deltas(std::uint64_t n, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> weight(0.0f, 0.02f), noise(0.0f, 1.5e-4f);
    std::vector<float> delta(n);
    for (float &d : delta) {
        const float b = bf16(weight(rng));
        d = bf16(b + noise(rng)) - b;
    }
    return delta;
}

std::vector<float> continuousDeltas(std::uint64_t n, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> noise(0.0f, 1e-3f);
    std::vector<float> delta(n);
    for (float &d : delta)
        d = noise(rng);
    return delta;
}

struct Bits {
    const float *d;
    std::uint32_t operator()(std::uint64_t i) const { return magnitudeBits(d[i]); }
};

// The reference: sort every magnitude.
RankValue bruteForce(const std::vector<float> &delta, std::uint64_t rank)
{
    std::vector<std::uint32_t> bits(delta.size());
    for (std::size_t i = 0; i < bits.size(); ++i)
        bits[i] = magnitudeBits(delta[i]);
    std::sort(bits.begin(), bits.end());
    RankValue v;
    v.bits = bits[rank];
    v.below = static_cast<std::uint64_t>(std::lower_bound(bits.begin(), bits.end(), v.bits) -
                                         bits.begin());
    v.equal = static_cast<std::uint64_t>(std::upper_bound(bits.begin(), bits.end(), v.bits) -
                                         bits.begin()) -
              v.below;
    return v;
}

QString describe(const RankValue &v)
{
    return QStringLiteral("(bits %1, below %2, equal %3)").arg(v.bits).arg(v.below).arg(v.equal);
}

bool same(const RankValue &a, const RankValue &b)
{
    return a.bits == b.bits && a.below == b.below && a.equal == b.equal;
}

// The data sets of the path comparisons, by name.
std::vector<float> makeData(const QString &kind, std::uint64_t n)
{
    if (kind == QLatin1String("bf16"))
        return bf16Deltas(n, 11);
    if (kind == QLatin1String("continuous"))
        return continuousDeltas(n, 12);
    if (kind == QLatin1String("equal"))
        return std::vector<float>(n, -0.25f);
    if (kind == QLatin1String("zeros")) {
        // +0 and −0 mixed: both have magnitude bits 0.
        std::vector<float> d(n);
        for (std::uint64_t i = 0; i < n; ++i)
            d[i] = i % 3 == 0 ? -0.0f : 0.0f;
        return d;
    }
    // "mostly zero": a few non-zero magnitudes among zeros and negative zeros.
    std::vector<float> d = bf16Deltas(n, 13);
    for (std::uint64_t i = 0; i < n; ++i) {
        if (i % 7 != 0)
            d[i] = i % 2 == 0 ? 0.0f : -0.0f;
    }
    return d;
}

// Ranks to probe: both ends, quantiles a ties density puts the cut at, and a pair as
// breadcrumbs asks for (two windows).
std::vector<std::vector<std::uint64_t>> probeRanks(std::uint64_t n)
{
    std::vector<std::vector<std::uint64_t>> sets;
    for (const double q : {0.0, 0.1, 0.5, 0.7, 0.9, 0.999})
        sets.push_back({std::min(n - 1, static_cast<std::uint64_t>(q * static_cast<double>(n)))});
    sets.push_back({n - 1});
    sets.push_back({n / 3, n - 1 - n / 100});
    sets.push_back({0, n / 4, n / 2, n - 1}); // more ranks than RankFinder has windows
    return sets;
}

// Flat indices kept by a magnitude rule (k largest |δ|, the lower index first at the cut).
std::vector<std::uint64_t> keptBy(const KeepRule &rule, const std::vector<float> &delta)
{
    std::vector<std::uint64_t> kept;
    for (std::uint64_t i = 0; i < delta.size(); ++i) {
        if (rule.kind == KeepRule::Kind::All ||
            (rule.kind == KeepRule::Kind::Magnitude && rule.cut.keeps(magnitudeBits(delta[i]), i)))
            kept.push_back(i);
    }
    return kept;
}

std::vector<std::uint64_t> keptByReference(const std::vector<float> &delta, std::uint64_t k)
{
    std::vector<std::uint64_t> order(delta.size());
    for (std::uint64_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::uint64_t a, std::uint64_t b) {
        return magnitudeBits(delta[a]) > magnitudeBits(delta[b]);
    });
    order.resize(k);
    std::sort(order.begin(), order.end());
    return order;
}

} // namespace

class TestRankSelect : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { m_threads = omp_get_max_threads(); }
    void cleanup() { omp_set_num_threads(m_threads); }
    void smallPathMatchesRadix_data();
    void smallPathMatchesRadix();
    void magnitudeRuleKeepsTopK_data();
    void magnitudeRuleKeepsTopK();
    void finderScratchIsBounded_data();
    void finderScratchIsBounded();
    void guessedMatchesReference_data();
    void guessedMatchesReference();
    void countGuessesMatchesReference_data();
    void countGuessesMatchesReference();
    void radixSkipsPureBins_data();
    void radixSkipsPureBins();

private:
    int m_threads = 1;
};

void TestRankSelect::smallPathMatchesRadix_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<qulonglong>("n");
    QTest::newRow("bf16 ties 65536") << "bf16" << qulonglong(65536);
    QTest::newRow("bf16 ties 131071") << "bf16" << qulonglong(131071);
    QTest::newRow("bf16 ties 1000") << "bf16" << qulonglong(1000);
    QTest::newRow("continuous 65536") << "continuous" << qulonglong(65536);
    QTest::newRow("continuous 7") << "continuous" << qulonglong(7);
    QTest::newRow("all equal") << "equal" << qulonglong(4099);
    QTest::newRow("zeros and -0") << "zeros" << qulonglong(5000);
    QTest::newRow("mostly zero") << "sparse" << qulonglong(30000);
    QTest::newRow("one element") << "continuous" << qulonglong(1);
}

void TestRankSelect::smallPathMatchesRadix()
{
    QFETCH(QString, kind);
    QFETCH(qulonglong, n);
    const std::vector<float> delta = makeData(kind, n);
    const Bits bits{delta.data()};
    for (const auto &ranks : probeRanks(n)) {
        const auto small = rankselect_detail::smallValuesAtRanks(n, bits, ranks);
        const auto radix = rankselect_detail::radixValuesAtRanks(n, bits, ranks);
        const auto chosen = valuesAtRanks(n, bits, ranks);
        QCOMPARE(small.size(), ranks.size());
        for (std::size_t r = 0; r < ranks.size(); ++r) {
            const RankValue want = bruteForce(delta, ranks[r]);
            QVERIFY2(same(small[r], want),
                     qPrintable(QStringLiteral("rank %1: small %2, want %3")
                                    .arg(ranks[r])
                                    .arg(describe(small[r]), describe(want))));
            QVERIFY2(same(radix[r], want),
                     qPrintable(QStringLiteral("rank %1: radix %2, want %3")
                                    .arg(ranks[r])
                                    .arg(describe(radix[r]), describe(want))));
            QVERIFY(same(chosen[r], want));
            // Ties at the cut resolve by flat index the same way on both paths.
            const std::uint64_t j = want.equal / 2;
            const std::uint64_t index = indexOfNthEqual(n, bits, want.bits, j);
            QVERIFY(index < n);
            QCOMPARE(magnitudeBits(delta[index]), want.bits);
            std::uint64_t before = 0;
            for (std::uint64_t i = 0; i < index; ++i)
                before += magnitudeBits(delta[i]) == want.bits ? 1 : 0;
            QCOMPARE(before, j);
        }
    }
}

void TestRankSelect::magnitudeRuleKeepsTopK_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<qulonglong>("n");
    QTest::addColumn<double>("density");
    // Below 2^17 the small path runs; 2^17 … 2^18 the radix path; above, RankFinder's window.
    QTest::newRow("small bf16 d=0.3") << "bf16" << qulonglong(50000) << 0.3;
    QTest::newRow("small bf16 k=n-1") << "bf16" << qulonglong(50000) << 0.99999;
    QTest::newRow("small bf16 k=1") << "bf16" << qulonglong(50000) << 0.00003;
    QTest::newRow("small equal d=0.5") << "equal" << qulonglong(999) << 0.5;
    QTest::newRow("small zeros d=0.5") << "zeros" << qulonglong(1001) << 0.5;
    QTest::newRow("radix bf16 d=0.3") << "bf16" << qulonglong(200000) << 0.3;
    QTest::newRow("window continuous d=0.3") << "continuous" << qulonglong(600000) << 0.3;
    QTest::newRow("window bf16 d=0.7") << "bf16" << qulonglong(600000) << 0.7;
    QTest::newRow("window sparse d=0.1") << "sparse" << qulonglong(600000) << 0.1;
}

void TestRankSelect::magnitudeRuleKeepsTopK()
{
    QFETCH(QString, kind);
    QFETCH(qulonglong, n);
    QFETCH(double, density);
    const std::vector<float> delta = makeData(kind, n);
    const std::vector<float> base(n, 0.0f);
    const std::vector<std::uint64_t> shape{n};
    TensorJob job;
    job.tensorName = "t";
    job.shape = shape;
    job.numel = n;
    job.base = base.data();
    ModelInput model;
    model.data = delta.data();
    model.label = "ft1";
    const SparsifyInput in{"ties", job, model, density, false};
    const auto k = static_cast<std::uint64_t>(std::floor(density * static_cast<double>(n)));
    const std::vector<std::uint64_t> want = keptByReference(delta, k);
    for (const int threads : {1, 2}) {
        omp_set_num_threads(threads);
        auto rule = magnitudeRule(in);
        QVERIFY2(rule.ok(), rule ? "" : rule.error().message.c_str());
        const std::vector<std::uint64_t> kept = keptBy(*rule, delta);
        QCOMPARE(kept.size(), std::size_t(k));
        QVERIFY(kept == want);
    }
    // k = 0 is an error, not an empty rule.
    const SparsifyInput none{"ties", job, model, 0.5 / static_cast<double>(n), false};
    const auto empty = magnitudeRule(none);
    QVERIFY(!empty.ok());
    QCOMPARE(empty.error().code, ErrorCode::OutOfRange);
}

void TestRankSelect::finderScratchIsBounded_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<qulonglong>("n");
    QTest::addColumn<bool>("windowed"); // the window path answers (continuous data)
    QTest::newRow("bf16 4Mi") << "bf16" << (qulonglong(1) << 22) << false;
    QTest::newRow("continuous 4Mi") << "continuous" << (qulonglong(1) << 22) << true;
}

void TestRankSelect::finderScratchIsBounded()
{
    QFETCH(QString, kind);
    QFETCH(qulonglong, n);
    QFETCH(bool, windowed);
    const std::vector<float> delta = makeData(kind, n);
    const Bits bits{delta.data()};
    const std::uint64_t budgetBytes = RankFinder<Bits>::candidateBudget(n) * 8;
    for (const auto &ranks : probeRanks(n)) {
        if (ranks.size() > 2)
            continue;
        const auto want = rankselect_detail::radixValuesAtRanks(n, bits, ranks);
        for (const int threads : {1, 2}) {
            omp_set_num_threads(threads);
            RankFinder finder(n, bits);
            const auto got = finder.at(ranks);
            for (std::size_t r = 0; r < ranks.size(); ++r) {
                QVERIFY2(same(got[r], want[r]),
                         qPrintable(QStringLiteral("rank %1, %2 threads: %3, want %4")
                                        .arg(ranks[r])
                                        .arg(threads)
                                        .arg(describe(got[r]), describe(want[r]))));
                for (const std::uint64_t j : {std::uint64_t{0}, want[r].equal - 1}) {
                    QCOMPARE(finder.nthEqualIndex(want[r].bits, j),
                             indexOfNthEqual(n, bits, want[r].bits, j));
                }
            }
            // Lists within the budget, plus the per-thread chunk buffers (a quarter chunk of
            // 8-byte candidates per window) and the copy the selection sorts (4 bytes each).
            const std::uint64_t buffers = std::uint64_t(threads) * ranks.size() * (65536 / 4) * 8;
            QVERIFY2(finder.peakScratchBytes() <= budgetBytes + budgetBytes / 2 + buffers,
                     qPrintable(QStringLiteral("scratch %1 bytes, budget %2")
                                    .arg(finder.peakScratchBytes())
                                    .arg(budgetBytes)));
            if (windowed && ranks.front() > 0 && ranks.back() < n - 1)
                QVERIFY(finder.peakScratchBytes() > 0);
        }
    }
}

namespace {

// The flat index of the j-th element with these bits, by a plain scan; n when fewer.
std::uint64_t scanNthEqual(const std::vector<float> &delta, std::uint32_t bits, std::uint64_t j)
{
    std::uint64_t seen = 0;
    for (std::uint64_t i = 0; i < delta.size(); ++i) {
        if (magnitudeBits(delta[i]) == bits && seen++ == j)
            return i;
    }
    return delta.size();
}

// A rank picked from the sorted magnitudes: "first", "last" or "inside" the run of equal
// values at quantile q, "after" it (the first of the next value), or a fixed rank ("top":
// n − 1, i.e. k = 1; "second": 1, i.e. k = n − 1; "lowest": 0).
std::uint64_t pickRank(const std::vector<float> &delta, const QString &where, double q)
{
    const auto n = static_cast<std::uint64_t>(delta.size());
    if (where == QLatin1String("top"))
        return n - 1;
    if (where == QLatin1String("second"))
        return 1;
    if (where == QLatin1String("lowest"))
        return 0;
    std::vector<std::uint32_t> bits(n);
    for (std::uint64_t i = 0; i < n; ++i)
        bits[i] = magnitudeBits(delta[i]);
    std::sort(bits.begin(), bits.end());
    const std::uint32_t value = bits[static_cast<std::size_t>(q * static_cast<double>(n))];
    const auto first = static_cast<std::uint64_t>(
        std::lower_bound(bits.begin(), bits.end(), value) - bits.begin());
    const auto end = static_cast<std::uint64_t>(std::upper_bound(bits.begin(), bits.end(), value) -
                                                bits.begin());
    if (where == QLatin1String("first"))
        return first;
    if (where == QLatin1String("last"))
        return end - 1;
    if (where == QLatin1String("after"))
        return std::min(end, n - 1);
    return first + (end - first) / 2;
}

} // namespace

void TestRankSelect::guessedMatchesReference_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<qulonglong>("n");
    QTest::addColumn<QString>("where");
    QTest::addColumn<double>("q");
    QTest::addColumn<bool>("guessed"); // the guessed values must answer (not the radix path)
    // n >= 2^18 (and not a multiple of the 2^16 chunk): the windows are tried, the sample
    // shows the crowd, and the guesses run, on both thread counts.
    const qulonglong n = (qulonglong(1) << 18) + 12345;
    QTest::newRow("bf16 inside a long run") << "bf16" << n << "inside" << 0.5 << true;
    QTest::newRow("bf16 first of a run") << "bf16" << n << "first" << 0.5 << true;
    QTest::newRow("bf16 last of a run") << "bf16" << n << "last" << 0.5 << true;
    QTest::newRow("bf16 first after a run") << "bf16" << n << "after" << 0.5 << false;
    QTest::newRow("bf16 first nonzero") << "bf16" << n << "after" << 0.1 << false;
    // (Half the elements are zeros, within this n's candidate budget: the windows answer.)
    QTest::newRow("bf16 last zero") << "bf16" << n << "last" << 0.1 << false;
    QTest::newRow("bf16 k=1") << "bf16" << n << "top" << 0.0 << false;
    QTest::newRow("bf16 k=n-1") << "bf16" << n << "second" << 0.0 << true;
    QTest::newRow("all equal, middle") << "equal" << n << "inside" << 0.5 << true;
    QTest::newRow("all equal, k=1") << "equal" << n << "top" << 0.0 << true;
    QTest::newRow("all equal, k=n-1") << "equal" << n << "second" << 0.0 << true;
    QTest::newRow("+0 and -0") << "zeros" << n << "inside" << 0.3 << true;
    QTest::newRow("mostly ±0, last zero") << "sparse" << n << "last" << 0.5 << true;
    QTest::newRow("mostly ±0, first nonzero") << "sparse" << n << "after" << 0.5 << false;
    QTest::newRow("mostly ±0, rank 0") << "sparse" << n << "lowest" << 0.0 << true;
}

// RankFinder on data whose runs of equal magnitudes crowd out the windows: the value, the
// counts and the tie index must be the reference's whichever path answers, on one and two
// threads; the rows marked `guessed` check that the guessed values answered.
void TestRankSelect::guessedMatchesReference()
{
    QFETCH(QString, kind);
    QFETCH(qulonglong, n);
    QFETCH(QString, where);
    QFETCH(double, q);
    QFETCH(bool, guessed);
    const std::vector<float> delta = makeData(kind, n);
    const Bits bits{delta.data()};
    const std::uint64_t rank = pickRank(delta, where, q);
    const RankValue want = bruteForce(delta, rank);
    for (const int threads : {1, 2}) {
        omp_set_num_threads(threads);
        RankFinder finder(n, bits);
        const RankValue got = finder.at(rank);
        QVERIFY2(same(got, want), qPrintable(QStringLiteral("rank %1, %2 threads: %3, want %4")
                                                 .arg(rank)
                                                 .arg(threads)
                                                 .arg(describe(got), describe(want))));
        if (guessed)
            QCOMPARE(finder.guessedRanks(), std::size_t(1));
        for (const std::uint64_t j :
             {std::uint64_t{0}, std::uint64_t{1}, want.equal / 2, want.equal - 1, want.equal}) {
            QCOMPARE(finder.nthEqualIndex(want.bits, j), scanNthEqual(delta, want.bits, j));
        }
    }
}

void TestRankSelect::countGuessesMatchesReference_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<qulonglong>("n");
    QTest::newRow("bf16, parallel") << "bf16" << (qulonglong(1) << 18) + 777;
    QTest::newRow("bf16, one chunk and a bit") << "bf16" << qulonglong(65536 + 5);
    QTest::newRow("continuous") << "continuous" << (qulonglong(1) << 17) + 3;
    QTest::newRow("+0 and -0") << "zeros" << (qulonglong(1) << 17);
}

// countGuesses() against plain counting: below and equal per guess, equal per 2^16 chunk,
// unused guesses count nothing, on one and two threads.
void TestRankSelect::countGuessesMatchesReference()
{
    QFETCH(QString, kind);
    QFETCH(qulonglong, n);
    const std::vector<float> delta = makeData(kind, n);
    const Bits bits{delta.data()};
    EqualCounts counts;
    // A value that occurs, zero, a value that does not occur, and an unused slot.
    counts.guess = {magnitudeBits(delta[n / 2]), 0u, 0x7f7fffffu, EqualCounts::kNoGuess};
    for (const int threads : {1, 2}) {
        omp_set_num_threads(threads);
        countGuesses(n, bits, counts);
        const std::uint64_t chunks = (n + EqualCounts::kChunk - 1) / EqualCounts::kChunk;
        QCOMPARE(counts.perChunk.size(), std::size_t(chunks * EqualCounts::kGuesses));
        for (std::size_t g = 0; g < EqualCounts::kGuesses; ++g) {
            std::uint64_t below = 0;
            std::uint64_t equal = 0;
            for (std::uint64_t c = 0; c < chunks; ++c) {
                std::uint64_t inChunk = 0;
                const std::uint64_t end = std::min<std::uint64_t>(n, (c + 1) * EqualCounts::kChunk);
                for (std::uint64_t i = c * EqualCounts::kChunk; i < end; ++i) {
                    const std::uint32_t b = magnitudeBits(delta[i]);
                    below += counts.guess[g] != EqualCounts::kNoGuess && b < counts.guess[g];
                    inChunk += b == counts.guess[g] ? 1 : 0;
                }
                QCOMPARE(counts.perChunk[c * EqualCounts::kGuesses + g], inChunk);
                equal += inChunk;
            }
            QCOMPARE(counts.below[g], below);
            QCOMPARE(counts.equal[g], equal);
        }
        QVERIFY(counts.equal[0] > 0);
        QCOMPARE(counts.equal[3], std::uint64_t{0});
        // A rank inside the first guess's run is answered by it, one outside is not.
        const std::optional<RankValue> inside = counts.valueAt(counts.below[0]);
        QVERIFY(inside.has_value());
        QVERIFY(same(*inside, bruteForce(delta, counts.below[0])));
        QCOMPARE(nthEqualFromCounts(n, bits, counts, counts.guess[0], counts.equal[0] - 1),
                 scanNthEqual(delta, counts.guess[0], counts.equal[0] - 1));
        QCOMPARE(nthEqualFromCounts(n, bits, counts, counts.guess[0], counts.equal[0]),
                 std::uint64_t(n));
    }
}

void TestRankSelect::radixSkipsPureBins_data()
{
    QTest::addColumn<int>("offset"); // rank − (first rank of the mixed bin)
    // The bin holds 5000 elements of its smallest value (low bits 0) and 7 with low bits
    // 1 … 7 above it: ranks among the 5000 need no second pass, the others do.
    QTest::newRow("first of the bin") << 0;
    QTest::newRow("inside the low-zero part") << 2500;
    QTest::newRow("last with low bits 0") << 4999;
    QTest::newRow("first with low bits set") << 5000;
    QTest::newRow("last of the bin") << 5006;
    QTest::newRow("first of the next bin") << 5007;
}

// The radix path's shortcut for the bin's smallest value must agree with the reference
// wherever the rank falls in a bin that also holds other values.
void TestRankSelect::radixSkipsPureBins()
{
    QFETCH(int, offset);
    const std::uint64_t n = (std::uint64_t{1} << 17) + 99;
    std::vector<float> delta = bf16Deltas(n, 21);
    // Every element of the bin of 0.25 (bits 0x3e800000) and the next bin is moved away.
    for (float &d : delta) {
        const std::uint32_t b = magnitudeBits(d);
        if (b >= 0x3e800000u && b < 0x3e810000u)
            d = 0.5f;
    }
    for (std::uint64_t i = 0; i < 5000; ++i)
        delta[i * 26 + 3] = i % 2 == 0 ? 0.25f : -0.25f;
    for (std::uint32_t low = 1; low <= 7; ++low)
        delta[low * 9001] = std::bit_cast<float>(0x3e800000u + low);
    for (std::uint64_t i = 0; i < 100; ++i)
        delta[i * 1000 + 500] = 0.5f; // the next bin up (no position above is reused)
    std::uint64_t first = 0;
    for (const float d : delta)
        first += magnitudeBits(d) < 0x3e800000u ? 1 : 0;
    QCOMPARE(bruteForce(delta, first).equal, std::uint64_t{5000});
    const std::uint64_t rank = first + static_cast<std::uint64_t>(offset);
    const RankValue want = bruteForce(delta, rank);
    const Bits bits{delta.data()};
    for (const int threads : {1, 2}) {
        omp_set_num_threads(threads);
        const std::uint64_t ranks[] = {rank};
        const auto got = rankselect_detail::radixValuesAtRanks(n, bits, ranks);
        QVERIFY2(same(got[0], want),
                 qPrintable(QStringLiteral("%1, want %2").arg(describe(got[0]), describe(want))));
    }
}

QTEST_GUILESS_MAIN(TestRankSelect)
#include "tst_rankselect.moc"
