// SPDX-License-Identifier: GPL-3.0-or-later
// linear, sce, nearswap, ram, ramplus_tl, arcee_fusion and passthrough on small cases
// computed by hand or by a plain f64 implementation here.
#include "kernelrunner.h"

#include <QtTest>

#include <algorithm>
#include <cmath>

using namespace basin;

namespace {

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

std::vector<float> runOk(const KernelRunner &r, const char *method)
{
    const KernelRun run = r.run(method);
    if (!run.status.ok())
        qWarning("%s: %s", method, run.status.error().message.c_str());
    return run.out;
}

void expectError(const KernelRunner &r, const char *method, ErrorCode code, const char *words)
{
    const KernelRun run = r.run(method);
    QVERIFY2(!run.status.ok(), method);
    QCOMPARE(run.status.error().code, code);
    QVERIFY2(run.status.error().message.find(words) != std::string::npos,
             run.status.error().message.c_str());
    QVERIFY2(run.status.error().message.find(method) != std::string::npos,
             run.status.error().message.c_str());
}

// arcee_fusion written out in f64: per-row KL of the softmaxes, importance, the exact
// quantiles at floor(q·(n − 1)), threshold median + 1.5·IQR. Returns the take mask.
std::vector<int> arceeReference(const std::vector<float> &a, const std::vector<float> &b,
                                std::size_t cols)
{
    const std::size_t n = a.size();
    std::vector<double> importance(n);
    for (std::size_t row = 0; row < n / cols; ++row) {
        double za = 0.0;
        double zb = 0.0;
        for (std::size_t c = 0; c < cols; ++c) {
            za += std::exp(static_cast<double>(a[row * cols + c]));
            zb += std::exp(static_cast<double>(b[row * cols + c]));
        }
        double kl = 0.0;
        for (std::size_t c = 0; c < cols; ++c) {
            const double p = std::exp(static_cast<double>(b[row * cols + c])) / zb + 1e-8;
            const double q = std::exp(static_cast<double>(a[row * cols + c])) / za + 1e-8;
            kl += p * std::log(p / q);
        }
        for (std::size_t c = 0; c < cols; ++c)
            importance[row * cols + c] = std::fabs(b[row * cols + c] - a[row * cols + c]) * kl;
    }
    std::vector<double> sorted(importance);
    std::sort(sorted.begin(), sorted.end());
    const auto at = [&](double q) { return sorted[static_cast<std::size_t>(q * (n - 1))]; };
    const double threshold = at(0.5) + 1.5 * (at(0.75) - at(0.25));
    std::vector<int> take(n);
    for (std::size_t i = 0; i < n; ++i)
        take[i] = importance[i] >= threshold ? 1 : 0;
    return take;
}

} // namespace

class TestOtherMethods : public QObject {
    Q_OBJECT

private slots:
    void linearWeightedAverage();
    void linearZeroWeightSumIsAnError();
    void sceWeightsAndErase();
    void sceTopkByVarianceWithTie();
    void nearswap();
    void nearswapRules();
    void ram();
    void ramplusTl();
    void arceeFusionMatchesReference();
    void arceeFusionRules();
    void passthrough();
};

void TestOtherMethods::linearWeightedAverage()
{
    KernelRunner r;
    r.add({1, 10}, {{"weight", 0.5}});
    r.add({2, 20}, {{"weight", 0.3}});
    r.add({4, 40}, {{"weight", 0.2}});
    // normalize defaults to true: Σ w_i X_i / Σ w_i.
    compareNear(runOk(r, "linear"), {1.9, 19.0}, 1e-5);
    r.models[0].params = {{"weight", 1.5}};
    compareNear(runOk(r, "linear"), {(1.5 + 0.6 + 0.8) / 2.0, (15.0 + 6 + 8) / 2.0}, 1e-5);
    r.global = {{"normalize", 0}};
    compareNear(runOk(r, "linear"), {2.9, 29.0}, 1e-5);
}

void TestOtherMethods::linearZeroWeightSumIsAnError()
{
    KernelRunner r;
    r.add({1, 2}, {{"weight", 1.0}});
    r.add({3, 4}, {{"weight", -1.0}});
    expectError(r, "linear", ErrorCode::MergeFailed, "sum to 0");
    r.global = {{"normalize", 0}};
    compareNear(runOk(r, "linear"), {-2, -2});
}

void TestOtherMethods::sceWeightsAndErase()
{
    KernelRunner r;
    r.base = {0, 0};
    r.add({1, -1});
    r.add({3, 1});
    // Weights ∝ mean δ²: 1 and 5 → 1/6, 5/6. Element 0 agrees: (1/6 + 15/6)/1; element 1
    // sums to 0, elects +1, keeps only δ2 = 1: 1·(5/6)/(5/6).
    compareNear(runOk(r, "sce"), {16.0 / 6.0, 1.0});
}

void TestOtherMethods::sceTopkByVarianceWithTie()
{
    KernelRunner r;
    r.base = {0, 0, 0};
    r.add({1, -1, 2});
    r.add({3, 1, 2});
    r.global = {{"select_topk", 0.5}};
    // Variances 1, 1, 0: two non-zero, k = 1; the tie keeps the lower index (element 0).
    // Masked δ: (1,0,0), (3,0,0); weights 1/3 : 9/3 → 0.1, 0.9; 1·0.1 + 3·0.9 = 2.8.
    compareNear(runOk(r, "sce"), {2.8, 0, 0});
}

void TestOtherMethods::nearswap()
{
    KernelRunner r;
    r.base = {0, 0, 0, 0};
    r.add({0.01f, 0.1f, 1, 0});
    r.global = {{"t", 0.05}};
    // w = clamp(t / max(|a − b|, 1e-6), 0, 1) = 1, 0.5, 0.05, 1.
    compareNear(runOk(r, "nearswap"), {0.01, 0.05, 0.05, 0});
}

void TestOtherMethods::nearswapRules()
{
    KernelRunner r;
    r.base = {0, 0};
    r.add({1, 1});
    r.global = {{"t", 0.0}};
    expectError(r, "nearswap", ErrorCode::OutOfRange, "t must be greater than 0");
    r.global = {{"t", 0.1}};
    r.add({2, 2});
    expectError(r, "nearswap", ErrorCode::InvalidArgument, "exactly 1");
}

void TestOtherMethods::ram()
{
    KernelRunner r;
    r.base = {0, 0, 0, 0, 0};
    r.add({1, 1, 0, 0, 1e-6f});
    r.add({3, 0, 2, 5, 1e-6f});
    // Counts (|δ| > 1e-5): 2, 1, 1, 1, 0. Shared changes are averaged, unique ones added.
    compareNear(runOk(r, "ram"), {2, 1, 2, 5, 0});
}

void TestOtherMethods::ramplusTl()
{
    KernelRunner r;
    r.base = {0, 0, 0, 0, 0};
    r.add({1, 1, 0, 0, 1e-6f});
    r.add({3, 0, 2, 5, 1e-6f});
    r.global = {{"r", 0.5}, {"alpha", 1.0}};
    // Model 1: 1 shared, 1 unique → ρ = 1, λ = 1.5. Model 2: 1 shared, 2 unique → ρ = 0.5,
    // λ = 1.25. Unique changes are scaled by λ, shared ones averaged as in ram.
    compareNear(runOk(r, "ramplus_tl"), {2, 1.5, 2.5, 6.25, 0});
    // Defaults r = 0.1, alpha = 0.2: ρ is capped at 0.2 → λ = 1.02 for both.
    r.global.clear();
    compareNear(runOk(r, "ramplus_tl"), {2, 1.02, 2.04, 5.1, 0});
}

void TestOtherMethods::arceeFusionMatchesReference()
{
    const std::size_t rows = 16;
    const std::size_t cols = 32;
    KernelRunner r;
    r.shape = {rows, cols};
    r.base = randomValues(rows * cols, 81);
    std::vector<float> delta = randomValues(rows * cols, 82, 0.05f);
    // Two rows change a lot: they should stand out.
    for (std::size_t c = 0; c < cols; ++c) {
        delta[3 * cols + c] *= 20.0f;
        delta[11 * cols + c] *= 10.0f;
    }
    r.add(plus(r.base, delta));
    const auto out = runOk(r, "arcee_fusion");
    const auto take = arceeReference(r.base, r.models[0].values, cols);
    int taken = 0;
    for (std::size_t i = 0; i < rows * cols; ++i) {
        const float expected =
            take[i] ? r.base[i] + (r.models[0].values[i] - r.base[i]) : r.base[i];
        QCOMPARE(out[i], expected);
        taken += take[i];
    }
    QVERIFY(taken > 0 && taken < static_cast<int>(rows * cols) / 2);
}

void TestOtherMethods::arceeFusionRules()
{
    KernelRunner r;
    r.base = {0, 0};
    r.add({1, 1});
    r.add({2, 2});
    expectError(r, "arcee_fusion", ErrorCode::InvalidArgument, "exactly 1");
    r.models.pop_back();
    r.base.clear();
    expectError(r, "arcee_fusion", ErrorCode::MissingBase, "base");
}

void TestOtherMethods::passthrough()
{
    KernelRunner r;
    r.add({1.5f, -2, 3});
    compareNear(runOk(r, "passthrough"), {1.5, -2, 3});
    r.models[0].params = {{"scale", 0.5}};
    compareNear(runOk(r, "passthrough"), {0.75, -1, 1.5});
    r.add({1, 1, 1});
    expectError(r, "passthrough", ErrorCode::InvalidArgument, "exactly 1");
}

QTEST_GUILESS_MAIN(TestOtherMethods)
#include "tst_othermethods.moc"
