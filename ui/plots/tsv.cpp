// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/tsv.h"

#include <QLocale>

#include <cmath>

namespace basin::ui::tsv {

QString number(double value)
{
    if (std::isnan(value))
        return {};
    return QLocale::c().toString(value, 'g', QLocale::FloatingPointShortest);
}

QString cell(const QString &text)
{
    QString out = text;
    for (QChar &c : out) {
        if (c == QLatin1Char('\t') || c == QLatin1Char('\n') || c == QLatin1Char('\r'))
            c = QLatin1Char(' ');
    }
    return out;
}

QString row(const QStringList &cells)
{
    QStringList cleaned;
    cleaned.reserve(cells.size());
    for (const QString &c : cells)
        cleaned.append(cell(c));
    return cleaned.join(QLatin1Char('\t')) + QLatin1Char('\n');
}

} // namespace basin::ui::tsv
