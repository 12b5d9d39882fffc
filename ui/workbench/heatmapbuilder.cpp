// SPDX-License-Identifier: GPL-3.0-or-later
#include "workbench/heatmapbuilder.h"

#include "analysis/heatmapmatrix.h"

#include <QCoreApplication>

#include <algorithm>
#include <limits>

namespace basin::ui {

namespace {
QString tr(const char *text)
{
    return QCoreApplication::translate("HeatmapBuilder", text);
}

QString qs(const std::string &text)
{
    return QString::fromStdString(text);
}

QString kindLabel(TensorKind kind)
{
    const std::string_view name = tensorKindName(kind);
    return QString::fromLatin1(name.data(), static_cast<qsizetype>(name.size()));
}

double valueFor(const analysis::StatsBlock &stats, Metric metric, std::pair<int, int> target)
{
    return isPairMetric(metric) ? pairMetricValue(stats, metric, target.first, target.second)
                                : modelMetricValue(stats, metric, target.first);
}

// Colour range: the unit interval for shares, symmetric [-1, 1] for cosine, the data's
// own range (from 0) for magnitudes so that "no change" stays the lightest colour.
void applyScale(HeatmapData &data, Metric metric)
{
    data.diverging = isSignedMetric(metric);
    switch (metric) {
    case Metric::Cosine:
        data.range = std::make_pair(-1.0, 1.0);
        break;
    case Metric::Conflict:
    case Metric::Ties:
        data.range = std::make_pair(0.0, 1.0);
        break;
    case Metric::Rho:
    case Metric::MaxAbs: {
        double hi = 0.0;
        for (const double v : data.values) {
            if (v == v) // not NaN
                hi = std::max(hi, v);
        }
        if (hi > 0.0)
            data.range = std::make_pair(0.0, hi);
        else
            data.range.reset();
        data.decimals = 4;
        break;
    }
    }
}
} // namespace

std::vector<std::pair<int, int>> metricTargets(int fineTunes, Metric metric)
{
    std::vector<std::pair<int, int>> targets;
    if (isPairMetric(metric)) {
        for (int i = 0; i < fineTunes; ++i) {
            for (int j = i + 1; j < fineTunes; ++j)
                targets.emplace_back(i, j);
        }
    } else {
        for (int t = 0; t < fineTunes; ++t)
            targets.emplace_back(t, t);
    }
    return targets;
}

QStringList metricTargetLabels(const analysis::AnalysisSnapshot &snapshot, Metric metric)
{
    QStringList labels;
    for (const auto &[i, j] : metricTargets(snapshot.fineTunes(), metric)) {
        if (isPairMetric(metric))
            labels << qs(snapshot.fineTuneLabel(i)) + QStringLiteral("·") +
                          qs(snapshot.fineTuneLabel(j));
        else
            labels << qs(snapshot.fineTuneLabel(i));
    }
    return labels;
}

HeatmapData interferenceHeatmap(const analysis::AnalysisSnapshot &snapshot, Metric metric)
{
    HeatmapData data;
    std::optional<analysis::HeatmapMetric> coreMetric;
    switch (metric) {
    case Metric::Cosine:
        coreMetric = analysis::HeatmapMetric::Cosine;
        break;
    case Metric::Conflict:
        coreMetric = analysis::HeatmapMetric::Conflict;
        break;
    case Metric::Rho:
        coreMetric = analysis::HeatmapMetric::Rho;
        break;
    case Metric::Ties:
        coreMetric = analysis::HeatmapMetric::Ties;
        break;
    case Metric::MaxAbs:
        break;
    }
    if (coreMetric) {
        // The same matrix `basin inspect --png` draws, so GUI and CLI agree cell for cell.
        const analysis::HeatmapMatrix m = analysis::heatmapMatrix(snapshot, *coreMetric);
        data.rows = m.rows;
        data.cols = m.cols;
        data.values = m.values;
        for (const std::string &label : m.rowLabels)
            data.rowLabels << qs(label);
        for (const std::string &label : m.colLabels)
            data.colLabels << qs(label);
    } else {
        const auto targets = metricTargets(snapshot.fineTunes(), metric);
        data.rows = static_cast<int>(snapshot.groups.size());
        data.cols = static_cast<int>(targets.size());
        data.colLabels = metricTargetLabels(snapshot, metric);
        for (const analysis::GroupEntry &group : snapshot.groups) {
            data.rowLabels << qs(group.label);
            for (const auto &target : targets)
                data.values.push_back(valueFor(group.stats, metric, target));
        }
    }
    data.title = tr("%1 per layer").arg(metricTitle(metric));
    data.valueName = metricShortName(metric);
    applyScale(data, metric);
    return data;
}

KindHeatmap kindHeatmap(const AnalysisResult &result, Metric metric, int target)
{
    KindHeatmap out;
    HeatmapData &data = out.data;
    const analysis::AnalysisSnapshot &snapshot = *result.snapshot;
    const auto targets = metricTargets(snapshot.fineTunes(), metric);
    const QStringList targetLabels = metricTargetLabels(snapshot, metric);
    if (target < 0 || target >= static_cast<int>(targets.size()))
        return out;
    const KindTable &kinds = result.kinds;
    for (int g = 0; g < static_cast<int>(snapshot.groups.size()); ++g) {
        if (snapshot.groups[static_cast<std::size_t>(g)].kind == analysis::GroupKind::Layer)
            out.rowGroups.push_back(g);
    }
    std::vector<int> columns;
    for (int c = 0; c < kinds.columns(); ++c) {
        const bool inLayers = std::any_of(out.rowGroups.begin(), out.rowGroups.end(),
                                          [&](int g) { return kinds.cell(g, c) != nullptr; });
        if (inLayers)
            columns.push_back(c);
    }
    data.rows = static_cast<int>(out.rowGroups.size());
    data.cols = static_cast<int>(columns.size());
    for (const int c : columns)
        data.colLabels << kindLabel(kinds.kinds[static_cast<std::size_t>(c)]);
    const double none = std::numeric_limits<double>::quiet_NaN();
    for (const int g : out.rowGroups) {
        data.rowLabels << qs(snapshot.groups[static_cast<std::size_t>(g)].label);
        for (const int c : columns) {
            const analysis::StatsBlock *block = kinds.cell(g, c);
            data.values.push_back(
                block ? valueFor(*block, metric, targets[static_cast<std::size_t>(target)]) : none);
        }
    }
    data.title = tr("%1 per tensor kind · %2").arg(metricTitle(metric), targetLabels.at(target));
    data.valueName = metricShortName(metric);
    applyScale(data, metric);
    return out;
}

HeatmapData pairMatrix(const analysis::AnalysisSnapshot &snapshot,
                       const analysis::StatsBlock &stats, Metric metric, const QString &scope)
{
    HeatmapData data;
    const int T = snapshot.fineTunes();
    data.rows = T;
    data.cols = T;
    for (int t = 0; t < T; ++t) {
        data.rowLabels << qs(snapshot.fineTuneLabel(t));
        data.colLabels << qs(snapshot.fineTuneLabel(t));
    }
    const Metric shown =
        metric == Metric::Conflict || metric == Metric::Ties ? metric : Metric::Cosine;
    for (int i = 0; i < T; ++i) {
        for (int j = 0; j < T; ++j)
            data.values.push_back(pairMetricValue(stats, shown, i, j));
    }
    data.title = tr("%1 · %2").arg(metricTitle(shown), scope);
    data.valueName = metricShortName(shown);
    applyScale(data, shown);
    data.decimals = 2;
    return data;
}

} // namespace basin::ui
