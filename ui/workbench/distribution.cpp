// SPDX-License-Identifier: GPL-3.0-or-later
#include "workbench/distribution.h"

#include "analysis/abshistogram.h"
#include "analysis/metrics.h"
#include "analysis/ulphistogram.h"

#include <QCoreApplication>
#include <QLocale>

#include <algorithm>
#include <cmath>
#include <limits>

namespace basin::ui {

namespace {
QString tr(const char *text)
{
    return QCoreApplication::translate("Distribution", text);
}

QString label(const analysis::AnalysisSnapshot &snapshot, int t)
{
    return QString::fromStdString(snapshot.fineTuneLabel(t));
}

bool validModel(const analysis::TensorEntry &tensor, int t)
{
    return t >= 0 && t < tensor.stats.fineTunes();
}

QString shortTensorName(const std::string &name)
{
    QString text = QString::fromStdString(name);
    if (text.startsWith(QStringLiteral("model.")))
        text = text.mid(6);
    return text;
}

// "Unchanged (|τ| < 1e-08): ft1 1,024 · ft3 4,096"; empty when every value changed.
QString unchangedNote(const QStringList &parts, double threshold)
{
    if (parts.isEmpty())
        return {};
    return tr("Not drawn, unchanged (|τ| < %1): %2")
        .arg(threshold)
        .arg(parts.join(QStringLiteral(" · ")));
}

QString countPart(const QString &label, std::uint64_t count)
{
    return QStringLiteral("%1 %2").arg(label, QLocale().toString(static_cast<qulonglong>(count)));
}

// Elements read per model at a time by the signed histogram: 4 MiB of f32 each.
constexpr std::uint64_t kChunk = 1u << 20;
} // namespace

Distribution absTauHistogram(const analysis::AnalysisSnapshot &snapshot,
                             const analysis::TensorEntry &tensor, const std::vector<int> &models,
                             int bins)
{
    using analysis::AbsHistogram;
    Distribution out;
    HistogramData &data = out.histogram;
    QStringList unchanged;
    data.title = tr("|τ| of %1").arg(shortTensorName(tensor.name));
    data.xLabel = tr("|τ| (log scale)");
    const double threshold = snapshot.options.zeroThreshold;
    bins = std::max(bins, 1);

    // The bins span the changed values of every chosen model, so series are comparable.
    double lo = std::numeric_limits<double>::infinity();
    double hi = 0.0;
    for (const int t : models) {
        if (!validModel(tensor, t))
            continue;
        const AbsHistogram &h = tensor.stats.models[static_cast<std::size_t>(t)].absHist;
        const auto counts = h.counts();
        for (std::size_t i = 0; i < counts.size(); ++i) {
            if (counts[i] == 0)
                continue;
            const auto bin = static_cast<std::uint32_t>(h.firstBin() + i);
            const double lower = AbsHistogram::binLowerEdge(bin);
            const double upper = AbsHistogram::binLowerEdge(bin + 1);
            if (!std::isfinite(upper) || upper <= threshold)
                continue;
            lo = std::min(lo, std::max(lower, threshold));
            hi = std::max(hi, upper);
        }
    }
    const bool anyChange = std::isfinite(lo) && hi > lo;
    std::vector<double> edges;
    if (anyChange) {
        const double logLo = std::log10(lo);
        const double step = (std::log10(hi) - logLo) / bins;
        for (int i = 0; i <= bins; ++i)
            edges.push_back(std::pow(10.0, logLo + step * i));
        edges.front() = lo;
        edges.back() = hi;
    }

    for (const int t : models) {
        if (!validModel(tensor, t))
            continue;
        const AbsHistogram &h = tensor.stats.models[static_cast<std::size_t>(t)].absHist;
        HistogramSeries series;
        std::uint64_t zeros = 0;
        if (anyChange) {
            series.edges = edges;
            series.counts.assign(static_cast<std::size_t>(bins), 0.0);
        }
        const auto counts = h.counts();
        for (std::size_t i = 0; i < counts.size(); ++i) {
            if (counts[i] == 0)
                continue;
            const auto bin = static_cast<std::uint32_t>(h.firstBin() + i);
            const double lower = AbsHistogram::binLowerEdge(bin);
            const double upper = AbsHistogram::binLowerEdge(bin + 1);
            if (!std::isfinite(upper) || upper <= threshold || !anyChange) {
                zeros += counts[i];
                continue;
            }
            // A bf16-wide bucket is far narrower than a display bin: place it by its
            // geometric centre.
            const double centre = std::sqrt(std::max(lower, lo) * upper);
            const auto it = std::upper_bound(edges.begin(), edges.end(), centre);
            const auto index = std::clamp<std::ptrdiff_t>(it - edges.begin() - 1, 0, bins - 1);
            series.counts[static_cast<std::size_t>(index)] += static_cast<double>(counts[i]);
        }
        series.name = label(snapshot, t);
        if (zeros > 0)
            unchanged << countPart(series.name, zeros);
        data.series.push_back(std::move(series));
    }
    out.note = unchangedNote(unchanged, threshold);
    return out;
}

QStringList ulpBinLabels()
{
    QStringList labels;
    for (int bin = 0; bin < analysis::UlpHistogram::kBins; ++bin) {
        const std::string_view text = analysis::UlpHistogram::binLabel(bin);
        labels << QString::fromLatin1(text.data(), static_cast<qsizetype>(text.size()));
    }
    return labels;
}

bool hasUlpHistogram(const analysis::TensorEntry &tensor, const std::vector<int> &models)
{
    return std::any_of(models.begin(), models.end(), [&tensor](int t) {
        return validModel(tensor, t) && tensor.stats.models[static_cast<std::size_t>(t)].ulpValid;
    });
}

Distribution ulpHistogram(const analysis::AnalysisSnapshot &snapshot,
                          const analysis::TensorEntry &tensor, const std::vector<int> &models)
{
    Distribution out;
    HistogramData &data = out.histogram;
    data.xLabel = tr("|τ| in bf16 steps of the base value");
    QStringList shares;
    for (const int t : models) {
        if (!validModel(tensor, t))
            continue;
        const analysis::ModelAccum &m = tensor.stats.models[static_cast<std::size_t>(t)];
        if (!m.ulpValid)
            continue;
        HistogramSeries series;
        series.name = label(snapshot, t);
        for (int bin = 0; bin <= analysis::UlpHistogram::kBins; ++bin)
            series.edges.push_back(bin);
        for (const std::uint64_t count : m.ulp.counts)
            series.counts.push_back(static_cast<double>(count));
        if (const auto share = m.ulp.oneStepShare())
            shares << QStringLiteral("%1 %2 %").arg(series.name).arg(*share * 100.0, 0, 'f', 1);
        data.series.push_back(std::move(series));
    }
    data.title = tr("bf16 steps of %1").arg(shortTensorName(tensor.name));
    if (!shares.isEmpty())
        out.note = tr("Changed weights that moved by exactly one bf16 step: %1")
                       .arg(shares.join(QStringLiteral(" · ")));
    return out;
}

Result<Distribution> signedTauHistogram(const ModelSet &models,
                                        const analysis::AnalysisSnapshot &snapshot,
                                        const std::string &tensorName,
                                        const std::vector<int> &fineTunes, int bins,
                                        const ProgressSink &progress, const CancelFlag &cancel)
{
    const analysis::TensorEntry *entry = snapshot.findTensor(tensorName);
    const auto aligned = std::find_if(models.tensors().begin(), models.tensors().end(),
                                      [&](const AlignedTensor &t) { return t.name == tensorName; });
    if (!entry || aligned == models.tensors().end())
        return makeError(ErrorCode::InvalidArgument, "no tensor named " + tensorName);
    if (fineTunes.empty() || bins < 1)
        return makeError(ErrorCode::InvalidArgument, "choose at least one fine-tune");
    const TensorInfo *base = aligned->perModel.empty() ? nullptr : aligned->perModel[0];
    if (!base)
        return makeError(ErrorCode::InvalidArgument, "the base has no tensor " + tensorName);

    double range = 0.0;
    for (const int t : fineTunes) {
        if (validModel(*entry, t))
            range = std::max(
                range,
                analysis::maxAbs(entry->stats.models[static_cast<std::size_t>(t)]).value_or(0.0));
    }
    if (!(range > 0.0))
        range = snapshot.options.zeroThreshold;
    const double threshold = snapshot.options.zeroThreshold;

    Distribution out;
    HistogramData &data = out.histogram;
    QStringList unchanged;
    data.title = tr("τ of %1").arg(shortTensorName(tensorName));
    data.xLabel = QStringLiteral("τ");
    std::vector<double> edges;
    for (int i = 0; i <= bins; ++i)
        edges.push_back(-range + 2.0 * range * i / bins);

    const std::uint64_t numel = base->numel;
    std::vector<float> baseChunk;
    std::vector<float> chunk;
    Progress report;
    report.phase = "reading";
    report.itemsTotal = numel * fineTunes.size();
    for (const int t : fineTunes) {
        const int modelIndex = t + 1;
        if (modelIndex < 1 || modelIndex >= models.modelCount())
            continue;
        const TensorInfo *info = aligned->perModel[static_cast<std::size_t>(modelIndex)];
        HistogramSeries series;
        series.edges = edges;
        series.counts.assign(static_cast<std::size_t>(bins), 0.0);
        std::uint64_t zeros = 0;
        if (info && info->numel == numel) {
            for (std::uint64_t first = 0; first < numel; first += kChunk) {
                if (cancel.load())
                    return makeError(ErrorCode::Cancelled, "cancelled");
                const std::uint64_t n = std::min(kChunk, numel - first);
                baseChunk.resize(n);
                chunk.resize(n);
                BASIN_TRY(models.model(0).readF32(*base, first, baseChunk));
                BASIN_TRY(models.model(modelIndex).readF32(*info, first, chunk));
                for (std::uint64_t k = 0; k < n; ++k) {
                    const double tau = double(chunk[k]) - double(baseChunk[k]);
                    if (!std::isfinite(tau))
                        continue;
                    if (std::abs(tau) < threshold) {
                        ++zeros;
                        continue;
                    }
                    const double position = (tau + range) / (2.0 * range) * bins;
                    const auto index = std::clamp(static_cast<std::int64_t>(position),
                                                  std::int64_t(0), std::int64_t(bins - 1));
                    series.counts[static_cast<std::size_t>(index)] += 1.0;
                }
                report.itemsDone += n;
                if (progress)
                    progress(report);
            }
        }
        series.name = label(snapshot, t);
        if (zeros > 0)
            unchanged << countPart(series.name, zeros);
        data.series.push_back(std::move(series));
    }
    out.note = unchangedNote(unchanged, threshold);
    return out;
}

} // namespace basin::ui
