// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/modellistmodel.h"

#include "workbench/session.h"

#include <QApplication>
#include <QFont>
#include <QIcon>
#include <QLocale>
#include <QStyle>

namespace basin::ui {

ModelListModel::ModelListModel(Session *session, QObject *parent)
    : QAbstractTableModel(parent), m_session(session)
{
    connect(session, &Session::modelsChanged, this, &ModelListModel::reset);
    connect(session, &Session::analysisChanged, this, &ModelListModel::reset);
}

ModelListModel::~ModelListModel() = default;

void ModelListModel::reset()
{
    beginResetModel();
    endResetModel();
}

bool ModelListModel::hasBase() const
{
    return m_session && m_session->base();
}

int ModelListModel::rowCount(const QModelIndex &parent) const
{
    if (parent.isValid() || !m_session)
        return 0;
    return (hasBase() ? 1 : 0) + m_session->fineTuneCount();
}

int ModelListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

int ModelListModel::rowOfFineTune(int t) const
{
    if (!m_session || t < 0 || t >= m_session->fineTuneCount())
        return -1;
    return t + (hasBase() ? 1 : 0);
}

QString ModelListModel::formatCount(quint64 count)
{
    const double value = static_cast<double>(count);
    if (count >= 1'000'000'000ull)
        return QStringLiteral("%1 B").arg(value / 1e9, 0, 'f', 2);
    if (count >= 1'000'000ull)
        return QStringLiteral("%1 M").arg(value / 1e6, 0, 'f', 1);
    if (count >= 10'000ull)
        return QStringLiteral("%1 k").arg(value / 1e3, 0, 'f', 1);
    return QString::number(count);
}

QVariant ModelListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid) ||
        !m_session)
        return {};
    const bool isBase = hasBase() && index.row() == 0;
    const int fineTune = index.row() - (hasBase() ? 1 : 0);
    const ModelEntry &entry =
        isBase ? *m_session->base() : m_session->fineTunes()[static_cast<std::size_t>(fineTune)];
    // Problems are indexed like the analysis: 0 = base, t + 1 = fine-tune t. Without a
    // base there is no analysis, hence no problems.
    const ModelProblems *problems = m_session->problemsOf(isBase ? 0 : fineTune + 1);
    const bool flagged = problems && problems->any();

    switch (role) {
    case PathRole:
        return entry.path;
    case IsBaseRole:
        return isBase;
    case FineTuneIndexRole:
        return isBase ? -1 : fineTune;
    case HasProblemsRole:
        return flagged;
    default:
        break;
    }

    const int column = index.column();
    if (role == Qt::DisplayRole || role == SortRole) {
        switch (column) {
        case RoleColumn:
            if (role == SortRole)
                return isBase ? -1 : fineTune;
            return isBase ? tr("base") : tr("fine-tune #%1").arg(fineTune + 1);
        case NameColumn:
            return entry.name;
        case DtypeColumn:
            return entry.dtype;
        case ParametersColumn:
            return role == SortRole ? QVariant(entry.parameters)
                                    : QVariant(formatCount(entry.parameters));
        case TensorsColumn:
            return entry.tensorCount;
        case ProblemsColumn:
            if (!problems)
                return role == SortRole ? QVariant(-1) : QVariant(QStringLiteral("…"));
            if (role == SortRole)
                return flagged ? 1 : 0;
            return flagged ? problems->summary() : tr("none");
        case PathColumn:
            return entry.path;
        default:
            return {};
        }
    }
    if (role == Qt::DecorationRole && column == ProblemsColumn && flagged)
        return QApplication::style()->standardIcon(QStyle::SP_MessageBoxWarning);
    if (role == Qt::DecorationRole && column == NameColumn && !entry.warnings.isEmpty())
        return QApplication::style()->standardIcon(QStyle::SP_MessageBoxInformation);
    if (role == Qt::ToolTipRole) {
        QStringList lines;
        lines << QStringLiteral("<b>%1</b> — %2")
                     .arg(entry.name.toHtmlEscaped(),
                          isBase ? tr("base model") : tr("fine-tune %1").arg(fineTune + 1));
        lines << entry.path.toHtmlEscaped();
        lines << tr("%1 parameters in %2 tensors, %3")
                     .arg(QLocale().toString(static_cast<qulonglong>(entry.parameters)))
                     .arg(entry.tensorCount)
                     .arg(QLocale().formattedDataSize(static_cast<qint64>(entry.bytes)));
        if (!problems)
            lines << tr("Problems: known once the analysis has run.");
        else if (!flagged)
            lines << tr("No missing tensors, shape mismatches, NaN or Inf.");
        else
            for (const QString &detail : problems->details)
                lines << QStringLiteral("⚠ ") + detail.toHtmlEscaped();
        for (const QString &warning : entry.warnings)
            lines << QStringLiteral("ⓘ ") + warning.toHtmlEscaped();
        return lines.join(QStringLiteral("<br>"));
    }
    if (role == Qt::TextAlignmentRole && (column == ParametersColumn || column == TensorsColumn))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::FontRole && isBase && column == RoleColumn) {
        QFont font;
        font.setBold(true);
        return font;
    }
    return {};
}

QVariant ModelListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
        case RoleColumn:
            return tr("Role");
        case NameColumn:
            return tr("Name");
        case DtypeColumn:
            return tr("Dtype");
        case ParametersColumn:
            return tr("Params");
        case TensorsColumn:
            return tr("Tensors");
        case ProblemsColumn:
            return tr("Problems");
        case PathColumn:
            return tr("Path");
        default:
            return {};
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case RoleColumn:
            return tr("The base model, or the fine-tune's position: the views list fine-tunes "
                      "in this order (Move Up / Move Down change it).");
        case DtypeColumn:
            return tr("Storage dtype of the tensors (the most common first).");
        case ParametersColumn:
            return tr("Number of parameters.");
        case TensorsColumn:
            return tr("Number of tensors in the checkpoint.");
        case ProblemsColumn:
            return tr("Missing tensors, shape mismatches, undecodable dtypes, NaN or Inf "
                      "found by the analysis. Hover a row for the details.");
        default:
            return {};
        }
    }
    return {};
}

} // namespace basin::ui
