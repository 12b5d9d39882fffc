// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/curveplotwidget.h"
#include "plots/heatmapwidget.h"
#include "plots/histogramwidget.h"
#include "plots/matrixwidget.h"
#include "plots/plotwidget.h"

#include <QAction>
#include <QClipboard>
#include <QMenu>
#include <QSettings>
#include <QTemporaryDir>
#include <QtTest>

#include <functional>
#include <memory>

using basin::ui::PlotWidget;

namespace {
// The smallest real plot: one line and a fixed table.
class LinePlot : public PlotWidget {
public:
    LinePlot()
    {
        addGraph();
        graph(0)->setData({0.0, 1.0, 2.0}, {1.0, 4.0, 2.0});
        rescaleAxes();
    }
    QString dataAsTsv() const override { return QStringLiteral("x\ty\n0\t1\n1\t4\n2\t2\n"); }
};

QPalette darkPalette()
{
    QPalette p;
    p.setColor(QPalette::Window, QColor(0x20, 0x22, 0x25));
    p.setColor(QPalette::WindowText, QColor(0xe6, 0xe6, 0xe6));
    p.setColor(QPalette::Base, QColor(0x18, 0x19, 0x1c));
    p.setColor(QPalette::Text, QColor(0xee, 0xee, 0xea));
    p.setColor(QPalette::Highlight, QColor(0x4a, 0x90, 0xe2));
    return p;
}

QPalette lightPalette()
{
    QPalette p;
    p.setColor(QPalette::Window, QColor(0xf0, 0xf0, 0xf0));
    p.setColor(QPalette::WindowText, QColor(0x10, 0x10, 0x10));
    p.setColor(QPalette::Base, QColor(0xff, 0xff, 0xff));
    p.setColor(QPalette::Text, QColor(0x11, 0x11, 0x11));
    p.setColor(QPalette::Highlight, QColor(0x30, 0x60, 0xc0));
    return p;
}

using Factory = std::function<PlotWidget *()>;
} // namespace

Q_DECLARE_METATYPE(Factory)

class TestPlotWidget : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("BasinTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_plotwidget"));
        QSettings().clear();
    }

    void contextMenuHasTheFourActions()
    {
        LinePlot plot;
        const QList<QAction *> actions = plot.contextMenuActions();
        QStringList texts;
        for (const QAction *a : actions)
            texts.append(a->text());
        QCOMPARE(texts, (QStringList{QStringLiteral("Save as PNG…"), QStringLiteral("Save as PDF…"),
                                     QStringLiteral("Copy data"), QStringLiteral("Reset view")}));
        QCOMPARE(plot.contextMenuPolicy(), Qt::DefaultContextMenu);
    }

    void rightClickOpensTheMenu()
    {
        LinePlot plot;
        plot.resize(300, 200);
        plot.show();
        QVERIFY(QTest::qWaitForWindowExposed(&plot));
        QStringList seen;
        bool copyEnabled = false;
        // exec() runs its own loop: inspect and close the popup from inside it.
        QTimer::singleShot(0, &plot, [&] {
            auto *menu = qobject_cast<QMenu *>(QApplication::activePopupWidget());
            if (!menu)
                return;
            const QList<QAction *> actions = menu->actions();
            for (const QAction *a : actions) {
                if (a->isSeparator())
                    continue;
                seen.append(a->text());
                if (a->objectName() == QStringLiteral("copyDataAction"))
                    copyEnabled = a->isEnabled();
            }
            menu->close();
        });
        const QPoint pos(150, 100);
        QContextMenuEvent event(QContextMenuEvent::Mouse, pos, plot.mapToGlobal(pos));
        QApplication::sendEvent(&plot, &event);
        QCOMPARE(seen.size(), 4);
        QCOMPARE(seen.at(2), QStringLiteral("Copy data"));
        QVERIFY(copyEnabled);

        // Nothing to copy: the action is disabled.
        PlotWidget empty;
        empty.resize(300, 200);
        empty.show();
        QVERIFY(QTest::qWaitForWindowExposed(&empty));
        copyEnabled = true;
        QTimer::singleShot(0, &empty, [&] {
            if (auto *menu = qobject_cast<QMenu *>(QApplication::activePopupWidget())) {
                copyEnabled =
                    empty.findChild<QAction *>(QStringLiteral("copyDataAction"))->isEnabled();
                menu->close();
            }
        });
        QContextMenuEvent again(QContextMenuEvent::Mouse, pos, empty.mapToGlobal(pos));
        QApplication::sendEvent(&empty, &again);
        QVERIFY(!copyEnabled);
    }

    void copyDataPutsTsvOnTheClipboard()
    {
        LinePlot plot;
        QGuiApplication::clipboard()->clear();
        plot.findChild<QAction *>(QStringLiteral("copyDataAction"))->trigger();
        QCOMPARE(QGuiApplication::clipboard()->text(), plot.dataAsTsv());
    }

    void resetViewShowsAllDataAgain()
    {
        LinePlot plot;
        plot.xAxis->setRange(10, 20);
        plot.yAxis->setRange(-50, -40);
        plot.findChild<QAction *>(QStringLiteral("resetViewAction"))->trigger();
        QCOMPARE(plot.xAxis->range().lower, 0.0);
        QCOMPARE(plot.xAxis->range().upper, 2.0);
        QCOMPARE(plot.yAxis->range().lower, 1.0);
        QCOMPARE(plot.yAxis->range().upper, 4.0);
    }

    void saveActionsRememberTheFolder()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("figures")));
        const QString folder = dir.filePath(QStringLiteral("figures"));

        LinePlot plot;
        plot.resize(320, 200);
        plot.setTitle(QStringLiteral("Kept mass vs density"));
        QStringList suggestions;
        QString answer = QDir(folder).filePath(QStringLiteral("first")); // no extension
        plot.setFileChooser([&](const QString &, const QString &suggested, const QString &) {
            suggestions.append(suggested);
            return answer;
        });
        QSignalSpy exported(&plot, &PlotWidget::exported);

        plot.findChild<QAction *>(QStringLiteral("savePngAction"))->trigger();
        QCOMPARE(exported.count(), 1);
        const QString png = QDir(folder).filePath(QStringLiteral("first.png"));
        QCOMPARE(exported.at(0).at(0).toString(), png);
        QVERIFY(exported.at(0).at(1).toBool());
        const QImage image(png);
        QCOMPARE(image.size(), QSize(640, 400)); // twice the widget size
        QCOMPARE(PlotWidget::lastExportFolder(), QFileInfo(folder).absoluteFilePath());

        answer = QDir(folder).filePath(QStringLiteral("second.pdf"));
        plot.findChild<QAction *>(QStringLiteral("savePdfAction"))->trigger();
        QCOMPARE(exported.count(), 2);
        QVERIFY(exported.at(1).at(1).toBool());
        QFile pdf(answer);
        QVERIFY(pdf.open(QIODevice::ReadOnly));
        QVERIFY(pdf.read(5) == "%PDF-");

        // The second dialog opened in the remembered folder, named after the title.
        QCOMPARE(suggestions.size(), 2);
        QCOMPARE(suggestions.at(1),
                 QDir(folder).filePath(QStringLiteral("Kept mass vs density.pdf")));

        // A cancelled dialog writes nothing and keeps the folder.
        answer.clear();
        plot.findChild<QAction *>(QStringLiteral("savePngAction"))->trigger();
        QCOMPARE(exported.count(), 2);
    }

    void savePngRejectsBadSizesAndPaths()
    {
        QTemporaryDir dir;
        LinePlot plot;
        QVERIFY(!plot.savePng(dir.filePath(QStringLiteral("a.png")), 0, 10));
        QVERIFY(!plot.savePng(dir.filePath(QStringLiteral("a.png")), 10, -1));
        QVERIFY(!plot.savePng(dir.filePath(QStringLiteral("no/such/dir/a.png")), 100, 100));
        QVERIFY(plot.savePng(dir.filePath(QStringLiteral("a.png")), 123, 77));
        QCOMPARE(QImage(dir.filePath(QStringLiteral("a.png"))).size(), QSize(123, 77));
    }

    void titleRowComesAndGoes()
    {
        LinePlot plot;
        const int rows = plot.plotLayout()->rowCount();
        plot.setTitle(QStringLiteral("Retention vs λ"));
        QCOMPARE(plot.title(), QStringLiteral("Retention vs λ"));
        QCOMPARE(plot.plotLayout()->rowCount(), rows + 1);
        plot.setTitle(QStringLiteral("Retention r(λ)"));
        QCOMPARE(plot.plotLayout()->rowCount(), rows + 1);
        plot.setTitle(QString());
        QCOMPARE(plot.title(), QString());
        QCOMPARE(plot.plotLayout()->rowCount(), rows);
    }

    void followsThePalette_data()
    {
        QTest::addColumn<Factory>("make");
        QTest::newRow("line") << Factory([] { return new LinePlot; });
        QTest::newRow("heatmap") << Factory([] {
            auto *w = new basin::ui::HeatmapWidget;
            basin::ui::HeatmapData d;
            d.rows = 2;
            d.cols = 2;
            d.values = {0.1, 0.2, 0.3, 0.4};
            d.title = QStringLiteral("t");
            d.valueName = QStringLiteral("cosine");
            w->setData(d);
            return w;
        });
        QTest::newRow("matrix") << Factory([] { return new basin::ui::MatrixWidget; });
        QTest::newRow("histogram") << Factory([] {
            auto *w = new basin::ui::HistogramWidget;
            w->setData({QStringLiteral("t"),
                        QStringLiteral("τ"),
                        {},
                        {{QStringLiteral("ft1"), {0, 1, 2}, {3, 4}}}});
            return w;
        });
        QTest::newRow("curves") << Factory([] {
            auto *w = new basin::ui::CurvePlotWidget;
            basin::ui::CurveData d;
            d.x = {0, 1};
            d.curves = {{QStringLiteral("a"), {1, 2}}};
            d.measured = {{QStringLiteral("score"), {0.5}, {3}}};
            w->setData(d);
            return w;
        });
    }

    void followsThePalette()
    {
        QFETCH(Factory, make);
        std::unique_ptr<PlotWidget> plot(make());
        plot->setPalette(lightPalette());
        QCOMPARE(plot->xAxis->labelColor(), QColor(0x11, 0x11, 0x11));
        QCOMPARE(plot->yAxis->tickLabelColor(), QColor(0x11, 0x11, 0x11));

        plot->setPalette(darkPalette());
        QCOMPARE(plot->xAxis->labelColor(), QColor(0xee, 0xee, 0xea));
        QCOMPARE(plot->yAxis->tickLabelColor(), QColor(0xee, 0xee, 0xea));
        QVERIFY(plot->xAxis->basePen().color().lightness() > 100);
        QVERIFY(plot->xAxis->grid()->pen().color().lightness() < 128); // subdued on dark
        if (auto *scale = plot->findChild<QCPColorScale *>())
            QCOMPARE(scale->axis()->labelColor(), QColor(0xee, 0xee, 0xea));
        if (plot->legend)
            QCOMPARE(plot->legend->textColor(), QColor(0xee, 0xee, 0xea));

        // What is exported is what is seen: the dark background reaches the PNG.
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("dark.png"));
        QVERIFY(plot->savePng(path, 300, 200));
        QCOMPARE(QImage(path).pixelColor(1, 1), QColor(0x18, 0x19, 0x1c));
    }

    void followsTheApplicationPalette()
    {
        const QPalette original = QApplication::palette();
        LinePlot plot; // no palette of its own
        // Qt delivers application palette changes to widgets as posted events.
        QApplication::setPalette(darkPalette());
        QTRY_COMPARE(plot.xAxis->labelColor(), QColor(0xee, 0xee, 0xea));
        QApplication::setPalette(lightPalette());
        QTRY_COMPARE(plot.xAxis->labelColor(), QColor(0x11, 0x11, 0x11));
        QApplication::setPalette(original);
    }
};

QTEST_MAIN(TestPlotWidget)
#include "tst_plotwidget.moc"
