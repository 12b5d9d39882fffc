// SPDX-License-Identifier: GPL-3.0-or-later
#include "panels/kindpanel.h"

#include "panels/interferencepanel.h"
#include "plots/heatmapwidget.h"
#include "workbench/heatmapbuilder.h"
#include "workbench/session.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSettings>

#include <algorithm>

namespace basin::ui {

namespace {
const QString kMetricKey = QStringLiteral("views/kindMetric");
}

KindPanel::KindPanel(Session *session, QWidget *parent)
    : PlotPanel(session, tr("Per tensor kind"), parent)
{
    setObjectName(QStringLiteral("kindPanel"));
    m_metricBox = new QComboBox(this);
    m_metricBox->setObjectName(QStringLiteral("kindMetric"));
    fillMetricBox(m_metricBox, allMetrics());
    m_metricBox->setToolTip(tr("Metric shown per layer and tensor kind"));
    selectMetric(m_metricBox,
                 metricFromKey(QSettings().value(kMetricKey).toString(), Metric::Conflict));
    m_targetBox = new QComboBox(this);
    m_targetBox->setObjectName(QStringLiteral("kindTarget"));
    m_targetBox->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_targetBox->setMinimumWidth(shrinkableWidth(m_targetBox, 5));
    m_targetBox->setToolTip(tr("The fine-tune (or pair of fine-tunes, for pair metrics) "
                               "whose task vectors are shown"));
    auto *of = new QLabel(tr("of"), this);
    controlsLayout()->addWidget(m_metricBox);
    controlsLayout()->addWidget(of);
    controlsLayout()->addWidget(m_targetBox);

    m_heatmap = new HeatmapWidget(this);
    m_heatmap->setObjectName(QStringLiteral("kindHeatmap"));
    m_heatmap->setExportName(QStringLiteral("per-kind"));
    setContent(m_heatmap);

    connect(m_metricBox, &QComboBox::currentIndexChanged, this, [this] {
        QSettings().setValue(kMetricKey, metricKey(metric()));
        fillTargets();
        redraw();
    });
    connect(m_targetBox, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_filling)
            redraw();
    });
    connect(m_heatmap, &HeatmapWidget::rowSelected, this, [this](int row) {
        if (row >= 0 && row < static_cast<int>(m_rowGroups.size()))
            this->session()->setSelectedGroup(m_rowGroups[static_cast<std::size_t>(row)]);
    });
    connect(session, &Session::selectedGroupChanged, this, &KindPanel::showSelection);
    reload();
}

KindPanel::~KindPanel() = default;

Metric KindPanel::metric() const
{
    return metricOf(m_metricBox);
}

void KindPanel::fillTargets()
{
    m_filling = true;
    const int previous = m_targetBox->currentIndex();
    m_targetBox->clear();
    if (const auto snapshot = session()->snapshot())
        m_targetBox->addItems(metricTargetLabels(*snapshot, metric()));
    if (m_targetBox->count() > 0)
        m_targetBox->setCurrentIndex(std::clamp(previous, 0, m_targetBox->count() - 1));
    m_filling = false;
}

void KindPanel::refresh()
{
    fillTargets();
    redraw();
}

void KindPanel::redraw()
{
    m_rowGroups.clear();
    const auto analysis = session()->analysis();
    if (!analysis) {
        m_heatmap->setData({});
        return;
    }
    if (m_targetBox->count() == 0) {
        showPlaceholder(tr("%1 needs at least two fine-tunes.").arg(metricTitle(metric())));
        m_heatmap->setData({});
        return;
    }
    KindHeatmap kinds = kindHeatmap(*analysis, metric(), m_targetBox->currentIndex());
    if (kinds.data.rows == 0) {
        showPlaceholder(tr("The models have no transformer layers (model.layers.N.…)."));
        m_heatmap->setData({});
        return;
    }
    showContent();
    setNote(noValueNote(kinds.data));
    m_rowGroups = std::move(kinds.rowGroups);
    m_heatmap->setData(std::move(kinds.data));
    showSelection(session()->selectedGroup());
}

void KindPanel::showSelection(int group)
{
    const auto it = std::find(m_rowGroups.begin(), m_rowGroups.end(), group);
    m_heatmap->setSelectedRow(it == m_rowGroups.end() ? -1
                                                      : static_cast<int>(it - m_rowGroups.begin()));
}

} // namespace basin::ui
