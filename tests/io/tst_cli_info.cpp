// SPDX-License-Identifier: GPL-3.0-or-later
// `basin info` and `basin demo` as a user runs them: exit codes, text, JSON, errors.
#include "testfiles.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace basin::test;

namespace {

struct Run {
    int exitCode = -1;
    QString out;
    QString err;
};

Run runBasin(const QStringList &args)
{
    QProcess process;
    process.start(QStringLiteral(BASIN_BINARY), args);
    Run run;
    if (!process.waitForFinished(120000))
        return run;
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -2;
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    run.err = QString::fromUtf8(process.readAllStandardError());
    return run;
}

QString fixture(const char *family, const char *model)
{
    return QStringLiteral(BASIN_TEST_DATA_DIR "/families/") + QLatin1String(family) +
           QLatin1Char('/') + QLatin1String(model);
}

} // namespace

class TestCliInfo : public QObject {
    Q_OBJECT

private slots:
    void textReport()
    {
        const Run run = runBasin({QStringLiteral("info"), fixture("bf16", "ft2")});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.out.contains(QStringLiteral("LlamaForCausalLM (llama)")), qPrintable(run.out));
        QVERIFY(run.out.contains(QStringLiteral("2 shards + model.safetensors.index.json")));
        QVERIFY(run.out.contains(QStringLiteral("layers:       4")));
        QVERIFY(run.out.contains(QStringLiteral("BF16")));
        QVERIFY(run.out.contains(QStringLiteral("parameters:   45,344")));
        QVERIFY(run.out.contains(QStringLiteral("90,688")));
        QVERIFY(run.out.contains(QStringLiteral("warnings:     none")));
        QVERIFY(run.err.isEmpty());
    }

    void jsonReport()
    {
        const Run run =
            runBasin({QStringLiteral("info"), fixture("f32", "base"), QStringLiteral("--json")});
        QCOMPARE(run.exitCode, 0);
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(run.out.toUtf8(), &error);
        QCOMPARE(error.error, QJsonParseError::NoError);
        const QJsonObject o = doc.object();
        QCOMPARE(o.value(QStringLiteral("architecture")).toString(),
                 QStringLiteral("LlamaForCausalLM"));
        QCOMPARE(o.value(QStringLiteral("layers")).toInt(), 4);
        QCOMPARE(o.value(QStringLiteral("parameters")).toInteger(), 45344);
        QCOMPARE(o.value(QStringLiteral("bytes")).toInteger(), 4 * 45344);
        QCOMPARE(o.value(QStringLiteral("sharded")).toBool(), false);
        QCOMPARE(o.value(QStringLiteral("dtypes"))
                     .toObject()
                     .value(QStringLiteral("F32"))
                     .toObject()
                     .value(QStringLiteral("tensors"))
                     .toInt(),
                 39);
        const QJsonArray tensors = o.value(QStringLiteral("tensors")).toArray();
        QCOMPARE(tensors.size(), 39);
        QCOMPARE(tensors.first().toObject().value(QStringLiteral("kind")).toString(),
                 QStringLiteral("embed"));
        QVERIFY(o.value(QStringLiteral("warnings")).toArray().isEmpty());
    }

    void failureNamesFileTensorAndRule()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("broken.safetensors"));
        const QByteArray header =
            "{\"model.layers.0.bad\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}";
        QVERIFY(writeBytes(toPath(path), safetensorsBytes(header, 4)));
        const Run run = runBasin({QStringLiteral("info"), path});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains(path), qPrintable(run.err));
        QVERIFY2(run.err.contains(QStringLiteral("'model.layers.0.bad'")), qPrintable(run.err));
        QVERIFY2(run.err.contains(QStringLiteral("needs 8")), qPrintable(run.err));

        const Run json = runBasin({QStringLiteral("info"), path, QStringLiteral("--json")});
        QCOMPARE(json.exitCode, 1);
        const QJsonObject o = QJsonDocument::fromJson(json.out.toUtf8()).object();
        QCOMPARE(
            o.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString(),
            QStringLiteral("invalid_tensor_info"));

        QCOMPARE(
            runBasin({QStringLiteral("info"), dir.filePath(QStringLiteral("absent"))}).exitCode, 1);
    }

    void usage()
    {
        QCOMPARE(runBasin({QStringLiteral("info")}).exitCode, 2);
        QCOMPARE(
            runBasin({QStringLiteral("info"), QStringLiteral("a"), QStringLiteral("b")}).exitCode,
            2);
        QCOMPARE(runBasin({QStringLiteral("info"), QStringLiteral("--bogus"), QStringLiteral("a")})
                     .exitCode,
                 2);
        const Run help = runBasin({QStringLiteral("info"), QStringLiteral("--help")});
        QCOMPARE(help.exitCode, 0);
        QVERIFY(help.out.contains(QStringLiteral("--json")));
        QCOMPARE(runBasin({QStringLiteral("demo")}).exitCode, 2);
        QCOMPARE(runBasin({QStringLiteral("demo"), QStringLiteral("x"), QStringLiteral("--dtype"),
                           QStringLiteral("i8")})
                     .exitCode,
                 2);
        QCOMPARE(runBasin({QStringLiteral("demo"), QStringLiteral("x"), QStringLiteral("--size"),
                           QStringLiteral("huge")})
                     .exitCode,
                 2);
        QCOMPARE(runBasin({QStringLiteral("demo"), QStringLiteral("x"), QStringLiteral("--models"),
                           QStringLiteral("-1")})
                     .exitCode,
                 2);
    }

    void demoThenInfo()
    {
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("family"));
        const Run demo =
            runBasin({QStringLiteral("demo"), out, QStringLiteral("--models"), QStringLiteral("2"),
                      QStringLiteral("--dtype"), QStringLiteral("f32"), QStringLiteral("--layers"),
                      QStringLiteral("3"), QStringLiteral("--seed"), QStringLiteral("7")});
        QCOMPARE(demo.exitCode, 0);
        QVERIFY2(demo.out.contains(QStringLiteral("3 layers")), qPrintable(demo.out));
        const Run info = runBasin(
            {QStringLiteral("info"), out + QStringLiteral("/ft2"), QStringLiteral("--json")});
        QCOMPARE(info.exitCode, 0);
        const QJsonObject o = QJsonDocument::fromJson(info.out.toUtf8()).object();
        QCOMPARE(o.value(QStringLiteral("layers")).toInt(), 3);
        QCOMPARE(o.value(QStringLiteral("config_layers")).toInt(), 3);
        QVERIFY(o.value(QStringLiteral("dtypes")).toObject().contains(QStringLiteral("F32")));
        QVERIFY(!QFile::exists(out + QStringLiteral("/ft3")));
        // A second run into the same folder refuses to overwrite.
        const Run again = runBasin({QStringLiteral("demo"), out});
        QCOMPARE(again.exitCode, 1);
        QVERIFY(again.err.contains(QStringLiteral("already exists")));
    }
};

QTEST_GUILESS_MAIN(TestCliInfo)
#include "tst_cli_info.moc"
