// SPDX-License-Identifier: GPL-3.0-or-later
#include "panels/matrixpanel.h"

#include "panels/interferencepanel.h"
#include "plots/matrixwidget.h"
#include "workbench/heatmapbuilder.h"
#include "workbench/session.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QSettings>
#include <QToolButton>

namespace basin::ui {

namespace {
const QString kMetricKey = QStringLiteral("views/matrixMetric");
}

MatrixPanel::MatrixPanel(Session *session, QWidget *parent)
    : PlotPanel(session, tr("Pairwise"), parent)
{
    setObjectName(QStringLiteral("matrixPanel"));
    m_metricBox = new QComboBox(this);
    m_metricBox->setObjectName(QStringLiteral("matrixMetric"));
    fillMetricBox(m_metricBox, {Metric::Cosine, Metric::Conflict, Metric::Ties});
    m_metricBox->setToolTip(tr("Pair metric written in the matrix (TIES: share of the "
                               "coordinates either changes where one disagrees with the "
                               "pair's elected sign)"));
    selectMetric(m_metricBox,
                 metricFromKey(QSettings().value(kMetricKey).toString(), Metric::Cosine));
    m_global = new QToolButton(this);
    m_global->setObjectName(QStringLiteral("matrixGlobal"));
    m_global->setText(tr("All layers"));
    m_global->setCheckable(true);
    m_global->setToolTip(tr("Show the whole model instead of the selected layer"));
    controlsLayout()->addWidget(m_metricBox);
    controlsLayout()->addWidget(m_global);

    m_matrix = new MatrixWidget(this);
    m_matrix->setObjectName(QStringLiteral("pairMatrix"));
    m_matrix->setExportName(QStringLiteral("pair-matrix"));
    setContent(m_matrix);

    connect(m_metricBox, &QComboBox::currentIndexChanged, this, [this] {
        QSettings().setValue(kMetricKey, metricKey(metricOf(m_metricBox)));
        refresh();
    });
    connect(m_global, &QToolButton::toggled, this, &MatrixPanel::refresh);
    connect(session, &Session::selectedGroupChanged, this, &MatrixPanel::refresh);
    reload();
}

MatrixPanel::~MatrixPanel() = default;

void MatrixPanel::refresh()
{
    const auto snapshot = session()->snapshot();
    if (!snapshot) {
        m_shownGroup = -1;
        m_matrix->setData({});
        return;
    }
    const int group = m_global->isChecked() ? -1 : session()->selectedGroup();
    m_shownGroup = group >= 0 && group < static_cast<int>(snapshot->groups.size()) ? group : -1;
    const analysis::StatsBlock &stats =
        m_shownGroup >= 0 ? snapshot->groups[static_cast<std::size_t>(m_shownGroup)].stats
                          : snapshot->total;
    const QString scope =
        m_shownGroup >= 0
            ? QString::fromStdString(snapshot->groups[static_cast<std::size_t>(m_shownGroup)].label)
            : tr("all layers");
    m_matrix->setData(pairMatrix(*snapshot, stats, metricOf(m_metricBox), scope));
}

} // namespace basin::ui
