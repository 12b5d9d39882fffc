// SPDX-License-Identifier: GPL-3.0-or-later
// `basin curves` run as a process: CSV rows and endpoint values, evaluator markers, usage
// errors.
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <cstdlib>

namespace {

const QString kBasin = QStringLiteral(BASIN_BINARY);

QString caseRecipe(const char *name)
{
    return QStringLiteral(BASIN_TEST_DATA_DIR "/cases/%1/recipe.yml").arg(QLatin1String(name));
}

struct Run {
    int exitCode = -1;
    QString out, err;
};

Run runBasin(const QStringList &args)
{
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    process.setProcessEnvironment(env);
    process.start(kBasin, QStringList{QStringLiteral("curves")} + args);
    process.waitForFinished(120000);
    return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
            QString::fromUtf8(process.readAllStandardOutput()),
            QString::fromUtf8(process.readAllStandardError())};
}

QList<QStringList> readCsv(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QList<QStringList> rows;
    for (const QString &line :
         QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts))
        rows << line.split(QLatin1Char(','));
    return rows;
}

} // namespace

class TestCliCurves : public QObject {
    Q_OBJECT

private slots:
    void alphaCsv();
    void lambdaCsvAndPng();
    void evaluatorMarkers();
    void badArguments_data();
    void badArguments();
};

void TestCliCurves::alphaCsv()
{
    QTemporaryDir dir;
    const QString csv = dir.filePath(QStringLiteral("alpha.csv"));
    const Run run = runBasin(
        {caseRecipe("linear"), QStringLiteral("--vary"), QStringLiteral("alpha:ft1,ft2"),
         QStringLiteral("--from"), QStringLiteral("0"), QStringLiteral("--to"), QStringLiteral("1"),
         QStringLiteral("--steps"), QStringLiteral("7"), QStringLiteral("--csv"), csv});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    QVERIFY(run.out.contains(QStringLiteral("weight-space proxy vs α")));
    const auto rows = readCsv(csv);
    QCOMPARE(rows.size(), 8); // header + 7
    const QStringList header = rows.front();
    const int distA = int(header.indexOf(QStringLiteral("lerp_dist_a")));
    const int distB = int(header.indexOf(QStringLiteral("lerp_dist_b")));
    const int cosA = int(header.indexOf(QStringLiteral("lerp_cos_a")));
    QVERIFY(distA > 0 && distB > 0 && cosA > 0);
    QCOMPARE(rows[1][0], QStringLiteral("0"));
    QCOMPARE(rows[7][0], QStringLiteral("1"));
    QCOMPARE(rows[1][distA].toDouble(), 0.0);
    QCOMPARE(rows[7][distB].toDouble(), 0.0);
    QCOMPARE(rows[1][cosA].toDouble(), 1.0);
    // Symmetric ends: the distance between the parents, both ways.
    QVERIFY(rows[1][distB].toDouble() > 0.0);
    QVERIFY(std::fabs(rows[1][distB].toDouble() - rows[7][distA].toDouble()) <=
            1e-12 * rows[1][distB].toDouble());
}

void TestCliCurves::lambdaCsvAndPng()
{
    QTemporaryDir dir;
    const QString csv = dir.filePath(QStringLiteral("lambda.csv"));
    const QString png = dir.filePath(QStringLiteral("lambda.png"));
    const Run run =
        runBasin({caseRecipe("task_arithmetic"), QStringLiteral("--vary"), QStringLiteral("lambda"),
                  QStringLiteral("--steps"), QStringLiteral("5"), QStringLiteral("--layer"),
                  QStringLiteral("2"), QStringLiteral("--csv"), csv, QStringLiteral("--png"), png});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    QVERIFY(run.out.contains(QStringLiteral("L2")));
    const auto rows = readCsv(csv);
    QCOMPARE(rows.size(), 6);
    QCOMPARE(rows[1][0], QStringLiteral("0"));
    QCOMPARE(rows[5][0], QStringLiteral("2"));
    const int retention = int(rows.front().indexOf(QStringLiteral("retention_ft1")));
    QVERIFY(retention > 0);
    QCOMPARE(rows[1][retention].toDouble(), 0.0); // λ = 0: nothing merged
    // Linear in λ: the value at 2 is twice the value at 1.
    QVERIFY(std::fabs(rows[5][retention].toDouble() - 2.0 * rows[3][retention].toDouble()) < 1e-12);
    QVERIFY(QFile(png).size() > 1000);
}

void TestCliCurves::evaluatorMarkers()
{
    QTemporaryDir dir;
    // The score is the size in bytes of the candidate's weights file: the same for every
    // point (f32, same tensors) and, up to the JSON header, the size of the f32 base.
    const QString script = dir.filePath(QStringLiteral("score.sh"));
    {
        QFile file(script);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("#!/bin/sh\necho \"evaluating $1\"\nwc -c < \"$1/model.safetensors\"\n");
    }
    QFile::setPermissions(script, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    const QString csv = dir.filePath(QStringLiteral("eval.csv"));
    const Run run =
        runBasin({caseRecipe("linear"), QStringLiteral("--vary"), QStringLiteral("alpha:ft1,ft2"),
                  QStringLiteral("--steps"), QStringLiteral("3"), QStringLiteral("--csv"), csv,
                  QStringLiteral("--eval"), script + QStringLiteral(" {model}")});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    const auto rows = readCsv(csv);
    QCOMPARE(rows.size(), 4);
    QCOMPARE(rows.front().last(), QStringLiteral("score"));
    const qint64 base =
        QFile(QStringLiteral(BASIN_TEST_DATA_DIR "/families/f32/base/model.safetensors")).size();
    const qint64 first = rows[1].last().toLongLong();
    QVERIFY2(std::llabs(first - base) < base / 100,
             qPrintable(QStringLiteral("%1 vs %2").arg(first).arg(base)));
    for (int i = 2; i < 4; ++i)
        QCOMPARE(rows[i].last().toLongLong(), first);

    // A failing command: reported, exit 1, no score.
    const Run bad =
        runBasin({caseRecipe("linear"), QStringLiteral("--vary"), QStringLiteral("alpha:ft1,ft2"),
                  QStringLiteral("--steps"), QStringLiteral("2"), QStringLiteral("--eval"),
                  QStringLiteral("echo broken >&2; exit 3 # {model}")});
    QCOMPARE(bad.exitCode, 1);
    QVERIFY2(bad.err.contains(QStringLiteral("exited with code 3")), qPrintable(bad.err));
    QVERIFY(bad.err.contains(QStringLiteral("broken")));
}

void TestCliCurves::badArguments_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("message");
    QTest::newRow("unknown param")
        << QStringList{caseRecipe("linear"), QStringLiteral("--vary"), QStringLiteral("loss")} << 2
        << "unknown --vary parameter 'loss'";
    QTest::newRow("lambda on linear")
        << QStringList{caseRecipe("linear"), QStringLiteral("--vary"), QStringLiteral("lambda")}
        << 2 << "has no lambda parameter";
    QTest::newRow("unknown model")
        << QStringList{caseRecipe("linear"), QStringLiteral("--vary"), QStringLiteral("weight:ft9")}
        << 2 << "ft9";
    QTest::newRow("one step") << QStringList{caseRecipe("linear"), QStringLiteral("--vary"),
                                             QStringLiteral("alpha"), QStringLiteral("--steps"),
                                             QStringLiteral("1")}
                              << 2 << "--steps";
    QTest::newRow("no placeholder")
        << QStringList{caseRecipe("linear"), QStringLiteral("--vary"), QStringLiteral("alpha"),
                       QStringLiteral("--eval"), QStringLiteral("true")}
        << 2 << "{model}";
    QTest::newRow("missing recipe")
        << QStringList{QStringLiteral("/nonexistent/recipe.yml"), QStringLiteral("--vary"),
                       QStringLiteral("alpha")}
        << 1 << "recipe.yml";
}

void TestCliCurves::badArguments()
{
    QFETCH(QStringList, args);
    QFETCH(int, exitCode);
    QFETCH(QString, message);
    const Run run = runBasin(args);
    QCOMPARE(run.exitCode, exitCode);
    QVERIFY2(run.err.contains(message), qPrintable(run.err));
}

QTEST_GUILESS_MAIN(TestCliCurves)
#include "tst_cli_curves.moc"
