// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QWidget>

#include <vector>

class QAction;
class QLabel;
class QSortFilterProxyModel;
class QTableView;

namespace basin::ui {

class LayerTableModel;
class Session;

// The Layers dock: one row per layer (plus embed, norm, head) with every Tier-1 statistic,
// sortable by any column, multi-select, Ctrl+C copies the selected rows as TSV. The
// current row is the session's selected layer, both ways.
class LayersPanel : public QWidget {
    Q_OBJECT

public:
    explicit LayersPanel(Session *session, QWidget *parent = nullptr);
    ~LayersPanel() override;

    QTableView *view() const { return m_view; }
    LayerTableModel *model() const { return m_model; }
    QSortFilterProxyModel *proxy() const { return m_proxy; }
    QAction *copyAction() const { return m_copy; }

    // Groups of the selected rows, in view order.
    std::vector<int> selectedGroups() const;
    // The selected rows (all rows when none is selected) as TSV with a header row.
    QString selectionAsTsv() const;

public slots:
    void copySelection();

private:
    void onSnapshotChanged();
    void onCurrentChanged();
    void showGroup(int group);

    Session *m_session = nullptr;
    LayerTableModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_view = nullptr;
    QLabel *m_placeholder = nullptr;
    QAction *m_copy = nullptr;
    bool m_syncing = false;
};

} // namespace basin::ui
