// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractTableModel>
#include <QPointer>

namespace basin::ui {

class Session;

// The Models dock's table: the base (when loaded) in row 0, then the fine-tunes in order.
// Columns: role, name, dtype, parameters, tensors, problems, path. Problems come from the
// session's current analysis and show as a badge (warning icon + short text) with the
// details in the tooltip. Rebuilt whenever the session's models or analysis change.
class ModelListModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        RoleColumn,
        NameColumn,
        DtypeColumn,
        ParametersColumn,
        TensorsColumn,
        ProblemsColumn,
        PathColumn,
        ColumnCount
    };
    enum Role {
        PathRole = Qt::UserRole, // QString: the model's path
        IsBaseRole,              // bool
        FineTuneIndexRole,       // int: 0-based fine-tune index, -1 for the base
        HasProblemsRole,         // bool: the analysis found a problem
        SortRole,                // numbers for numeric columns
    };

    explicit ModelListModel(Session *session, QObject *parent = nullptr);
    ~ModelListModel() override;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    // Row of the base (0) or of fine-tune t (t + 1, or t without a base); -1 if none.
    int rowOfFineTune(int t) const;

    // "7.3 M", "1.2 B": parameter counts as people say them.
    static QString formatCount(quint64 count);

private:
    void reset();
    bool hasBase() const;

    QPointer<Session> m_session;
};

} // namespace basin::ui
