// SPDX-License-Identifier: GPL-3.0-or-later
#include "panels/layerspanel.h"

#include "models/layertablemodel.h"
#include "plots/tsv.h"
#include "workbench/session.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QSortFilterProxyModel>
#include <QStackedLayout>
#include <QTableView>

#include <algorithm>

namespace basin::ui {

LayersPanel::LayersPanel(Session *session, QWidget *parent)
    : QWidget(parent), m_session(session), m_model(new LayerTableModel(this)),
      m_proxy(new QSortFilterProxyModel(this))
{
    setObjectName(QStringLiteral("layersPanel"));
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(LayerTableModel::SortRole);

    m_view = new QTableView(this);
    m_view->setObjectName(QStringLiteral("layersView"));
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(0, Qt::AscendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setAlternatingRowColors(true);
    m_view->setWordWrap(false);
    m_view->setShowGrid(false);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    m_view->horizontalHeader()->setHighlightSections(false);
    m_view->horizontalHeader()->setSectionsMovable(true);
    m_view->setToolTip(tr("Per-layer statistics. Click a header to sort, select a row to "
                          "show that layer in every view, Ctrl+C copies the selection."));

    m_copy = new QAction(tr("&Copy Rows as TSV"), this);
    m_copy->setObjectName(QStringLiteral("copyLayersAction"));
    m_copy->setShortcut(QKeySequence::Copy);
    m_copy->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_copy->setToolTip(tr("Copy the selected rows (all rows when none is selected) as "
                          "tab-separated values"));
    connect(m_copy, &QAction::triggered, this, &LayersPanel::copySelection);
    m_view->addAction(m_copy);
    m_view->setContextMenuPolicy(Qt::ActionsContextMenu);

    m_placeholder = new QLabel(tr("Per-layer statistics appear once a base and at least one "
                                  "fine-tune are analysed."),
                               this);
    m_placeholder->setAlignment(Qt::AlignCenter);
    m_placeholder->setWordWrap(true);
    m_placeholder->setEnabled(false);

    auto *stack = new QStackedLayout(this);
    stack->addWidget(m_placeholder);
    stack->addWidget(m_view);

    connect(session, &Session::analysisChanged, this, &LayersPanel::onSnapshotChanged);
    connect(session, &Session::selectedGroupChanged, this, &LayersPanel::showGroup);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &LayersPanel::onCurrentChanged);
    onSnapshotChanged();
}

LayersPanel::~LayersPanel() = default;

void LayersPanel::onSnapshotChanged()
{
    m_syncing = true;
    m_model->setSnapshot(m_session->snapshot());
    m_syncing = false;
    auto *stack = static_cast<QStackedLayout *>(layout());
    stack->setCurrentWidget(m_model->rowCount() > 0 ? static_cast<QWidget *>(m_view)
                                                    : m_placeholder);
    if (m_model->rowCount() > 0) {
        m_view->resizeColumnsToContents();
        showGroup(m_session->selectedGroup());
    }
}

void LayersPanel::onCurrentChanged()
{
    if (m_syncing)
        return;
    const QModelIndex current = m_view->currentIndex();
    if (!current.isValid())
        return;
    m_syncing = true;
    m_session->setSelectedGroup(current.data(LayerTableModel::GroupRole).toInt());
    m_syncing = false;
}

void LayersPanel::showGroup(int group)
{
    if (m_syncing)
        return;
    m_syncing = true;
    if (group < 0 || group >= m_model->rowCount()) {
        m_view->selectionModel()->clearSelection();
    } else {
        const QModelIndex index = m_proxy->mapFromSource(m_model->index(group, 0));
        m_view->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect |
                                                             QItemSelectionModel::Rows);
        m_view->scrollTo(index);
    }
    m_syncing = false;
}

std::vector<int> LayersPanel::selectedGroups() const
{
    std::vector<std::pair<int, int>> rows; // (view row, group)
    for (const QModelIndex &index : m_view->selectionModel()->selectedRows())
        rows.emplace_back(index.row(), index.data(LayerTableModel::GroupRole).toInt());
    std::sort(rows.begin(), rows.end());
    std::vector<int> groups;
    for (const auto &row : rows)
        groups.push_back(row.second);
    return groups;
}

QString LayersPanel::selectionAsTsv() const
{
    if (m_model->rowCount() == 0)
        return {};
    std::vector<int> groups = selectedGroups();
    if (groups.empty()) {
        for (int r = 0; r < m_proxy->rowCount(); ++r)
            groups.push_back(m_proxy->index(r, 0).data(LayerTableModel::GroupRole).toInt());
    }
    QString out = tsv::row(m_model->headerLabels());
    for (const int group : groups)
        out += tsv::row(m_model->tsvCells(group));
    return out;
}

void LayersPanel::copySelection()
{
    const QString text = selectionAsTsv();
    if (!text.isEmpty())
        QApplication::clipboard()->setText(text);
}

} // namespace basin::ui
