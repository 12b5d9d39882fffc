// SPDX-License-Identifier: GPL-3.0-or-later
#include "workbench/metric.h"

#include "analysis/metrics.h"

#include <QCoreApplication>

#include <algorithm>
#include <limits>

namespace basin::ui {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QString tr(const char *text)
{
    return QCoreApplication::translate("Metric", text);
}
} // namespace

QList<Metric> allMetrics()
{
    return {Metric::Cosine, Metric::Conflict, Metric::Ties, Metric::Rho, Metric::MaxAbs};
}

bool isPairMetric(Metric metric)
{
    return metric == Metric::Cosine || metric == Metric::Conflict;
}

bool isSignedMetric(Metric metric)
{
    return metric == Metric::Cosine;
}

QString metricKey(Metric metric)
{
    switch (metric) {
    case Metric::Cosine:
        return QStringLiteral("cosine");
    case Metric::Conflict:
        return QStringLiteral("conflict");
    case Metric::Ties:
        return QStringLiteral("ties");
    case Metric::Rho:
        return QStringLiteral("rho");
    case Metric::MaxAbs:
        return QStringLiteral("maxabs");
    }
    return QStringLiteral("cosine");
}

Metric metricFromKey(const QString &key, Metric fallback)
{
    for (const Metric metric : allMetrics()) {
        if (metricKey(metric) == key)
            return metric;
    }
    return fallback;
}

QString metricTitle(Metric metric)
{
    switch (metric) {
    case Metric::Cosine:
        return tr("Cosine");
    case Metric::Conflict:
        return tr("Sign conflict");
    case Metric::Ties:
        return tr("TIES disagreement");
    case Metric::Rho:
        return tr("Relative change ρ");
    case Metric::MaxAbs:
        return tr("Max |τ|");
    }
    return {};
}

QString metricShortName(Metric metric)
{
    switch (metric) {
    case Metric::Cosine:
        return tr("cosine");
    case Metric::Conflict:
        return tr("sign conflict");
    case Metric::Ties:
        return tr("TIES disagreement");
    case Metric::Rho:
        return QStringLiteral("ρ = ‖τ‖/‖B‖");
    case Metric::MaxAbs:
        return QStringLiteral("max |τ|");
    }
    return {};
}

QString metricExplanation(Metric metric)
{
    switch (metric) {
    case Metric::Cosine:
        return tr("Cosine of two task vectors: 1 = same direction, 0 = unrelated, "
                  "negative = they pull against each other.");
    case Metric::Conflict:
        return tr("Among the weights both fine-tunes change, the share changed in opposite "
                  "directions (independent random signs give 0.5).");
    case Metric::Ties:
        return tr("Share of a fine-tune's changed weights whose sign differs from the "
                  "elected sign of the sum of all task vectors (TIES, no trimming): what a "
                  "TIES merge would drop.");
    case Metric::Rho:
        return tr("Size of a fine-tune's change relative to the base weights, ‖τ‖/‖B‖.");
    case Metric::MaxAbs:
        return tr("Largest absolute change of any single weight.");
    }
    return {};
}

double modelMetricValue(const analysis::StatsBlock &stats, Metric metric, int t)
{
    if (t < 0 || t >= stats.fineTunes())
        return kNaN;
    const analysis::ModelAccum &model = stats.models[static_cast<std::size_t>(t)];
    switch (metric) {
    case Metric::Ties:
        return analysis::tiesDroppedFrac(model).value_or(kNaN);
    case Metric::Rho:
        return analysis::relL2(model).value_or(kNaN);
    case Metric::MaxAbs:
        return analysis::maxAbs(model).value_or(kNaN);
    case Metric::Cosine:
    case Metric::Conflict:
        break;
    }
    return kNaN;
}

double pairMetricValue(const analysis::StatsBlock &stats, Metric metric, int i, int j)
{
    const int T = stats.fineTunes();
    if (i < 0 || j < 0 || i >= T || j >= T)
        return kNaN;
    if (i == j) {
        // A task vector agrees with itself: defined only where it is non-zero.
        const analysis::ModelAccum &model = stats.models[static_cast<std::size_t>(i)];
        if (model.count == 0 || model.sumSq <= 0.0)
            return kNaN;
        return metric == Metric::Cosine ? 1.0 : 0.0;
    }
    const int a = std::min(i, j);
    const int b = std::max(i, j);
    switch (metric) {
    case Metric::Cosine:
        return analysis::cosine(stats, a, b).value_or(kNaN);
    case Metric::Conflict:
        return analysis::signConflict(stats, a, b).value_or(kNaN);
    case Metric::Ties:
        return analysis::pairTiesDisagree(stats, a, b).value_or(kNaN);
    case Metric::Rho:
    case Metric::MaxAbs:
        break;
    }
    return kNaN;
}

} // namespace basin::ui
