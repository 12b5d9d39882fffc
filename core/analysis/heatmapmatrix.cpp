// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/heatmapmatrix.h"

#include "analysis/metrics.h"

#include <limits>

namespace basin::analysis {

std::optional<HeatmapMetric> parseHeatmapMetric(std::string_view name)
{
    for (const HeatmapMetric metric : {HeatmapMetric::Cosine, HeatmapMetric::Conflict,
                                       HeatmapMetric::Rho, HeatmapMetric::Ties}) {
        if (name == heatmapMetricName(metric))
            return metric;
    }
    return std::nullopt;
}

std::string_view heatmapMetricName(HeatmapMetric metric)
{
    switch (metric) {
    case HeatmapMetric::Cosine:
        return "cosine";
    case HeatmapMetric::Conflict:
        return "conflict";
    case HeatmapMetric::Rho:
        return "rho";
    case HeatmapMetric::Ties:
        return "ties";
    }
    return "cosine";
}

HeatmapMatrix heatmapMatrix(const AnalysisSnapshot &snapshot, HeatmapMetric metric)
{
    const int T = snapshot.fineTunes();
    const bool perPair = metric == HeatmapMetric::Cosine || metric == HeatmapMetric::Conflict;
    HeatmapMatrix m;
    m.rows = static_cast<int>(snapshot.groups.size());
    if (perPair) {
        for (int i = 0; i < T; ++i) {
            for (int j = i + 1; j < T; ++j)
                m.colLabels.push_back(snapshot.fineTuneLabel(i) + "\u00b7" +
                                      snapshot.fineTuneLabel(j));
        }
    } else {
        for (int t = 0; t < T; ++t)
            m.colLabels.push_back(snapshot.fineTuneLabel(t));
    }
    m.cols = static_cast<int>(m.colLabels.size());
    for (const GroupEntry &group : snapshot.groups)
        m.rowLabels.push_back(group.label);

    switch (metric) {
    case HeatmapMetric::Cosine:
        m.title = "Cosine of task vectors per layer";
        m.valueName = "cosine";
        m.diverging = true;
        m.range = std::make_pair(-1.0, 1.0);
        break;
    case HeatmapMetric::Conflict:
        m.title = "Sign conflict of task vectors per layer";
        m.valueName = "sign conflict";
        m.range = std::make_pair(0.0, 1.0);
        break;
    case HeatmapMetric::Rho:
        m.title = "Relative change \u2016\u03c4\u2016/\u2016B\u2016 per layer";
        m.valueName = "rho";
        break;
    case HeatmapMetric::Ties:
        m.title = "TIES sign disagreement per layer (untrimmed)";
        m.valueName = "TIES disagreement";
        m.range = std::make_pair(0.0, 1.0);
        break;
    }

    const double none = std::numeric_limits<double>::quiet_NaN();
    m.values.reserve(static_cast<std::size_t>(m.rows) * static_cast<std::size_t>(m.cols));
    for (const GroupEntry &group : snapshot.groups) {
        const StatsBlock &s = group.stats;
        if (perPair) {
            for (int i = 0; i < T; ++i) {
                for (int j = i + 1; j < T; ++j) {
                    const auto value =
                        metric == HeatmapMetric::Cosine ? cosine(s, i, j) : signConflict(s, i, j);
                    m.values.push_back(value.value_or(none));
                }
            }
        } else {
            for (int t = 0; t < T; ++t) {
                const ModelAccum &model = s.models[static_cast<std::size_t>(t)];
                const auto value =
                    metric == HeatmapMetric::Rho ? relL2(model) : tiesDroppedFrac(model);
                m.values.push_back(value.value_or(none));
            }
        }
    }
    return m;
}

} // namespace basin::analysis
