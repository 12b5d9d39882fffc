// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/curveplotwidget.h"

#include "plots/plotcolors.h"
#include "plots/tsv.h"

#include <algorithm>
#include <iterator>

namespace basin::ui {

namespace {
constexpr QCPScatterStyle::ScatterShape kMeasuredShapes[] = {
    QCPScatterStyle::ssDisc, QCPScatterStyle::ssSquare, QCPScatterStyle::ssTriangle,
    QCPScatterStyle::ssDiamond, QCPScatterStyle::ssCross};
}

CurvePlotWidget::CurvePlotWidget(QWidget *parent) : PlotWidget(parent)
{
    setExportName(QStringLiteral("curves"));
    // Curve labels are long ("slerp: distance to ft2"): two a row keep the Preview dock
    // narrow enough to share the screen.
    placeLegendBelow(2);
    yAxis2->setTickLabels(true);

    m_marker = new QCPItemStraightLine(this);
    m_marker->setSelectable(false);
    m_marker->point1->setCoords(0, 0);
    m_marker->point2->setCoords(0, 1);
    m_marker->setVisible(false);

    applyPalette();
}

CurvePlotWidget::~CurvePlotWidget() = default;

void CurvePlotWidget::setData(CurveData data)
{
    m_data = std::move(data);
    setTitle(m_data.title);
    if (!m_data.title.isEmpty())
        setExportName(m_data.title);
    rebuild();
}

void CurvePlotWidget::setCurrentValue(double x)
{
    m_current = x;
    m_marker->point1->setCoords(x, 0);
    m_marker->point2->setCoords(x, 1);
    m_marker->setVisible(true);
    replot(QCustomPlot::rpQueuedReplot);
}

void CurvePlotWidget::clearCurrentValue()
{
    m_current.reset();
    m_marker->setVisible(false);
    replot(QCustomPlot::rpQueuedReplot);
}

QString CurvePlotWidget::dataAsTsv() const
{
    if (m_data.x.empty() && m_data.measured.empty())
        return {};
    QString out;
    if (!m_data.x.empty()) {
        QStringList header{m_data.xLabel.isEmpty() ? QStringLiteral("x") : m_data.xLabel};
        for (const Curve &c : m_data.curves)
            header.append(c.name);
        out += tsv::row(header);
        for (std::size_t i = 0; i < m_data.x.size(); ++i) {
            QStringList cells{tsv::number(m_data.x[i])};
            for (const Curve &c : m_data.curves)
                cells.append(i < c.y.size() ? tsv::number(c.y[i]) : QString());
            out += tsv::row(cells);
        }
    }
    if (!m_data.measured.empty()) {
        if (!out.isEmpty())
            out += QLatin1Char('\n');
        out += tsv::row({QStringLiteral("series"),
                         m_data.xLabel.isEmpty() ? QStringLiteral("x") : m_data.xLabel,
                         m_data.y2Label.isEmpty() ? QStringLiteral("y") : m_data.y2Label});
        for (const MeasuredSeries &m : m_data.measured) {
            for (std::size_t i = 0; i < std::min(m.x.size(), m.y.size()); ++i)
                out += tsv::row({m.name, tsv::number(m.x[i]), tsv::number(m.y[i])});
        }
    }
    return out;
}

void CurvePlotWidget::resetView()
{
    // The measured points share x with the curves; each y axis fits its own series.
    rescaleAxes(true);
    if (!m_data.measured.empty()) {
        // Markers at the ends (the exact parents, α = 0 and 1) would be cut in half.
        const QCPRange x = xAxis->range();
        const double pad = x.size() > 0 ? x.size() * 0.03 : 0.5;
        xAxis->setRange(x.lower - pad, x.upper + pad);
    }
    for (QCPAxis *axis : {yAxis, yAxis2}) {
        const QCPRange r = axis->range();
        const double pad = r.size() > 0 ? r.size() * 0.05 : 0.5;
        axis->setRange(r.lower - pad, r.upper + pad);
    }
    replot();
}

void CurvePlotWidget::applyPalette()
{
    PlotWidget::applyPalette();
    if (!m_marker)
        return; // a palette event during construction; the constructor applies it at the end
    m_marker->setPen(QPen(palette().color(QPalette::Highlight), 1.5, Qt::DashLine));
}

void CurvePlotWidget::rebuild()
{
    clearGraphs();
    xAxis->setLabel(m_data.xLabel);
    yAxis->setLabel(m_data.yLabel);
    yAxis2->setLabel(m_data.y2Label);
    yAxis2->setVisible(!m_data.measured.empty());

    int index = 0;
    for (const Curve &c : m_data.curves) {
        QCPGraph *graph = addGraph(xAxis, yAxis);
        graph->setName(c.name);
        graph->setPen(QPen(plotcolors::seriesColor(index++), 2));
        const std::size_t n = std::min(c.y.size(), m_data.x.size());
        QVector<double> xs(m_data.x.begin(), m_data.x.begin() + std::ptrdiff_t(n));
        QVector<double> ys(c.y.begin(), c.y.begin() + std::ptrdiff_t(n));
        graph->setData(xs, ys);
    }
    int shape = 0;
    for (const MeasuredSeries &m : m_data.measured) {
        QCPGraph *graph = addGraph(xAxis, yAxis2);
        graph->setName(m.name);
        const QColor color = plotcolors::seriesColor(index++);
        graph->setPen(QPen(color, 1.5));
        graph->setLineStyle(QCPGraph::lsNone);
        graph->setScatterStyle(QCPScatterStyle(
            kMeasuredShapes[shape++ % std::size(kMeasuredShapes)], color, color, 8));
        const std::size_t n = std::min(m.x.size(), m.y.size());
        graph->setData(QVector<double>(m.x.begin(), m.x.begin() + std::ptrdiff_t(n)),
                       QVector<double>(m.y.begin(), m.y.begin() + std::ptrdiff_t(n)));
    }
    legend->setVisible(!m_data.curves.empty() || !m_data.measured.empty());
    resetView();
}

} // namespace basin::ui
