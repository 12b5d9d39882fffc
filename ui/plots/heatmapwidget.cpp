// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/heatmapwidget.h"

#include "plots/plotcolors.h"
#include "plots/tsv.h"

#include <QFontMetrics>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QLocale>
#include <QMouseEvent>
#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <limits>

namespace basin::ui {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// QCPColorMap spreads n cells over [lower, upper] and widens by half a cell; a single
// cell would get zero width. Two identical cells over [-0.25, 0.25] cover [-0.5, 0.5].
struct MapAxis {
    int size;
    QCPRange range;
};
MapAxis mapAxisFor(int cells)
{
    if (cells == 1)
        return {2, QCPRange(-0.25, 0.25)};
    return {cells, QCPRange(0.0, cells - 1.0)};
}

QCPRange rangeFromData(const HeatmapData &data)
{
    if (data.range)
        return QCPRange(data.range->first, data.range->second);
    double lo = std::numeric_limits<double>::infinity();
    double hi = -std::numeric_limits<double>::infinity();
    for (double v : data.values) {
        if (std::isfinite(v)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    }
    if (data.diverging) {
        const double m = std::isfinite(lo) ? std::max(std::abs(lo), std::abs(hi)) : 0.0;
        return m > 0.0 ? QCPRange(-m, m) : QCPRange(-1.0, 1.0);
    }
    if (!std::isfinite(lo))
        return QCPRange(0.0, 1.0);
    if (lo == hi)
        return QCPRange(lo - 0.5, hi + 0.5);
    return QCPRange(lo, hi);
}

QSharedPointer<QCPAxisTickerText> textTicker(const QStringList &labels, int step)
{
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    ticker->setSubTickCount(0);
    for (int i = 0; i < labels.size(); i += step)
        ticker->addTick(i, labels.at(i));
    return ticker;
}

QStringList completedLabels(QStringList labels, int count)
{
    labels = labels.mid(0, count);
    for (int i = int(labels.size()); i < count; ++i)
        labels.append(QString::number(i));
    return labels;
}
} // namespace

HeatmapWidget::HeatmapWidget(QWidget *parent) : PlotWidget(parent)
{
    setFocusPolicy(Qt::StrongFocus);
    setExportName(QStringLiteral("heatmap"));

    m_map = new QCPColorMap(xAxis, yAxis);
    m_map->setInterpolate(false);
    m_map->setTightBoundary(false);
    m_map->setSelectable(QCP::stNone);

    m_scale = new QCPColorScale(this);
    m_scale->setType(QCPAxis::atRight);
    m_scale->setRangeDrag(false);
    m_scale->setRangeZoom(false);
    m_scale->setBarWidth(12);
    plotLayout()->addElement(0, 1, m_scale);
    m_map->setColorScale(m_scale);

    // Keep the colour bar exactly as tall as the matrix.
    auto *group = new QCPMarginGroup(this);
    axisRect()->setMarginGroup(QCP::msTop | QCP::msBottom, group);
    m_scale->setMarginGroup(QCP::msTop | QCP::msBottom, group);

    for (QCPAxis *axis : {xAxis, yAxis}) {
        axis->grid()->setVisible(false);
        axis->setSubTicks(false);
        axis->setTickLength(0, 4);
    }
    yAxis->setRangeReversed(true); // first row at the top

    for (QCPItemRect **outline : {&m_outlineOuter, &m_outlineInner}) {
        *outline = new QCPItemRect(this);
        (*outline)->setBrush(Qt::NoBrush);
        (*outline)->setSelectable(false);
        (*outline)->setAntialiased(false); // crisp edges; blended greys read as a shadow
        (*outline)->setVisible(false);
    }

    connect(this, &QCustomPlot::afterLayout, this, &HeatmapWidget::updateLabelDensity);

    updateMap();
    applyPalette();
}

HeatmapWidget::~HeatmapWidget() = default;

void HeatmapWidget::setData(HeatmapData data)
{
    m_data = std::move(data);
    m_data.rows = std::max(0, m_data.rows);
    m_data.cols = std::max(0, m_data.cols);
    const auto count =
        static_cast<std::size_t>(m_data.rows) * static_cast<std::size_t>(m_data.cols);
    m_data.values.resize(count, kNaN);
    m_data.rowLabels = completedLabels(m_data.rowLabels, m_data.rows);
    m_data.colLabels = completedLabels(m_data.colLabels, m_data.cols);
    m_colorRange = rangeFromData(m_data);
    if (m_selectedRow >= m_data.rows)
        m_selectedRow = -1;

    setTitle(m_data.title);
    if (!m_data.title.isEmpty())
        setExportName(m_data.title);
    updateMap();
    onDataChanged();
    replot();
}

double HeatmapWidget::cellValue(int row, int col) const
{
    if (row < 0 || col < 0 || row >= m_data.rows || col >= m_data.cols)
        return kNaN;
    return m_data.at(row, col);
}

QPoint HeatmapWidget::cellCenter(int row, int col) const
{
    if (row < 0 || col < 0 || row >= m_data.rows || col >= m_data.cols)
        return {-1, -1};
    return QPoint(qRound(xAxis->coordToPixel(col)), qRound(yAxis->coordToPixel(row)));
}

std::pair<int, int> HeatmapWidget::cellAt(const QPoint &pos) const
{
    if (!axisRect()->rect().contains(pos))
        return {-1, -1};
    const int col = int(std::floor(xAxis->pixelToCoord(pos.x()) + 0.5));
    const int row = int(std::floor(yAxis->pixelToCoord(pos.y()) + 0.5));
    if (row < 0 || col < 0 || row >= m_data.rows || col >= m_data.cols)
        return {-1, -1};
    return {row, col};
}

QString HeatmapWidget::toolTipForCell(int row, int col) const
{
    if (row < 0 || col < 0 || row >= m_data.rows || col >= m_data.cols)
        return {};
    const double v = m_data.at(row, col);
    const QString value =
        std::isnan(v) ? tr("no value") : QLocale().toString(v, 'g', QLocale::FloatingPointShortest);
    return tr("%1 · %2: %3").arg(m_data.rowLabels.at(row), m_data.colLabels.at(col), value);
}

void HeatmapWidget::setSelectedRow(int row)
{
    if (row < -1 || row >= m_data.rows)
        row = -1;
    if (row == m_selectedRow)
        return;
    m_selectedRow = row;
    updateSelectionOutline();
    replot(QCustomPlot::rpQueuedReplot);
}

QColor HeatmapWidget::colorFor(double value) const
{
    QCPColorGradient gradient = m_map->gradient();
    if (std::isnan(value))
        return gradient.nanColor();
    return QColor::fromRgba(gradient.color(value, m_colorRange));
}

QString HeatmapWidget::dataAsTsv() const
{
    if (m_data.rows == 0 || m_data.cols == 0)
        return {};
    QString out;
    out += tsv::row(QStringList{m_data.valueName} + m_data.colLabels);
    for (int r = 0; r < m_data.rows; ++r) {
        QStringList cells{m_data.rowLabels.at(r)};
        for (int c = 0; c < m_data.cols; ++c)
            cells.append(tsv::number(m_data.at(r, c)));
        out += tsv::row(cells);
    }
    return out;
}

void HeatmapWidget::resetView()
{
    xAxis->setRange(-0.5, std::max(1, m_data.cols) - 0.5);
    yAxis->setRange(-0.5, std::max(1, m_data.rows) - 0.5);
    replot();
}

void HeatmapWidget::applyPalette()
{
    PlotWidget::applyPalette();
    if (!m_outlineInner)
        return; // a palette event during construction; the constructor applies it at the end
    QCPColorGradient gradient = m_map->gradient();
    gradient.setNanHandling(QCPColorGradient::nhNanColor);
    gradient.setNanColor(plotcolors::noValueColor(palette()));
    m_map->setGradient(gradient);
    // A thick outline in the text colour with a thin base-coloured line inside stays
    // visible on every cell colour of both gradients.
    m_outlineOuter->setPen(QPen(palette().color(QPalette::Text), 3));
    m_outlineInner->setPen(QPen(palette().color(QPalette::Base), 1));
}

bool HeatmapWidget::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const auto [row, col] = cellAt(help->pos());
        if (row >= 0)
            QToolTip::showText(help->globalPos(), toolTipForCell(row, col), this);
        else
            QToolTip::hideText();
        return true;
    }
    return PlotWidget::event(event);
}

void HeatmapWidget::mousePressEvent(QMouseEvent *event)
{
    m_pressPos = event->button() == Qt::LeftButton ? event->pos() : QPoint(-1, -1);
    PlotWidget::mousePressEvent(event);
}

void HeatmapWidget::mouseReleaseEvent(QMouseEvent *event)
{
    PlotWidget::mouseReleaseEvent(event);
    // A click, not the end of a drag: the pointer barely moved since the press.
    if (event->button() != Qt::LeftButton || m_pressPos.x() < 0 ||
        (event->pos() - m_pressPos).manhattanLength() > 3)
        return;
    m_pressPos = QPoint(-1, -1);
    const auto [row, col] = cellAt(event->pos());
    if (row < 0)
        return;
    setSelectedRow(row);
    emit cellClicked(row, col);
    emit rowSelected(row);
}

void HeatmapWidget::keyPressEvent(QKeyEvent *event)
{
    const int step = event->key() == Qt::Key_Up ? -1 : event->key() == Qt::Key_Down ? 1 : 0;
    if (step == 0 || m_data.rows == 0) {
        PlotWidget::keyPressEvent(event);
        return;
    }
    const int row = m_selectedRow < 0 ? 0 : std::clamp(m_selectedRow + step, 0, m_data.rows - 1);
    if (row != m_selectedRow) {
        setSelectedRow(row);
        emit rowSelected(row);
    }
    event->accept();
}

void HeatmapWidget::updateMap()
{
    const int rows = m_data.rows;
    const int cols = m_data.cols;
    const bool empty = rows == 0 || cols == 0;
    m_map->setVisible(!empty);
    m_scale->setVisible(!empty);

    QCPColorGradient gradient =
        m_data.diverging ? plotcolors::divergingGradient() : plotcolors::sequentialGradient();
    gradient.setNanHandling(QCPColorGradient::nhNanColor);
    gradient.setNanColor(plotcolors::noValueColor(palette()));
    m_map->setGradient(gradient);
    m_scale->axis()->setLabel(m_data.valueName);

    if (!empty) {
        const MapAxis keys = mapAxisFor(cols);
        const MapAxis values = mapAxisFor(rows);
        QCPColorMapData *map = m_map->data();
        map->setSize(keys.size, values.size);
        map->setRange(keys.range, values.range);
        for (int k = 0; k < keys.size; ++k) {
            const int c = cols == 1 ? 0 : k;
            for (int v = 0; v < values.size; ++v) {
                const int r = rows == 1 ? 0 : v;
                map->setCell(k, v, m_data.at(r, c));
            }
        }
    }
    m_map->setDataRange(m_colorRange);

    m_rowLabelStep = 1;
    m_colLabelStep = 1;
    updateTickers();
    xAxis->setRange(-0.5, std::max(1, cols) - 0.5);
    yAxis->setRange(-0.5, std::max(1, rows) - 0.5);
    updateSelectionOutline();
}

void HeatmapWidget::updateTickers()
{
    xAxis->setTicker(textTicker(m_data.colLabels, m_colLabelStep));
    yAxis->setTicker(textTicker(m_data.rowLabels, m_rowLabelStep));
}

void HeatmapWidget::updateLabelDensity()
{
    // Thin out tick labels when cells are smaller than the text: every n-th label, with n
    // chosen from the laid-out cell size. Changing the tickers takes effect on the next
    // replot, which is queued only when n changed, so this settles after one extra pass.
    if (m_data.rows == 0 || m_data.cols == 0)
        return;
    const QFontMetrics metrics(xAxis->tickLabelFont());
    int widest = 0;
    for (const QString &label : std::as_const(m_data.colLabels))
        widest = std::max(widest, metrics.horizontalAdvance(label));
    const double colPixels = std::abs(xAxis->coordToPixel(1) - xAxis->coordToPixel(0));
    const double rowPixels = std::abs(yAxis->coordToPixel(1) - yAxis->coordToPixel(0));
    const auto stepFor = [](double needed, double available) {
        return available > 0 ? std::max(1, int(std::ceil(needed / available))) : 1;
    };
    const int colStep = stepFor(widest + 6.0, colPixels);
    const int rowStep = stepFor(metrics.height() + 1.0, rowPixels);
    if (colStep != m_colLabelStep || rowStep != m_rowLabelStep) {
        m_colLabelStep = colStep;
        m_rowLabelStep = rowStep;
        updateTickers();
        replot(QCustomPlot::rpQueuedReplot);
    }
}

void HeatmapWidget::updateSelectionOutline()
{
    const bool visible = m_selectedRow >= 0 && m_selectedRow < m_data.rows;
    for (QCPItemRect *outline : {m_outlineOuter, m_outlineInner}) {
        outline->setVisible(visible);
        if (!visible)
            continue;
        outline->topLeft->setCoords(-0.5, m_selectedRow - 0.5);
        outline->bottomRight->setCoords(m_data.cols - 0.5, m_selectedRow + 0.5);
    }
}

} // namespace basin::ui
