// SPDX-License-Identifier: GPL-3.0-or-later
// Interpolation curves: exact endpoints equal to the parents' statistics, lerp = slerp where
// slerp falls back, λ and weight curves through the current preview, density proxies.
#include "analysis/analysispass.h"
#include "analysis/curves.h"
#include "model/checkpoint.h"
#include "model/modelset.h"
#include "recipe/yamlreader.h"

#include <QTest>

#include <cmath>
#include <filesystem>

using namespace basin;
using namespace basin::analysis;
namespace fs = std::filesystem;

namespace {

fs::path dataDir()
{
    return fs::path(BASIN_TEST_DATA_DIR);
}

std::shared_ptr<const AnalysisSnapshot> analyseFamily(const std::string &family,
                                                      std::uint64_t sampleSize = 65536)
{
    std::vector<std::shared_ptr<const Checkpoint>> models;
    for (const char *name : {"base", "ft1", "ft2", "ft3"})
        models.push_back(*Checkpoint::open(dataDir() / "families" / family / name));
    auto set = ModelSet::create(models);
    AnalysisOptions options;
    options.sampleSize = sampleSize;
    auto snapshot = analyse(**set, options);
    return snapshot ? *snapshot : nullptr;
}

bool close(double a, double b, double rel)
{
    return std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b)) + 1e-300;
}

} // namespace

class TestCurves : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void alphaEndpointsAreParents_data();
    void alphaEndpointsAreParents();
    void slerpEqualsLerpWhenFallingBack();
    void slerpLeavesLerpOnFarFamily();
    void lambdaCurveThroughPreview();
    void weightCurveThroughPreview();
    void densityProxies();
    void csvAndErrors();

private:
    std::shared_ptr<const AnalysisSnapshot> m_f32;
    std::shared_ptr<const AnalysisSnapshot> m_far;
};

void TestCurves::initTestCase()
{
    m_f32 = analyseFamily("f32");
    m_far = analyseFamily("far");
    QVERIFY(m_f32 && m_far);
}

void TestCurves::alphaEndpointsAreParents_data()
{
    QTest::addColumn<QString>("family");
    QTest::addColumn<int>("a");
    QTest::addColumn<int>("b");
    QTest::addColumn<QString>("scope");
    QTest::newRow("f32 ft1-ft2 global") << "f32" << 1 << 2 << "";
    QTest::newRow("f32 base-ft3 L3") << "f32" << 0 << 3 << "L3";
    QTest::newRow("far ft1-ft2 global") << "far" << 1 << 2 << "";
    QTest::newRow("far base-ft1 L0") << "far" << 0 << 1 << "L0";
}

void TestCurves::alphaEndpointsAreParents()
{
    QFETCH(QString, family);
    QFETCH(int, a);
    QFETCH(int, b);
    QFETCH(QString, scope);
    const auto &snapshot = family == QLatin1String("f32") ? *m_f32 : *m_far;
    CurveRequest request;
    request.variable = CurveVariable::Alpha;
    request.modelA = a;
    request.modelB = b;
    request.steps = 11;
    request.scope = scope.toStdString();
    auto curves = computeCurves(snapshot, nullptr, request);
    QVERIFY2(curves.ok(), curves ? "" : curves.error().message.c_str());
    QCOMPARE(curves->x.front(), 0.0);
    QCOMPARE(curves->x.back(), 1.0);
    QCOMPARE(curves->x.size(), std::size_t(11));
    QVERIFY(
        QString::fromStdString(curves->yTitle).contains(QStringLiteral("weight-space proxy vs α")));
    QVERIFY(!QString::fromStdString(curves->yTitle).contains(QStringLiteral("loss")));

    // The parents' own statistics from the snapshot: ‖X_a − X_b‖² = G_aa − 2 G_ab + G_bb.
    const StatsBlock &block =
        scope.isEmpty() ? snapshot.total : snapshot.findLayer(scope.mid(1).toInt())->stats;
    const Gram gram = Gram::fromStats(block);
    auto g = [&](int i, int j) { return (i == 0 || j == 0) ? 0.0 : gram.g(i - 1, j - 1); };
    const double parentDistance = std::sqrt(g(a, a) - 2.0 * g(a, b) + g(b, b));
    for (const char *mode : {"lerp", "slerp"}) {
        const std::string m(mode);
        const auto &distA = curves->find(m + "_dist_a")->y;
        const auto &distB = curves->find(m + "_dist_b")->y;
        const auto &cosA = curves->find(m + "_cos_a")->y;
        const auto &cosB = curves->find(m + "_cos_b")->y;
        const auto &ratio = curves->find(m + "_norm_ratio")->y;
        QCOMPARE(distA.front(), 0.0);
        QCOMPARE(distB.back(), 0.0);
        QVERIFY2(close(distB.front(), parentDistance, 1e-9),
                 qPrintable(QString::number(distB.front() - parentDistance)));
        QVERIFY(close(distA.back(), parentDistance, 1e-9));
        QVERIFY(close(cosA.front(), 1.0, 1e-12));
        QVERIFY(close(cosB.back(), 1.0, 1e-12));
        QVERIFY(close(cosB.front(), gram.rawCosine(a, b).value(), 1e-12));
        QVERIFY(close(ratio.front(), 1.0, 1e-12));
        QVERIFY(close(ratio.back(), 1.0, 1e-12));
        // Distances move monotonically away from A and towards B.
        for (std::size_t i = 1; i < distA.size(); ++i) {
            QVERIFY(distA[i] > distA[i - 1]);
            QVERIFY(distB[i] < distB[i - 1]);
        }
    }
}

void TestCurves::slerpEqualsLerpWhenFallingBack()
{
    // Raw weights of family f32 differ by ~1e-3: every tensor has |cos| > 0.9995, so slerp
    // takes its lerp branch everywhere and the two families of curves are identical.
    CurveRequest request;
    request.modelA = 1;
    request.modelB = 2;
    auto curves = computeCurves(*m_f32, nullptr, request);
    QVERIFY(curves.ok());
    for (const char *key : {"norm_ratio", "cos_a", "cos_b", "dist_a", "dist_b"}) {
        const auto &lerp = curves->find(std::string("lerp_") + key)->y;
        const auto &slerp = curves->find(std::string("slerp_") + key)->y;
        QCOMPARE(lerp, slerp);
    }
    QVERIFY(!curves->warnings.empty()); // the fallback is reported
}

void TestCurves::slerpLeavesLerpOnFarFamily()
{
    CurveRequest request;
    request.modelA = 0;
    request.modelB = 1;
    auto curves = computeCurves(*m_far, nullptr, request);
    QVERIFY(curves.ok());
    const std::size_t mid = curves->x.size() / 2;
    // lerp cuts the chord and shrinks the norm; slerp follows the arc and keeps it.
    const double lerp = curves->find("lerp_norm_ratio")->y[mid];
    const double slerp = curves->find("slerp_norm_ratio")->y[mid];
    QVERIFY2(lerp < 1.0 - 1e-4, qPrintable(QString::number(lerp)));
    QVERIFY2(slerp > lerp, qPrintable(QStringLiteral("%1 %2").arg(slerp).arg(lerp)));

    // The slerp recipe's t is marked when the curve runs between its two models.
    auto recipe =
        recipe::readRecipeFile(dataDir() / "cases" / "slerp-lerp-fallback" / "recipe.yml");
    QVERIFY(recipe.ok());
    auto marked = computeCurves(*m_f32, &*recipe, request);
    QVERIFY(marked.ok());
    QVERIFY(marked->current.has_value());
    QCOMPARE(*marked->current, 0.4);
}

void TestCurves::lambdaCurveThroughPreview()
{
    auto recipe = recipe::readRecipeFile(dataDir() / "cases" / "task_arithmetic" / "recipe.yml");
    QVERIFY(recipe.ok());
    CurveRequest request;
    request.variable = CurveVariable::Lambda;
    request.from = 0.0;
    request.to = 1.4;
    request.steps = 3; // 0, 0.7 (the recipe's λ), 1.4
    auto curves = computeCurves(*m_f32, &*recipe, request);
    QVERIFY2(curves.ok(), curves ? "" : curves.error().message.c_str());
    QVERIFY(curves->exact);
    QCOMPARE(curves->current.value(), 0.7);
    auto preview = computePreview(*m_f32, *recipe);
    QVERIFY(preview.ok());
    for (int t = 0; t < 3; ++t) {
        const std::string ft = m_f32->fineTuneLabel(t);
        const auto &r = curves->find("retention_" + ft)->y;
        QCOMPARE(r[0], 0.0);
        QVERIFY(close(r[1], preview->global.retention[std::size_t(t)], 1e-12));
        QVERIFY(close(r[2], 2.0 * preview->global.retention[std::size_t(t)], 1e-12));
        // At λ = 0 the merge is the base: the distance to each parent is its own ‖τ‖.
        const double own = std::sqrt(Gram::fromStats(m_f32->total).g(t, t));
        QVERIFY(close(curves->find("dist_" + ft)->y[0], own, 1e-12));
    }
    QVERIFY(
        close(curves->find("rel_perturbation")->y[1], preview->global.relativePerturbation, 1e-12));

    // linear has no lambda.
    auto linear = recipe::readRecipeFile(dataDir() / "cases" / "linear" / "recipe.yml");
    QVERIFY(linear.ok());
    auto bad = computeCurves(*m_f32, &*linear, request);
    QVERIFY(!bad.ok());
    QCOMPARE(bad.error().code, ErrorCode::InvalidArgument);
    QVERIFY(bad.error().message.find("lambda") != std::string::npos);
}

void TestCurves::weightCurveThroughPreview()
{
    auto recipe = recipe::readRecipeFile(dataDir() / "cases" / "task_arithmetic" / "recipe.yml");
    QVERIFY(recipe.ok());
    CurveRequest request;
    request.variable = CurveVariable::Weight;
    request.model = 3; // ft3, weight 0.6
    request.from = 0.0;
    request.to = 1.2;
    request.steps = 3;
    request.scope = "L2";
    auto curves = computeCurves(*m_f32, &*recipe, request);
    QVERIFY2(curves.ok(), curves ? "" : curves.error().message.c_str());
    QCOMPARE(curves->current.value(), 0.6);
    QCOMPARE(curves->scope, std::string("L2"));
    auto preview = computePreview(*m_f32, *recipe);
    QVERIFY(preview.ok());
    const PreviewRow *row = nullptr;
    for (const PreviewRow &r : preview->groups)
        if (r.label == "L2")
            row = &r;
    QVERIFY(row);
    const std::string ft1 = m_f32->fineTuneLabel(0);
    QVERIFY(close(curves->find("retention_" + ft1)->y[1], row->retention[0], 1e-12));
    QVERIFY(close(curves->find("cos_" + ft1)->y[1], row->cosine[0], 1e-12));
    // Linear in the weight (no normalize): the middle value is the mean of the ends.
    const auto &r = curves->find("retention_" + ft1)->y;
    QVERIFY(close(r[1], 0.5 * (r[0] + r[2]), 1e-12));
    // ft3 changes only MLPs of layers ≥ 2, so its weight moves ft1's retention in L2.
    QVERIFY(r[2] != r[0]);

    request.model = 0; // the base is not a weighted model of this recipe
    auto bad = computeCurves(*m_f32, &*recipe, request);
    QVERIFY(!bad.ok());
}

void TestCurves::densityProxies()
{
    CurveRequest request;
    request.variable = CurveVariable::Density;
    request.from = 0.05;
    request.to = 1.0;
    request.steps = 20;
    auto curves = computeCurves(*m_f32, nullptr, request);
    QVERIFY2(curves.ok(), curves ? "" : curves.error().message.c_str());
    QVERIFY(curves->exact); // the fixture tensors fit in the sample whole
    for (int t = 0; t < 3; ++t) {
        const std::string ft = m_f32->fineTuneLabel(t);
        const auto &mass = curves->find("kept_mass_" + ft)->y;
        const auto &energy = curves->find("kept_energy_" + ft)->y;
        QCOMPARE(mass.back(), 1.0);
        QCOMPARE(energy.back(), 1.0);
        for (std::size_t i = 1; i < mass.size(); ++i) {
            QVERIFY(mass[i] >= mass[i - 1]);
            QVERIFY(energy[i] >= mass[i] - 1e-12 || energy[i] >= energy[i - 1]);
        }
        // The top 5 % hold more than 5 % of the mass, and energy concentrates more.
        QVERIFY(mass.front() > 0.05);
        QVERIFY(energy.front() >= mass.front());
        // At d = 1 the disagreement is the snapshot's untrimmed TIES disagreement.
        const ModelAccum &acc = m_f32->total.models[std::size_t(t)];
        const double expected = double(acc.tiesDropped) / double(acc.count - acc.zeros);
        const double got = curves->find("sign_disagreement_" + ft)->y.back();
        QVERIFY2(std::fabs(got - expected) < 1e-4,
                 qPrintable(QStringLiteral("%1 vs %2").arg(got).arg(expected)));
    }
    const auto &inflation = curves->find("dare_inflation")->y;
    QCOMPARE(inflation.back(), 1.0);
    QVERIFY(close(inflation.front(), 1.0 / std::sqrt(0.05), 1e-15));

    // A partial sample marks the curve as an estimate.
    auto small = analyseFamily("f32", 256);
    auto estimated = computeCurves(*small, nullptr, request);
    QVERIFY(estimated.ok());
    QVERIFY(!estimated->exact);
    QCOMPARE(estimated->sampleSize, std::uint64_t(256));
    QCOMPARE(estimated->find("kept_mass_" + m_f32->fineTuneLabel(0))->y.back(), 1.0);
}

void TestCurves::csvAndErrors()
{
    CurveRequest request;
    request.steps = 4;
    auto curves = computeCurves(*m_f32, nullptr, request);
    QVERIFY(curves.ok());
    const QString csv = QString::fromStdString(curvesCsv(*curves));
    const QStringList lines = csv.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 5);
    QVERIFY(lines.front().startsWith(QStringLiteral("x,lerp_norm_ratio,")));
    QCOMPARE(lines.front().count(QLatin1Char(',')), 10);
    QVERIFY(lines.at(1).startsWith(QStringLiteral("0,1,1,")));

    request.steps = 1;
    auto r = computeCurves(*m_f32, nullptr, request);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::InvalidArgument);
    request.steps = 5;
    request.scope = "L99";
    r = computeCurves(*m_f32, nullptr, request);
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.find("L99") != std::string::npos);
    request.scope.clear();
    request.modelB = 7;
    QVERIFY(!computeCurves(*m_f32, nullptr, request).ok());
    request.modelB = 1;
    request.variable = CurveVariable::Lambda;
    QVERIFY(!computeCurves(*m_f32, nullptr, request).ok()); // no recipe
    QCOMPARE(parseCurveVariable("lambda"), std::optional(CurveVariable::Lambda));
    QVERIFY(!parseCurveVariable("loss"));
}

QTEST_GUILESS_MAIN(TestCurves)
#include "tst_curves.moc"
