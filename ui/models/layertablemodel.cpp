// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/layertablemodel.h"

#include "analysis/layerflags.h"
#include "analysis/metrics.h"
#include "plots/tsv.h"

#include <QLocale>

#include <cmath>
#include <limits>

namespace basin::ui {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double orNaN(const std::optional<double> &value)
{
    return value.value_or(kNaN);
}
} // namespace

LayerTableModel::LayerTableModel(QObject *parent) : QAbstractTableModel(parent) {}

LayerTableModel::~LayerTableModel() = default;

void LayerTableModel::setSnapshot(std::shared_ptr<const analysis::AnalysisSnapshot> snapshot)
{
    beginResetModel();
    m_snapshot = std::move(snapshot);
    m_flags.clear();
    if (m_snapshot) {
        for (const analysis::GroupEntry &group : m_snapshot->groups)
            m_flags << QString::fromStdString(analysis::groupFlags(*m_snapshot, group));
    }
    buildColumns();
    endResetModel();
}

void LayerTableModel::buildColumns()
{
    m_columns.clear();
    if (!m_snapshot)
        return;
    const analysis::AnalysisSnapshot &s = *m_snapshot;
    const int T = s.fineTunes();
    const auto ft = [&s](int t) { return QString::fromStdString(s.fineTuneLabel(t)); };
    const auto perModel = [&](Stat stat, const QString &name, const QString &tip) {
        for (int t = 0; t < T; ++t)
            m_columns.push_back({stat, t, -1, tr("%1 %2").arg(name, ft(t)), tip});
    };
    const auto perPair = [&](Stat stat, const QString &name, const QString &tip) {
        for (int i = 0; i < T; ++i) {
            for (int j = i + 1; j < T; ++j)
                m_columns.push_back({stat, i, j, tr("%1 %2·%3").arg(name, ft(i), ft(j)), tip});
        }
    };

    m_columns.push_back({Stat::Label, -1, -1, tr("Layer"),
                         tr("Transformer layer, or the embeddings, final norm and head.")});
    m_columns.push_back({Stat::Flags, -1, -1, tr("Flags"),
                         QString::fromStdString(analysis::flagLegend()).trimmed()});
    perModel(Stat::Rho, QStringLiteral("ρ"), tr("Relative change ‖τ‖/‖B‖ of the fine-tune."));
    perPair(Stat::Cosine, tr("cos"), tr("Cosine of the two task vectors."));
    perPair(Stat::Conflict, tr("conflict"),
            tr("Share of the weights both change that they change in opposite directions."));
    m_columns.push_back({Stat::TiesConflict, -1, -1, tr("TIES conflict"),
                         tr("Share of changed weights where some fine-tune disagrees with the "
                            "elected sign (no trimming).")});
    m_columns.push_back({Stat::TiesTrimmedConflict, -1, -1, tr("TIES conflict @d"),
                         tr("The same after keeping each fine-tune's top %1 % by magnitude.")
                             .arg(s.options.density * 100.0)});
    perModel(Stat::MaxAbs, QStringLiteral("max|τ|"), tr("Largest absolute change."));
    perModel(Stat::L2, QStringLiteral("‖τ‖"), tr("Euclidean norm of the task vector."));
    perModel(Stat::Mean, tr("mean"), tr("Mean of τ."));
    perModel(Stat::Std, tr("std"), tr("Standard deviation of τ (population)."));
    perModel(Stat::ZeroFrac, tr("zero"),
             tr("Share of weights left unchanged (|τ| < %1).").arg(s.options.zeroThreshold));
    perModel(Stat::P50, QStringLiteral("p50|τ|"), tr("Median of |τ| (bf16 resolution)."));
    perModel(Stat::P90, QStringLiteral("p90|τ|"), tr("90th percentile of |τ|."));
    perModel(Stat::P99, QStringLiteral("p99|τ|"), tr("99th percentile of |τ|."));
    perModel(Stat::TiesDropped, tr("TIES"),
             tr("Share of the fine-tune's changed weights whose sign differs from the elected "
                "sign (what TIES drops)."));
    bool anyUlp = false;
    for (const analysis::ModelAccum &m : s.total.models)
        anyUlp = anyUlp || m.ulpValid;
    if (anyUlp)
        perModel(Stat::OneStep, tr("1-step"),
                 tr("bf16 models: share of changed weights that moved by exactly one bf16 "
                    "step of the base value."));
    m_columns.push_back({Stat::Tensors, -1, -1, tr("Tensors"), tr("Tensors in the row.")});
    m_columns.push_back({Stat::Parameters, -1, -1, tr("Params"), tr("Parameters in the row.")});
}

int LayerTableModel::rowCount(const QModelIndex &parent) const
{
    if (parent.isValid() || !m_snapshot)
        return 0;
    return static_cast<int>(m_snapshot->groups.size());
}

int LayerTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_columns.size());
}

double LayerTableModel::value(int row, int column) const
{
    if (!m_snapshot || row < 0 || row >= rowCount() || column < 0 || column >= columnCount())
        return kNaN;
    const analysis::GroupEntry &group = m_snapshot->groups[static_cast<std::size_t>(row)];
    const analysis::StatsBlock &s = group.stats;
    const Column &c = m_columns[static_cast<std::size_t>(column)];
    const auto model = [&]() -> const analysis::ModelAccum & {
        return s.models[static_cast<std::size_t>(c.i)];
    };
    switch (c.stat) {
    case Stat::Label:
    case Stat::Flags:
        return kNaN;
    case Stat::Rho:
        return orNaN(analysis::relL2(model()));
    case Stat::Cosine:
        return orNaN(analysis::cosine(s, c.i, c.j));
    case Stat::Conflict:
        return orNaN(analysis::signConflict(s, c.i, c.j));
    case Stat::TiesConflict:
        return orNaN(analysis::tiesConflictFrac(s));
    case Stat::TiesTrimmedConflict:
        return orNaN(analysis::tiesTrimmedConflictFrac(s));
    case Stat::MaxAbs:
        return orNaN(analysis::maxAbs(model()));
    case Stat::L2:
        return model().count > 0 ? analysis::l2(model()) : kNaN;
    case Stat::Mean:
        return orNaN(analysis::mean(model()));
    case Stat::Std:
        return orNaN(analysis::stddev(model()));
    case Stat::ZeroFrac:
        return orNaN(analysis::zeroFrac(model()));
    case Stat::P50:
        return orNaN(analysis::quantileAbs(model(), 0.5));
    case Stat::P90:
        return orNaN(analysis::quantileAbs(model(), 0.9));
    case Stat::P99:
        return orNaN(analysis::quantileAbs(model(), 0.99));
    case Stat::TiesDropped:
        return orNaN(analysis::tiesDroppedFrac(model()));
    case Stat::OneStep:
        return model().ulpValid ? orNaN(model().ulp.oneStepShare()) : kNaN;
    case Stat::Tensors:
        return static_cast<double>(group.tensors.size());
    case Stat::Parameters:
        return static_cast<double>(s.set.numel);
    }
    return kNaN;
}

QString LayerTableModel::text(int row, const Column &column) const
{
    if (column.stat == Stat::Label)
        return QString::fromStdString(m_snapshot->groups[static_cast<std::size_t>(row)].label);
    if (column.stat == Stat::Flags)
        return m_flags.value(row);
    const double v = value(row, static_cast<int>(&column - m_columns.data()));
    if (std::isnan(v))
        return QStringLiteral("–");
    switch (column.stat) {
    case Stat::Tensors:
    case Stat::Parameters:
        return QLocale().toString(static_cast<qulonglong>(v));
    case Stat::Cosine:
    case Stat::Conflict:
    case Stat::TiesConflict:
    case Stat::TiesTrimmedConflict:
    case Stat::ZeroFrac:
    case Stat::TiesDropped:
    case Stat::OneStep:
        return QLocale().toString(v, 'f', 3);
    default:
        return QLocale().toString(v, 'g', 4);
    }
}

QVariant LayerTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Column &column = m_columns[static_cast<std::size_t>(index.column())];
    const int row = index.row();
    switch (role) {
    case Qt::DisplayRole:
        return text(row, column);
    case Qt::ToolTipRole:
        if (column.stat == Stat::Label || column.stat == Stat::Flags)
            return m_flags.value(row).isEmpty()
                       ? QVariant()
                       : QVariant(QString::fromStdString(analysis::flagLegend()).trimmed());
        return tr("%1, %2: %3")
            .arg(column.header, text(row, m_columns.front()),
                 tsv::number(value(row, index.column())));
    case Qt::TextAlignmentRole:
        return column.stat == Stat::Label || column.stat == Stat::Flags
                   ? int(Qt::AlignLeft | Qt::AlignVCenter)
                   : int(Qt::AlignRight | Qt::AlignVCenter);
    case SortRole:
        if (column.stat == Stat::Label)
            return static_cast<double>(row);
        if (column.stat == Stat::Flags)
            return m_flags.value(row);
        {
            // Undefined values sort before every number, in both directions consistently.
            const double v = value(row, index.column());
            return std::isnan(v) ? -std::numeric_limits<double>::infinity() : v;
        }
    case GroupRole:
        return row;
    case ValueRole:
        return value(row, index.column());
    default:
        return {};
    }
}

QVariant LayerTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= columnCount())
        return {};
    const Column &column = m_columns[static_cast<std::size_t>(section)];
    if (role == Qt::DisplayRole)
        return column.header;
    if (role == Qt::ToolTipRole)
        return column.tooltip;
    return {};
}

QStringList LayerTableModel::headerLabels() const
{
    QStringList labels;
    for (const Column &column : m_columns)
        labels << column.header;
    return labels;
}

QStringList LayerTableModel::tsvCells(int row) const
{
    QStringList cells;
    if (row < 0 || row >= rowCount())
        return cells;
    for (int c = 0; c < columnCount(); ++c) {
        const Column &column = m_columns[static_cast<std::size_t>(c)];
        if (column.stat == Stat::Label || column.stat == Stat::Flags)
            cells << text(row, column);
        else
            cells << tsv::number(value(row, c));
    }
    return cells;
}

} // namespace basin::ui
