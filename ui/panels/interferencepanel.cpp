// SPDX-License-Identifier: GPL-3.0-or-later
#include "panels/interferencepanel.h"

#include "plots/heatmapwidget.h"
#include "workbench/heatmapbuilder.h"
#include "workbench/session.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QHBoxLayout>
#include <QSettings>

#include <algorithm>
#include <cmath>

namespace basin::ui {

namespace {
const QString kMetricKey = QStringLiteral("views/interferenceMetric");
}

QString noValueNote(const HeatmapData &data)
{
    const bool any =
        std::any_of(data.values.begin(), data.values.end(), [](double v) { return std::isnan(v); });
    return any ? QCoreApplication::translate(
                     "PlotPanel", "Grey cells have no value: the metric is undefined there "
                                  "(a fine-tune left that part of the model unchanged).")
               : QString();
}

int shrinkableWidth(const QComboBox *box, int characters)
{
    // Narrow windows must still fit every panel: a box may shrink below its longest item
    // (its size hint keeps the full text when there is room).
    return box->fontMetrics().horizontalAdvance(QLatin1Char('x')) * characters + 32;
}

void fillMetricBox(QComboBox *box, const QList<Metric> &metrics)
{
    for (const Metric metric : metrics) {
        box->addItem(metricTitle(metric), metricKey(metric));
        box->setItemData(box->count() - 1, metricExplanation(metric), Qt::ToolTipRole);
    }
    box->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    box->setMinimumWidth(shrinkableWidth(box, 8));
}

Metric metricOf(const QComboBox *box)
{
    return metricFromKey(box->currentData().toString());
}

void selectMetric(QComboBox *box, Metric metric)
{
    const int index = box->findData(metricKey(metric));
    if (index >= 0)
        box->setCurrentIndex(index);
}

InterferencePanel::InterferencePanel(Session *session, QWidget *parent)
    : PlotPanel(session, tr("Interference"), parent)
{
    setObjectName(QStringLiteral("interferencePanel"));
    m_metricBox = new QComboBox(this);
    m_metricBox->setObjectName(QStringLiteral("interferenceMetric"));
    fillMetricBox(m_metricBox, allMetrics());
    m_metricBox->setToolTip(tr("Metric shown by the heatmap: per pair of fine-tunes (cosine, "
                               "sign conflict) or per fine-tune (TIES disagreement, ρ, max "
                               "|τ|)"));
    selectMetric(m_metricBox,
                 metricFromKey(QSettings().value(kMetricKey).toString(), Metric::Cosine));
    controlsLayout()->addWidget(m_metricBox);

    m_heatmap = new HeatmapWidget(this);
    m_heatmap->setObjectName(QStringLiteral("interferenceHeatmap"));
    m_heatmap->setExportName(QStringLiteral("interference"));
    m_heatmap->setToolTip(QString()); // the cell tooltips say it better
    setContent(m_heatmap);

    connect(m_metricBox, &QComboBox::currentIndexChanged, this, [this] {
        QSettings().setValue(kMetricKey, metricKey(metric()));
        refresh();
    });
    connect(m_heatmap, &HeatmapWidget::rowSelected, session, &Session::setSelectedGroup);
    connect(session, &Session::selectedGroupChanged, m_heatmap, &HeatmapWidget::setSelectedRow);
    reload();
}

InterferencePanel::~InterferencePanel() = default;

Metric InterferencePanel::metric() const
{
    return metricOf(m_metricBox);
}

void InterferencePanel::setMetric(Metric metric)
{
    selectMetric(m_metricBox, metric);
}

void InterferencePanel::refresh()
{
    const auto snapshot = session()->snapshot();
    if (!snapshot) {
        m_heatmap->setData({});
        return;
    }
    HeatmapData data = interferenceHeatmap(*snapshot, metric());
    if (data.cols == 0) {
        showPlaceholder(tr("%1 needs at least two fine-tunes.").arg(metricTitle(metric())));
        m_heatmap->setData({});
        return;
    }
    showContent();
    setNote(noValueNote(data));
    m_heatmap->setData(std::move(data));
    m_heatmap->setSelectedRow(session()->selectedGroup());
}

} // namespace basin::ui
