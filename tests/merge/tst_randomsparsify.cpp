// SPDX-License-Identifier: GPL-3.0-or-later
// DARE and DELLA: random masks must match their distribution (keep rate, rank-dependent
// probability), rescale exactly, reduce to task_arithmetic at density 1, and depend only on
// (seed, tensor, model, element), never on the thread count.
#include "kernelrunner.h"
#include "merge/counterrng.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <omp.h>

using namespace basin;
using namespace basin::merge;

namespace {

constexpr std::size_t kMillion = 1000000;

KernelRunner millionElementJob(double density, double rescale)
{
    KernelRunner r;
    r.shape = {1000, 1000};
    r.base = randomValues(kMillion, 11);
    r.add(plus(r.base, randomValues(kMillion, 12, 0.01f)), {{"weight", 1.0}, {"density", density}});
    r.global = {{"rescale", rescale}, {"normalize", 0}};
    r.seed = 42;
    return r;
}

std::vector<float> deltaOf(const KernelRunner &r, const KernelRun &run)
{
    std::vector<float> delta(run.out.size());
    for (std::size_t i = 0; i < delta.size(); ++i)
        delta[i] = run.out[i] - r.base[i];
    return delta;
}

bool sameBytes(const std::vector<float> &a, const std::vector<float> &b)
{
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

} // namespace

class TestRandomSparsify : public QObject {
    Q_OBJECT

private slots:
    void cleanup() { omp_set_num_threads(omp_get_num_procs()); }
    void counterRngIsUniformAndKeyed();
    void dareKeepRate_data();
    void dareKeepRate();
    void dareRescaleIsL1Exact();
    void densityOneEqualsTaskArithmetic_data();
    void densityOneEqualsTaskArithmetic();
    void dellaProbabilityFormula();
    void dellaKeepRateAndRankTrend();
    void dellaBoundsAreErrors_data();
    void dellaBoundsAreErrors();
    void sameSeedSameBytesAnyThreadCount_data();
    void sameSeedSameBytesAnyThreadCount();
};

void TestRandomSparsify::counterRngIsUniformAndKeyed()
{
    const CounterRng rng(7, "model.layers.3.self_attn.q_proj.weight", 2);
    // Same key, same stream; any other part of the key, another stream.
    QCOMPARE(rng.bits(123), CounterRng(7, "model.layers.3.self_attn.q_proj.weight", 2).bits(123));
    QVERIFY(rng.bits(123) != CounterRng(8, "model.layers.3.self_attn.q_proj.weight", 2).bits(123));
    QVERIFY(rng.bits(123) != CounterRng(7, "model.layers.4.self_attn.q_proj.weight", 2).bits(123));
    QVERIFY(rng.bits(123) != CounterRng(7, "model.layers.3.self_attn.q_proj.weight", 3).bits(123));
    QVERIFY(rng.bits(123) != rng.bits(124));
    // The 32-bit view takes halves of the 64-bit stream; a keep word packs 64 of them.
    QCOMPARE(rng.uniform32(246), static_cast<std::uint32_t>(rng.bits(123)));
    QCOMPARE(rng.uniform32(247), static_cast<std::uint32_t>(rng.bits(123) >> 32));
    const std::uint64_t threshold = CounterRng::threshold32(0.3);
    const std::uint64_t word = rng.keepWord(5, threshold);
    for (std::uint64_t b = 0; b < 64; ++b)
        QCOMPARE((word >> b) & 1, rng.uniform32(5 * 64 + b) < threshold ? 1u : 0u);
    QCOMPARE(CounterRng::threshold32(1.0), std::uint64_t{1} << 32);
    QCOMPARE(CounterRng::threshold32(0.0), std::uint64_t{0});
    // Mean and 10 equal bins of 10^6 draws: within 5σ of uniform.
    std::vector<int> bins(10, 0);
    double sum = 0.0;
    for (std::uint64_t i = 0; i < kMillion; ++i) {
        const double u = rng.uniform(i);
        QVERIFY(u >= 0.0 && u < 1.0);
        sum += u;
        ++bins[static_cast<std::size_t>(u * 10.0)];
    }
    QVERIFY(std::fabs(sum / kMillion - 0.5) < 5.0 * std::sqrt(1.0 / 12.0 / kMillion));
    for (const int count : bins)
        QVERIFY(std::abs(count - 100000) < 5.0 * std::sqrt(kMillion * 0.1 * 0.9));
}

void TestRandomSparsify::dareKeepRate_data()
{
    QTest::addColumn<QString>("method");
    QTest::addColumn<double>("density");
    QTest::newRow("dare_linear 0.3") << QStringLiteral("dare_linear") << 0.3;
    QTest::newRow("dare_linear 0.9") << QStringLiteral("dare_linear") << 0.9;
    QTest::newRow("dare_ties 0.5") << QStringLiteral("dare_ties") << 0.5;
}

void TestRandomSparsify::dareKeepRate()
{
    QFETCH(QString, method);
    QFETCH(double, density);
    const KernelRunner r = millionElementJob(density, 0.0);
    const KernelRun run = r.run(method.toStdString());
    QVERIFY(run.status.ok());
    const auto delta = deltaOf(r, run);
    const auto kept = static_cast<double>(kMillion - std::count(delta.begin(), delta.end(), 0.0f));
    const double sigma = std::sqrt(kMillion * density * (1.0 - density));
    QVERIFY2(std::fabs(kept - kMillion * density) < 3.0 * sigma,
             qPrintable(QStringLiteral("kept %1 of %2").arg(kept).arg(kMillion)));
    // Element i is kept exactly when its 32-bit uniform is below ceil(d·2³²), and a kept
    // value is the task vector itself (no rescale): exactly δ.
    const CounterRng rng(r.seed, r.tensorName, 0);
    const std::uint64_t threshold = CounterRng::threshold32(density);
    for (std::size_t i = 0; i < kMillion; i += 997) {
        QCOMPARE(delta[i] != 0.0f, rng.uniform32(i) < threshold);
        if (delta[i] != 0.0f)
            QCOMPARE(delta[i], r.models[0].values[i] - r.base[i]);
    }
}

void TestRandomSparsify::dareRescaleIsL1Exact()
{
    for (const double density : {0.1, 0.5}) {
        const KernelRunner r = millionElementJob(density, 1.0);
        const KernelRun run = r.run("dare_linear");
        QVERIFY(run.status.ok());
        const auto delta = deltaOf(r, run);
        double before = 0.0;
        double after = 0.0;
        for (std::size_t i = 0; i < kMillion; ++i) {
            before += std::fabs(static_cast<double>(r.models[0].values[i] - r.base[i]));
            after += std::fabs(static_cast<double>(delta[i]));
        }
        // The L1 match is exact up to per-element f32 rounding (out − base adds some).
        QVERIFY2(std::fabs(after / before - 1.0) < 1e-5,
                 qPrintable(QString::number(after / before)));
    }
}

void TestRandomSparsify::densityOneEqualsTaskArithmetic_data()
{
    QTest::addColumn<QString>("method");
    QTest::newRow("dare_linear") << QStringLiteral("dare_linear");
    QTest::newRow("della_linear") << QStringLiteral("della_linear");
    QTest::newRow("breadcrumbs") << QStringLiteral("breadcrumbs");
}

void TestRandomSparsify::densityOneEqualsTaskArithmetic()
{
    QFETCH(QString, method);
    KernelRunner r;
    r.shape = {300, 1000};
    r.base = randomValues(300000, 3);
    r.add(plus(r.base, randomValues(300000, 4, 0.01f)), {{"weight", 0.7}, {"density", 1.0}});
    r.add(plus(r.base, randomValues(300000, 5, 0.01f)), {{"weight", -0.4}, {"density", 1.0}});
    r.global = {{"rescale", 1}, {"normalize", 1}, {"lambda", 1.3}};
    r.seed = 5;
    const KernelRun sparse = r.run(method.toStdString());
    const KernelRun plain = r.run("task_arithmetic");
    QVERIFY(sparse.status.ok() && plain.status.ok());
    QVERIFY(sameBytes(sparse.out, plain.out));
}

void TestRandomSparsify::dellaProbabilityFormula()
{
    // An independent evaluation of p = (d − ε) + 2ε·(rank − 1)/(ncols − 1) with the same
    // counter RNG: rows ranked by |δ| ascending, ties by index.
    const std::uint64_t rows = 7;
    const std::uint64_t cols = 64;
    const double density = 0.4;
    const double epsilon = 0.2;
    KernelRunner r;
    r.shape = {rows, cols};
    r.base = randomValues(rows * cols, 21);
    std::vector<float> delta = randomValues(rows * cols, 22, 0.1f);
    delta[5] = delta[9] = 0.05f; // a tie inside row 0
    r.add(plus(r.base, delta), {{"weight", 1.0}, {"density", density}, {"epsilon", epsilon}});
    r.global = {{"rescale", 0}, {"normalize", 0}};
    r.seed = 1234;
    const KernelRun run = r.run("della_linear");
    QVERIFY(run.status.ok());
    const auto merged = deltaOf(r, run);

    const CounterRng rng(r.seed, r.tensorName, 0);
    int kept = 0;
    for (std::uint64_t row = 0; row < rows; ++row) {
        std::vector<std::uint64_t> order(cols);
        std::iota(order.begin(), order.end(), 0);
        const auto magnitude = [&](std::uint64_t c) {
            return std::fabs(r.models[0].values[row * cols + c] - r.base[row * cols + c]);
        };
        std::stable_sort(order.begin(), order.end(),
                         [&](auto a, auto b) { return magnitude(a) < magnitude(b); });
        for (std::uint64_t rank = 1; rank <= cols; ++rank) {
            const std::uint64_t index = row * cols + order[rank - 1];
            const double p =
                (density - epsilon) + 2.0 * epsilon * static_cast<double>(rank - 1) / (cols - 1);
            const bool keep = rng.uniform(index) < p;
            QCOMPARE(merged[index] != 0.0f, keep);
            kept += keep ? 1 : 0;
        }
    }
    QVERIFY(kept > 0 && kept < static_cast<int>(rows * cols));
}

void TestRandomSparsify::dellaKeepRateAndRankTrend()
{
    const double density = 0.5;
    const double epsilon = 0.3;
    KernelRunner r = millionElementJob(density, 0.0);
    r.models[0].params.push_back({"epsilon", epsilon});
    const KernelRun run = r.run("della_linear");
    QVERIFY(run.status.ok());
    const auto merged = deltaOf(r, run);
    // Mean keep probability over ranks 1..n is exactly d; the variance is Σ p(1 − p).
    double variance = 0.0;
    for (int rank = 0; rank < 1000; ++rank) {
        const double p = (density - epsilon) + 2.0 * epsilon * rank / 999.0;
        variance += 1000.0 * p * (1.0 - p);
    }
    const auto kept =
        static_cast<double>(kMillion - std::count(merged.begin(), merged.end(), 0.0f));
    QVERIFY(std::fabs(kept - kMillion * density) < 3.0 * std::sqrt(variance));
    // Larger magnitudes are kept more often: top-half ranks near d + ε/2, bottom near d − ε/2.
    std::size_t keptLarge = 0;
    std::size_t keptSmall = 0;
    for (std::size_t row = 0; row < 1000; ++row) {
        std::vector<float> magnitudes(1000);
        for (std::size_t c = 0; c < 1000; ++c)
            magnitudes[c] = std::fabs(r.models[0].values[row * 1000 + c] - r.base[row * 1000 + c]);
        std::vector<float> sorted(magnitudes);
        std::nth_element(sorted.begin(), sorted.begin() + 500, sorted.end());
        for (std::size_t c = 0; c < 1000; ++c) {
            if (merged[row * 1000 + c] == 0.0f)
                continue;
            (magnitudes[c] >= sorted[500] ? keptLarge : keptSmall) += 1;
        }
    }
    QVERIFY(std::fabs(keptLarge / 500000.0 - 0.65) < 0.01);
    QVERIFY(std::fabs(keptSmall / 500000.0 - 0.35) < 0.01);
}

void TestRandomSparsify::dellaBoundsAreErrors_data()
{
    QTest::addColumn<double>("density");
    QTest::addColumn<double>("epsilon");
    QTest::newRow("d - eps = 0") << 0.15 << 0.15;
    QTest::newRow("d - eps < 0") << 0.1 << 0.15;
    QTest::newRow("d + eps = 1") << 0.85 << 0.15;
    QTest::newRow("d + eps > 1") << 0.9 << 0.2;
}

void TestRandomSparsify::dellaBoundsAreErrors()
{
    QFETCH(double, density);
    QFETCH(double, epsilon);
    KernelRunner r;
    r.base = {0, 0, 0, 0};
    r.add({1, 2, 3, 4}, {{"weight", 1.0}, {"density", density}, {"epsilon", epsilon}});
    const KernelRun run = r.run("della");
    QVERIFY(!run.status.ok());
    QCOMPARE(run.status.error().code, ErrorCode::OutOfRange);
    QVERIFY(run.status.error().message.find("epsilon") != std::string::npos);
    QVERIFY(run.status.error().message.find(r.tensorName) != std::string::npos);
}

void TestRandomSparsify::sameSeedSameBytesAnyThreadCount_data()
{
    QTest::addColumn<QString>("method");
    for (const char *method : {"dare_linear", "dare_ties", "della", "della_linear"})
        QTest::newRow(method) << QString::fromLatin1(method);
}

void TestRandomSparsify::sameSeedSameBytesAnyThreadCount()
{
    QFETCH(QString, method);
    KernelRunner r;
    r.shape = {300, 1000};
    r.base = randomValues(300000, 31);
    for (std::uint32_t m = 0; m < 3; ++m) {
        r.add(plus(r.base, randomValues(300000, 32 + m, 0.01f)),
              {{"weight", 0.5 + 0.2 * m}, {"density", 0.4}, {"epsilon", 0.1}});
    }
    r.seed = 99;
    omp_set_num_threads(1);
    const KernelRun one = r.run(method.toStdString());
    omp_set_num_threads(2);
    const KernelRun two = r.run(method.toStdString());
    const KernelRun again = r.run(method.toStdString());
    QVERIFY(one.status.ok() && two.status.ok());
    QVERIFY(sameBytes(one.out, two.out));
    QVERIFY(sameBytes(two.out, again.out));
    // Another seed, another mask.
    r.seed = 100;
    QVERIFY(!sameBytes(one.out, r.run(method.toStdString()).out));
}

QTEST_GUILESS_MAIN(TestRandomSparsify)
#include "tst_randomsparsify.moc"
