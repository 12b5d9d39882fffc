// SPDX-License-Identifier: GPL-3.0-or-later
// Every golden case merged through the engine matches expected/ within the tolerance of
// tests/data/README.md, and expected/config.json's torch_dtype and num_hidden_layers.
#include "enginetest.h"

#include <QTemporaryDir>

#include <nlohmann/json.hpp>

using namespace basin;
using namespace basin::test;

class TestMergeGolden : public QObject {
    Q_OBJECT

private slots:
    void cases_data();
    void cases();
    void streamedEqualsWhole_data();
    void streamedEqualsWhole();
    void decodeAheadEqualsDecodeHere_data();
    void decodeAheadEqualsDecodeHere();

private:
    // Merges golden case `name` with the default options and with `other`: same tensor bytes.
    static void sameBytesAs(const QString &name, const engine::MergeOptions &other);
};

void TestMergeGolden::sameBytesAs(const QString &name, const engine::MergeOptions &other)
{
    Result<recipe::Recipe> recipe = readCase(name.toStdString());
    QVERIFY(recipe.ok());
    QTemporaryDir temp;
    QVERIFY(runRecipe(*recipe, toPath(temp.path()) / "default").ok());
    QVERIFY(runRecipe(*recipe, toPath(temp.path()) / "other", other).ok());
    const std::string bytes = tensorBytes(toPath(temp.path()) / "default");
    QVERIFY(bytes.size() > 1000);
    QVERIFY(bytes == tensorBytes(toPath(temp.path()) / "other"));
}

void TestMergeGolden::cases_data()
{
    QTest::addColumn<QString>("name");
    const std::vector<std::string> all = goldenCases();
    QCOMPARE(all.size(), std::size_t(22));
    for (const std::string &name : all)
        QTest::newRow(name.c_str()) << QString::fromStdString(name);
}

void TestMergeGolden::cases()
{
    QFETCH(QString, name);
    const std::string caseName = name.toStdString();
    Result<recipe::Recipe> recipe = readCase(caseName);
    QVERIFY2(recipe.ok(), recipe.ok() ? "" : recipe.error().message.c_str());
    QTemporaryDir temp;
    QVERIFY(temp.isValid());
    const fs::path out = toPath(temp.path()) / "merged";
    Result<engine::MergeReport> report = runRecipe(*recipe, out);
    QVERIFY2(report.ok(), report.ok() ? "" : report.error().message.c_str());

    auto ours = Checkpoint::open(out);
    QVERIFY2(ours.ok(), ours.ok() ? "" : ours.error().message.c_str());
    auto expected = Checkpoint::open(caseDir(caseName) / "expected" / "model.safetensors");
    QVERIFY(expected.ok());
    const auto ourTensors = readAll(**ours);
    const auto expectedTensors = readAll(**expected);
    QCOMPARE(ourTensors.size(), expectedTensors.size());
    for (const auto &[tensorName, want] : expectedTensors) {
        const auto it = ourTensors.find(tensorName);
        QVERIFY2(it != ourTensors.end(), tensorName.c_str());
        const RawTensor &got = it->second;
        QCOMPARE(dtypeName(got.dtype), dtypeName(want.dtype));
        QCOMPARE(got.shape, want.shape);
        const std::vector<float> a = toFloats(got);
        const std::vector<float> b = toFloats(want);
        QCOMPARE(a.size(), b.size());
        if (want.dtype == Dtype::F32) {
            double maxExpected = 0.0;
            double maxDiff = 0.0;
            for (std::size_t i = 0; i < b.size(); ++i) {
                maxExpected = std::max(maxExpected, std::fabs(double(b[i])));
                maxDiff = std::max(maxDiff, std::fabs(double(a[i]) - double(b[i])));
            }
            const std::string message = tensorName + ": max diff " + std::to_string(maxDiff) +
                                        " vs max |expected| " + std::to_string(maxExpected);
            QVERIFY2(maxDiff <= 1e-6 * maxExpected, message.c_str());
        } else {
            QCOMPARE(want.dtype, Dtype::BF16);
            std::size_t identical = 0;
            for (std::size_t i = 0; i < b.size(); ++i) {
                std::uint16_t x = 0, y = 0;
                std::memcpy(&x, got.bytes.data() + 2 * i, 2);
                std::memcpy(&y, want.bytes.data() + 2 * i, 2);
                if (x == y) {
                    ++identical;
                    continue;
                }
                // One bf16 ulp: adjacent codes of the same sign.
                const std::string message =
                    tensorName + "[" + std::to_string(i) + "]: more than one ulp apart";
                QVERIFY2((x ^ y) < 0x8000 && (x > y ? x - y : y - x) == 1, message.c_str());
            }
            const std::string message = tensorName + ": " + std::to_string(identical) + " of " +
                                        std::to_string(b.size()) + " bit-identical";
            QVERIFY2(double(identical) >= 0.999 * double(b.size()), message.c_str());
        }
    }

    const auto config = nlohmann::json::parse(readText(out / "config.json"));
    const auto want =
        nlohmann::json::parse(readText(caseDir(caseName) / "expected" / "config.json"));
    QCOMPARE(config.at("torch_dtype").dump(), want.at("torch_dtype").dump());
    QCOMPARE(config.at("num_hidden_layers").dump(), want.at("num_hidden_layers").dump());
    QCOMPARE(report->tensors.size(), expectedTensors.size());
}

void TestMergeGolden::streamedEqualsWhole_data()
{
    QTest::addColumn<QString>("name");
    // The element-wise methods, which the engine streams in chunks.
    for (const char *name : {"linear", "linear-gradient-filter", "linear-slices", "task_arithmetic",
                             "task_arithmetic-negation", "task_arithmetic-bf16", "nearswap",
                             "passthrough-frankenmerge"})
        QTest::newRow(name) << QString::fromLatin1(name);
}

void TestMergeGolden::streamedEqualsWhole()
{
    QFETCH(QString, name);
    engine::MergeOptions whole;
    whole.streamElementwise = false;
    sameBytesAs(name, whole);
}

void TestMergeGolden::decodeAheadEqualsDecodeHere_data()
{
    QTest::addColumn<QString>("name");
    // Whole-tensor methods: inputs decoded on the prefetch thread or by the engine's team.
    for (const char *name : {"ties", "ties-rescale-bf16", "breadcrumbs", "slerp-gradient",
                             "model_stock-filter_wise", "nuslerp-base-rowwise", "karcher", "sce"})
        QTest::newRow(name) << QString::fromLatin1(name);
}

void TestMergeGolden::decodeAheadEqualsDecodeHere()
{
    QFETCH(QString, name);
    engine::MergeOptions ahead;
    ahead.decodeAhead = true;
    ahead.prefetchBytes = 64 * 1024; // a queue a few fixture tensors long
    sameBytesAs(name, ahead);
}

QTEST_GUILESS_MAIN(TestMergeGolden)
#include "tst_mergegolden.moc"
