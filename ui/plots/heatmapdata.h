// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>
#include <QStringList>

#include <optional>
#include <utility>
#include <vector>

namespace basin::ui {

// One heatmap snapshot: a rows x cols matrix of a metric with its labels. Produced from
// an analysis result by the caller; the widget only draws it.
struct HeatmapData {
    int rows = 0;
    int cols = 0;
    std::vector<double> values;       // row-major, rows * cols; NaN = no value (drawn neutral)
    QStringList rowLabels, colLabels; // e.g. "embed", "L0".."L31", "norm", "head"; "ft1·ft2"
    QString title, valueName;         // e.g. "Cosine of task vectors", "cosine"
    bool diverging = false; // signed metric: symmetric range, diverging gradient centred on 0
    std::optional<std::pair<double, double>> range; // fixed colour range, else from the data
    int decimals = 3;                               // for values written as text

    double at(int row, int col) const
    {
        return values[static_cast<std::size_t>(row) * static_cast<std::size_t>(cols) +
                      static_cast<std::size_t>(col)];
    }
};

} // namespace basin::ui
