// SPDX-License-Identifier: GPL-3.0-or-later
// Issue 10, concurrency: the real workbench window on a generated demo family, with the
// recipe's sliders (weight, density, the per-layer curve) moved over and over while an
// analysis pass, an export and the preview recomputes run on the JobRunner's threads.
// Built normally it checks the outcome; built with -DBASIN_TSAN=ON (packaging/ci-extra.sh
// tsan) ThreadSanitizer checks that no two threads touch the same data unsynchronised.
#include "analysis/preview.h"
#include "export/exportdialog.h"
#include "jobs/jobrunner.h"
#include "mainwindow.h"
#include "model/checkpoint.h"
#include "model/demofamily.h"
#include "preview/previewpanel.h"
#include "recipe/layereditor.h"
#include "recipe/layerpointplot.h"
#include "recipe/parameditor.h"
#include "recipe/recipecontroller.h"
#include "recipe/recipedock.h"
#include "recipe/recipedocument.h"
#include "recipe/recipeedits.h"
#include "recipe/setting.h"
#include "workbench/session.h"

#include <QDir>
#include <QFile>
#include <QSettings>
#include <QSignalSpy>
#include <QSlider>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <thread>

using namespace basin;
using namespace basin::ui;

namespace {

// Generous: under ThreadSanitizer every job runs 5–15× slower.
constexpr int kTimeout = 120000;

bool sameNumber(double a, double b)
{
    return (std::isnan(a) && std::isnan(b)) || a == b;
}

bool sameRow(const analysis::PreviewRow &a, const analysis::PreviewRow &b)
{
    auto same = [](const std::vector<double> &x, const std::vector<double> &y) {
        if (x.size() != y.size())
            return false;
        for (std::size_t i = 0; i < x.size(); ++i) {
            if (!sameNumber(x[i], y[i]))
                return false;
        }
        return true;
    };
    return a.label == b.label && sameNumber(a.mergedNorm, b.mergedNorm) &&
           same(a.retention, b.retention) && same(a.cosine, b.cosine) &&
           same(a.distance, b.distance);
}

bool samePreview(const analysis::Preview &a, const analysis::Preview &b)
{
    if (a.groups.size() != b.groups.size() || !sameRow(a.global, b.global))
        return false;
    for (std::size_t g = 0; g < a.groups.size(); ++g) {
        if (!sameRow(a.groups[g], b.groups[g]))
            return false;
    }
    return true;
}

double numberParameter(const recipe::Recipe &r, int row, const char *name)
{
    const auto *p = recipe::findParameter(r.models[std::size_t(row)].parameters, name);
    return p && !p->setting.isFiltered() && p->setting.value().kind == recipe::Value::Kind::Number
               ? p->setting.value().number
               : std::nan("");
}

bool isPerLayer(const recipe::Recipe &r, int row, const char *name)
{
    const auto *p = recipe::findParameter(r.models[std::size_t(row)].parameters, name);
    return p && !p->setting.isFiltered() &&
           p->setting.value().kind == recipe::Value::Kind::Gradient;
}

} // namespace

class TestConcurrency : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();
    void slidersWhileAnalysisAndExportRun();
    void cancelWhileSlidersMove();

private:
    // One slider step: moves weight (model 0) or density (model 1) through the real
    // QSlider, as a drag does (press, value, release), then lets the events that follow
    // run (document edit, recipe dock, preview submission).
    void moveSlider(int step);
    // Drags one point of the per-layer curve of model 2's density with the mouse.
    void dragLayerPoint(int step);
    // Entries of the temporary folder, sorted.
    QStringList leftovers() const;
    // Opens File ▸ Export for `destination` with the export held at its first progress
    // report until *release is set (so export, analysis and preview really overlap). The
    // caller starts it. Null when the dialog did not open.
    ExportDialog *heldExport(const QString &destination,
                             const std::shared_ptr<std::atomic<bool>> &release);

    QTemporaryDir m_dir;
    QString m_recipePath;
    int m_tensors = 0;
    std::unique_ptr<MainWindow> m_window;
    RecipeController *m_controller = nullptr;
    PreviewPanel *m_preview = nullptr;
    double m_lastWeight = 0.0;
};

void TestConcurrency::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("BasinTests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_concurrency"));
    QSettings().clear();
    QVERIFY(m_dir.isValid());

    // The tiny preset widened so an analysis or an export takes long enough to overlap
    // with the slider moves (tens of milliseconds here, seconds under TSan).
    DemoFamilyOptions options;
    options.size = "tiny";
    options.layers = 4;
    options.hidden = 128;
    options.intermediate = 344;
    options.vocab = 2048;
    options.seed = 10;
    const std::filesystem::path family = m_dir.filePath(QStringLiteral("family")).toStdString();
    auto written = writeDemoFamily(family, options);
    QVERIFY2(written.ok(), written.ok() ? "" : written.error().message.c_str());
    auto base = Checkpoint::open(family / "base");
    QVERIFY(base.ok());
    m_tensors = int(base.value()->tensors().size());

    m_recipePath = m_dir.filePath(QStringLiteral("recipe.yml"));
    QFile file(m_recipePath);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("models:\n"
               "  - model: family/ft1\n"
               "    parameters: {weight: 1.0, density: 0.5}\n"
               "  - model: family/ft2\n"
               "    parameters: {weight: 0.8, density: 0.3}\n"
               "  - model: family/ft3\n"
               "    parameters: {weight: 0.5, density: 0.7}\n"
               "merge_method: ties\n"
               "base_model: family/base\n"
               "parameters: {normalize: true}\n"
               "dtype: bfloat16\n");
    file.close();
}

void TestConcurrency::init()
{
    m_window = std::make_unique<MainWindow>();
    m_window->resize(1500, 950);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    m_controller = m_window->findChild<RecipeController *>();
    m_preview = m_window->findChild<PreviewPanel *>(QStringLiteral("previewPanel"));
    QVERIFY(m_controller && m_preview);

    // Opening the recipe loads its models, which starts the first analysis.
    QSignalSpy finished(m_window->session(), &Session::analysisFinished);
    QVERIFY(m_controller->openFile(m_recipePath));
    QVERIFY(m_controller->dock()->modelEditor(0, QStringLiteral("weight")));
    // Sliders moved while the models open and the first pass runs.
    int step = 0;
    while (finished.count() == 0 && step < 400) {
        moveSlider(step++);
    }
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
    QVERIFY(m_window->session()->snapshot());
    QTRY_COMPARE_WITH_TIMEOUT(m_controller->dock()->layerEditor()->layerCount(), 4, kTimeout);
}

void TestConcurrency::cleanup()
{
    // Destroying the window (not closing it: no unsaved-recipe question) cancels and waits
    // for every job of its runner.
    m_window.reset();
    // The finished export's folder (its own checks are done): only strays remain after it.
    QDir(m_dir.filePath(QStringLiteral("merged"))).removeRecursively();
    m_controller = nullptr;
    m_preview = nullptr;
    QCOMPARE(leftovers(), QStringList({QStringLiteral("family"), QStringLiteral("recipe.yml")}));
}

QStringList TestConcurrency::leftovers() const
{
    return QDir(m_dir.path())
        .entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot, QDir::Name);
}

void TestConcurrency::moveSlider(int step)
{
    RecipeDock *dock = m_controller->dock();
    const bool weight = step % 2 == 0;
    ParamEditor *editor = dock->modelEditor(weight ? 0 : 1, weight ? QStringLiteral("weight")
                                                                   : QStringLiteral("density"));
    if (!editor || !editor->slider() || !editor->slider()->isEnabled())
        return;
    QSlider *slider = editor->slider();
    // Weight sweeps its slider (−1 … 2) in 37 steps, density (0 … 1) in 23.
    const int position = weight ? 350 + (step * 37) % 600 : 100 + (step * 23) % 800;
    slider->setSliderDown(true);
    slider->setValue(position);
    slider->setSliderDown(false);
    if (weight)
        m_lastWeight = editor->value();
    QTest::qWait(1); // the edit's consequences: recipe dock, preview submission
}

void TestConcurrency::dragLayerPoint(int step)
{
    LayerEditor *editor = m_controller->dock()->layerEditor();
    if (editor->currentRow() != 2 || editor->currentParameter() != QStringLiteral("density"))
        editor->setCurrent(2, QStringLiteral("density"), LayerScope::All);
    LayerPointPlot *plot = editor->plot();
    const QPoint from = plot->pointPosition(step % 4);
    // Each point goes down on one visit and back up on the next, so however many steps a
    // slow (sanitizer) build takes, the curve stays inside the parameter's useful range.
    const QPoint to = from + QPoint(0, (step / 12) % 2 == 0 ? 12 : -12);
    QTest::mousePress(plot, Qt::LeftButton, {}, from);
    QTest::mouseMove(plot, to);
    QTest::mouseRelease(plot, Qt::LeftButton, {}, to);
    QTest::qWait(1); // the edit's consequences: recipe dock, preview submission
}

ExportDialog *TestConcurrency::heldExport(const QString &destination,
                                          const std::shared_ptr<std::atomic<bool>> &release)
{
    m_controller->exportModel();
    auto *dialog = m_window->findChild<ExportDialog *>();
    if (!dialog)
        return nullptr;
    dialog->setDestination(destination);
    dialog->setProgressHook([release](const Progress &) {
        for (int i = 0; i < 20000 && !release->load(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return false;
    });
    return dialog;
}

void TestConcurrency::slidersWhileAnalysisAndExportRun()
{
    Session *session = m_window->session();
    JobRunner *runner = session->jobRunner();
    RecipeDocument *document = m_controller->document();
    const QString destination = m_dir.filePath(QStringLiteral("merged"));

    // The export merges the recipe as it is now, held until the second analysis has
    // started; afterwards it runs freely.
    auto release = std::make_shared<std::atomic<bool>>(false);
    ExportDialog *dialog = heldExport(destination, release);
    QVERIFY(dialog);
    QSignalSpy exported(dialog, &ExportDialog::exportFinished);
    QSignalSpy analysed(session, &Session::analysisFinished);
    QVERIFY(dialog->start());

    int step = 0, whileExporting = 0, whileAnalysing = 0;
    for (; step < 12; ++step) // previews against the first analysis, export in flight
        moveSlider(step);
    session->reanalyse(); // the second pass runs beside the export
    for (; step < 24; ++step) {
        whileAnalysing += session->isAnalysing() ? 1 : 0;
        moveSlider(step);
        if (step % 3 == 0)
            dragLayerPoint(step);
    }
    release->store(true);
    // Keep moving until both jobs are done (and for a few more steps, so the previews of
    // the second analysis run too).
    for (int extra = 0; extra < 8 && step < 4000; ++step) {
        whileExporting += dialog->isRunning() ? 1 : 0;
        whileAnalysing += session->isAnalysing() ? 1 : 0;
        moveSlider(step);
        if (step % 3 == 0)
            dragLayerPoint(step);
        if (!dialog->isRunning() && !session->isAnalysing())
            ++extra;
    }
    QTRY_COMPARE_WITH_TIMEOUT(exported.count(), 1, kTimeout);
    QVERIFY2(exported.at(0).at(0).toBool(), qPrintable(dialog->resultText()));
    QTRY_COMPARE_WITH_TIMEOUT(analysed.count(), 1, kTimeout);
    QVERIFY(whileAnalysing > 0);
    qInfo("%d slider steps, %d while exporting, %d while analysing", step, whileExporting,
          whileAnalysing);

    // Everything settles: no job left, the preview delivered for the final recipe.
    QTRY_VERIFY_WITH_TIMEOUT(runner->runningCount() == 0, kTimeout);
    QVERIFY(!runner->isBusy(QStringLiteral("preview")));
    QCOMPARE(numberParameter(document->recipe(), 0, "weight"), m_lastWeight);
    QVERIFY(isPerLayer(document->recipe(), 2, "density")); // the mouse drags arrived
    QVERIFY2(m_preview->preview().has_value(), qPrintable(m_preview->statusText()));
    const auto snapshot = session->snapshot();
    QVERIFY(snapshot);
    auto expected = analysis::computePreview(*snapshot, document->recipe());
    QVERIFY2(expected.ok(), expected.ok() ? "" : expected.error().message.c_str());
    QVERIFY(samePreview(*m_preview->preview(), *expected));
    // The comparison can tell slider positions apart: another weight gives other numbers.
    recipe::Recipe other = document->recipe();
    recipe::setParameter(other.models[0].parameters, "weight",
                         recipe::Setting(recipe::Value::makeNumber(m_lastWeight + 0.25)));
    auto different = analysis::computePreview(*snapshot, other);
    QVERIFY(different.ok());
    QVERIFY(!samePreview(*m_preview->preview(), *different));

    // The export is complete, in place, and nothing else was written beside it.
    QVERIFY(dialog->report());
    QCOMPARE(int(dialog->report()->tensors.size()), m_tensors);
    auto merged = Checkpoint::open(destination.toStdString());
    QVERIFY2(merged.ok(), merged.ok() ? "" : merged.error().message.c_str());
    QCOMPARE(int(merged.value()->tensors().size()), m_tensors);
    QCOMPARE(leftovers(), QStringList({QStringLiteral("family"), QStringLiteral("merged"),
                                       QStringLiteral("recipe.yml")}));
    dialog->close();
    QVERIFY(QDir(destination).removeRecursively());
}

void TestConcurrency::cancelWhileSlidersMove()
{
    Session *session = m_window->session();
    JobRunner *runner = session->jobRunner();
    const QString destination = m_dir.filePath(QStringLiteral("cancelled"));

    auto release = std::make_shared<std::atomic<bool>>(false);
    ExportDialog *dialog = heldExport(destination, release);
    QVERIFY(dialog);
    QSignalSpy exported(dialog, &ExportDialog::exportFinished);
    QSignalSpy cancelled(session, &Session::analysisCancelled);
    QVERIFY(dialog->start());
    session->reanalyse();
    int step = 0;
    for (; step < 10; ++step)
        moveSlider(step);
    // Both cancelled from the GUI thread while their workers are busy.
    dialog->cancel();
    session->cancelAnalysis();
    release->store(true);
    for (; step < 20; ++step)
        moveSlider(step);
    QTRY_COMPARE_WITH_TIMEOUT(exported.count(), 1, kTimeout);
    QVERIFY(!exported.at(0).at(0).toBool());
    QVERIFY2(dialog->resultText().contains(QStringLiteral("Cancelled")),
             qPrintable(dialog->resultText()));
    QVERIFY(!dialog->report());
    // The pass either saw the cancel (no result) or had already finished before it.
    QTRY_VERIFY_WITH_TIMEOUT(!session->isAnalysing(), kTimeout);
    QVERIFY(cancelled.count() == 1 || session->snapshot());
    QTRY_VERIFY_WITH_TIMEOUT(runner->runningCount() == 0, kTimeout);
    QVERIFY(!QFileInfo::exists(destination));
    QCOMPARE(leftovers(), QStringList({QStringLiteral("family"), QStringLiteral("recipe.yml")}));
    dialog->close();
}

QTEST_MAIN(TestConcurrency)
#include "tst_concurrency.moc"
