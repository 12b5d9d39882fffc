// SPDX-License-Identifier: GPL-3.0-or-later
#include "recipe/layerpointplot.h"

#include "plots/plotcolors.h"

#include <QInputDialog>
#include <QMouseEvent>

#include <algorithm>
#include <cmath>

namespace basin::ui {

namespace {
constexpr int kGrabRadius = 10; // pixels
}

LayerPointPlot::LayerPointPlot(QWidget *parent) : PlotWidget(parent)
{
    xAxis->setLabel(tr("layer"));
    setExportName(QStringLiteral("per-layer"));
    applyPalette();
}

LayerPointPlot::~LayerPointPlot() = default;

void LayerPointPlot::setCurves(const std::vector<double> &values, const QColor &color,
                               const std::vector<Background> &others, double minimum,
                               double maximum)
{
    m_values = values;
    m_color = color;
    m_others = others;
    m_min = minimum;
    m_max = std::max(maximum, minimum + 1e-9);
    rebuild();
}

void LayerPointPlot::rebuild()
{
    clearGraphs();
    const int layers = int(m_values.size());
    QVector<double> x(layers);
    for (int i = 0; i < layers; ++i)
        x[i] = i;
    double lo = m_min, hi = m_max;
    for (const Background &other : m_others) {
        QCPGraph *g = addGraph();
        QColor faded = other.color;
        faded.setAlphaF(0.35);
        g->setPen(QPen(faded, 1.5));
        g->setName(other.name);
        const int n = std::min<int>(layers, int(other.values.size()));
        g->setData(x.mid(0, n), QVector<double>(other.values.begin(), other.values.begin() + n));
        for (double v : other.values) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    }
    QCPGraph *active = addGraph();
    active->setPen(QPen(m_color, 2.0));
    active->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, m_color, m_color, 9));
    active->setData(x, QVector<double>(m_values.begin(), m_values.end()));
    for (double v : m_values) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    xAxis->setRange(-0.5, std::max(layers, 1) - 0.5);
    const double pad = (hi - lo) * 0.05;
    yAxis->setRange(lo - pad, hi + pad);
    replot(QCustomPlot::rpImmediateRefresh);
}

QPoint LayerPointPlot::pointPosition(int layer)
{
    if (layer < 0 || layer >= int(m_values.size()))
        return {};
    replot(QCustomPlot::rpImmediateRefresh); // make sure the axes know the current size
    return QPoint(int(std::lround(xAxis->coordToPixel(layer))),
                  int(std::lround(yAxis->coordToPixel(m_values[layer]))));
}

double LayerPointPlot::valueAt(int pixelY) const
{
    return std::clamp(yAxis->pixelToCoord(pixelY), m_min, m_max);
}

int LayerPointPlot::layerAtX(int pixelX) const
{
    const int layer = int(std::lround(xAxis->pixelToCoord(pixelX)));
    return std::clamp(layer, 0, std::max(int(m_values.size()) - 1, 0));
}

int LayerPointPlot::pointNear(const QPoint &pos)
{
    int best = -1;
    double bestDist = kGrabRadius;
    for (int i = 0; i < int(m_values.size()); ++i) {
        const double dx = xAxis->coordToPixel(i) - pos.x();
        const double dy = yAxis->coordToPixel(m_values[i]) - pos.y();
        const double d = std::hypot(dx, dy);
        if (d <= bestDist) {
            bestDist = d;
            best = i;
        }
    }
    return best;
}

void LayerPointPlot::mousePressEvent(QMouseEvent *event)
{
    const int layer = event->button() == Qt::LeftButton ? pointNear(event->pos()) : -1;
    if (layer < 0) {
        PlotWidget::mousePressEvent(event);
        return;
    }
    m_dragLayer = layer;
    m_sweep = event->modifiers().testFlag(Qt::ShiftModifier);
    emit editStarted();
    event->accept();
}

void LayerPointPlot::mouseMoveEvent(QMouseEvent *event)
{
    if (m_dragLayer < 0) {
        PlotWidget::mouseMoveEvent(event);
        return;
    }
    const double v = valueAt(event->pos().y());
    std::vector<double> edited = m_values;
    if (m_sweep) {
        const int other = layerAtX(event->pos().x());
        for (int i = std::min(other, m_dragLayer); i <= std::max(other, m_dragLayer); ++i)
            edited[i] = v;
    } else {
        edited[m_dragLayer] = v;
    }
    event->accept();
    if (edited != m_values)
        emit valuesEdited(edited);
}

void LayerPointPlot::mouseReleaseEvent(QMouseEvent *event)
{
    if (m_dragLayer < 0) {
        PlotWidget::mouseReleaseEvent(event);
        return;
    }
    m_dragLayer = -1;
    m_sweep = false;
    event->accept();
    emit editFinished();
}

void LayerPointPlot::mouseDoubleClickEvent(QMouseEvent *event)
{
    const int layer = pointNear(event->pos());
    if (layer < 0) {
        PlotWidget::mouseDoubleClickEvent(event);
        return;
    }
    event->accept();
    if (m_dragLayer >= 0) {
        // The double click's second press opened a drag; close it before the typed edit.
        m_dragLayer = -1;
        m_sweep = false;
        emit editFinished();
    }
    std::optional<double> typed;
    if (m_prompt) {
        typed = m_prompt(layer, m_values[layer]);
    } else {
        bool ok = false;
        const double v = QInputDialog::getDouble(this, tr("Layer %1").arg(layer),
                                                 tr("Value for layer %1:").arg(layer),
                                                 m_values[layer], m_min, m_max, 4, &ok);
        if (ok)
            typed = v;
    }
    if (!typed)
        return;
    std::vector<double> edited = m_values;
    edited[layer] = std::clamp(*typed, m_min, m_max);
    emit editStarted();
    emit valuesEdited(edited);
    emit editFinished();
}

QString LayerPointPlot::dataAsTsv() const
{
    if (m_values.empty())
        return {};
    QString tsv = QStringLiteral("layer\tvalue");
    for (const Background &o : m_others)
        tsv += QLatin1Char('\t') + o.name;
    tsv += QLatin1Char('\n');
    for (int i = 0; i < int(m_values.size()); ++i) {
        tsv += QString::number(i) + QLatin1Char('\t') + QString::number(m_values[i], 'g', 17);
        for (const Background &o : m_others)
            tsv += QLatin1Char('\t') +
                   (i < int(o.values.size()) ? QString::number(o.values[i], 'g', 17) : QString());
        tsv += QLatin1Char('\n');
    }
    return tsv;
}

} // namespace basin::ui
