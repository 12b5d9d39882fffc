// SPDX-License-Identifier: GPL-3.0-or-later
// Interpolation curves: exact endpoints equal to the parents' statistics, lerp = slerp where
// slerp falls back, λ and weight curves through the current preview, density proxies.
#include "analysis/analysispass.h"
#include "analysis/curves.h"
#include "analysis/curvesrecipe.h"
#include "fixturesnapshot.h"
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
    void weightCurveKeepsPerLayerWeights_data();
    void weightCurveKeepsPerLayerWeights();
    void weightCurveOnSlices();
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

// Multiplies every value of one models: entry's weight setting (a gradient or a filtered
// list) by x, written out independently of the code under test.
static void scaleEntryWeight(recipe::Recipe &r, std::size_t entry, double x)
{
    recipe::Parameters &params = r.models[entry].parameters;
    for (recipe::Parameter &p : params) {
        if (p.name != "weight")
            continue;
        auto scale = [x](recipe::Value &v) {
            v.number *= x;
            for (double &a : v.anchors)
                a *= x;
        };
        if (p.setting.isFiltered()) {
            for (recipe::FilterRule &rule : p.setting.rules())
                scale(rule.value);
        } else {
            scale(p.setting.value());
        }
    }
}

void TestCurves::weightCurveKeepsPerLayerWeights_data()
{
    QTest::addColumn<QString>("caseName");
    QTest::addColumn<int>("entry"); // the models: entry whose weight varies
    QTest::addColumn<QString>("scope");
    QTest::addColumn<double>("tolerance");
    // ft1: filtered gradients (self_attn [0.1, 0.9], mlp [0.8, 0.5, 0.2], else 0.5); ft2 keeps
    // its gradient [0, 0.5, 0.3, 0.7, 1]. Exact (Gram cache).
    QTest::newRow("linear filtered gradient, ft1, global")
        << "linear-gradient-filter" << 0 << "" << 1e-12;
    QTest::newRow("linear filtered gradient, ft1, L1")
        << "linear-gradient-filter" << 0 << "L1" << 1e-12;
    QTest::newRow("linear plain gradient, ft2, L3")
        << "linear-gradient-filter" << 1 << "L3" << 1e-12;
    // ties on the sample cache (whole fixture tensors): ft2's gradient [0, 0.3, 0.7, 1].
    QTest::newRow("ties gradient, ft2, global") << "ties-gradient" << 1 << "" << 1e-12;
}

void TestCurves::weightCurveKeepsPerLayerWeights()
{
    QFETCH(QString, caseName);
    QFETCH(int, entry);
    QFETCH(QString, scope);
    QFETCH(double, tolerance);
    auto recipe =
        recipe::readRecipeFile(dataDir() / "cases" / caseName.toStdString() / "recipe.yml");
    QVERIFY(recipe.ok());
    const int model = snapshotModelIndex(*m_f32, recipe->models[std::size_t(entry)].model);
    QVERIFY(model > 0);
    CurveRequest request;
    request.variable = CurveVariable::Weight;
    request.model = model;
    // (x = 0 would zero ft1 where ft2's gradient is 0 too: normalize cannot divide there.)
    request.from = 0.5;
    request.to = 2.5;
    request.steps = 5; // 0.5, 1 (the recipe), 1.5, 2, 2.5
    request.scope = scope.toStdString();
    auto curves = computeCurves(*m_f32, &*recipe, request);
    QVERIFY2(curves.ok(), curves ? "" : curves.error().message.c_str());
    // The weight is not one number: x scales the model's per-layer weights, 1 = the recipe.
    QCOMPARE(curves->current.value(), 1.0);
    QVERIFY(QString::fromStdString(curves->xTitle).contains(QStringLiteral("scaled")));

    auto rowOf = [&](const Preview &p) -> const PreviewRow & {
        for (const PreviewRow &r : p.groups)
            if (r.label == request.scope)
                return r;
        return p.global;
    };
    auto check = [&](std::size_t step, const recipe::Recipe &expected) {
        auto preview = computePreview(*m_f32, expected);
        QVERIFY2(preview.ok(), preview ? "" : preview.error().message.c_str());
        const PreviewRow &row = rowOf(*preview);
        for (int t = 0; t < m_f32->fineTunes(); ++t) {
            const std::string ft = m_f32->fineTuneLabel(t);
            const auto ts = std::size_t(t);
            const double got = curves->find("retention_" + ft)->y[step];
            QVERIFY2(close(got, row.retention[ts], tolerance) ||
                         (std::isnan(got) && std::isnan(row.retention[ts])),
                     qPrintable(QStringLiteral("x %1 retention %2: %3 vs %4")
                                    .arg(curves->x[step])
                                    .arg(QString::fromStdString(ft))
                                    .arg(got, 0, 'g', 17)
                                    .arg(row.retention[ts], 0, 'g', 17)));
            QVERIFY(close(curves->find("dist_" + ft)->y[step], row.distance[ts], tolerance));
        }
        QVERIFY(
            close(curves->find("rel_perturbation")->y[step], row.relativePerturbation, tolerance));
    };
    // The current value is the recipe itself.
    check(1, *recipe);
    // x = 2: this model's per-layer weights doubled, every other model's untouched.
    recipe::Recipe doubled = *recipe;
    scaleEntryWeight(doubled, std::size_t(entry), 2.0);
    check(3, doubled);
    recipe::Recipe half = *recipe;
    scaleEntryWeight(half, std::size_t(entry), 0.5);
    check(0, half);
    // recipeAt (what an evaluator merges) is the same recipe as the curve's point.
    auto candidate = recipeAt(*m_f32, &*recipe, request, 2.0);
    QVERIFY(candidate.ok());
    check(3, *candidate);
    // Setting one scalar weight (the old behaviour) would be a different merge (globally; a
    // single layer may happen to have the weight 1 there).
    if (!request.scope.empty())
        return;
    recipe::Recipe scalar = *recipe;
    recipe::setParameter(scalar.models[std::size_t(entry)].parameters, "weight",
                         recipe::Setting(recipe::Value::makeNumber(2.0)));
    auto flat = computePreview(*m_f32, scalar);
    QVERIFY(flat.ok());
    QVERIFY(
        !close(curves->find("rel_perturbation")->y[3], rowOf(*flat).relativePerturbation, 1e-6));
}

void TestCurves::weightCurveOnSlices()
{
    // In-place slices (every source reads its own layers): ft1's weight differs per slice, so
    // x scales it in both slices; ft2 keeps its gradient and ft3 its value.
    auto sliced = [](const char *ft1a, const char *ft1b) {
        return std::string("slices:\n"
                           "  - sources:\n"
                           "      - model: ft1\n"
                           "        layer_range: [0, 2]\n"
                           "        parameters: {weight: ") +
               ft1a +
               "}\n"
               "      - model: ft2\n"
               "        layer_range: [0, 2]\n"
               "        parameters: {weight: [0.2, 0.8]}\n"
               "  - sources:\n"
               "      - model: ft1\n"
               "        layer_range: [2, 4]\n"
               "        parameters: {weight: " +
               ft1b +
               "}\n"
               "      - model: ft3\n"
               "        layer_range: [2, 4]\n"
               "        parameters: {weight: 0.5}\n"
               "merge_method: linear\n"
               "parameters: {normalize: false}\n"
               "dtype: float32\n";
    };
    const fs::path dir = dataDir() / "families" / "f32";
    auto recipe = recipe::readRecipeString(sliced("0.3", "[0.7, 0.1]"), dir);
    QVERIFY2(recipe.ok(), recipe ? "" : recipe.error().message.c_str());
    auto doubled = recipe::readRecipeString(sliced("0.6", "[1.4, 0.2]"), dir);
    QVERIFY(doubled.ok());
    CurveRequest request;
    request.variable = CurveVariable::Weight;
    request.model = 1;
    request.from = 0.0;
    request.to = 2.0;
    request.steps = 3;
    auto curves = computeCurves(*m_f32, &*recipe, request);
    QVERIFY2(curves.ok(), curves ? "" : curves.error().message.c_str());
    QCOMPARE(curves->current.value(), 1.0);
    auto same = computePreview(*m_f32, *recipe);
    auto twice = computePreview(*m_f32, *doubled);
    QVERIFY2(same.ok() && twice.ok(), same ? "" : same.error().message.c_str());
    for (int t = 0; t < m_f32->fineTunes(); ++t) {
        const std::string ft = m_f32->fineTuneLabel(t);
        const auto &r = curves->find("retention_" + ft)->y;
        QVERIFY(close(r[1], same->global.retention[std::size_t(t)], 1e-12));
        QVERIFY(close(r[2], twice->global.retention[std::size_t(t)], 1e-12));
    }
    auto candidate = recipeAt(*m_f32, &*recipe, request, 2.0);
    QVERIFY(candidate.ok());
    auto merged = computePreview(*m_f32, *candidate);
    QVERIFY(merged.ok());
    QVERIFY(close(merged->global.mergedNorm, twice->global.mergedNorm, 1e-12));

    // The same plain weight in every slice: x is that weight.
    auto plain = recipe::readRecipeString(sliced("0.4", "0.4"), dir);
    QVERIFY(plain.ok());
    auto axis = weightAxis(*m_f32, *plain, 1);
    QVERIFY(axis.ok());
    QVERIFY(!axis->scaled);
    QCOMPARE(axis->current.value(), 0.4);
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
