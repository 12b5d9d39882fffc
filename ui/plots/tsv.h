// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>
#include <QStringList>

namespace basin::ui::tsv {

// Shortest text that reads back to exactly `value` ("C" locale); empty for NaN so
// spreadsheets see a blank cell rather than a word.
QString number(double value);

// A cell with tabs and line breaks replaced by spaces, so one value stays one cell.
QString cell(const QString &text);

// Cells joined by tabs and ended by '\n'; every cell passes through cell().
QString row(const QStringList &cells);

} // namespace basin::ui::tsv
