// SPDX-License-Identifier: GPL-3.0-or-later
// The task-arithmetic family on small hand-computed cases: mixing, sign election,
// normalisation, and the deterministic sparsifiers (magnitude, magnitude_outliers, rescale).
#include "kernelrunner.h"

#include <QtTest>

#include <cmath>
#include <numeric>

using namespace basin;

namespace {

using Params = std::vector<std::pair<std::string, double>>;

// Runs and checks success; returns out − base, the merged task vector.
std::vector<float> mergedDelta(const KernelRunner &runner, const char *method,
                               KernelRun *keep = nullptr)
{
    KernelRun run = runner.run(method);
    if (!run.status.ok())
        qWarning("%s failed: %s", method, run.status.error().message.c_str());
    std::vector<float> delta(run.out.size());
    for (std::size_t i = 0; i < delta.size(); ++i)
        delta[i] = run.out[i] - runner.base[i];
    if (keep)
        *keep = std::move(run);
    return delta;
}

void compareNear(const std::vector<float> &actual, const std::vector<double> &expected,
                 double tolerance = 1e-6)
{
    QCOMPARE(actual.size(), expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) {
        if (std::fabs(actual[i] - expected[i]) > tolerance) {
            QFAIL(qPrintable(QStringLiteral("element %1: %2, expected %3")
                                 .arg(i)
                                 .arg(actual[i], 0, 'g', 9)
                                 .arg(expected[i], 0, 'g', 9)));
        }
    }
}

// Which elements of a merged task vector are non-zero.
std::vector<int> keptMask(const std::vector<float> &delta)
{
    std::vector<int> mask(delta.size());
    for (std::size_t i = 0; i < delta.size(); ++i)
        mask[i] = delta[i] != 0.0f ? 1 : 0;
    return mask;
}

} // namespace

class TestTaskArithmetic : public QObject {
    Q_OBJECT

private slots:
    void taskArithmeticWeightedSum();
    void normalizeThenLambda();
    void normalizeWithZeroWeightSum();
    void signElection_data();
    void signElection();
    void consensusDivisorZeroBecomesOne();
    void magnitudeTieAtCut();
    void magnitudeCountUsesDoubleProduct();
    void magnitudeKeepsNothingIsAnError();
    void largeSelectionsMatchSortedReference_data();
    void largeSelectionsMatchSortedReference();
    void breadcrumbsRanks_data();
    void breadcrumbsRanks();
    void breadcrumbsNoOutlierKeepsTopWithNote();
    void rescaleMatchesL1();
    void rescaleSkippedBelowEpsilon();
    void missingBaseAndWeightAreErrors();
};

void TestTaskArithmetic::taskArithmeticWeightedSum()
{
    KernelRunner r;
    r.base = {1, 2, 3, 4};
    r.add({2, 2, 2, 2}, {{"weight", 1.0}}); // δ = 1, 0, −1, −2
    r.add({0, 3, 3, 5}, {{"weight", 0.5}}); // δ = −1, 1, 0, 1
    r.global = {{"lambda", 2.0}};
    // (1·δ1 + 0.5·δ2)·2, no normalisation by default.
    compareNear(mergedDelta(r, "task_arithmetic"), {1.0, 1.0, -2.0, -3.0});
}

void TestTaskArithmetic::normalizeThenLambda()
{
    KernelRunner r;
    r.base = {0, 0};
    r.add({4, 1}, {{"weight", 3.0}});
    r.add({-4, 5}, {{"weight", 1.0}});
    r.global = {{"normalize", 1}, {"lambda", 0.5}};
    // (3·4 − 4)/4·0.5 = 1, (3 + 5)/4·0.5 = 1: divide by Σw first, then scale.
    compareNear(mergedDelta(r, "task_arithmetic"), {1.0, 1.0});
}

void TestTaskArithmetic::normalizeWithZeroWeightSum()
{
    KernelRunner r;
    r.base = {1, 1};
    r.add({3, 1}, {{"weight", 1.0}});
    r.add({2, 5}, {{"weight", -1.0}});
    r.global = {{"normalize", 1}};
    // Σw = 0 counts as 1: the plain difference of the task vectors.
    compareNear(mergedDelta(r, "task_arithmetic"), {1.0, -4.0});
}

void TestTaskArithmetic::signElection_data()
{
    QTest::addColumn<float>("delta1");
    QTest::addColumn<double>("weight1");
    QTest::addColumn<float>("delta2");
    QTest::addColumn<double>("weight2");
    QTest::addColumn<bool>("normalize");
    QTest::addColumn<double>("expected");

    // Equal and opposite: S = 0 elects +1, only the positive vote stays.
    QTest::newRow("tie elects plus") << 1.0f << 1.0 << -1.0f << 1.0 << true << 1.0;
    QTest::newRow("tie elects plus, raw") << -2.0f << 1.0 << 2.0f << 1.0 << false << 2.0;
    // Majority by weighted sum, not by count.
    QTest::newRow("weighted majority") << 1.0f << 1.0 << -1.0f << 3.0 << false << -3.0;
    // A zero delta never matches: its weight stays out of the divisor.
    QTest::newRow("zero never matches") << 0.0f << 1.0 << 2.0f << 1.0 << true << 2.0;
    QTest::newRow("zero never matches, negative") << 0.0f << 1.0 << -2.0f << 1.0 << true << -2.0;
    // A negative weight flips the model's vote: W = (+1, −3), S = −2 elects −1.
    QTest::newRow("negative weight flips vote") << 1.0f << 1.0 << 1.0f << -3.0 << false << -3.0;
    QTest::newRow("negative weight, normalised") << 1.0f << 1.0 << 1.0f << -3.0 << true << 1.0;
}

void TestTaskArithmetic::signElection()
{
    QFETCH(float, delta1);
    QFETCH(double, weight1);
    QFETCH(float, delta2);
    QFETCH(double, weight2);
    QFETCH(bool, normalize);
    QFETCH(double, expected);
    KernelRunner r;
    r.base = {10.0f};
    r.add({10.0f + delta1}, {{"weight", weight1}});
    r.add({10.0f + delta2}, {{"weight", weight2}});
    r.global = {{"normalize", normalize ? 1.0 : 0.0}};
    // ties with density 1 is pure sign consensus; so is every *_ties method at density 1.
    for (const char *method : {"ties", "dare_ties", "breadcrumbs_ties", "della"}) {
        const auto delta = mergedDelta(r, method);
        QVERIFY2(std::fabs(delta[0] - expected) < 1e-6, method);
    }
}

void TestTaskArithmetic::consensusDivisorZeroBecomesOne()
{
    KernelRunner r;
    r.base = {1, 2, 3};
    r.add({1, 2, 5}, {{"weight", 1.0}});
    r.add({1, 2, 3}, {{"weight", 1.0}});
    r.global = {{"normalize", 1}};
    // Elements 0 and 1: every weighted delta is zero, nothing agrees, divisor 0 → 1 (no NaN).
    const auto delta = mergedDelta(r, "ties");
    compareNear(delta, {0.0, 0.0, 2.0});
}

void TestTaskArithmetic::magnitudeTieAtCut()
{
    KernelRunner r;
    r.base = {0, 0, 0, 0, 0, 0};
    // |δ| = 1, 3, 2, 2, 2, 0.5; k = 3 keeps 3 and the two 2s with the lowest indices.
    r.add({1, -3, 2, -2, 2, 0.5f}, {{"weight", 1.0}, {"density", 0.5}});
    r.global = {{"normalize", 0}};
    compareNear(mergedDelta(r, "ties"), {0, -3, 2, -2, 0, 0});
}

void TestTaskArithmetic::magnitudeCountUsesDoubleProduct()
{
    KernelRunner r;
    r.base.assign(100, 0.0f);
    std::vector<float> values(100);
    std::iota(values.begin(), values.end(), 1.0f);
    r.add(values, {{"weight", 1.0}, {"density", 0.29}});
    // 0.29·100 = 28.999999999999996 as a double: 28 kept, the largest ones.
    const auto mask = keptMask(mergedDelta(r, "ties"));
    QCOMPARE(std::accumulate(mask.begin(), mask.end(), 0), 28);
    QCOMPARE(mask[71], 0);
    QCOMPARE(mask[72], 1);
}

void TestTaskArithmetic::magnitudeKeepsNothingIsAnError()
{
    KernelRunner r;
    r.base.assign(6, 0.0f);
    r.add({1, 2, 3, 4, 5, 6}, {{"weight", 1.0}, {"density", 0.5}});
    r.add({1, 2, 3, 4, 5, 6}, {{"weight", 1.0}, {"density", 0.1}});
    const KernelRun run = r.run("ties");
    QVERIFY(!run.status.ok());
    QCOMPARE(run.status.error().code, ErrorCode::OutOfRange);
    const std::string &message = run.status.error().message;
    QVERIFY2(message.find("ties") != std::string::npos, message.c_str());
    QVERIFY2(message.find(r.tensorName) != std::string::npos, message.c_str());
    QVERIFY2(message.find("ft2") != std::string::npos, message.c_str());
    QVERIFY2(message.find("density 0.1") != std::string::npos, message.c_str());
}

void TestTaskArithmetic::largeSelectionsMatchSortedReference_data()
{
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("levels"); // distinct magnitudes; 0: continuous values
    QTest::addColumn<double>("zeroShare");
    // Below 2^18 elements the radix selection runs; above, the sampled window (one pass);
    // a cut inside a huge tie (zeros) crowds the window and falls back to the radix path.
    QTest::newRow("radix, bf16-like ties") << 200000 << 5 << 0.0;
    QTest::newRow("window, continuous") << 600000 << 0 << 0.0;
    QTest::newRow("window, bf16-like ties") << 600000 << 7 << 0.0;
    QTest::newRow("window crowded by zeros") << 600000 << 0 << 0.8;
}

void TestTaskArithmetic::largeSelectionsMatchSortedReference()
{
    QFETCH(int, n);
    QFETCH(int, levels);
    QFETCH(double, zeroShare);
    const auto size = static_cast<std::size_t>(n);
    std::vector<float> values = randomValues(size, 5);
    for (std::size_t i = 0; i < size; ++i) {
        if (levels > 0) // few magnitudes, both signs: many exact ties at any cut
            values[i] = static_cast<float>((i * 7919) % static_cast<std::size_t>(levels) + 1) *
                        (values[i] < 0 ? -0.25f : 0.25f);
        if (static_cast<double>((i * 2654435761u) % 1000) < zeroShare * 1000.0)
            values[i] = 0.0f;
    }
    // Ascending order by (|δ|, index) and its reversal-with-index-ascending for top-k.
    std::vector<std::size_t> ascending(size);
    std::iota(ascending.begin(), ascending.end(), 0);
    std::stable_sort(ascending.begin(), ascending.end(), [&](std::size_t a, std::size_t b) {
        return std::fabs(values[a]) < std::fabs(values[b]);
    });
    std::vector<std::size_t> descending(size);
    std::iota(descending.begin(), descending.end(), 0);
    std::stable_sort(descending.begin(), descending.end(), [&](std::size_t a, std::size_t b) {
        return std::fabs(values[a]) > std::fabs(values[b]);
    });

    for (const double density : {0.1, 0.5, 0.9}) {
        KernelRunner r;
        r.base.assign(size, 0.0f);
        r.add(values, {{"weight", 1.0}, {"density", density}, {"gamma", 0.05}});

        // ties: the k largest, lower index first among equals.
        const auto k = static_cast<std::size_t>(std::floor(density * n));
        std::vector<int> expected(size, 0);
        for (std::size_t j = 0; j < k; ++j)
            expected[descending[j]] = values[descending[j]] != 0.0f ? 1 : 0;
        QVERIFY2(keptMask(mergedDelta(r, "ties")) == expected,
                 qPrintable(QString::number(density)));

        // breadcrumbs: ascending ranks [n_bot, n − n_top).
        const auto top = static_cast<std::size_t>(std::floor(0.05 * n));
        const std::size_t bottom = size - k - top;
        std::fill(expected.begin(), expected.end(), 0);
        for (std::size_t j = bottom; j < size - top; ++j)
            expected[ascending[j]] = values[ascending[j]] != 0.0f ? 1 : 0;
        QVERIFY2(keptMask(mergedDelta(r, "breadcrumbs")) == expected,
                 qPrintable(QString::number(density)));
    }
}

void TestTaskArithmetic::breadcrumbsRanks_data()
{
    QTest::addColumn<std::vector<float>>("delta");
    QTest::addColumn<double>("density");
    QTest::addColumn<double>("gamma");
    QTest::addColumn<std::vector<int>>("expected");

    // Distinct magnitudes 1..10 in scrambled order: n_top = 1, target = 5, n_bot = 4,
    // ascending ranks [4, 9) are the magnitudes 5..9.
    const std::vector<float> scrambled = {3, -10, 5, 1, -7, 9, 2, -6, 8, 4};
    QTest::newRow("distinct") << scrambled << 0.5 << 0.1
                              << std::vector<int>{0, 0, 1, 0, 1, 1, 0, 1, 1, 0};
    // All magnitudes equal: the lower index ranks lower, so the n_bot = 3 dropped from the
    // bottom are indices 0..2 and the n_top = 2 dropped from the top are indices 8, 9.
    const std::vector<float> equal = {1, -1, 1, -1, 1, -1, 1, -1, 1, -1};
    QTest::newRow("all equal") << equal << 0.5 << 0.2
                               << std::vector<int>{0, 0, 0, 1, 1, 1, 1, 1, 0, 0};
    // Ties straddling both cuts: magnitudes 1 (×3), 2 (×4), 3 (×3); n_top = 2, target = 4,
    // n_bot = 4: ranks [4, 8) = the last three 2s and the first 3.
    const std::vector<float> straddle = {2, 3, 1, 2, -3, 1, 2, 3, -1, 2};
    QTest::newRow("ties at both cuts")
        << straddle << 0.4 << 0.2 << std::vector<int>{0, 1, 0, 1, 0, 0, 1, 0, 0, 1};
    // n_bot < 0: target 9 + n_top 2 > 10, so only one outlier goes: ranks [0, 9).
    QTest::newRow("n_bot negative")
        << scrambled << 0.9 << 0.2 << std::vector<int>{1, 0, 1, 1, 1, 1, 1, 1, 1, 1};
}

void TestTaskArithmetic::breadcrumbsRanks()
{
    QFETCH(std::vector<float>, delta);
    QFETCH(double, density);
    QFETCH(double, gamma);
    QFETCH(std::vector<int>, expected);
    KernelRunner r;
    r.base.assign(delta.size(), 0.5f);
    r.add(plus(r.base, delta), {{"weight", 1.0}, {"density", density}, {"gamma", gamma}});
    const auto merged = mergedDelta(r, "breadcrumbs");
    QCOMPARE(keptMask(merged), expected);
    for (std::size_t i = 0; i < delta.size(); ++i) {
        if (expected[i])
            QCOMPARE(merged[i], delta[i]);
    }
}

void TestTaskArithmetic::breadcrumbsNoOutlierKeepsTopWithNote()
{
    KernelRunner r;
    r.base.assign(10, 0.0f);
    // gamma·n = 0.5 → n_top = 0: mergekit would erase everything; Basin keeps [n_bot, n).
    r.add({3, -10, 5, 1, -7, 9, 2, -6, 8, 4}, {{"weight", 1.0}, {"density", 0.5}, {"gamma", 0.05}});
    KernelRun run;
    const auto merged = mergedDelta(r, "breadcrumbs", &run);
    QCOMPARE(keptMask(merged), (std::vector<int>{0, 1, 0, 0, 1, 1, 0, 1, 1, 0}));
    QCOMPARE(run.notes.warnings.size(), std::size_t{1});
    QVERIFY(run.notes.warnings[0].find("n_top") != std::string::npos ||
            run.notes.warnings[0].find("floor(gamma") != std::string::npos);
}

void TestTaskArithmetic::rescaleMatchesL1()
{
    const std::size_t n = 1000;
    KernelRunner r;
    r.base = randomValues(n, 1);
    const auto delta = randomValues(n, 2, 0.01f);
    r.add(plus(r.base, delta), {{"weight", 1.0}, {"density", 0.3}});
    r.global = {{"rescale", 1}, {"normalize", 0}};
    for (const char *method : {"ties", "breadcrumbs"}) {
        const auto merged = mergedDelta(r, method);
        double before = 0.0;
        double after = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            const float d = r.models[0].values[i] - r.base[i];
            before += std::fabs(d);
            after += std::fabs(merged[i]);
        }
        // Σ|kept|·factor = Σ|δ|, up to f32 rounding of each element.
        QVERIFY2(std::fabs(after - before) < 1e-5 * before, method);
        QVERIFY(std::count(merged.begin(), merged.end(), 0.0f) >= 600);
    }
}

void TestTaskArithmetic::rescaleSkippedBelowEpsilon()
{
    KernelRunner r;
    r.base.assign(10, 0.0f);
    // Σ|δ| = 5.5e-8 < 1e-7: the kept values stay as they are.
    r.add({1e-9f, 2e-9f, 3e-9f, 4e-9f, 5e-9f, 6e-9f, 7e-9f, 8e-9f, 9e-9f, 10e-9f},
          {{"weight", 1.0}, {"density", 0.5}});
    r.global = {{"rescale", 1}, {"normalize", 0}};
    const auto merged = mergedDelta(r, "ties");
    for (std::size_t i = 0; i < 5; ++i)
        QCOMPARE(merged[i], 0.0f);
    for (std::size_t i = 5; i < 10; ++i)
        QCOMPARE(merged[i], r.models[0].values[i]);
    // Above the threshold the same shape is rescaled: 5.5e-6 / 4e-6.
    for (auto &v : r.models[0].values)
        v *= 1000.0f;
    const auto scaled = mergedDelta(r, "ties");
    QVERIFY(std::fabs(scaled[9] / r.models[0].values[9] - 55.0 / 40.0) < 1e-6);
}

void TestTaskArithmetic::missingBaseAndWeightAreErrors()
{
    KernelRunner r;
    r.add({1, 2}, {{"weight", 1.0}});
    KernelRun run = r.run("task_arithmetic");
    QVERIFY(!run.status.ok());
    QCOMPARE(run.status.error().code, ErrorCode::MissingBase);

    r.base = {0, 0};
    r.models[0].params.clear();
    run = r.run("ties");
    QVERIFY(!run.status.ok());
    QCOMPARE(run.status.error().code, ErrorCode::MissingParameter);
    QVERIFY(run.status.error().message.find("weight") != std::string::npos);
    QVERIFY(run.status.error().message.find("ft1") != std::string::npos);
}

QTEST_GUILESS_MAIN(TestTaskArithmetic)
#include "tst_taskarithmetic.moc"
