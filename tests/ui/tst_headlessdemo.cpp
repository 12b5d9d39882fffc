// SPDX-License-Identifier: GPL-3.0-or-later
// `basin --demo` without a display: generates the demo family into the cache, analyses
// it, merges it with TIES and writes a PNG report; a second run reuses the cache.
#include "workbench/democache.h"

#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <thread>

class TestHeadlessDemo : public QObject {
    Q_OBJECT

private:
    static QProcessEnvironment headlessEnvironment(const QString &home)
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (const char *name : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"})
            env.remove(QLatin1String(name));
        env.insert(QStringLiteral("HOME"), home);
        env.insert(QStringLiteral("XDG_CACHE_HOME"), home + QStringLiteral("/cache"));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), home + QStringLiteral("/config"));
        return env;
    }

    static int runDemo(const QString &home, const QStringList &extra, QString *out)
    {
        QProcess process;
        process.setProcessEnvironment(headlessEnvironment(home));
        process.setWorkingDirectory(home);
        process.start(QStringLiteral(BASIN_BINARY),
                      QStringList{QStringLiteral("--demo"), QStringLiteral("--demo-size"),
                                  QStringLiteral("tiny")} +
                          extra);
        if (!process.waitForFinished(240000)) {
            process.kill();
            process.waitForFinished();
            return -1;
        }
        *out = QString::fromLocal8Bit(process.readAllStandardOutput());
        const QString err = QString::fromLocal8Bit(process.readAllStandardError());
        if (!err.isEmpty())
            qInfo().noquote() << "stderr:" << err;
        return process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -2;
    }

private slots:
    void writesAReportAndReusesTheCache()
    {
        QTemporaryDir home;
        QVERIFY(home.isValid());
        const QString report = home.filePath(QStringLiteral("out/report.png"));
        QVERIFY(QDir().mkpath(home.filePath(QStringLiteral("out"))));

        QString out;
        QCOMPARE(runDemo(home.path(), {QStringLiteral("--report"), report}, &out), 0);
        QVERIFY2(out.contains(QStringLiteral("generated")), qPrintable(out));
        QVERIFY2(out.contains(QStringLiteral("TIES merge")), qPrintable(out));
        QVERIFY2(out.contains(report), qPrintable(out));
        const QImage image(report);
        QVERIFY(!image.isNull());
        QCOMPARE(image.width(), 1600);
        QVERIFY(QFileInfo(report).size() > 10000);
        // The family went to the cache, the merge beside it.
        const QString cache = home.filePath(QStringLiteral("cache"));
        QDirIterator it(cache, {QStringLiteral("family.json")}, QDir::Files,
                        QDirIterator::Subdirectories);
        QVERIFY(it.hasNext());
        const QString familyDir = QFileInfo(it.next()).absolutePath();
        QVERIFY(
            QFileInfo::exists(familyDir + QStringLiteral("-ties/model.safetensors")) ||
            QFileInfo::exists(familyDir + QStringLiteral("-ties/model.safetensors.index.json")));

        // Default report name in the working directory; the family is reused.
        QCOMPARE(runDemo(home.path(), {}, &out), 0);
        QVERIFY2(out.contains(QStringLiteral("reused")), qPrintable(out));
        QVERIFY(QFileInfo(home.filePath(QStringLiteral("basin-demo-report.png"))).size() > 10000);
    }

    void concurrentCallersShareOneFamily()
    {
        // Two Basins starting at once: both get an intact family, neither deletes the
        // other's half-written one, and no temporary folder is left.
        QTemporaryDir root;
        QVERIFY(root.isValid());
        const std::filesystem::path folder =
            std::filesystem::path(root.path().toStdString()) / "demo-tiny";
        basin::Result<basin::ui::DemoFamily> first =
            basin::makeError(basin::ErrorCode::Internal, "");
        basin::Result<basin::ui::DemoFamily> second = first;
        std::thread other(
            [&] { second = basin::ui::ensureDemoFamily(folder, QStringLiteral("tiny")); });
        first = basin::ui::ensureDemoFamily(folder, QStringLiteral("tiny"));
        other.join();
        QVERIFY2(first.ok(), first.ok() ? "" : first.error().message.c_str());
        QVERIFY2(second.ok(), second.ok() ? "" : second.error().message.c_str());
        QVERIFY(first->generated || second->generated);
        for (const std::filesystem::path &model : first->models)
            QVERIFY2(std::filesystem::exists(model / "config.json"), model.c_str());
        QCOMPARE(first->models, second->models);
        QStringList entries =
            QDir(root.path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden);
        QCOMPARE(entries, QStringList{QStringLiteral("demo-tiny")});
        // A third caller reuses it.
        basin::Result<basin::ui::DemoFamily> third =
            basin::ui::ensureDemoFamily(folder, QStringLiteral("tiny"));
        QVERIFY(third.ok());
        QVERIFY(!third->generated);
    }

    void removesStagingLeftByAKilledBasin()
    {
        QTemporaryDir root;
        QVERIFY(root.isValid());
        const std::filesystem::path base(root.path().toStdString());
        // A finished process's pid stands for a Basin killed while writing.
        QProcess gone;
        gone.start(QStringLiteral("true"), {});
        QVERIFY(gone.waitForStarted(10000));
        const std::string deadPid = std::to_string(gone.processId()); // 0 once it finished
        QVERIFY(gone.waitForFinished(10000));
        const std::string ownPid = std::to_string(QCoreApplication::applicationPid());
        const std::vector<std::string> names = {
            "demo-tiny.tmp-" + deadPid + "-7", "demo-tiny.tmp-" + ownPid + "-7",
            "demo-tiny.tmp-notapid", "demo-small.tmp-" + deadPid + "-7"};
        for (const std::string &name : names) {
            std::filesystem::create_directories(base / name);
            QFile junk(QString::fromStdString((base / name / "model.safetensors").string()));
            QVERIFY(junk.open(QIODevice::WriteOnly));
        }
        const auto family = basin::ui::ensureDemoFamily(base / "demo-tiny", QStringLiteral("tiny"));
        QVERIFY2(family.ok(), family.ok() ? "" : family.error().message.c_str());
        QVERIFY(!std::filesystem::exists(base / names[0])); // its Basin is gone
        QVERIFY(std::filesystem::exists(base / names[1]));  // this process: may be in use
        QVERIFY(std::filesystem::exists(base / names[2]));  // not a staging name
        QVERIFY(std::filesystem::exists(base / names[3]));  // another family's
    }

    void rejectsAnUnknownSize()
    {
        QTemporaryDir home;
        QProcess process;
        process.setProcessEnvironment(headlessEnvironment(home.path()));
        process.start(
            QStringLiteral(BASIN_BINARY),
            {QStringLiteral("--demo"), QStringLiteral("--demo-size"), QStringLiteral("huge")});
        QVERIFY(process.waitForFinished(60000));
        QCOMPARE(process.exitCode(), 2);
    }
};

QTEST_GUILESS_MAIN(TestHeadlessDemo)
#include "tst_headlessdemo.moc"
