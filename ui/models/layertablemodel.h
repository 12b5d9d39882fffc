// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysissnapshot.h"

#include <QAbstractTableModel>
#include <QStringList>

#include <memory>
#include <vector>

namespace basin::ui {

// One row per group of a snapshot (embed, L0 … Ln−1, norm, head) with every Tier-1
// statistic as a column: flags, ρ per fine-tune, cosine and sign conflict per pair, the
// TIES conflict share, then per fine-tune max |τ|, ‖τ‖, mean, std, zero share, |τ|
// quantiles and TIES disagreement, then tensor and parameter counts. The columns depend on
// the number of fine-tunes, so setSnapshot() resets the whole model.
class LayerTableModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Role {
        SortRole = Qt::UserRole, // double; the group index for the row column, NaN sorts first
        GroupRole,               // int: index into the snapshot's groups
        ValueRole,               // double: the exact value (NaN where undefined)
    };

    explicit LayerTableModel(QObject *parent = nullptr);
    ~LayerTableModel() override;

    // Replaces the snapshot (null empties the table).
    void setSnapshot(std::shared_ptr<const analysis::AnalysisSnapshot> snapshot);
    const std::shared_ptr<const analysis::AnalysisSnapshot> &snapshot() const { return m_snapshot; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    // Exact value of a numeric cell (NaN for text columns and undefined values).
    double value(int row, int column) const;
    // A row as TSV cells: labels as text, numbers in their shortest exact form.
    QStringList tsvCells(int row) const;
    QStringList headerLabels() const;

private:
    enum class Stat {
        Label,
        Flags,
        Rho,
        Cosine,
        Conflict,
        TiesConflict,
        TiesTrimmedConflict,
        MaxAbs,
        L2,
        Mean,
        Std,
        ZeroFrac,
        P50,
        P90,
        P99,
        TiesDropped,
        OneStep,
        Tensors,
        Parameters
    };
    struct Column {
        Stat stat;
        int i = -1;
        int j = -1;
        QString header;
        QString tooltip;
    };

    void buildColumns();
    QString text(int row, const Column &column) const;

    std::shared_ptr<const analysis::AnalysisSnapshot> m_snapshot;
    std::vector<Column> m_columns;
    QStringList m_flags; // per row, computed once per snapshot
};

} // namespace basin::ui
