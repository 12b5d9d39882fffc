// SPDX-License-Identifier: GPL-3.0-or-later
// The Preview dock: live retention heatmap and curves recomputed off the GUI thread with
// stale results dropped, evaluator markers, failing and cancelled evaluations, CSV scores.
#include "analysis/analysispass.h"
#include "analysis/preview.h"
#include "jobs/jobrunner.h"
#include "model/checkpoint.h"
#include "model/modelset.h"
#include "plots/curveplotwidget.h"
#include "plots/heatmapwidget.h"
#include "preview/evaluator.h"
#include "preview/previewpanel.h"
#include "recipe/yamlreader.h"

#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>

using namespace basin;
using namespace basin::ui;

namespace {

std::shared_ptr<const analysis::AnalysisSnapshot> analyseF32()
{
    std::vector<std::shared_ptr<const Checkpoint>> models;
    for (const char *name : {"base", "ft1", "ft2", "ft3"})
        models.push_back(
            *Checkpoint::open(std::string(BASIN_TEST_DATA_DIR "/families/f32/") + name));
    auto set = ModelSet::create(models);
    auto snapshot = analysis::analyse(**set, analysis::AnalysisOptions{});
    return snapshot ? *snapshot : nullptr;
}

recipe::Recipe caseRecipe(const char *name)
{
    return *recipe::readRecipeFile(std::string(BASIN_TEST_DATA_DIR "/cases/") + name +
                                   "/recipe.yml");
}

QString writeScript(const QTemporaryDir &dir, const char *name, const char *body)
{
    const QString path = dir.filePath(QLatin1String(name));
    QFile file(path);
    if (file.open(QIODevice::WriteOnly))
        file.write(body);
    file.close();
    QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    return path;
}

} // namespace

class TestPreviewPanel : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void heatmapFollowsRecipe();
    void staleResultsDropped();
    void curvesMarkCurrentValue();
    void evaluatorMarkers();
    void failingEvaluatorDoesNotBlock();
    void cancelStopsQueue();
    void scoresCsvRoundTrip();
    void helpers();

private:
    std::shared_ptr<const analysis::AnalysisSnapshot> m_snapshot;
};

void TestPreviewPanel::initTestCase()
{
    m_snapshot = analyseF32();
    QVERIFY(m_snapshot);
}

void TestPreviewPanel::heatmapFollowsRecipe()
{
    JobRunner runner;
    PreviewPanel panel(&runner);
    panel.setSnapshot(m_snapshot);
    const recipe::Recipe recipe = caseRecipe("task_arithmetic");
    panel.setRecipe(recipe);
    QTRY_VERIFY_WITH_TIMEOUT(panel.preview().has_value(), 10000);
    const HeatmapData &map = panel.retentionMap()->data();
    QCOMPARE(map.rows, int(m_snapshot->groups.size()));
    QCOMPARE(map.cols, 3);
    QVERIFY(map.title.contains(QStringLiteral("Retention")));
    auto direct = analysis::computePreview(*m_snapshot, recipe);
    QVERIFY(direct.ok());
    for (int r = 0; r < map.rows; ++r)
        for (int c = 0; c < map.cols; ++c) {
            const double want = direct->groups[std::size_t(r)].retention[std::size_t(c)];
            QVERIFY(std::isnan(want) ? std::isnan(map.at(r, c)) : map.at(r, c) == want);
        }
}

void TestPreviewPanel::staleResultsDropped()
{
    JobRunner runner;
    PreviewPanel panel(&runner);
    panel.setSnapshot(m_snapshot);
    QTRY_VERIFY_WITH_TIMEOUT(panel.updates() >= 1, 10000);
    const int before = panel.updates();
    recipe::Recipe recipe = caseRecipe("ties");
    // A slider dragged through 20 positions faster than the previews finish.
    for (int i = 0; i < 20; ++i) {
        recipe::setParameter(recipe.models[0].parameters, "weight",
                             recipe::Setting(recipe::Value::makeNumber(0.05 * i)));
        panel.setRecipe(recipe);
    }
    QTRY_VERIFY_WITH_TIMEOUT(
        runner.runningCount() == 0 && !runner.isBusy(QStringLiteral("preview")), 20000);
    QVERIFY(panel.updates() > before);
    QVERIFY2(panel.updates() - before < 20, "superseded previews must not be delivered");
    // What is shown is the last position's preview.
    auto last = analysis::computePreview(*m_snapshot, recipe);
    QVERIFY(last.ok());
    QCOMPARE(panel.preview()->global.retention, last->global.retention);
    QVERIFY(panel.statusText().contains(QStringLiteral("≈")) == !last->exact);
}

void TestPreviewPanel::curvesMarkCurrentValue()
{
    JobRunner runner;
    PreviewPanel panel(&runner);
    panel.setSnapshot(m_snapshot);
    panel.setRecipe(caseRecipe("task_arithmetic"));
    panel.setVariable(analysis::CurveVariable::Lambda);
    panel.setScope(QStringLiteral("L1"));
    QTRY_VERIFY_WITH_TIMEOUT(panel.curves() &&
                                 panel.curves()->variable == analysis::CurveVariable::Lambda &&
                                 panel.curves()->scope == "L1",
                             10000);
    QCOMPARE(panel.curvePlot()->currentValue().value_or(-1.0), 0.7);
    const CurveData &data = panel.curvePlot()->data();
    QVERIFY(data.title.startsWith(QStringLiteral("weight-space proxy vs λ")));
    QVERIFY(!data.title.contains(QStringLiteral("loss"), Qt::CaseInsensitive));
    QCOMPARE(data.x.front(), 0.0);
    QCOMPARE(data.x.back(), 2.0);
}

void TestPreviewPanel::evaluatorMarkers()
{
    QTemporaryDir dir;
    // Prints a line of chatter, then the byte size of the merged weights: the last number.
    const QString script =
        writeScript(dir, "size.sh",
                    "#!/bin/sh\necho \"model at $1, 2 files\"\nwc -c < \"$1/model.safetensors\"\n");
    JobRunner runner;
    PreviewPanel panel(&runner);
    panel.setSnapshot(m_snapshot);
    panel.setRecipe(caseRecipe("linear"));
    panel.setModels(1, 2);
    QTRY_VERIFY_WITH_TIMEOUT(panel.curves().has_value(), 10000);
    QSignalSpy log(&panel, &PreviewPanel::logMessage);
    QSignalSpy idle(panel.evaluator(), &Evaluator::idle);
    panel.setEvaluatorCommand(script + QStringLiteral(" {model}"));
    panel.setEvaluationPoints(QStringLiteral("0, 0.5, 1"));
    panel.evaluatePoints();
    QVERIFY(panel.evaluator()->busy());
    QTRY_VERIFY_WITH_TIMEOUT(idle.count() >= 1, 60000);
    QCOMPARE(panel.scores().size(), std::size_t(3));
    const qint64 base =
        QFile(QStringLiteral(BASIN_TEST_DATA_DIR "/families/f32/base/model.safetensors")).size();
    for (const auto &[x, score] : panel.scores())
        QVERIFY2(std::fabs(score - double(base)) < base / 100.0,
                 qPrintable(QString::number(score)));
    const CurveData &data = panel.curvePlot()->data();
    QCOMPARE(data.measured.size(), std::size_t(1));
    QCOMPARE(data.measured.front().x, (std::vector<double>{0.0, 0.5, 1.0}));
    bool sawCommand = false;
    for (const auto &args : log)
        sawCommand = sawCommand || args.at(0).toString().startsWith(QStringLiteral("$ "));
    QVERIFY(sawCommand);

    // Cached: the same points again neither merge nor run (no "$ " line), and finish at once.
    log.clear();
    QSignalSpy finished(panel.evaluator(), &Evaluator::pointFinished);
    panel.evaluatePoints();
    QCOMPARE(finished.count(), 3);
    for (const auto &args : finished)
        QVERIFY(args.at(2).toBool());
}

void TestPreviewPanel::failingEvaluatorDoesNotBlock()
{
    JobRunner runner;
    PreviewPanel panel(&runner);
    panel.setSnapshot(m_snapshot);
    panel.setRecipe(caseRecipe("linear"));
    QTRY_VERIFY_WITH_TIMEOUT(panel.curves().has_value(), 10000);
    QSignalSpy failed(panel.evaluator(), &Evaluator::pointFailed);
    panel.setEvaluatorCommand(QStringLiteral("echo 'no such model' >&2; exit 3 # {model}"));
    panel.setEvaluationPoints(QStringLiteral("0.25"));
    QElapsedTimer timer;
    timer.start();
    panel.evaluatePoints();
    QVERIFY(timer.elapsed() < 1000); // queued, not run on the GUI thread
    QTRY_VERIFY_WITH_TIMEOUT(failed.count() == 1, 60000);
    QVERIFY(failed.front().at(1).toString().contains(QStringLiteral("exited with code 3")));
    QVERIFY(panel.statusText().contains(QStringLiteral("no such model")));
    QVERIFY(panel.scores().empty());

    // No number on stdout is an error too.
    failed.clear();
    panel.setEvaluatorCommand(QStringLiteral("echo done # {model}"));
    panel.evaluatePoints();
    QTRY_VERIFY_WITH_TIMEOUT(failed.count() == 1, 60000);
    QVERIFY(failed.front().at(1).toString().contains(QStringLiteral("no number")));
}

void TestPreviewPanel::cancelStopsQueue()
{
    JobRunner runner;
    PreviewPanel panel(&runner);
    panel.setSnapshot(m_snapshot);
    panel.setRecipe(caseRecipe("linear"));
    QTRY_VERIFY_WITH_TIMEOUT(panel.curves().has_value(), 10000);
    QSignalSpy log(&panel, &PreviewPanel::logMessage);
    QSignalSpy idle(panel.evaluator(), &Evaluator::idle);
    panel.setEvaluatorCommand(QStringLiteral("sleep 30; echo 1 # {model}"));
    panel.setEvaluationPoints(QStringLiteral("0, 0.5, 1"));
    panel.evaluatePoints();
    QCOMPARE(panel.evaluator()->pending(), 3);
    // Wait until the first command is running.
    QTRY_VERIFY_WITH_TIMEOUT(std::any_of(log.begin(), log.end(),
                                         [](const QList<QVariant> &a) {
                                             return a.at(0).toString().startsWith(
                                                 QStringLiteral("$ "));
                                         }),
                             60000);
    QElapsedTimer timer;
    timer.start();
    panel.cancelEvaluations();
    QVERIFY(timer.elapsed() < 5000);
    QVERIFY(!panel.evaluator()->busy());
    QCOMPARE(idle.count(), 1);
    QVERIFY(panel.scores().empty());
    QTest::qWait(200);
    QVERIFY(!panel.evaluator()->busy());
}

void TestPreviewPanel::scoresCsvRoundTrip()
{
    QTemporaryDir dir;
    const QString in = dir.filePath(QStringLiteral("in.csv"));
    {
        QFile file(in);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("alpha,perplexity\n0,7.5\n0.5,6.25\n\n1,7.125\n");
    }
    JobRunner runner;
    PreviewPanel panel(&runner);
    panel.setSnapshot(m_snapshot);
    QTRY_VERIFY_WITH_TIMEOUT(panel.curves().has_value(), 10000);
    QString error;
    QVERIFY2(panel.importScores(in, &error), qPrintable(error));
    QCOMPARE(panel.scores().size(), std::size_t(3));
    QCOMPARE(panel.scores().at(0.5), 6.25);
    QCOMPARE(panel.curvePlot()->data().measured.front().y, (std::vector<double>{7.5, 6.25, 7.125}));
    const QString out = dir.filePath(QStringLiteral("out.csv"));
    QVERIFY(panel.exportScores(out, &error));
    QFile file(out);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromUtf8(file.readAll()),
             QStringLiteral("x,score\n0,7.5\n0.5,6.25\n1,7.125\n"));

    const QString bad = dir.filePath(QStringLiteral("bad.csv"));
    {
        QFile b(bad);
        QVERIFY(b.open(QIODevice::WriteOnly));
        b.write("x,score\n0,1\nzero,2\n");
    }
    QVERIFY(!panel.importScores(bad, &error));
    QVERIFY(error.contains(QStringLiteral("line 3")));
}

void TestPreviewPanel::helpers()
{
    QCOMPARE(lastNumberIn(
                 QStringLiteral("ppl = 12.5 after 3 chunks\nFinal estimate: PPL = 7.25 +/- 0.1\n"))
                 .value(),
             0.1);
    QCOMPARE(lastNumberIn(QStringLiteral("score 1e-3")).value(), 1e-3);
    QVERIFY(!lastNumberIn(QStringLiteral("no digits here")));
    QCOMPARE(expandEvaluatorCommand(QStringLiteral("eval {model} --x"),
                                    QStringLiteral("/tmp/it's here")),
             QStringLiteral("eval '/tmp/it'\\''s here' --x"));
    const recipe::Recipe r = caseRecipe("linear");
    QCOMPARE(evaluationKey(r, 0.5), evaluationKey(r, 0.5));
    QVERIFY(evaluationKey(r, 0.5) != evaluationKey(r, 0.25));
}

QTEST_MAIN(TestPreviewPanel)
#include "tst_previewpanel.moc"
