// SPDX-License-Identifier: GPL-3.0-or-later
// The same recipe and seed give byte-identical outputs whatever the thread count; the seed of
// the random methods (dare, della) changes the output and nothing else does.
#include "enginetest.h"

#include "model/demofamily.h"

#include <QTemporaryDir>

using namespace basin;
using namespace basin::test;

namespace {

// The golden fixtures are too small for the kernels to go parallel (they stay on one thread
// below 2^17 elements); a generated family with 0.5M-element tensors makes them.
fs::path g_demo;

std::string recipeText(const std::string &method, const std::string &family,
                       const std::string &extra = {})
{
    const std::string f =
        family == "demo" ? (g_demo / "").string() : familyDir(family, "").string();
    const bool della = method.starts_with("della");
    const std::string params = della ? "density: 0.5, epsilon: 0.1" : "density: 0.5";
    return "models:\n"
           "  - model: " +
           f + "ft1\n    parameters: {weight: 0.6, " + params +
           "}\n"
           "  - model: " +
           f + "ft2\n    parameters: {weight: 0.5, " + params +
           "}\n"
           "  - model: " +
           f + "ft3\n    parameters: {weight: 0.4, " + params +
           "}\n"
           "merge_method: " +
           method + "\nbase_model: " + f + "base\n" + extra;
}

} // namespace

class TestMergeDeterminism : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void threadCountIndependent_data();
    void threadCountIndependent();
    void seedDecides_data();
    void seedDecides();
    void recipeSeedAndDefault();

private:
    QTemporaryDir m_temp;
};

void TestMergeDeterminism::initTestCase()
{
    QVERIFY(m_temp.isValid());
    DemoFamilyOptions options;
    options.layers = 2;
    options.hidden = 512;
    options.intermediate = 768;
    options.vocab = 512;
    options.dtype = Dtype::BF16;
    options.relativeScale = 0.05;
    g_demo = toPath(m_temp.path()) / "demo";
    auto family = writeDemoFamily(g_demo, options);
    QVERIFY2(family.ok(), family.ok() ? "" : family.error().message.c_str());
}

void TestMergeDeterminism::threadCountIndependent_data()
{
    QTest::addColumn<QString>("method");
    QTest::addColumn<QString>("family");
    QTest::newRow("dare_ties f32") << "dare_ties"
                                   << "f32";
    QTest::newRow("dare_ties bf16") << "dare_ties"
                                    << "bf16";
    QTest::newRow("ties f32") << "ties"
                              << "f32";
    QTest::newRow("ties bf16") << "ties"
                               << "bf16";
    QTest::newRow("della bf16") << "della"
                                << "bf16";
    QTest::newRow("task_arithmetic (streamed) bf16") << "task_arithmetic"
                                                     << "bf16";
    QTest::newRow("dare_ties large") << "dare_ties"
                                     << "demo";
    QTest::newRow("ties large") << "ties"
                                << "demo";
    QTest::newRow("della large") << "della"
                                 << "demo";
    QTest::newRow("task_arithmetic (streamed) large") << "task_arithmetic"
                                                      << "demo";
}

void TestMergeDeterminism::threadCountIndependent()
{
    QFETCH(QString, method);
    QFETCH(QString, family);
    QTemporaryDir temp;
    const fs::path root = toPath(temp.path());
    auto recipe = recipeIn(root, recipeText(method.toStdString(), family.toStdString()));
    QVERIFY2(recipe.ok(), recipe.ok() ? "" : recipe.error().message.c_str());
    engine::MergeOptions one;
    one.threads = 1;
    one.seed = 42;
    engine::MergeOptions two = one;
    two.threads = 2;
    QVERIFY(runRecipe(*recipe, root / "t1", one).ok());
    QVERIFY(runRecipe(*recipe, root / "t2", two).ok());
    // Whole files, headers included: the bytes are the same.
    QCOMPARE(fileSha(root / "t1" / "model.safetensors"),
             fileSha(root / "t2" / "model.safetensors"));
}

void TestMergeDeterminism::seedDecides_data()
{
    QTest::addColumn<QString>("method");
    QTest::newRow("dare_ties") << "dare_ties";
    QTest::newRow("dare_linear") << "dare_linear";
    QTest::newRow("della") << "della";
    QTest::newRow("della_linear") << "della_linear";
}

void TestMergeDeterminism::seedDecides()
{
    QFETCH(QString, method);
    QTemporaryDir temp;
    const fs::path root = toPath(temp.path());
    auto recipe = recipeIn(root, recipeText(method.toStdString(), "f32"));
    QVERIFY2(recipe.ok(), recipe.ok() ? "" : recipe.error().message.c_str());
    engine::MergeOptions seed7;
    seed7.seed = 7;
    engine::MergeOptions seed8;
    seed8.seed = 8;
    QVERIFY(runRecipe(*recipe, root / "a", seed7).ok());
    QVERIFY(runRecipe(*recipe, root / "b", seed7).ok());
    QVERIFY(runRecipe(*recipe, root / "c", seed8).ok());
    const std::string a = tensorBytes(root / "a");
    QVERIFY(a.size() > 1000);
    QVERIFY(a == tensorBytes(root / "b"));
    QVERIFY(a != tensorBytes(root / "c"));
}

void TestMergeDeterminism::recipeSeedAndDefault()
{
    QTemporaryDir temp;
    const fs::path root = toPath(temp.path());
    fs::create_directories(root / "r1");
    fs::create_directories(root / "r2");
    auto withSeed = recipeIn(root / "r1", recipeText("dare_ties", "f32", "seed: 7\n"));
    auto without = recipeIn(root / "r2", recipeText("dare_ties", "f32"));
    QVERIFY(withSeed.ok() && without.ok());
    engine::MergeOptions seed7;
    seed7.seed = 7;
    engine::MergeOptions seed0;
    seed0.seed = 0;
    engine::MergeOptions override9;
    override9.seed = 9;
    QVERIFY(runRecipe(*withSeed, root / "recipe-seed").ok());
    QVERIFY(runRecipe(*without, root / "option-seed", seed7).ok());
    QVERIFY(runRecipe(*without, root / "default").ok());
    QVERIFY(runRecipe(*without, root / "zero", seed0).ok());
    QVERIFY(runRecipe(*withSeed, root / "override", override9).ok());
    QVERIFY(runRecipe(*without, root / "nine", override9).ok());
    // The recipe's seed is used; the option overrides it; no seed at all means 0.
    QVERIFY(tensorBytes(root / "recipe-seed") == tensorBytes(root / "option-seed"));
    QVERIFY(tensorBytes(root / "default") == tensorBytes(root / "zero"));
    QVERIFY(tensorBytes(root / "override") == tensorBytes(root / "nine"));
    QVERIFY(tensorBytes(root / "override") != tensorBytes(root / "recipe-seed"));
}

QTEST_GUILESS_MAIN(TestMergeDeterminism)
#include "tst_mergedeterminism.moc"
