// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/curveplotwidget.h"
#include "plots/histogramwidget.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <limits>

using basin::ui::Curve;
using basin::ui::CurveData;
using basin::ui::CurvePlotWidget;
using basin::ui::HistogramData;
using basin::ui::HistogramSeries;
using basin::ui::HistogramWidget;
using basin::ui::MeasuredSeries;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QList<QStringList> parseTsv(const QString &text)
{
    QList<QStringList> rows;
    const QStringList lines = text.split(QLatin1Char('\n'));
    for (const QString &line : lines)
        rows.append(line.isEmpty() ? QStringList() : line.split(QLatin1Char('\t')));
    while (!rows.isEmpty() && rows.last().isEmpty())
        rows.removeLast();
    return rows;
}

double num(const QString &cell)
{
    if (cell.isEmpty())
        return kNaN;
    bool ok = false;
    const double v = cell.toDouble(&ok);
    return ok ? v : -12345.0;
}

bool same(double a, double b)
{
    return (std::isnan(a) && std::isnan(b)) || a == b;
}

HistogramData sharedBins()
{
    HistogramData d;
    d.title = QStringLiteral("τ of q_proj, layer 3");
    d.xLabel = QStringLiteral("τ");
    const std::vector<double> edges{-0.3, -0.1, 0.0, 0.1 + 1e-12, 0.3};
    d.series = {{QStringLiteral("ft1"), edges, {5, 120, 118, 7}},
                {QStringLiteral("ft2"), edges, {0, 80, 200, 3.5}}};
    return d;
}

CurveData curves()
{
    CurveData d;
    d.title = QStringLiteral("weight-space proxy vs α");
    d.xLabel = QStringLiteral("α");
    d.yLabel = QStringLiteral("relative norm");
    d.y2Label = QStringLiteral("perplexity");
    d.x = {0.0, 0.25, 0.5, 0.75, 1.0};
    d.curves = {{QStringLiteral("norm / line"), {1.0, 0.94, 0.92, 0.94, 1.0}},
                {QStringLiteral("cos to A"), {1.0, 0.9, kNaN, 0.6, 0.45}}};
    d.measured = {{QStringLiteral("ppl"), {0.0, 0.5, 1.0}, {7.125, 6.5, 7.375}},
                  {QStringLiteral("ppl (2nd run)"), {0.5}, {6.25}}};
    return d;
}
} // namespace

class TestSeriesPlots : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void histogramTsvRoundTripSharedBins()
    {
        HistogramWidget w;
        QCOMPARE(w.dataAsTsv(), QString());
        const HistogramData d = sharedBins();
        w.setData(d);
        const QList<QStringList> rows = parseTsv(w.dataAsTsv());
        QCOMPARE(rows.size(), 5);
        QCOMPARE(rows.at(0), (QStringList{QStringLiteral("lower"), QStringLiteral("upper"),
                                          QStringLiteral("ft1"), QStringLiteral("ft2")}));
        for (int i = 0; i < 4; ++i) {
            const QStringList &r = rows.at(i + 1);
            QCOMPARE(num(r.at(0)), d.series[0].edges[std::size_t(i)]);
            QCOMPARE(num(r.at(1)), d.series[0].edges[std::size_t(i) + 1]);
            QCOMPARE(num(r.at(2)), d.series[0].counts[std::size_t(i)]);
            QCOMPARE(num(r.at(3)), d.series[1].counts[std::size_t(i)]);
        }
    }

    void histogramTsvLongFormForDifferentBins()
    {
        HistogramData d;
        d.series = {{QStringLiteral("ft1"), {0, 1, 2}, {3, 4}},
                    {QStringLiteral("ft2"), {0, 0.5}, {9}}};
        HistogramWidget w;
        w.setData(d);
        const QList<QStringList> rows = parseTsv(w.dataAsTsv());
        QCOMPARE(rows.size(), 4);
        QCOMPARE(rows.at(0), (QStringList{QStringLiteral("series"), QStringLiteral("lower"),
                                          QStringLiteral("upper"), QStringLiteral("count")}));
        QCOMPARE(rows.at(1), (QStringList{QStringLiteral("ft1"), QStringLiteral("0"),
                                          QStringLiteral("1"), QStringLiteral("3")}));
        QCOMPARE(rows.at(2), (QStringList{QStringLiteral("ft1"), QStringLiteral("1"),
                                          QStringLiteral("2"), QStringLiteral("4")}));
        QCOMPARE(rows.at(3), (QStringList{QStringLiteral("ft2"), QStringLiteral("0"),
                                          QStringLiteral("0.5"), QStringLiteral("9")}));
    }

    void histogramDrawsStepsOverTheBins()
    {
        HistogramWidget w;
        w.setData(sharedBins());
        QCOMPARE(w.graphCount(), 2);
        QCOMPARE(w.legend->itemCount(), 2);
        QCOMPARE(w.graph(1)->name(), QStringLiteral("ft2"));
        QCOMPARE(w.graph(0)->lineStyle(), QCPGraph::lsStepLeft);
        // Outline: down to zero at both ends, one point per bin plus the last edge.
        const auto *data = w.graph(1)->data().data();
        QCOMPARE(data->size(), 4 + 3);
        QCOMPARE(data->at(0)->value, 0.0);
        QCOMPARE(data->at(2)->key, -0.1);
        QCOMPARE(data->at(2)->value, 80.0);
        QCOMPARE(data->at(5)->key, 0.3);
        QCOMPARE(data->at(5)->value, 3.5);
        QCOMPARE(data->at(6)->value, 0.0);
        // Bars are filled, steps are not.
        QCOMPARE(w.style(), HistogramWidget::Style::Bars);
        QVERIFY(w.graph(0)->brush().style() != Qt::NoBrush);
        w.setStyle(HistogramWidget::Style::Steps);
        QCOMPARE(w.graph(0)->brush().style(), Qt::NoBrush);
        // The view covers all bins and the tallest count.
        QVERIFY(w.xAxis->range().lower <= -0.3 && w.xAxis->range().upper >= 0.3);
        QVERIFY(w.yAxis->range().upper >= 200.0);
        QCOMPARE(w.yAxis->range().lower, 0.0);
    }

    void histogramLogXDropsNonPositiveBins()
    {
        HistogramData d;
        d.xLabel = QStringLiteral("|τ|");
        d.series = {{QStringLiteral("ft1"), {0.0, 1e-4, 1e-3, 1e-2}, {2, 30, 8}}};
        HistogramWidget w;
        w.setData(d);
        QCOMPARE(w.graph(0)->data()->size(), 3 + 3);
        w.setLogX(true);
        QVERIFY(w.logX());
        QCOMPARE(w.xAxis->scaleType(), QCPAxis::stLogarithmic);
        QVERIFY(w.xAxis->ticker().dynamicCast<QCPAxisTickerLog>());
        // The [0, 1e-4) bin cannot be placed on a log axis; it stays in the export.
        QCOMPARE(w.graph(0)->data()->size(), 2 + 3);
        QCOMPARE(w.graph(0)->data()->at(0)->key, 1e-4);
        QVERIFY(w.xAxis->range().lower > 0.0);
        const QList<QStringList> rows = parseTsv(w.dataAsTsv());
        QCOMPARE(rows.size(), 4);
        QCOMPARE(num(rows.at(1).at(0)), 0.0);
        QCOMPARE(num(rows.at(1).at(1)), 1e-4);
        QCOMPARE(num(rows.at(1).at(2)), 2.0);
    }

    void histogramSavePng()
    {
        QTemporaryDir dir;
        HistogramWidget w;
        w.setData(sharedBins());
        const QString path = dir.filePath(QStringLiteral("h.png"));
        QVERIFY(w.savePng(path, 640, 400));
        const QImage image(path);
        QCOMPARE(image.size(), QSize(640, 400));
        QVERIFY(QFileInfo(path).size() > 1000);
    }

    void curveTsvRoundTrip()
    {
        CurvePlotWidget w;
        QCOMPARE(w.dataAsTsv(), QString());
        const CurveData d = curves();
        w.setData(d);
        const QList<QStringList> rows = parseTsv(w.dataAsTsv());
        // Curves table, blank line, measured table.
        QCOMPARE(rows.size(), 1 + 5 + 1 + 1 + 4);
        QCOMPARE(rows.at(0), (QStringList{QStringLiteral("α"), QStringLiteral("norm / line"),
                                          QStringLiteral("cos to A")}));
        for (std::size_t i = 0; i < d.x.size(); ++i) {
            const QStringList &r = rows.at(int(i) + 1);
            QCOMPARE(num(r.at(0)), d.x[i]);
            QVERIFY(same(num(r.at(1)), d.curves[0].y[i]));
            QVERIFY(same(num(r.at(2)), d.curves[1].y[i]));
        }
        QVERIFY(rows.at(6).isEmpty());
        QCOMPARE(rows.at(7), (QStringList{QStringLiteral("series"), QStringLiteral("α"),
                                          QStringLiteral("perplexity")}));
        QCOMPARE(rows.at(8), (QStringList{QStringLiteral("ppl"), QStringLiteral("0"),
                                          QStringLiteral("7.125")}));
        QCOMPARE(rows.at(11), (QStringList{QStringLiteral("ppl (2nd run)"), QStringLiteral("0.5"),
                                           QStringLiteral("6.25")}));
    }

    void measuredSeriesAreMarkersOnTheSecondAxis()
    {
        CurvePlotWidget w;
        w.setData(curves());
        QCOMPARE(w.graphCount(), 4);
        QCOMPARE(w.graph(0)->valueAxis(), w.yAxis);
        QCOMPARE(w.graph(0)->lineStyle(), QCPGraph::lsLine);
        for (int i : {2, 3}) {
            QCOMPARE(w.graph(i)->valueAxis(), w.yAxis2);
            QCOMPARE(w.graph(i)->lineStyle(), QCPGraph::lsNone);
            QVERIFY(!w.graph(i)->scatterStyle().isNone());
        }
        QVERIFY(w.yAxis2->visible());
        QCOMPARE(w.yAxis2->label(), QStringLiteral("perplexity"));
        QCOMPARE(w.xAxis->label(), QStringLiteral("α"));
        QCOMPARE(w.yAxis->label(), QStringLiteral("relative norm"));
        // Each axis fits its own series.
        QVERIFY(w.yAxis2->range().lower <= 6.25 && w.yAxis2->range().upper >= 7.375);
        QVERIFY(w.yAxis->range().upper < 2.0);
        // The endpoints (exact parents) are inside the view, not on its edge.
        QVERIFY(w.xAxis->range().lower < 0.0 && w.xAxis->range().upper > 1.0);

        CurveData noScores = curves();
        noScores.measured.clear();
        w.setData(noScores);
        QVERIFY(!w.yAxis2->visible());
        QCOMPARE(w.graphCount(), 2);
    }

    void currentValueMarker()
    {
        CurvePlotWidget w;
        w.resize(500, 320);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.setData(curves());
        QVERIFY(!w.currentValue());
        auto *marker = w.findChild<QCPItemStraightLine *>();
        QVERIFY(marker);
        QVERIFY(!marker->visible());

        w.setCurrentValue(0.35);
        QCOMPARE(w.currentValue().value_or(-1), 0.35);
        QVERIFY(marker->visible());
        QCOMPARE(marker->point1->coords().x(), 0.35);
        QCOMPARE(marker->point2->coords().x(), 0.35);

        // It is drawn: the column at x = 0.35 holds the highlight colour.
        w.replot();
        const QImage image = w.grab().toImage();
        const int x = qRound(w.xAxis->coordToPixel(0.35));
        const QColor highlight = w.palette().color(QPalette::Highlight);
        bool found = false;
        const QRect plotArea = w.axisRect()->rect();
        for (int y = plotArea.top() + 2; y < plotArea.bottom() - 2 && !found; ++y) {
            for (int dx = -1; dx <= 1 && !found; ++dx) {
                const QColor c = image.pixelColor(QPoint(x + dx, y) * image.devicePixelRatio());
                found = std::abs(c.red() - highlight.red()) +
                            std::abs(c.green() - highlight.green()) +
                            std::abs(c.blue() - highlight.blue()) <
                        40;
            }
        }
        QVERIFY(found);

        w.clearCurrentValue();
        QVERIFY(!w.currentValue());
        QVERIFY(!marker->visible());
    }

    void curveSavePng()
    {
        QTemporaryDir dir;
        CurvePlotWidget w;
        w.setData(curves());
        w.setCurrentValue(0.5);
        const QString path = dir.filePath(QStringLiteral("c.png"));
        QVERIFY(w.savePng(path, 700, 420));
        QCOMPARE(QImage(path).size(), QSize(700, 420));
    }
};

QTEST_MAIN(TestSeriesPlots)
#include "tst_seriesplots.moc"
