// SPDX-License-Identifier: GPL-3.0-or-later
// Angle-based methods on small cases computed by hand (or by a plain f64 implementation
// here): slerp, nuslerp, multislerp, karcher, model_stock.
#include "kernelrunner.h"

#include <QtTest>

#include <cmath>

using namespace basin;

namespace {

const double kSqrtHalf = std::sqrt(0.5);

void compareNear(const std::vector<float> &actual, const std::vector<double> &expected,
                 double tolerance = 2e-6)
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

std::vector<float> runOk(const KernelRunner &r, const char *method, KernelRun *keep = nullptr)
{
    KernelRun run = r.run(method);
    if (!run.status.ok())
        qWarning("%s: %s", method, run.status.error().message.c_str());
    auto out = run.out;
    if (keep)
        *keep = std::move(run);
    return out;
}

double norm(const std::vector<double> &v)
{
    double s = 0.0;
    for (const double x : v)
        s += x * x;
    return std::sqrt(s);
}

// multislerp written out in f64, straight from docs/METHODS.md.
std::vector<double> multislerpReference(const std::vector<std::vector<float>> &inputs,
                                        std::vector<double> w, double eps)
{
    const std::size_t n = inputs[0].size();
    double total = 0.0;
    for (const double x : w)
        total += x;
    for (double &x : w)
        x /= total;
    std::vector<std::vector<double>> u;
    std::vector<double> norms;
    for (const auto &x : inputs) {
        std::vector<double> v(x.begin(), x.end());
        norms.push_back(norm(v));
        for (double &e : v)
            e /= norms.back() + eps;
        u.push_back(v);
    }
    std::vector<double> m(n, 0.0);
    for (std::size_t i = 0; i < u.size(); ++i)
        for (std::size_t e = 0; e < n; ++e)
            m[e] += w[i] * u[i][e];
    const double mNorm = norm(m);
    for (double &e : m)
        e /= mNorm;
    std::vector<double> tau(n, 0.0);
    for (std::size_t i = 0; i < u.size(); ++i) {
        double dot = 0.0;
        for (std::size_t e = 0; e < n; ++e)
            dot += u[i][e] * m[e];
        for (std::size_t e = 0; e < n; ++e)
            tau[e] += w[i] * (u[i][e] - dot * m[e]);
    }
    const double r = norm(tau) + eps;
    double scale = 0.0;
    for (std::size_t i = 0; i < u.size(); ++i)
        scale += w[i] * norms[i];
    std::vector<double> out(n);
    for (std::size_t e = 0; e < n; ++e)
        out[e] = (m[e] * std::cos(r) + tau[e] * std::sin(r) / r) * scale;
    return out;
}

} // namespace

class TestInterpolation : public QObject {
    Q_OBJECT

private slots:
    void slerpOrthogonal();
    void slerpFallsBackToLerpWhenParallel();
    void slerpNeedsExactlyTwoInputs();
    void nuslerpLayouts_data();
    void nuslerpLayouts();
    void nuslerpWithBaseUsesTaskVectors();
    void nuslerpZeroWeightSumIsMidpoint();
    void multislerpSymmetric();
    void multislerpAgainstReference();
    void multislerpWithBase();
    void karcherSymmetricPoints();
    void karcherSkipsZeroNormInputs();
    void modelStockRatio();
    void modelStockFilterWise();
    void modelStockNeedsTwoModels();
};

void TestInterpolation::slerpOrthogonal()
{
    KernelRunner r;
    r.base = {2, 0};
    r.add({0, 1});
    r.global = {{"t", 0.5}};
    KernelRun run;
    const auto out = runOk(r, "slerp", &run);
    // θ = π/2: sin(θ/2)/sin θ on the un-normalised tensors.
    compareNear(out, {2 * kSqrtHalf, kSqrtHalf});
    QVERIFY(!run.notes.slerpFellBack);

    r.global = {{"t", 0.25}};
    compareNear(runOk(r, "slerp"), {2 * std::sin(3 * M_PI / 8), std::sin(M_PI / 8)});
}

void TestInterpolation::slerpFallsBackToLerpWhenParallel()
{
    KernelRunner r;
    r.base = {1, 2, 3};
    r.add({2, 4, 6.01f}); // cos ≈ 0.99999 > 0.9995
    r.global = {{"t", 0.3}};
    KernelRun run;
    const auto out = runOk(r, "slerp", &run);
    QVERIFY(run.notes.slerpFellBack);
    compareNear(out, {0.7 * 1 + 0.3 * 2, 0.7 * 2 + 0.3 * 4, 0.7 * 3 + 0.3 * 6.01});

    // Antiparallel counts too (|cos| > 0.9995).
    r.models[0].values = {-1, -2, -3};
    const auto anti = runOk(r, "slerp", &run);
    QVERIFY(run.notes.slerpFellBack);
    compareNear(anti, {0.4, 0.8, 1.2});
}

void TestInterpolation::slerpNeedsExactlyTwoInputs()
{
    KernelRunner r;
    r.base = {1, 0};
    r.add({0, 1});
    r.add({1, 1});
    r.global = {{"t", 0.5}};
    const KernelRun run = r.run("slerp");
    QVERIFY(!run.status.ok());
    QCOMPARE(run.status.error().code, ErrorCode::InvalidArgument);
    QVERIFY(run.status.error().message.find("exactly 1") != std::string::npos);

    r.models.pop_back();
    r.global.clear();
    const KernelRun noT = r.run("slerp");
    QVERIFY(!noT.status.ok());
    QCOMPARE(noT.status.error().code, ErrorCode::MissingParameter);
}

void TestInterpolation::nuslerpLayouts_data()
{
    QTest::addColumn<double>("flatten");
    QTest::addColumn<double>("rowWise");
    QTest::addColumn<std::vector<double>>("expected");
    // X0 = [[1,0],[1,0]], X1 = [[0,1],[1,0]], t = 0.5.
    // Flattened: cos = 1/2, θ = π/3, out = sin(π/6)/sin(π/3)·(X0 + X1).
    const double f = std::sin(M_PI / 6) / std::sin(M_PI / 3);
    QTest::newRow("flattened") << 1.0 << 0.0 << std::vector<double>{f, f, 2 * f, 0};
    // Per row (last dimension): row 0 orthogonal (θ = π/2), row 1 identical (lerp).
    QTest::newRow("rows") << 0.0 << 0.0 << std::vector<double>{kSqrtHalf, kSqrtHalf, 1, 0};
    // nuslerp_row_wise (vectors along dimension 0, i.e. columns): column 0 is [1,1] vs
    // [0,1] (θ = π/4); column 1 is [0,0] vs [1,0] (zero norm → cos 0, θ = π/2).
    const double c = std::sin(M_PI / 8) / std::sin(M_PI / 4);
    QTest::newRow("row_wise") << 0.0 << 1.0 << std::vector<double>{c, kSqrtHalf, 2 * c, 0};
}

void TestInterpolation::nuslerpLayouts()
{
    QFETCH(double, flatten);
    QFETCH(double, rowWise);
    QFETCH(std::vector<double>, expected);
    KernelRunner r;
    r.shape = {2, 2};
    r.add({1, 0, 1, 0}, {{"weight", 1.0}});
    r.add({0, 1, 1, 0}, {{"weight", 1.0}});
    r.global = {{"nuslerp_flatten", flatten}, {"nuslerp_row_wise", rowWise}};
    compareNear(runOk(r, "nuslerp"), expected);
}

void TestInterpolation::nuslerpWithBaseUsesTaskVectors()
{
    KernelRunner r;
    r.base = {10, 10};
    r.add({12, 10}, {{"weight", 1.0}}); // τ = (2, 0)
    r.add({10, 11}, {{"weight", 3.0}}); // τ = (0, 1); t = 3/4
    const auto out = runOk(r, "nuslerp");
    compareNear(out, {10 + 2 * std::sin(M_PI / 8), 10 + std::sin(3 * M_PI / 8)});
}

void TestInterpolation::nuslerpZeroWeightSumIsMidpoint()
{
    KernelRunner r;
    r.add({2, 0}, {{"weight", 1.0}});
    r.add({0, 1}, {{"weight", -1.0}});
    compareNear(runOk(r, "nuslerp"), {2 * kSqrtHalf, kSqrtHalf});
}

void TestInterpolation::multislerpSymmetric()
{
    KernelRunner r;
    r.add({2, 0}, {{"weight", 0.5}});
    r.add({0, 1}, {{"weight", 0.5}});
    // Mean direction at 45°, no tangent left, scaled by Σ w_i‖X_i‖ = 1.5.
    compareNear(runOk(r, "multislerp"), {1.5 * kSqrtHalf, 1.5 * kSqrtHalf});
}

void TestInterpolation::multislerpAgainstReference()
{
    KernelRunner r;
    std::vector<std::vector<float>> inputs;
    for (std::uint32_t m = 0; m < 3; ++m) {
        inputs.push_back(randomValues(50, 70 + m));
        inputs.back()[0] += 3.0f; // a shared direction keeps the mean well away from zero
    }
    r.add(inputs[0], {{"weight", 2.0}});
    r.add(inputs[1], {{"weight", 1.0}});
    r.add(inputs[2], {{"weight", 1.0}});
    const auto expected = multislerpReference(inputs, {2.0, 1.0, 1.0}, 1e-8);
    compareNear(runOk(r, "multislerp"), expected, 1e-5);
}

void TestInterpolation::multislerpWithBase()
{
    KernelRunner r;
    r.base = {1, 1};
    r.add({3, 1}, {{"weight", 1.0}});
    r.add({1, 2}, {{"weight", 1.0}});
    compareNear(runOk(r, "multislerp"), {1 + 1.5 * kSqrtHalf, 1 + 1.5 * kSqrtHalf});
}

void TestInterpolation::karcherSymmetricPoints()
{
    KernelRunner r;
    r.add({2, 0, 0});
    r.add({0, 1, 0});
    r.add({0, 0, 3});
    r.global = {{"max_iter", 50}, {"tol", 1e-9}};
    // The mean of three orthogonal directions is (1,1,1)/√3, scaled by the mean norm 2.
    const double v = 2.0 / std::sqrt(3.0);
    compareNear(runOk(r, "karcher"), {v, v, v}, 1e-5);

    // Two points: the geodesic midpoint.
    r.models.pop_back();
    compareNear(runOk(r, "karcher"), {1.5 * kSqrtHalf, 1.5 * kSqrtHalf, 0}, 1e-5);
}

void TestInterpolation::karcherSkipsZeroNormInputs()
{
    KernelRunner r;
    r.add({3, 0});
    r.add({0, 0});
    r.add({0, 3});
    // The zero input has no direction but counts in the mean norm: (3 + 0 + 3)/3 = 2.
    compareNear(runOk(r, "karcher"), {2 * kSqrtHalf, 2 * kSqrtHalf}, 1e-5);
}

void TestInterpolation::modelStockRatio()
{
    KernelRunner r;
    r.base = {1, 1};
    r.add({2, 1}); // offset (1, 0)
    r.add({2, 2}); // offset (1, 1): cos = 1/√2
    const double c = kSqrtHalf;
    const double t = 2 * c / (1 + c);
    // t·mean(X) + (1 − t)·B, mean(X) = (2, 1.5).
    compareNear(runOk(r, "model_stock"), {2 * t + (1 - t), 1.5 * t + (1 - t)});

    // Three models: the mean of the pairwise cosines (0, 1/√2, 1/√2).
    r.add({1, 2}); // offset (0, 1)
    const double c3 = (0 + 2 * kSqrtHalf) / 3;
    const double t3 = 3 * c3 / (1 + 2 * c3);
    const double mean0 = 5.0 / 3.0;
    const double mean1 = 5.0 / 3.0;
    compareNear(runOk(r, "model_stock"), {t3 * mean0 + (1 - t3), t3 * mean1 + (1 - t3)});
}

void TestInterpolation::modelStockFilterWise()
{
    KernelRunner r;
    r.shape = {2, 2};
    r.base = {0, 0, 0, 0};
    r.add({1, 0, 1, 0}); // row offsets (1,0) and (1,0)
    r.add({0, 1, 1, 1}); // row offsets (0,1) and (1,1)
    r.global = {{"filter_wise", 1}};
    const double t1 = 2 * kSqrtHalf / (1 + kSqrtHalf);
    // Row 0: cos 0 → t = 0 → the base. Row 1: t1 · mean = t1·(1, 0.5).
    compareNear(runOk(r, "model_stock"), {0, 0, t1, 0.5 * t1});

    // Not filter-wise: one t over the whole tensor.
    r.global = {{"filter_wise", 0}};
    const double dot = 1 * 0 + 0 * 1 + 1 * 1 + 0 * 1;
    const double c = dot / (std::sqrt(2.0) * std::sqrt(3.0));
    const double t = 2 * c / (1 + c);
    compareNear(runOk(r, "model_stock"), {0.5 * t, 0.5 * t, t, 0.5 * t});
}

void TestInterpolation::modelStockNeedsTwoModels()
{
    KernelRunner r;
    r.base = {0, 0};
    r.add({1, 1});
    const KernelRun run = r.run("model_stock");
    QVERIFY(!run.status.ok());
    QCOMPARE(run.status.error().code, ErrorCode::InvalidArgument);
    QVERIFY(run.status.error().message.find("at least 2") != std::string::npos);
}

QTEST_GUILESS_MAIN(TestInterpolation)
#include "tst_interpolation.moc"
