// SPDX-License-Identifier: GPL-3.0-or-later
// The export dialog runs the same engine as `basin merge`: same bytes, and a cancelled
// export leaves nothing behind.
#include "export/exportdialog.h"
#include "jobs/jobrunner.h"
#include "recipe/yamlreader.h"

#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <atomic>

using namespace basin;
using namespace basin::ui;

namespace {

QString recipePath()
{
    return QStringLiteral(BASIN_TEST_DATA_DIR "/cases/ties/recipe.yml");
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

class TestExportDialog : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void exportMatchesCli();
    void cancelLeavesNothing();
    void failureShowsEngineMessage();

private:
    recipe::Recipe m_recipe;
};

void TestExportDialog::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("BasinTests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_exportdialog"));
    Result<recipe::Recipe> r = recipe::readRecipeFile(recipePath().toStdString());
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    m_recipe = std::move(r).value();
}

void TestExportDialog::exportMatchesCli()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    JobRunner runner;
    ExportDialog dialog(m_recipe, &runner);
    const QString gui = tmp.filePath(QStringLiteral("gui"));
    dialog.setDestination(gui);
    dialog.dtypeCombo()->setCurrentIndex(0); // as the recipe says
    dialog.shardSizeBox()->setValue(5000);   // the CLI's default, 5 GB
    dialog.seedEdit()->clear();
    QSignalSpy finished(&dialog, &ExportDialog::exportFinished);
    QVERIFY(dialog.start());
    QVERIFY(dialog.isRunning());
    QVERIFY(!dialog.exportButton()->isEnabled());
    QVERIFY(dialog.cancelButton()->isEnabled());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000);
    QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(dialog.resultText()));
    QVERIFY(dialog.report());
    QVERIFY(dialog.openFolderButton()->isEnabled());
    QVERIFY(dialog.resultText().contains(QStringLiteral("model.safetensors")));

    const QString cli = tmp.filePath(QStringLiteral("cli"));
    QProcess basinCli;
    basinCli.start(QStringLiteral(BASIN_BINARY), {QStringLiteral("merge"), recipePath(), cli});
    QVERIFY(basinCli.waitForFinished(120000));
    QVERIFY2(basinCli.exitCode() == 0, basinCli.readAllStandardError().constData());

    const QStringList files = QDir(cli).entryList(QDir::Files, QDir::Name);
    QCOMPARE(QDir(gui).entryList(QDir::Files, QDir::Name), files);
    QVERIFY(files.contains(QStringLiteral("model.safetensors")));
    for (const QString &name : files) {
        QByteArray a = readAll(QDir(gui).filePath(name));
        // The model card is titled with the folder's name; everything else must match.
        if (name == QStringLiteral("README.md"))
            a.replace("\n# gui\n", "\n# cli\n");
        QVERIFY2(!a.isEmpty(), qPrintable(name));
        QVERIFY2(a == readAll(QDir(cli).filePath(name)), qPrintable(name));
    }
}

void TestExportDialog::cancelLeavesNothing()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    JobRunner runner;
    ExportDialog dialog(m_recipe, &runner);
    const QString dest = tmp.filePath(QStringLiteral("merged"));
    dialog.setDestination(dest);
    std::atomic<int> seen{0};
    // Cancel as soon as the first tensor is merged: the engine checks between tensors.
    dialog.setProgressHook([&seen](const Progress &p) {
        if (p.itemsDone >= 1 && p.itemsDone < p.itemsTotal) {
            ++seen;
            return true;
        }
        return false;
    });
    QSignalSpy finished(&dialog, &ExportDialog::exportFinished);
    QVERIFY(dialog.start());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000);
    QVERIFY(seen.load() >= 1);
    QVERIFY(!finished.at(0).at(0).toBool());
    QVERIFY2(dialog.resultText().contains(QStringLiteral("Cancelled")),
             qPrintable(dialog.resultText()));
    QVERIFY(!dialog.report());
    QVERIFY(!QFileInfo::exists(dest));
    // No staging folder left beside it either.
    QCOMPARE(QDir(tmp.path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
             QStringList());
    QVERIFY(!dialog.openFolderButton()->isEnabled());
}

void TestExportDialog::failureShowsEngineMessage()
{
    QTemporaryDir tmp;
    recipe::Recipe broken = m_recipe;
    broken.models[0].model.resolved = tmp.filePath(QStringLiteral("missing")).toStdString();
    broken.models[0].model.path = broken.models[0].model.resolved.string();
    JobRunner runner;
    ExportDialog dialog(broken, &runner);
    const QString dest = tmp.filePath(QStringLiteral("merged"));
    dialog.setDestination(dest);
    QSignalSpy finished(&dialog, &ExportDialog::exportFinished);
    QVERIFY(dialog.start());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    QVERIFY(!finished.at(0).at(0).toBool());
    QVERIFY2(dialog.resultText().contains(QStringLiteral("missing")),
             qPrintable(dialog.resultText()));
    QVERIFY(!QFileInfo::exists(dest));
}

QTEST_MAIN(TestExportDialog)
#include "tst_exportdialog.moc"
