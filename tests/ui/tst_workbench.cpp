// SPDX-License-Identifier: GPL-3.0-or-later
// The workbench window end to end, offscreen with real widgets: load the fixture family
// through the Models dock, check the views against the snapshot and the reference
// statistics, click through the selection, drop a hostile file.
#include "mainwindow.h"
#include "models/layertablemodel.h"
#include "models/modellistmodel.h"
#include "panels/distributionpanel.h"
#include "panels/interferencepanel.h"
#include "panels/kindpanel.h"
#include "panels/layerspanel.h"
#include "panels/matrixpanel.h"
#include "panels/messagebar.h"
#include "panels/modelspanel.h"
#include "plots/heatmapwidget.h"
#include "plots/histogramwidget.h"
#include "plots/matrixwidget.h"
#include "workbench/session.h"

#include "analysis/metrics.h"

#include <QComboBox>
#include <QDockWidget>
#include <QDropEvent>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMimeData>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QToolButton>
#include <QUrl>
#include <QtTest>

#include <cmath>

using namespace basin::ui;

namespace {
constexpr int kTimeout = 60000;

QString family(const QString &member)
{
    return QDir::cleanPath(QStringLiteral(BASIN_TEST_DATA_DIR "/families/f32/") + member);
}

bool close(double actual, double expected, double relative = 1e-9)
{
    if (std::isnan(expected))
        return std::isnan(actual);
    return std::abs(actual - expected) <= relative * std::abs(expected) || actual == expected;
}

int indexOf(const QStringList &labels, const QString &label)
{
    return int(labels.indexOf(label));
}

double jsonNumber(const QJsonValue &value)
{
    return value.isNull() ? std::nan("") : value.toDouble();
}
} // namespace

class TestWorkbench : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<MainWindow> m_window;
    QJsonObject m_stats;

    // Loads the family the way the Models dock's dialogs do.
    void loadFamily(MainWindow &window)
    {
        QSignalSpy finished(window.session(), &Session::analysisFinished);
        window.modelsPanel()->setBasePath(family(QStringLiteral("base")));
        window.modelsPanel()->addFineTunePaths({family(QStringLiteral("ft1")),
                                                family(QStringLiteral("ft2")),
                                                family(QStringLiteral("ft3"))});
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("BasinTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_workbench"));
        QSettings().clear();
        QFile file(QStringLiteral(BASIN_TEST_DATA_DIR "/stats/f32.json"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        m_stats = QJsonDocument::fromJson(file.readAll()).object();
        QVERIFY(!m_stats.isEmpty());

        m_window = std::make_unique<MainWindow>();
        m_window->resize(1500, 950);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
        loadFamily(*m_window);
    }

    void cleanupTestCase() { m_window.reset(); }

    void docksStayNarrowWithModelsLoaded()
    {
        // With a recipe over the loaded models the Preview dock's curve legend and the
        // Recipe dock's base path must not widen the window beyond a laptop screen (the
        // curve legend once asked for 1170 px, a full base path for its length).
        for (const char *name : {"previewDock", "recipeDock", "modelsDock"}) {
            auto *dock = m_window->findChild<QDockWidget *>(QLatin1String(name));
            QVERIFY2(dock, name);
            QVERIFY2(dock->minimumSizeHint().width() <= 640,
                     qPrintable(QStringLiteral("%1: %2 px")
                                    .arg(QLatin1String(name))
                                    .arg(dock->minimumSizeHint().width())));
        }
        QVERIFY2(m_window->minimumSizeHint().width() <= 1366,
                 qPrintable(QString::number(m_window->minimumSizeHint().width())));
    }

    void modelsDockShowsTheModels()
    {
        ModelListModel *model = m_window->modelsPanel()->model();
        QCOMPARE(model->rowCount(), 4);
        QCOMPARE(model->index(0, ModelListModel::RoleColumn).data().toString(),
                 QStringLiteral("base"));
        QCOMPARE(model->index(2, ModelListModel::NameColumn).data().toString(),
                 QStringLiteral("ft2"));
        QCOMPARE(model->index(1, ModelListModel::DtypeColumn).data().toString(),
                 QStringLiteral("F32"));
        QCOMPARE(model->index(3, ModelListModel::TensorsColumn).data().toInt(),
                 int(m_window->session()->snapshot()->tensors.size()));
        QCOMPARE(model->index(1, ModelListModel::ProblemsColumn).data().toString(),
                 QStringLiteral("none"));
        QVERIFY(model->index(1, 0)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(family(QStringLiteral("ft1"))));
        QVERIFY(MainWindow::recentModels().contains(family(QStringLiteral("ft3"))));
    }

    void heatmapEqualsSnapshotAndReference_data()
    {
        QTest::addColumn<int>("metric");
        QTest::newRow("cosine") << int(Metric::Cosine);
        QTest::newRow("sign conflict") << int(Metric::Conflict);
        QTest::newRow("TIES") << int(Metric::Ties);
        QTest::newRow("rho") << int(Metric::Rho);
        QTest::newRow("max |tau|") << int(Metric::MaxAbs);
    }

    void heatmapEqualsSnapshotAndReference()
    {
        QFETCH(int, metric);
        InterferencePanel *panel = m_window->interferencePanel();
        panel->setMetric(Metric(metric));
        QCOMPARE(int(panel->metric()), metric);
        const HeatmapWidget *heatmap = panel->heatmap();
        const auto snapshot = m_window->session()->snapshot();
        const bool pairs = isPairMetric(Metric(metric));
        QCOMPARE(heatmap->data().rows, int(snapshot->groups.size()));
        QCOMPARE(heatmap->data().cols, pairs ? 3 : 3); // 3 pairs of 3 fine-tunes, or 3 models

        const QJsonObject layers = m_stats.value(QStringLiteral("layers")).toObject();
        int checked = 0;
        for (int row = 0; row < heatmap->data().rows; ++row) {
            const basin::analysis::StatsBlock &s = snapshot->groups[std::size_t(row)].stats;
            for (int col = 0; col < heatmap->data().cols; ++col) {
                const auto [i, j] =
                    pairs ? std::pair{col < 2 ? 0 : 1, col < 2 ? col + 1 : 2} : std::pair{col, col};
                double expected = std::nan("");
                switch (Metric(metric)) {
                case Metric::Cosine:
                    expected = basin::analysis::cosine(s, i, j).value_or(std::nan(""));
                    break;
                case Metric::Conflict:
                    expected = basin::analysis::signConflict(s, i, j).value_or(std::nan(""));
                    break;
                case Metric::Ties:
                    expected = basin::analysis::tiesDroppedFrac(s.models[std::size_t(i)])
                                   .value_or(std::nan(""));
                    break;
                case Metric::Rho:
                    expected =
                        basin::analysis::relL2(s.models[std::size_t(i)]).value_or(std::nan(""));
                    break;
                case Metric::MaxAbs:
                    expected =
                        basin::analysis::maxAbs(s.models[std::size_t(i)]).value_or(std::nan(""));
                    break;
                }
                const double shown = heatmap->cellValue(row, col);
                QVERIFY2(close(shown, expected, 0.0), qPrintable(QStringLiteral("%1,%2: %3 vs %4")
                                                                     .arg(row)
                                                                     .arg(col)
                                                                     .arg(shown)
                                                                     .arg(expected)));

                // The reference statistics (computed independently) for the layer rows.
                const QString label = heatmap->data().rowLabels.at(row);
                if (!label.startsWith(QLatin1Char('L')))
                    continue;
                const QJsonObject layer = layers.value(label.mid(1)).toObject();
                QVERIFY(!layer.isEmpty());
                double reference = std::nan("");
                if (Metric(metric) == Metric::Cosine || Metric(metric) == Metric::Conflict) {
                    const QJsonObject pair =
                        layer.value(QStringLiteral("pairs")).toArray().at(col).toObject();
                    QCOMPARE(pair.value(QStringLiteral("i")).toInt(), i + 1);
                    QCOMPARE(pair.value(QStringLiteral("j")).toInt(), j + 1);
                    reference = jsonNumber(pair.value(Metric(metric) == Metric::Cosine
                                                          ? QStringLiteral("cosine")
                                                          : QStringLiteral("sign_conflict")));
                } else {
                    const QJsonObject model =
                        layer.value(QStringLiteral("models")).toArray().at(col).toObject();
                    const QString key = Metric(metric) == Metric::Rho ? QStringLiteral("rel_l2")
                                        : Metric(metric) == Metric::Ties
                                            ? QStringLiteral("ties_dropped_frac")
                                            : QStringLiteral("max_abs");
                    reference = jsonNumber(model.value(key));
                }
                QVERIFY2(close(shown, reference),
                         qPrintable(QStringLiteral("%1 %2: %3 vs reference %4")
                                        .arg(label, heatmap->data().colLabels.at(col))
                                        .arg(shown, 0, 'g', 17)
                                        .arg(reference, 0, 'g', 17)));
                ++checked;
            }
        }
        QCOMPARE(checked, 4 * 3);
        // Signed metric: diverging scale centred on zero; shares on [0, 1].
        if (Metric(metric) == Metric::Cosine) {
            QVERIFY(heatmap->data().diverging);
            QCOMPARE(heatmap->colorRange().lower, -1.0);
        } else if (Metric(metric) == Metric::Conflict) {
            QVERIFY(!heatmap->data().diverging);
            QCOMPARE(heatmap->colorRange().upper, 1.0);
        }
        QVERIFY(heatmap->toolTipForCell(1, 0).startsWith(heatmap->data().rowLabels.at(1)));
    }

    void perKindHeatmapMatchesTensorStatistics()
    {
        KindPanel *panel = m_window->kindPanel();
        selectMetric(panel->metricBox(), Metric::Rho);
        panel->targetBox()->setCurrentIndex(1); // ft2
        const HeatmapWidget *heatmap = panel->heatmap();
        const QStringList rows = heatmap->data().rowLabels;
        const QStringList cols = heatmap->data().colLabels;
        QCOMPARE(rows, QStringList({QStringLiteral("L0"), QStringLiteral("L1"),
                                    QStringLiteral("L2"), QStringLiteral("L3")}));
        QCOMPARE(cols,
                 QStringList({QStringLiteral("q"), QStringLiteral("k"), QStringLiteral("v"),
                              QStringLiteral("o"), QStringLiteral("gate"), QStringLiteral("up"),
                              QStringLiteral("down"), QStringLiteral("norm")}));
        const QJsonObject tensors = m_stats.value(QStringLiteral("tensors")).toObject();
        const auto reference = [&](const QString &name) {
            return tensors.value(name)
                .toObject()
                .value(QStringLiteral("models"))
                .toArray()
                .at(1)
                .toObject()
                .value(QStringLiteral("rel_l2"))
                .toDouble();
        };
        QVERIFY(close(heatmap->cellValue(indexOf(rows, QStringLiteral("L2")),
                                         indexOf(cols, QStringLiteral("q"))),
                      reference(QStringLiteral("model.layers.2.self_attn.q_proj.weight"))));
        QVERIFY(close(heatmap->cellValue(indexOf(rows, QStringLiteral("L0")),
                                         indexOf(cols, QStringLiteral("down"))),
                      reference(QStringLiteral("model.layers.0.mlp.down_proj.weight"))));
        // Two norms per layer (input and post-attention) make one cell: ‖τ‖/‖B‖ over both.
        const auto norms = [&](const char *which) {
            const QJsonObject m =
                tensors.value(QStringLiteral("model.layers.3.%1.weight").arg(QLatin1String(which)))
                    .toObject()
                    .value(QStringLiteral("models"))
                    .toArray()
                    .at(1)
                    .toObject();
            return m.value(QStringLiteral("l2")).toDouble() /
                   m.value(QStringLiteral("rel_l2")).toDouble();
        };
        const QJsonObject in =
            tensors.value(QStringLiteral("model.layers.3.input_layernorm.weight"))
                .toObject()
                .value(QStringLiteral("models"))
                .toArray()
                .at(1)
                .toObject();
        const QJsonObject post =
            tensors.value(QStringLiteral("model.layers.3.post_attention_layernorm.weight"))
                .toObject()
                .value(QStringLiteral("models"))
                .toArray()
                .at(1)
                .toObject();
        const double tau = std::hypot(in.value(QStringLiteral("l2")).toDouble(),
                                      post.value(QStringLiteral("l2")).toDouble());
        const double base = std::hypot(norms("input_layernorm"), norms("post_attention_layernorm"));
        QVERIFY(close(heatmap->cellValue(indexOf(rows, QStringLiteral("L3")),
                                         indexOf(cols, QStringLiteral("norm"))),
                      tau / base, 1e-9));
        // Pair metrics list pairs as targets.
        selectMetric(panel->metricBox(), Metric::Cosine);
        QCOMPARE(panel->targetBox()->count(), 3);
        QCOMPARE(panel->targetBox()->itemText(2), QStringLiteral("ft2·ft3"));
    }

    void clickingACellSelectsTheLayerEverywhere()
    {
        InterferencePanel *panel = m_window->interferencePanel();
        panel->setMetric(Metric::Cosine);
        HeatmapWidget *heatmap = panel->heatmap();
        heatmap->replot();
        const int row = indexOf(heatmap->data().rowLabels, QStringLiteral("L2"));
        QVERIFY(row > 0);
        const QPoint centre = heatmap->cellCenter(row, 0);
        QVERIFY(centre.x() >= 0);
        QTest::mouseClick(heatmap, Qt::LeftButton, {}, centre);

        QCOMPARE(m_window->session()->selectedGroup(), row);
        QCOMPARE(heatmap->selectedRow(), row);
        QCOMPARE(m_window->layersPanel()->selectedGroups(), std::vector<int>{row});
        const HeatmapWidget *kinds = m_window->kindPanel()->heatmap();
        QCOMPARE(kinds->selectedRow(), indexOf(kinds->data().rowLabels, QStringLiteral("L2")));
        MatrixPanel *matrix = m_window->matrixPanel();
        QCOMPARE(matrix->shownGroup(), row);
        QVERIFY(matrix->matrix()->data().title.endsWith(QStringLiteral("L2")));
        const auto snapshot = m_window->session()->snapshot();
        const auto expected =
            basin::analysis::cosine(snapshot->groups[std::size_t(row)].stats, 0, 1).value();
        QCOMPARE(matrix->matrix()->cellValue(0, 1), expected);
        QCOMPARE(matrix->matrix()->cellValue(1, 0), expected);
        QCOMPARE(matrix->matrix()->cellText(0, 1), QString::number(expected, 'f', 2));
        // The distribution lists that layer's tensors.
        QVERIFY(m_window->distributionPanel()->tensorName().startsWith(
            QStringLiteral("model.layers.2.")));

        // And back: selecting a row of the Layers table moves every view.
        LayersPanel *layers = m_window->layersPanel();
        QSortFilterProxyModel *proxy = layers->proxy();
        const QModelIndex l0 = proxy->mapFromSource(layers->model()->index(1, 0));
        layers->view()->setCurrentIndex(l0);
        QCOMPARE(m_window->session()->selectedGroup(), 1);
        QCOMPARE(heatmap->selectedRow(), 1);
        QCOMPARE(matrix->shownGroup(), 1);
        // "All layers" shows the total.
        matrix->globalButton()->setChecked(true);
        QCOMPARE(matrix->shownGroup(), -1);
        QCOMPARE(matrix->matrix()->cellValue(0, 1),
                 basin::analysis::cosine(snapshot->total, 0, 1).value());
        matrix->globalButton()->setChecked(false);
    }

    void signedDistributionIsReadInTheBackground()
    {
        DistributionPanel *panel = m_window->distributionPanel();
        m_window->session()->setSelectedGroup(-1);
        const QString name = QStringLiteral("model.layers.1.mlp.down_proj.weight");
        panel->setTensorName(name);
        QCOMPARE(panel->tensorName(), name);
        QSignalSpy updated(panel, &DistributionPanel::histogramUpdated);
        panel->setMode(DistributionPanel::Mode::Signed);
        QTRY_VERIFY_WITH_TIMEOUT(updated.count() >= 1, kTimeout);
        const HistogramData &data = panel->histogram()->data();
        QCOMPARE(int(data.series.size()), 3);
        const auto *tensor = m_window->session()->snapshot()->findTensor(name.toStdString());
        QVERIFY(tensor);
        for (int t = 0; t < 3; ++t) {
            double sum = 0;
            for (double c : data.series[std::size_t(t)].counts)
                sum += c;
            const auto &model = tensor->stats.models[std::size_t(t)];
            QCOMPARE(quint64(sum), tensor->numel - model.zeros);
        }
        // Symmetric bins over the largest |τ| of the chosen models.
        QCOMPARE(data.series[0].edges.front(), -data.series[0].edges.back());

        panel->setMode(DistributionPanel::Mode::LogAbs);
        QVERIFY(panel->histogram()->logX());
        double logSum = 0;
        for (double c : panel->histogram()->data().series[0].counts)
            logSum += c;
        QVERIFY(logSum > 0.9 * double(tensor->numel - tensor->stats.models[0].zeros));
        QVERIFY(logSum <= double(tensor->numel));
    }

    void hostileDropShowsAnErrorInPlace()
    {
        QTemporaryDir dir;
        const QString bad = dir.filePath(QStringLiteral("hostile.safetensors"));
        QFile file(bad);
        QVERIFY(file.open(QIODevice::WriteOnly));
        // Declares a header of 2^62 bytes.
        file.write(QByteArray("\x00\x00\x00\x00\x00\x00\x00\x40{}", 10));
        file.close();
        const QStringList before = m_window->session()->modelPaths();

        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(bad)});
        QDragEnterEvent enter(QPoint(50, 50), Qt::CopyAction, &mime, Qt::LeftButton,
                              Qt::NoModifier);
        QApplication::sendEvent(m_window.get(), &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QSignalSpy failed(m_window->session(), &Session::openFailed);
        QApplication::sendEvent(m_window.get(), &drop);
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, kTimeout);

        MessageBar *bar = m_window->messageBar();
        QVERIFY(bar->isVisible());
        QCOMPARE(bar->kind(), MessageBar::Kind::Error);
        QVERIFY2(bar->text().contains(QStringLiteral("hostile.safetensors")),
                 qPrintable(bar->text()));
        QCOMPARE(m_window->session()->modelPaths(), before);
        QVERIFY(m_window->session()->snapshot());
        QCOMPARE(QApplication::activeModalWidget(), nullptr);
        bar->dismiss();
        QVERIFY(!bar->isVisible());
    }

    void removingAModelUpdatesEveryView()
    {
        ModelsPanel *models = m_window->modelsPanel();
        QSignalSpy finished(m_window->session(), &Session::analysisFinished);
        models->view()->selectRow(2); // ft2
        models->removeSelected();
        // Nothing of the old list stays on screen while the new pass runs.
        QVERIFY(!m_window->session()->snapshot());
        QCOMPARE(m_window->layersPanel()->model()->rowCount(), 0);
        QCOMPARE(m_window->interferencePanel()->heatmap()->data().rows, 0);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
        QCOMPARE(models->model()->rowCount(), 3);
        m_window->interferencePanel()->setMetric(Metric::Cosine);
        QCOMPARE(m_window->interferencePanel()->heatmap()->data().cols, 1);
        QCOMPARE(m_window->interferencePanel()->heatmap()->data().colLabels.at(0),
                 QStringLiteral("ft1·ft3"));
        QCOMPARE(m_window->matrixPanel()->matrix()->data().rows, 2);
    }

    void choicesAreRemembered()
    {
        m_window->interferencePanel()->setMetric(Metric::Rho);
        MainWindow second;
        QCOMPARE(second.interferencePanel()->metric(), Metric::Rho);
        m_window->interferencePanel()->setMetric(Metric::Cosine);
    }

    void everyControlHasATooltip()
    {
        const auto check = [](QWidget *root) {
            for (auto *box : root->findChildren<QComboBox *>())
                QVERIFY2(!box->toolTip().isEmpty(), qPrintable(box->objectName()));
            for (auto *button : root->findChildren<QToolButton *>()) {
                if (button->isVisible() && button->defaultAction() == nullptr &&
                    !button->objectName().startsWith(QLatin1String("qt_")))
                    QVERIFY2(!button->toolTip().isEmpty(), qPrintable(button->objectName()));
            }
        };
        check(m_window->centralWidget());
        check(m_window->modelsPanel());
    }
};

QTEST_MAIN(TestWorkbench)
#include "tst_workbench.moc"
