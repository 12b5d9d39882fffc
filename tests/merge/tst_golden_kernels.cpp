// SPDX-License-Identifier: GPL-3.0-or-later
// The kernels against the golden fixtures (tests/data/cases), tensor by tensor, for the
// cases whose recipes are a plain models: list with scalar parameters. Parameters are
// written out here as the recipes state them, so this checks the kernels alone; recipe
// parsing, gradients and slices are the engine's end-to-end test.
#include "merge/method.h"
#include "model/checkpoint.h"

#include <QtTest>

#include <bit>
#include <cmath>
#include <fstream>
#include <sstream>

using namespace basin;
using namespace basin::merge;

namespace {

struct ModelSpec {
    QString name; // ft1, ft2, ft3 or base
    QList<QPair<QString, double>> params;
};

struct Case {
    QString method;
    QString family;
    bool base = true; // base_model: set
    QList<ModelSpec> models;
    QList<QPair<QString, double>> global;
    bool bf16Output = false;
};

QString dataDir()
{
    return QStringLiteral(BASIN_TEST_DATA_DIR);
}

std::shared_ptr<const Checkpoint> openModel(const QString &path)
{
    auto opened = Checkpoint::open(path.toStdString());
    if (!opened.ok())
        qFatal("cannot open %s: %s", qPrintable(path), opened.error().message.c_str());
    return opened.value();
}

std::vector<float> readTensor(const Checkpoint &checkpoint, const TensorInfo &info)
{
    std::vector<float> values(info.numel);
    const auto read = checkpoint.readF32(info, values);
    if (!read.ok())
        qFatal("cannot read %s: %s", info.name.c_str(), read.error().message.c_str());
    return values;
}

std::uint16_t toBf16(float value)
{
    const auto bits = std::bit_cast<std::uint32_t>(value);
    return static_cast<std::uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

ModelSpec model(const char *name, std::initializer_list<QPair<QString, double>> params = {})
{
    return {QString::fromLatin1(name), params};
}

QPair<QString, double> p(const char *name, double value)
{
    return {QString::fromLatin1(name), value};
}

// The simple cases, parameters as their recipe.yml states them.
const QList<QPair<QString, Case>> &goldenCases()
{
    static const QList<QPair<QString, Case>> cases = {
        {QStringLiteral("linear"),
         {QStringLiteral("linear"),
          QStringLiteral("f32"),
          false,
          {model("ft1", {p("weight", 0.5)}), model("ft2", {p("weight", 0.3)}),
           model("ft3", {p("weight", 0.2)})},
          {}}},
        {QStringLiteral("task_arithmetic"),
         {QStringLiteral("task_arithmetic"),
          QStringLiteral("f32"),
          true,
          {model("ft1", {p("weight", 1.0)}), model("ft2", {p("weight", 1.0)}),
           model("ft3", {p("weight", 0.6)})},
          {p("lambda", 0.7)}}},
        {QStringLiteral("task_arithmetic-negation"),
         {QStringLiteral("task_arithmetic"),
          QStringLiteral("f32"),
          true,
          {model("ft1", {p("weight", 1.0)}), model("ft2", {p("weight", -0.5)})},
          {p("normalize", 1)}}},
        {QStringLiteral("task_arithmetic-bf16"),
         {QStringLiteral("task_arithmetic"),
          QStringLiteral("bf16"),
          true,
          {model("ft1", {p("weight", 0.5)}), model("ft2", {p("weight", 0.5)}),
           model("ft3", {p("weight", 0.5)})},
          {},
          true}},
        {QStringLiteral("ties"),
         {QStringLiteral("ties"),
          QStringLiteral("f32"),
          true,
          {model("ft1", {p("weight", 1.0), p("density", 0.5)}),
           model("ft2", {p("weight", 0.8), p("density", 0.3)}),
           model("ft3", {p("weight", 0.5), p("density", 0.7)})},
          {p("normalize", 1), p("int8_mask", 1)}}},
        {QStringLiteral("ties-rescale-bf16"),
         {QStringLiteral("ties"),
          QStringLiteral("bf16"),
          true,
          {model("ft1", {p("weight", 0.7), p("density", 0.4)}),
           model("ft2", {p("weight", 0.6), p("density", 0.6)}),
           model("ft3", {p("weight", 0.9), p("density", 0.5)})},
          {p("normalize", 1), p("rescale", 1)},
          true}},
        {QStringLiteral("breadcrumbs"),
         {QStringLiteral("breadcrumbs"),
          QStringLiteral("f32"),
          true,
          {model("ft1", {p("weight", 1.0), p("density", 0.8), p("gamma", 0.05)}),
           model("ft2", {p("weight", 0.7), p("density", 0.6), p("gamma", 0.02)})},
          {}}},
        {QStringLiteral("breadcrumbs_ties"),
         {QStringLiteral("breadcrumbs_ties"),
          QStringLiteral("f32"),
          true,
          {model("ft1", {p("weight", 1.0), p("density", 0.8), p("gamma", 0.05)}),
           model("ft2", {p("weight", 0.7), p("density", 0.6), p("gamma", 0.02)}),
           model("ft3", {p("weight", 0.4), p("density", 0.9), p("gamma", 0.01)})},
          {p("normalize", 1)}}},
        {QStringLiteral("slerp-lerp-fallback"),
         {QStringLiteral("slerp"), QStringLiteral("f32"), true, {model("ft1")}, {p("t", 0.4)}}},
        {QStringLiteral("nuslerp"),
         {QStringLiteral("nuslerp"),
          QStringLiteral("far"),
          false,
          {model("ft1", {p("weight", 0.3)}), model("ft2", {p("weight", 0.7)})},
          {}}},
        {QStringLiteral("nuslerp-base-rowwise"),
         {QStringLiteral("nuslerp"),
          QStringLiteral("far"),
          true,
          {model("ft1", {p("weight", 0.6)}), model("ft3", {p("weight", 0.4)})},
          {p("nuslerp_flatten", 0), p("nuslerp_row_wise", 1)}}},
        {QStringLiteral("multislerp"),
         {QStringLiteral("multislerp"),
          QStringLiteral("far"),
          true,
          {model("ft1", {p("weight", 0.5)}), model("ft2", {p("weight", 0.3)}),
           model("ft3", {p("weight", 0.2)})},
          {}}},
        {QStringLiteral("karcher"),
         {QStringLiteral("karcher"),
          QStringLiteral("far"),
          false,
          {model("ft1"), model("ft2"), model("ft3")},
          {p("max_iter", 20), p("tol", 1e-6)}}},
        {QStringLiteral("model_stock"),
         {QStringLiteral("model_stock"),
          QStringLiteral("far"),
          true,
          {model("ft1"), model("ft2"), model("ft3")},
          {}}},
        {QStringLiteral("model_stock-filter_wise"),
         {QStringLiteral("model_stock"),
          QStringLiteral("far"),
          true,
          {model("ft1"), model("ft3")},
          {p("filter_wise", 1)}}},
        {QStringLiteral("sce"),
         {QStringLiteral("sce"),
          QStringLiteral("far"),
          true,
          {model("ft1"), model("ft2"), model("ft3")},
          {p("select_topk", 0.5)}}},
        {QStringLiteral("nearswap"),
         {QStringLiteral("nearswap"), QStringLiteral("far"), true, {model("ft2")}, {p("t", 0.05)}}},
    };
    return cases;
}

} // namespace

class TestGoldenKernels : public QObject {
    Q_OBJECT

private slots:
    void golden_data();
    void golden();
};

void TestGoldenKernels::golden_data()
{
    QTest::addColumn<QString>("caseName");
    QTest::addColumn<int>("index");

    const auto &cases = goldenCases();
    for (int i = 0; i < cases.size(); ++i)
        QTest::newRow(qPrintable(cases[i].first)) << cases[i].first << i;
}

void TestGoldenKernels::golden()
{
    QFETCH(QString, caseName);
    QFETCH(int, index);
    const Case &c = goldenCases()[index].second;
    const QString caseDir = dataDir() + QStringLiteral("/cases/") + caseName;

    // The recipe must still be the one written out above.
    std::ifstream recipeFile((caseDir + QStringLiteral("/recipe.yml")).toStdString());
    QVERIFY(recipeFile.good());
    std::stringstream recipe;
    recipe << recipeFile.rdbuf();
    QVERIFY(recipe.str().find("merge_method: " + c.method.toStdString()) != std::string::npos);

    const MethodDecl *method = findMethod(c.method.toStdString());
    QVERIFY(method != nullptr);
    const QString familyDir = dataDir() + QStringLiteral("/families/") + c.family;
    auto base = openModel(familyDir + QStringLiteral("/base"));
    std::vector<std::shared_ptr<const Checkpoint>> inputs;
    for (const auto &spec : c.models)
        inputs.push_back(openModel(familyDir + QLatin1Char('/') + spec.name));
    auto expected = openModel(caseDir + QStringLiteral("/expected"));

    int checked = 0;
    for (const TensorInfo &info : expected->tensors()) {
        const TensorInfo *baseInfo = base->find(info.name);
        QVERIFY2(baseInfo != nullptr, info.name.c_str());
        const std::vector<float> baseValues = readTensor(*base, *baseInfo);
        std::vector<std::vector<float>> values;
        for (const auto &input : inputs) {
            const TensorInfo *inputInfo = input->find(info.name);
            QVERIFY2(inputInfo != nullptr && inputInfo->shape == info.shape, info.name.c_str());
            values.push_back(readTensor(*input, *inputInfo));
        }

        TensorJob job;
        job.tensorName = info.name;
        job.shape = info.shape;
        job.numel = info.numel;
        job.base = method->base == BaseRule::AsInput ? nullptr
                   : c.base                          ? baseValues.data()
                                                     : nullptr;
        for (int m = 0; m < c.models.size(); ++m) {
            ModelInput input;
            input.data = values[static_cast<std::size_t>(m)].data();
            input.modelIndex = m;
            input.label = c.models[m].name.toStdString();
            for (const auto &param : c.models[m].params)
                input.params.set(param.first.toStdString(), param.second);
            job.models.push_back(std::move(input));
        }
        for (const auto &param : c.global)
            job.global.set(param.first.toStdString(), param.second);

        std::vector<float> out(info.numel);
        TensorNotes notes;
        const auto merged = method->kernel(job, out, notes);
        QVERIFY2(merged.ok(), merged.ok() ? "" : merged.error().message.c_str());
        const std::vector<float> want = readTensor(*expected, info);

        if (c.bf16Output) {
            std::uint64_t identical = 0;
            for (std::uint64_t i = 0; i < info.numel; ++i) {
                const int ours = toBf16(out[i]);
                const int theirs = toBf16(want[i]);
                identical += ours == theirs ? 1 : 0;
                QVERIFY2(std::abs(ours - theirs) <= 1,
                         qPrintable(QStringLiteral("%1[%2]: %3 vs %4")
                                        .arg(QString::fromStdString(info.name))
                                        .arg(i)
                                        .arg(out[i])
                                        .arg(want[i])));
            }
            QVERIFY2(static_cast<double>(identical) >= 0.999 * static_cast<double>(info.numel),
                     info.name.c_str());
        } else {
            double largest = 0.0;
            double worst = 0.0;
            std::uint64_t worstAt = 0;
            for (std::uint64_t i = 0; i < info.numel; ++i) {
                largest = std::max(largest, std::fabs(static_cast<double>(want[i])));
                const double error = std::fabs(static_cast<double>(out[i]) - want[i]);
                if (error > worst) {
                    worst = error;
                    worstAt = i;
                }
            }
            QVERIFY2(worst <= 1e-6 * largest,
                     qPrintable(QStringLiteral("%1: max error %2 at %3 (ours %4, expected %5), "
                                               "max |expected| %6")
                                    .arg(QString::fromStdString(info.name))
                                    .arg(worst)
                                    .arg(worstAt)
                                    .arg(out[worstAt])
                                    .arg(want[worstAt])
                                    .arg(largest)));
        }
        ++checked;
    }
    QVERIFY(checked > 30);
}

QTEST_GUILESS_MAIN(TestGoldenKernels)
#include "tst_golden_kernels.moc"
