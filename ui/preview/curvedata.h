// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/curves.h"
#include "analysis/preview.h"
#include "plots/curveplotwidget.h"
#include "plots/heatmapdata.h"

#include <QString>

#include <optional>
#include <utility>
#include <vector>

namespace basin::ui {

// The plot snapshot of a set of curves: titles as weight-space proxies ("≈ …" when
// sampled), one line per series.
CurveData curveDataFrom(const analysis::CurveSet &curves);

// Retention under the current recipe: rows = snapshot groups, columns = fine-tunes.
HeatmapData retentionHeatmap(const analysis::Preview &preview);

// (x, score) points as CSV ("x,score" header); and back. Parsing skips a header line and
// blank lines; returns nothing (with `error` set) on a malformed row.
QString scoresToCsv(const std::vector<std::pair<double, double>> &points);
std::optional<std::vector<std::pair<double, double>>> scoresFromCsv(const QString &text,
                                                                    QString *error);

} // namespace basin::ui
