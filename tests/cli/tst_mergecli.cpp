// SPDX-License-Identifier: GPL-3.0-or-later
// `basin merge` as a user runs it: golden cases through the binary, the dry run, usage
// errors (exit 2), failures (exit 1, message naming the cause), Ctrl-C (exit 130, nothing
// left), --overwrite, --out-shard-size, --threads, --seed, --quiet.
#include "../engine/enginetest.h"

#include <QProcess>
#include <QProcessEnvironment>
#include <QTemporaryDir>

#include <limits>

using namespace basin;
using namespace basin::test;

namespace {

struct Run {
    int exitCode = -1;
    QString out;
    QString err;
};

Run runBasin(const QStringList &args,
             const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment())
{
    QProcess process;
    process.setProcessEnvironment(env);
    process.start(QStringLiteral(BASIN_BINARY), QStringList{QStringLiteral("merge")} + args);
    Run run;
    if (!process.waitForFinished(120000))
        return run;
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -2;
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    run.err = QString::fromUtf8(process.readAllStandardError());
    return run;
}

QString q(const fs::path &path)
{
    return QString::fromStdString(path.string());
}

QString recipeOf(const char *name)
{
    return q(caseDir(name) / "recipe.yml");
}

std::size_t entryCount(const fs::path &folder)
{
    std::size_t count = 0;
    for ([[maybe_unused]] const auto &entry : fs::directory_iterator(folder))
        ++count;
    return count;
}

} // namespace

class TestMergeCli : public QObject {
    Q_OBJECT

private slots:
    void goldenThroughBinary_data();
    void goldenThroughBinary();
    void dryRun();
    void usageErrors_data();
    void usageErrors();
    void failures();
    void interrupted();
    void overwrite();
    void shardSizeOption();
    void threadsAndSeed();
    void progressLines();
};

void TestMergeCli::goldenThroughBinary_data()
{
    QTest::addColumn<QString>("name");
    QTest::newRow("ties-rescale-bf16") << "ties-rescale-bf16";
    QTest::newRow("linear-slices") << "linear-slices";
    QTest::newRow("slerp-gradient") << "slerp-gradient";
}

void TestMergeCli::goldenThroughBinary()
{
    // The binary and the engine API give the same bytes (the API is checked against
    // expected/ in tst_mergegolden), and the binary's output matches expected/ itself.
    QFETCH(QString, name);
    QTemporaryDir temp;
    const fs::path out = toPath(temp.path()) / "cli";
    const Run run = runBasin({recipeOf(qPrintable(name)), q(out), QStringLiteral("--quiet")});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    QVERIFY2(run.err.isEmpty(), qPrintable(run.err));
    QVERIFY(run.out.isEmpty());
    auto recipe = readCase(name.toStdString());
    QVERIFY(recipe.ok());
    QVERIFY(runRecipe(*recipe, toPath(temp.path()) / "api").ok());
    QVERIFY(tensorBytes(out) == tensorBytes(toPath(temp.path()) / "api"));
    auto expected =
        Checkpoint::open(caseDir(name.toStdString()) / "expected" / "model.safetensors");
    auto ours = Checkpoint::open(out);
    QVERIFY(expected.ok() && ours.ok());
    const auto want = readAll(**expected);
    const auto got = readAll(**ours);
    QCOMPARE(got.size(), want.size());
    for (const auto &[tensor, value] : want) {
        const std::vector<float> a = toFloats(got.at(tensor));
        const std::vector<float> b = toFloats(value);
        double maxDiff = 0.0, maxAbs = 0.0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            maxDiff = std::max(maxDiff, std::fabs(double(a[i]) - double(b[i])));
            maxAbs = std::max(maxAbs, std::fabs(double(b[i])));
        }
        // Within the golden tolerance (bf16: one ulp ≤ 2^-7 relative).
        const double tolerance = value.dtype == Dtype::BF16 ? maxAbs / 128.0 : 1e-6 * maxAbs;
        QVERIFY2(maxDiff <= tolerance, tensor.c_str());
    }
}

void TestMergeCli::dryRun()
{
    QTemporaryDir temp;
    const fs::path out = toPath(temp.path()) / "out";
    const Run run = runBasin({recipeOf("ties-rescale-bf16"), q(out), QStringLiteral("--dry-run"),
                              QStringLiteral("--out-shard-size"), QStringLiteral("20kB")});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains(QStringLiteral("Method: ties")), qPrintable(run.out));
    QVERIFY(run.out.contains(QStringLiteral("Output: 39 tensors, 90.7 kB (BF16), 5 files")));
    QVERIFY(run.out.contains(QStringLiteral("model-00001-of-00005.safetensors")));
    QVERIFY(run.out.contains(QStringLiteral("model.layers.3.mlp.up_proj.weight [64, 32] BF16 layer "
                                            "3 t=1 normalize=1 rescale=1 lambda=1")));
    QVERIFY(run.out.contains(QStringLiteral("| ../../families/bf16/ft1 weight=0.7 density=0.4 |")));
    QVERIFY(run.out.contains(QStringLiteral("Dry run: nothing was written")));
    QVERIFY(!fs::exists(out));
    QCOMPARE(entryCount(toPath(temp.path())), std::size_t(0));

    // Slices: input tensor names show where they differ from the output's.
    const Run slices =
        runBasin({recipeOf("passthrough-frankenmerge"), q(out), QStringLiteral("--dry-run")});
    QCOMPARE(slices.exitCode, 0);
    QVERIFY2(slices.out.contains(
                 QStringLiteral("model.layers.3.self_attn.o_proj.weight [32, 32] F32 layer 3 t=0")),
             qPrintable(slices.out));
    QVERIFY(
        slices.out.contains(QStringLiteral("[model.layers.1.self_attn.o_proj.weight] scale=0.5")));
    QVERIFY(slices.out.contains(QStringLiteral("Layers: 6")));
    QVERIFY(!fs::exists(out));

    // A dry run checks the destination like a real run.
    fs::create_directory(out);
    writeText(out / "keep.txt", "keep");
    const Run busy = runBasin({recipeOf("linear"), q(out), QStringLiteral("--dry-run")});
    QCOMPARE(busy.exitCode, 1);
    QVERIFY(busy.err.contains(QStringLiteral("not empty")));
}

void TestMergeCli::usageErrors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");
    const QString recipe = recipeOf("linear");
    const QString out = QStringLiteral("/nonexistent-basin-test/out");
    QTest::newRow("no arguments") << QStringList{} << "expected RECIPE.yml and OUT_DIR";
    QTest::newRow("one argument") << QStringList{recipe} << "expected RECIPE.yml and OUT_DIR";
    QTest::newRow("three arguments")
        << QStringList{recipe, out, out} << "expected RECIPE.yml and OUT_DIR";
    QTest::newRow("unknown option") << QStringList{recipe, out, QStringLiteral("--fast")} << "fast";
    QTest::newRow("bad shard size")
        << QStringList{recipe, out, QStringLiteral("--out-shard-size"), QStringLiteral("5XB")}
        << "unknown unit";
    QTest::newRow("zero shard size")
        << QStringList{recipe, out, QStringLiteral("--out-shard-size"), QStringLiteral("0")}
        << "at least one byte";
    QTest::newRow("zero threads") << QStringList{recipe, out, QStringLiteral("--threads"),
                                                 QStringLiteral("0")}
                                  << "--threads";
    QTest::newRow("text threads") << QStringList{recipe, out, QStringLiteral("--threads"),
                                                 QStringLiteral("many")}
                                  << "--threads";
    QTest::newRow("negative seed")
        << QStringList{recipe, out, QStringLiteral("--seed"), QStringLiteral("-1")} << "--seed";
    QTest::newRow("seed past 2^64") << QStringList{recipe, out, QStringLiteral("--seed"),
                                                   QStringLiteral("18446744073709551616")}
                                    << "--seed";
}

void TestMergeCli::usageErrors()
{
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    const Run run = runBasin(args);
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains(message), qPrintable(run.err));
    QVERIFY(run.out.isEmpty());
}

void TestMergeCli::failures()
{
    QTemporaryDir temp;
    const fs::path root = toPath(temp.path());
    struct Row {
        QStringList args;
        QString message;
    };
    writeText(root / "file", "x");
    fs::create_directory(root / "full");
    writeText(root / "full" / "keep.txt", "keep");
    writeText(root / "missing-model.yml", "models:\n  - model: ./no-such-model\n    parameters: "
                                          "{weight: 1.0}\nmerge_method: linear\n");
    writeText(root / "bad.yml",
              "models:\n  - model: " + familyDir("f32", "ft1").string() + "\nmerge_method: tie\n");
    QVERIFY(makeFamily(root / "nan", "f32", "ft1",
                       [](const std::string &name, auto &, std::vector<float> &values) {
                           if (name == "model.norm.weight")
                               values[3] = std::numeric_limits<float>::quiet_NaN();
                       }));
    // ft2 with a resized MLP tensor: slerp has no input left for it.
    QVERIFY(makeFamily(
        root / "resized", "f32", "ft2",
        [](const std::string &name, std::vector<std::uint64_t> &shape, std::vector<float> &values) {
            if (name == "model.layers.2.mlp.up_proj.weight") {
                shape[0] -= 4;
                values.resize(shape[0] * shape[1]);
            }
        }));
    writeText(root / "resized.yml", "models:\n  - model: resized/base\n  - model: resized/ft2\n"
                                    "merge_method: slerp\nbase_model: resized/base\n"
                                    "parameters: {t: 0.5}\n");
    writeText(root / "nan.yml",
              "models:\n  - model: nan/ft1\n    parameters: {weight: 0.5}\n"
              "  - model: nan/ft2\n    parameters: {weight: 0.5}\nmerge_method: linear\n");
    const Row rows[] = {
        {{recipeOf("linear"), q(root / "full")}, QStringLiteral("not empty")},
        {{recipeOf("linear"), q(root / "file" / "out")}, QStringLiteral("is not a folder")},
        {{recipeOf("linear"), q(root / "nowhere" / "out")}, QStringLiteral("does not exist")},
        {{q(root / "missing-model.yml"), q(root / "out")}, QStringLiteral("no-such-model")},
        {{q(root / "bad.yml"), q(root / "out")}, QStringLiteral("did you mean ties?")},
        {{q(root / "absent.yml"), q(root / "out")}, QStringLiteral("absent.yml")},
        {{q(root / "nan.yml"), q(root / "out")}, QStringLiteral("model.norm.weight")},
        {{q(root / "resized.yml"), q(root / "out")},
         QStringLiteral("model.layers.2.mlp.up_proj.weight: slerp needs at least 1 input")},
    };
    for (const Row &row : rows) {
        const Run run = runBasin(row.args);
        QVERIFY2(run.exitCode == 1,
                 qPrintable(row.args.join(QLatin1Char(' ')) + QStringLiteral(": ") + run.err));
        QVERIFY2(run.err.startsWith(QStringLiteral("basin merge: ")), qPrintable(run.err));
        QVERIFY2(run.err.contains(row.message), qPrintable(run.err));
        QVERIFY(!fs::exists(root / "out"));
    }
    // NaN allowed: merged, with a warning on stderr.
    const Run allowed = runBasin({q(root / "nan.yml"), q(root / "out"),
                                  QStringLiteral("--allow-nan"), QStringLiteral("--quiet")});
    QVERIFY2(allowed.exitCode == 0, qPrintable(allowed.err));
    QVERIFY(allowed.err.contains(QStringLiteral("warning: 1 NaN value in the inputs were merged")));
    QCOMPARE(readText(root / "full" / "keep.txt"), std::string("keep"));
}

void TestMergeCli::interrupted()
{
    // SIGINT after 4 tensors (the test hook raises it from the progress callback): exit 130,
    // no output folder, no temporary folder.
    QTemporaryDir temp;
    const fs::path out = toPath(temp.path()) / "out";
    for (const char *name : {"ties", "linear"}) {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("BASIN_MERGE_INTERRUPT_AFTER"), QStringLiteral("4"));
        const Run run = runBasin({recipeOf(name), q(out)}, env);
        QCOMPARE(run.exitCode, 130);
        QVERIFY2(run.err.contains(QStringLiteral("cancelled; nothing was written")),
                 qPrintable(run.err));
        QVERIFY(!fs::exists(out));
        QCOMPARE(entryCount(toPath(temp.path())), std::size_t(0));
    }
}

void TestMergeCli::overwrite()
{
    QTemporaryDir temp;
    const fs::path out = toPath(temp.path()) / "out";
    fs::create_directory(out);
    writeText(out / "old.txt", "old");
    const Run refused = runBasin({recipeOf("linear"), q(out), QStringLiteral("--quiet")});
    QCOMPARE(refused.exitCode, 1);
    QVERIFY(fs::exists(out / "old.txt"));
    const Run replaced = runBasin(
        {recipeOf("linear"), q(out), QStringLiteral("--quiet"), QStringLiteral("--overwrite")});
    QVERIFY2(replaced.exitCode == 0, qPrintable(replaced.err));
    QVERIFY(!fs::exists(out / "old.txt"));
    QVERIFY(fs::exists(out / "model.safetensors"));
    QCOMPARE(entryCount(toPath(temp.path())), std::size_t(1));
}

void TestMergeCli::shardSizeOption()
{
    QTemporaryDir temp;
    const fs::path out = toPath(temp.path()) / "out";
    const Run run = runBasin(
        {recipeOf("ties"), q(out), QStringLiteral("--out-shard-size"), QStringLiteral("40KiB")});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    // 181,376 bytes of F32 tensors in ≤ 40,960-byte shards (whole tensors): five files.
    QVERIFY2(run.out.contains(QStringLiteral("Merged 39 tensors (181 kB, 5 files)")),
             qPrintable(run.out));
    QVERIFY(fs::exists(out / "model-00005-of-00005.safetensors"));
    QVERIFY(fs::exists(out / "model.safetensors.index.json"));
    auto merged = Checkpoint::open(out);
    QVERIFY(merged.ok());
    QCOMPARE((*merged)->files().size(), std::size_t(5));
}

void TestMergeCli::threadsAndSeed()
{
    QTemporaryDir temp;
    const fs::path root = toPath(temp.path());
    const std::string f = familyDir("bf16", "").string();
    writeText(root / "dare.yml",
              "models:\n  - model: " + f + "ft1\n    parameters: {weight: 0.6, density: 0.5}\n" +
                  "  - model: " + f + "ft2\n    parameters: {weight: 0.4, density: 0.5}\n" +
                  "merge_method: dare_ties\nbase_model: " + f + "base\n");
    const QString recipe = q(root / "dare.yml");
    QCOMPARE(runBasin({recipe, q(root / "a"), QStringLiteral("--threads"), QStringLiteral("1"),
                       QStringLiteral("--seed"), QStringLiteral("5"), QStringLiteral("--quiet")})
                 .exitCode,
             0);
    QCOMPARE(runBasin({recipe, q(root / "b"), QStringLiteral("--threads"), QStringLiteral("2"),
                       QStringLiteral("--seed"), QStringLiteral("5"), QStringLiteral("--quiet")})
                 .exitCode,
             0);
    QCOMPARE(runBasin({recipe, q(root / "c"), QStringLiteral("--seed"), QStringLiteral("6"),
                       QStringLiteral("--quiet")})
                 .exitCode,
             0);
    QCOMPARE(fileSha(root / "a" / "model.safetensors"), fileSha(root / "b" / "model.safetensors"));
    QVERIFY(fileSha(root / "a" / "model.safetensors") != fileSha(root / "c" / "model.safetensors"));
    QVERIFY(readText(root / "a" / "basin_recipe.yml").find("seed: 5") != std::string::npos);
}

void TestMergeCli::progressLines()
{
    // Not a terminal: plain lines on stderr, a summary on stdout.
    QTemporaryDir temp;
    const Run run = runBasin({recipeOf("ties"), q(toPath(temp.path()) / "out")});
    QCOMPARE(run.exitCode, 0);
    QVERIFY2(run.err.contains(QStringLiteral("basin merge: merging 100%  39/39 tensors")),
             qPrintable(run.err));
    QVERIFY(!run.err.contains(QLatin1Char('\r')));
    QVERIFY(run.out.startsWith(QStringLiteral("Merged 39 tensors")));
}

QTEST_GUILESS_MAIN(TestMergeCli)
#include "tst_mergecli.moc"
