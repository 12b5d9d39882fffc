// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/statsblock.h"

#include <QList>
#include <QString>

namespace basin::ui {

// The interference metrics the views offer (ANALYSIS.md, Views). Pair metrics have one
// value per pair of fine-tunes, the others one per fine-tune.
enum class Metric {
    Cosine,   // cos(τ_i, τ_j)
    Conflict, // sign-conflict rate among coordinates both change
    Ties,     // per model: untrimmed TIES disagreement with the elected sign
    Rho,      // per model: ‖τ‖ / ‖B‖
    MaxAbs,   // per model: max |τ|
};

QList<Metric> allMetrics();
bool isPairMetric(Metric metric);
// Signed metrics get a diverging colour scale centred on 0.
bool isSignedMetric(Metric metric);

// Stable key for settings and command lines: "cosine", "conflict", "ties", "rho", "maxabs".
QString metricKey(Metric metric);
// Metric of a key; `fallback` for an unknown one.
Metric metricFromKey(const QString &key, Metric fallback = Metric::Cosine);
// Display name ("Cosine", "Sign conflict", …), the short name for colour-scale labels
// ("cosine", "ρ", …), and a one-sentence explanation for tooltips.
QString metricTitle(Metric metric);
QString metricShortName(Metric metric);
QString metricExplanation(Metric metric);

// Value of a per-model metric for fine-tune t (0-based), or of a pair metric for (i, j);
// NaN where undefined (no coordinates, zero norm, out of range).
double modelMetricValue(const analysis::StatsBlock &stats, Metric metric, int t);
double pairMetricValue(const analysis::StatsBlock &stats, Metric metric, int i, int j);

} // namespace basin::ui
