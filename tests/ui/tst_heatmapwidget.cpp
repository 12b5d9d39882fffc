// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/heatmapwidget.h"
#include "plots/matrixwidget.h"
#include "plots/plotcolors.h"

#include <QHelpEvent>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QToolTip>
#include <QtTest>

#include <cmath>
#include <limits>

using basin::ui::HeatmapData;
using basin::ui::HeatmapWidget;
using basin::ui::MatrixWidget;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Five layers x three fine-tune pairs, signed, with one cell that has no value.
HeatmapData interferenceData()
{
    HeatmapData d;
    d.rows = 5;
    d.cols = 3;
    d.rowLabels = {QStringLiteral("embed"), QStringLiteral("L0"), QStringLiteral("L1"),
                   QStringLiteral("L2"), QStringLiteral("head")};
    d.colLabels = {QStringLiteral("ft1·ft2"), QStringLiteral("ft1·ft3"), QStringLiteral("ft2·ft3")};
    d.values = {0.91, 0.5,         -0.25, //
                0.2,  0.123456789, -0.8,  //
                0.0,  kNaN,        0.05,  //
                -0.4, 0.33,        0.77,  //
                0.6,  -0.1,        0.42};
    d.title = QStringLiteral("Cosine of task vectors");
    d.valueName = QStringLiteral("cosine");
    d.diverging = true;
    return d;
}

int colorDistance(const QColor &a, const QColor &b)
{
    return std::abs(a.red() - b.red()) + std::abs(a.green() - b.green()) +
           std::abs(a.blue() - b.blue());
}

// Splits TSV into cells; blank cells are NaN when read as numbers.
QList<QStringList> parseTsv(const QString &text)
{
    QList<QStringList> rows;
    const QStringList lines = text.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    for (const QString &line : lines)
        rows.append(line.split(QLatin1Char('\t')));
    return rows;
}

double tsvNumber(const QString &cell)
{
    if (cell.isEmpty())
        return kNaN;
    bool ok = false;
    const double v = cell.toDouble(&ok);
    return ok ? v : -12345.0;
}

bool sameValue(double a, double b)
{
    return (std::isnan(a) && std::isnan(b)) || a == b;
}
} // namespace

class TestHeatmapWidget : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QLocale::setDefault(QLocale::c());
        QStandardPaths::setTestModeEnabled(true);
    }

    void cellValueMatchesInput()
    {
        HeatmapWidget w;
        const HeatmapData d = interferenceData();
        w.setData(d);
        for (int r = 0; r < d.rows; ++r)
            for (int c = 0; c < d.cols; ++c)
                QVERIFY2(sameValue(w.cellValue(r, c), d.at(r, c)),
                         qPrintable(QStringLiteral("cell %1,%2").arg(r).arg(c)));
        QVERIFY(std::isnan(w.cellValue(5, 0)));
        QVERIFY(std::isnan(w.cellValue(0, 3)));
        QVERIFY(std::isnan(w.cellValue(-1, 0)));
        QCOMPARE(w.title(), d.title);
    }

    void shortInputIsPaddedWithNoValue()
    {
        HeatmapWidget w;
        HeatmapData d;
        d.rows = 2;
        d.cols = 2;
        d.values = {1.0, 2.0, 3.0};
        d.rowLabels = {QStringLiteral("a")};
        w.setData(d);
        QCOMPARE(w.cellValue(1, 0), 3.0);
        QVERIFY(std::isnan(w.cellValue(1, 1)));
        QCOMPARE(w.data().rowLabels, (QStringList{QStringLiteral("a"), QStringLiteral("1")}));
    }

    void colorRange_data()
    {
        QTest::addColumn<std::vector<double>>("values");
        QTest::addColumn<bool>("diverging");
        QTest::addColumn<bool>("fixed");
        QTest::addColumn<double>("lower");
        QTest::addColumn<double>("upper");
        QTest::newRow("diverging-symmetric")
            << std::vector<double>{-0.2, 0.8, kNaN} << true << false << -0.8 << 0.8;
        QTest::newRow("sequential-min-max")
            << std::vector<double>{0.3, 2.5, kNaN} << false << false << 0.3 << 2.5;
        QTest::newRow("constant-sequential")
            << std::vector<double>{1.0, 1.0, 1.0} << false << false << 0.5 << 1.5;
        QTest::newRow("all-nan-diverging")
            << std::vector<double>{kNaN, kNaN, kNaN} << true << false << -1.0 << 1.0;
        QTest::newRow("fixed-wins")
            << std::vector<double>{-5.0, 5.0, 0.0} << true << true << -1.0 << 1.0;
    }

    void colorRange()
    {
        QFETCH(std::vector<double>, values);
        QFETCH(bool, diverging);
        QFETCH(bool, fixed);
        QFETCH(double, lower);
        QFETCH(double, upper);
        HeatmapData d;
        d.rows = 1;
        d.cols = 3;
        d.values = values;
        d.diverging = diverging;
        if (fixed)
            d.range = std::make_pair(lower, upper);
        HeatmapWidget w;
        w.setData(d);
        QCOMPARE(w.colorRange().lower, lower);
        QCOMPARE(w.colorRange().upper, upper);
    }

    void clickEmitsCell_data()
    {
        QTest::addColumn<int>("row");
        QTest::addColumn<int>("col");
        QTest::newRow("top-left") << 0 << 0;
        QTest::newRow("middle") << 2 << 1;
        QTest::newRow("bottom-right") << 4 << 2;
        QTest::newRow("no-value-cell") << 2 << 1;
    }

    void clickEmitsCell()
    {
        QFETCH(int, row);
        QFETCH(int, col);
        HeatmapWidget w;
        w.resize(640, 420);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.setData(interferenceData());

        QSignalSpy clicked(&w, &HeatmapWidget::cellClicked);
        QSignalSpy selected(&w, &HeatmapWidget::rowSelected);
        const QPoint centre = w.cellCenter(row, col);
        QVERIFY(w.rect().contains(centre));
        QTest::mouseClick(&w, Qt::LeftButton, Qt::NoModifier, centre);
        QCOMPARE(clicked.count(), 1);
        QCOMPARE(clicked.at(0).at(0).toInt(), row);
        QCOMPARE(clicked.at(0).at(1).toInt(), col);
        QCOMPARE(selected.count(), 1);
        QCOMPARE(selected.at(0).at(0).toInt(), row);
        QCOMPARE(w.selectedRow(), row);
    }

    void everyCellCentreMapsBack()
    {
        HeatmapWidget w;
        w.resize(500, 380);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        const HeatmapData d = interferenceData();
        w.setData(d);
        for (int r = 0; r < d.rows; ++r) {
            for (int c = 0; c < d.cols; ++c)
                QCOMPARE(w.cellAt(w.cellCenter(r, c)), std::make_pair(r, c));
        }
        // Rows run top to bottom in label order, columns left to right.
        QVERIFY(w.cellCenter(0, 0).y() < w.cellCenter(1, 0).y());
        QVERIFY(w.cellCenter(0, 0).x() < w.cellCenter(0, 1).x());
        QCOMPARE(w.cellCenter(5, 0), QPoint(-1, -1));
        QCOMPARE(w.cellAt(QPoint(1, 1)), std::make_pair(-1, -1));
    }

    void dragIsNotAClick()
    {
        HeatmapWidget w;
        w.resize(640, 420);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.setData(interferenceData());
        QSignalSpy clicked(&w, &HeatmapWidget::cellClicked);
        const QPoint start = w.cellCenter(1, 1);
        QTest::mousePress(&w, Qt::LeftButton, Qt::NoModifier, start);
        QTest::mouseMove(&w, start + QPoint(30, 0));
        QTest::mouseRelease(&w, Qt::LeftButton, Qt::NoModifier, start + QPoint(30, 0));
        QCOMPARE(clicked.count(), 0);
    }

    // Cells are drawn flat (no interpolation) in the colour of their value; NaN is neutral.
    void cellsAreDrawnInTheirColour()
    {
        HeatmapWidget w;
        w.resize(600, 420);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        const HeatmapData d = interferenceData();
        w.setData(d);
        const QImage image = w.grab().toImage();
        const qreal dpr = image.devicePixelRatio();
        for (int r = 0; r < d.rows; ++r) {
            for (int c = 0; c < d.cols; ++c) {
                const QPoint p = w.cellCenter(r, c) * dpr;
                const QColor actual = image.pixelColor(p);
                const QColor expected = w.colorFor(d.at(r, c));
                QVERIFY2(colorDistance(actual, expected) <= 6,
                         qPrintable(QStringLiteral("cell %1,%2: %3 vs %4")
                                        .arg(r)
                                        .arg(c)
                                        .arg(actual.name(), expected.name())));
            }
        }
        QCOMPARE(w.colorFor(kNaN), basin::ui::plotcolors::noValueColor(w.palette()));
        // Diverging: the most negative end is blue, the most positive red.
        const QColor low = w.colorFor(w.colorRange().lower);
        const QColor high = w.colorFor(w.colorRange().upper);
        QVERIFY(low.blue() > low.red());
        QVERIFY(high.red() > high.blue());
    }

    void singleRowAndColumnAreClickable_data()
    {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("cols");
        QTest::newRow("1x1") << 1 << 1;
        QTest::newRow("1x4") << 1 << 4;
        QTest::newRow("4x1") << 4 << 1;
    }

    void singleRowAndColumnAreClickable()
    {
        QFETCH(int, rows);
        QFETCH(int, cols);
        HeatmapData d;
        d.rows = rows;
        d.cols = cols;
        for (int i = 0; i < rows * cols; ++i)
            d.values.push_back(0.1 * i + 0.05);
        HeatmapWidget w;
        w.resize(400, 300);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.setData(d);
        const QImage image = w.grab().toImage();
        QSignalSpy clicked(&w, &HeatmapWidget::cellClicked);
        const int r = rows - 1;
        const int c = cols - 1;
        const QPoint centre = w.cellCenter(r, c);
        QTest::mouseClick(&w, Qt::LeftButton, Qt::NoModifier, centre);
        QCOMPARE(clicked.count(), 1);
        QCOMPARE(clicked.at(0).at(0).toInt(), r);
        QCOMPARE(clicked.at(0).at(1).toInt(), c);
        // The single cell spans its full slot: colour reaches well beyond the centre.
        const QPoint offCentre = centre + QPoint(cols == 1 ? 60 : 0, rows == 1 ? 50 : 0);
        QVERIFY(colorDistance(image.pixelColor(offCentre * image.devicePixelRatio()),
                              w.colorFor(d.at(r, c))) <= 6);
    }

    void toolTipShowsLabelsAndExactValue()
    {
        HeatmapWidget w;
        w.resize(640, 420);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.setData(interferenceData());

        const QString expected = QStringLiteral("L0 · ft1·ft3: 0.123456789");
        QCOMPARE(w.toolTipForCell(1, 1), expected);
        QVERIFY(w.toolTipForCell(2, 1).contains(QStringLiteral("no value")));

        const QPoint pos = w.cellCenter(1, 1);
        QHelpEvent help(QEvent::ToolTip, pos, w.mapToGlobal(pos));
        QApplication::sendEvent(&w, &help);
        QTRY_VERIFY(QToolTip::isVisible());
        QVERIFY(QToolTip::text().contains(QStringLiteral("0.123456789")));
        QVERIFY(QToolTip::text().contains(QStringLiteral("L0")));
        QVERIFY(QToolTip::text().contains(QStringLiteral("ft1·ft3")));
        QToolTip::hideText();
    }

    void selectedRowIsOutlined()
    {
        HeatmapWidget w;
        w.resize(600, 420);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.setData(interferenceData());
        QSignalSpy selected(&w, &HeatmapWidget::rowSelected);

        // The band around the top edge of row 2, in the middle of column 0.
        const QPoint centre = w.cellCenter(2, 0);
        const int top = qRound(w.yAxis->coordToPixel(1.5));
        const QColor text = w.palette().color(QPalette::Text);
        const auto textInBand = [&](const QImage &image) {
            const qreal dpr = image.devicePixelRatio();
            for (int dy = -2; dy <= 2; ++dy) {
                if (colorDistance(image.pixelColor(QPoint(centre.x(), top + dy) * dpr), text) < 60)
                    return true;
            }
            return false;
        };
        const QImage before = w.grab().toImage();
        QVERIFY(!textInBand(before));

        w.setSelectedRow(2);
        QCOMPARE(w.selectedRow(), 2);
        QCOMPARE(selected.count(), 0); // programmatic selection is silent
        w.replot();
        const QImage after = w.grab().toImage();
        QVERIFY(textInBand(after));
        // The centre of the cell keeps its colour.
        const qreal dpr = after.devicePixelRatio();
        QVERIFY(colorDistance(after.pixelColor(centre * dpr), before.pixelColor(centre * dpr)) <=
                6);

        w.setSelectedRow(99);
        QCOMPARE(w.selectedRow(), -1);
    }

    void arrowKeysMoveTheSelection()
    {
        HeatmapWidget w;
        w.setData(interferenceData());
        QSignalSpy selected(&w, &HeatmapWidget::rowSelected);
        w.setSelectedRow(3);
        QTest::keyClick(&w, Qt::Key_Down);
        QCOMPARE(w.selectedRow(), 4);
        QTest::keyClick(&w, Qt::Key_Down); // last row: stays
        QCOMPARE(w.selectedRow(), 4);
        QTest::keyClick(&w, Qt::Key_Up);
        QCOMPARE(w.selectedRow(), 3);
        QCOMPARE(selected.count(), 2);
        QCOMPARE(selected.at(1).at(0).toInt(), 3);
    }

    void savePngWritesRequestedSize()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        HeatmapWidget w; // never shown: the headless path
        w.setData(interferenceData());
        const QString path = dir.filePath(QStringLiteral("heatmap.png"));
        QVERIFY(w.savePng(path, 800, 500));
        QVERIFY(QFileInfo(path).size() > 0);
        const QImage image(path);
        QVERIFY(!image.isNull());
        QCOMPARE(image.size(), QSize(800, 500));
        // Both ends of the diverging gradient made it into the picture.
        bool reddish = false;
        bool bluish = false;
        for (int y = 0; y < image.height(); y += 4) {
            for (int x = 0; x < image.width(); x += 4) {
                const QColor c = image.pixelColor(x, y);
                reddish |= c.red() > 150 && c.blue() < 120;
                bluish |= c.blue() > 150 && c.red() < 120;
            }
        }
        QVERIFY(reddish && bluish);
        QVERIFY(!w.savePng(path, 0, 100));
        QVERIFY(!w.savePng(dir.filePath(QStringLiteral("missing/dir/x.png")), 100, 100));
    }

    void tsvHasLabelsAndValues()
    {
        HeatmapWidget w;
        QCOMPARE(w.dataAsTsv(), QString());
        w.setData(interferenceData());
        const QString expected = QStringLiteral("cosine\tft1·ft2\tft1·ft3\tft2·ft3\n"
                                                "embed\t0.91\t0.5\t-0.25\n"
                                                "L0\t0.2\t0.123456789\t-0.8\n"
                                                "L1\t0\t\t0.05\n"
                                                "L2\t-0.4\t0.33\t0.77\n"
                                                "head\t0.6\t-0.1\t0.42\n");
        QCOMPARE(w.dataAsTsv(), expected);
    }

    void matrixWritesValuesWithContrast()
    {
        HeatmapData d;
        d.rows = d.cols = 3;
        d.rowLabels =
            d.colLabels = {QStringLiteral("ft1"), QStringLiteral("ft2"), QStringLiteral("ft3")};
        d.values = {1.0, 0.12345, -1.0, 0.12345, 1.0, kNaN, -1.0, kNaN, 1.0};
        d.diverging = true;
        d.range = std::make_pair(-1.0, 1.0);
        d.decimals = 3;
        d.valueName = QStringLiteral("cosine");
        MatrixWidget w;
        w.resize(500, 420);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.setData(d);

        QCOMPARE(w.cellText(0, 1), QStringLiteral("0.123"));
        QCOMPARE(w.cellText(0, 0), QStringLiteral("1.000"));
        QCOMPARE(w.cellText(1, 2), QString()); // no value: nothing written
        // Dark ends of the gradient get white text, the light centre black.
        QCOMPARE(w.cellTextColor(0, 2), QColor(Qt::white));
        QCOMPARE(w.cellTextColor(0, 0), QColor(Qt::white));
        QCOMPARE(w.cellTextColor(0, 1), QColor(Qt::black));
        QVERIFY(w.cellTextsVisible());

        // The text is really drawn: the centre of a dark cell now holds white pixels.
        const QImage image = w.grab().toImage();
        const QPoint centre = w.cellCenter(0, 2) * image.devicePixelRatio();
        bool white = false;
        for (int dx = -12; dx <= 12 && !white; ++dx)
            for (int dy = -4; dy <= 4 && !white; ++dy)
                white = image.pixelColor(centre + QPoint(dx, dy)).lightness() > 200;
        QVERIFY(white);

        // Too small to hold the numbers: they are hidden, the data stays.
        w.resize(140, 110);
        w.replot();
        QVERIFY(!w.cellTextsVisible());
        QCOMPARE(w.cellText(0, 1), QStringLiteral("0.123"));
    }

    void matrixTsvRoundTripAndPng()
    {
        HeatmapData d;
        d.rows = d.cols = 4;
        for (int i = 0; i < 4; ++i)
            d.rowLabels.append(QStringLiteral("ft%1").arg(i + 1));
        d.colLabels = d.rowLabels;
        for (int r = 0; r < 4; ++r)
            for (int c = 0; c < 4; ++c)
                d.values.push_back(r == c ? 1.0 : 1.0 / (1 + r + c) - 0.3 + 1e-9 * r);
        d.values[6] = kNaN;
        d.valueName = QStringLiteral("cosine");
        MatrixWidget w;
        w.setData(d);

        const QList<QStringList> rows = parseTsv(w.dataAsTsv());
        QCOMPARE(rows.size(), 5);
        QCOMPARE(rows.at(0), QStringList{QStringLiteral("cosine")} + d.colLabels);
        for (int r = 0; r < 4; ++r) {
            QCOMPARE(rows.at(r + 1).size(), 5);
            QCOMPARE(rows.at(r + 1).at(0), d.rowLabels.at(r));
            for (int c = 0; c < 4; ++c)
                QVERIFY(sameValue(tsvNumber(rows.at(r + 1).at(c + 1)), d.at(r, c)));
        }

        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("matrix.png"));
        QVERIFY(w.savePng(path, 420, 360));
        QCOMPARE(QImage(path).size(), QSize(420, 360));
    }
};

QTEST_MAIN(TestHeatmapWidget)
#include "tst_heatmapwidget.moc"
