// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/histogramwidget.h"

#include "plots/plotcolors.h"
#include "plots/tsv.h"

#include <algorithm>
#include <cmath>

namespace basin::ui {

namespace {
std::size_t binCount(const HistogramSeries &s)
{
    return s.edges.empty() ? 0 : std::min(s.counts.size(), s.edges.size() - 1);
}

bool sameBins(const std::vector<HistogramSeries> &series)
{
    for (const HistogramSeries &s : series) {
        if (s.edges != series.front().edges || binCount(s) != binCount(series.front()))
            return false;
    }
    return true;
}
} // namespace

HistogramWidget::HistogramWidget(QWidget *parent) : PlotWidget(parent)
{
    setExportName(QStringLiteral("histogram"));
    legend->setVisible(false);
    placeLegendBelow();
    applyPalette();
}

HistogramWidget::~HistogramWidget() = default;

void HistogramWidget::setData(HistogramData data)
{
    m_data = std::move(data);
    setTitle(m_data.title);
    if (!m_data.title.isEmpty())
        setExportName(m_data.title);
    rebuild();
}

void HistogramWidget::setStyle(Style style)
{
    if (style == m_style)
        return;
    m_style = style;
    rebuild();
}

void HistogramWidget::setLogX(bool enabled)
{
    if (enabled == m_logX)
        return;
    m_logX = enabled;
    rebuild();
}

QString HistogramWidget::dataAsTsv() const
{
    if (m_data.series.empty())
        return {};
    QString out;
    if (sameBins(m_data.series)) {
        QStringList header{QStringLiteral("lower"), QStringLiteral("upper")};
        for (const HistogramSeries &s : m_data.series)
            header.append(s.name);
        out += tsv::row(header);
        const HistogramSeries &first = m_data.series.front();
        for (std::size_t i = 0; i < binCount(first); ++i) {
            QStringList cells{tsv::number(first.edges[i]), tsv::number(first.edges[i + 1])};
            for (const HistogramSeries &s : m_data.series)
                cells.append(tsv::number(s.counts[i]));
            out += tsv::row(cells);
        }
        return out;
    }
    out += tsv::row({QStringLiteral("series"), QStringLiteral("lower"), QStringLiteral("upper"),
                     QStringLiteral("count")});
    for (const HistogramSeries &s : m_data.series) {
        for (std::size_t i = 0; i < binCount(s); ++i)
            out += tsv::row({s.name, tsv::number(s.edges[i]), tsv::number(s.edges[i + 1]),
                             tsv::number(s.counts[i])});
    }
    return out;
}

void HistogramWidget::resetView()
{
    rescaleAxes(true);
    // Counts start at zero; leave a little headroom above the tallest bin.
    const QCPRange y = yAxis->range();
    yAxis->setRange(0.0, y.upper > 0 ? y.upper * 1.05 : 1.0);
    replot();
}

void HistogramWidget::rebuild()
{
    clearGraphs();
    xAxis->setScaleType(m_logX ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (m_logX)
        xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    else
        xAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    xAxis->setLabel(m_data.xLabel);
    yAxis->setLabel(m_data.yLabel.isEmpty() ? tr("count") : m_data.yLabel);

    int index = 0;
    for (const HistogramSeries &s : m_data.series) {
        const QColor color = plotcolors::seriesColor(index++);
        QCPGraph *graph = addGraph();
        graph->setName(s.name);
        graph->setLineStyle(QCPGraph::lsStepLeft);
        graph->setPen(QPen(color, 1.5));
        if (m_style == Style::Bars) {
            QColor fill = color;
            fill.setAlpha(70);
            graph->setBrush(QBrush(fill));
        }

        // Each bin holds its count from its lower to its upper edge (left steps); the
        // outline drops to zero before the first and after the last bin.
        QVector<QCPGraphData> points;
        const std::size_t n = binCount(s);
        std::size_t first = 0;
        while (m_logX && first < n && !(s.edges[first] > 0.0))
            ++first;
        if (first < n) {
            points.reserve(int(n - first) + 3);
            points.append(QCPGraphData(s.edges[first], 0.0));
            for (std::size_t i = first; i < n; ++i)
                points.append(QCPGraphData(s.edges[i], s.counts[i]));
            points.append(QCPGraphData(s.edges[n], s.counts[n - 1]));
            points.append(QCPGraphData(s.edges[n], 0.0));
        }
        graph->data()->set(points, true);
    }
    legend->setVisible(!m_data.series.empty());
    resetView();
}

} // namespace basin::ui
