// SPDX-License-Identifier: GPL-3.0-or-later
#include "workbench/analysisresult.h"

#include "analysis/analysispass.h"

#include <QCoreApplication>

#include <algorithm>
#include <array>
#include <string>

namespace basin::ui {

namespace {
constexpr std::array kKindOrder{TensorKind::Q,    TensorKind::K,    TensorKind::V,
                                TensorKind::O,    TensorKind::Gate, TensorKind::Up,
                                TensorKind::Down, TensorKind::Norm, TensorKind::Embed,
                                TensorKind::Head, TensorKind::Other};

// Detail lines per model are capped so a tooltip stays readable on a broken 1,000-tensor
// checkpoint; the counts still tell the whole story.
constexpr int kMaxDetails = 6;

QString tr(const char *text)
{
    return QCoreApplication::translate("AnalysisResult", text);
}

void addDetail(ModelProblems &problems, const QString &line)
{
    if (problems.details.size() < kMaxDetails)
        problems.details << line;
    else if (problems.details.size() == kMaxDetails)
        problems.details << QStringLiteral("…");
}
} // namespace

const analysis::StatsBlock *KindTable::cell(int group, int column) const
{
    if (group < 0 || column < 0 || column >= columns())
        return nullptr;
    const auto index =
        static_cast<std::size_t>(group) * kinds.size() + static_cast<std::size_t>(column);
    if (index >= blocks.size() || !present[index])
        return nullptr;
    return &blocks[index];
}

KindTable buildKindTable(const analysis::AnalysisSnapshot &snapshot)
{
    KindTable table;
    for (const TensorKind kind : kKindOrder) {
        const bool used =
            std::any_of(snapshot.tensors.begin(), snapshot.tensors.end(),
                        [kind](const analysis::TensorEntry &t) { return t.nameInfo.kind == kind; });
        if (used)
            table.kinds.push_back(kind);
    }
    const std::size_t cells = snapshot.groups.size() * table.kinds.size();
    table.blocks.assign(cells, analysis::StatsBlock(snapshot.fineTunes()));
    table.present.assign(cells, false);
    for (std::size_t g = 0; g < snapshot.groups.size(); ++g) {
        // Tensor order inside the group is fixed, so the merged sums are reproducible.
        for (const std::size_t index : snapshot.groups[g].tensors) {
            const analysis::TensorEntry &tensor = snapshot.tensors[index];
            const auto column = static_cast<std::size_t>(
                std::find(table.kinds.begin(), table.kinds.end(), tensor.nameInfo.kind) -
                table.kinds.begin());
            const std::size_t cell = g * table.kinds.size() + column;
            table.blocks[cell].merge(tensor.stats);
            table.present[cell] = true;
        }
    }
    return table;
}

std::vector<ModelProblems> collectProblems(const ModelSet &set,
                                           const analysis::AnalysisSnapshot &snapshot)
{
    std::vector<ModelProblems> problems(static_cast<std::size_t>(set.modelCount()));
    for (ModelProblems &p : problems)
        p.known = true;
    for (const AlignedTensor &tensor : set.tensors()) {
        const QString name = QString::fromStdString(tensor.name);
        for (const int model : tensor.missing) {
            ModelProblems &p = problems[static_cast<std::size_t>(model)];
            ++p.missingTensors;
            addDetail(p, tr("missing tensor %1").arg(name));
        }
        for (const int model : tensor.shapeMismatch) {
            ModelProblems &p = problems[static_cast<std::size_t>(model)];
            ++p.shapeMismatches;
            QStringList dims;
            if (const TensorInfo *info = tensor.perModel[static_cast<std::size_t>(model)]) {
                for (const std::uint64_t d : info->shape)
                    dims << QString::number(d);
            }
            QStringList baseDims;
            for (const std::uint64_t d : tensor.shape)
                baseDims << QString::number(d);
            addDetail(p, tr("%1 has shape [%2], base [%3]")
                             .arg(name, dims.join(QStringLiteral(", ")),
                                  baseDims.join(QStringLiteral(", "))));
        }
    }
    for (const analysis::SkippedTensor &skipped : snapshot.skipped) {
        if (skipped.reason != "unsupported_dtype" || skipped.model < 0 ||
            skipped.model >= set.modelCount())
            continue;
        ModelProblems &p = problems[static_cast<std::size_t>(skipped.model)];
        ++p.unsupportedTensors;
        addDetail(p, QString::fromStdString(skipped.message));
    }
    const analysis::StatsBlock &total = snapshot.total;
    problems[0].nanValues = total.set.baseNanCount;
    problems[0].infValues = total.set.baseInfCount;
    for (int t = 0; t < total.fineTunes() && t + 1 < set.modelCount(); ++t) {
        const analysis::ModelAccum &m = total.models[static_cast<std::size_t>(t)];
        problems[static_cast<std::size_t>(t + 1)].nanValues = m.nanCount;
        problems[static_cast<std::size_t>(t + 1)].infValues = m.infCount;
    }
    for (ModelProblems &p : problems) {
        if (p.nanValues > 0)
            addDetail(p, tr("%1 NaN values").arg(p.nanValues));
        if (p.infValues > 0)
            addDetail(p, tr("%1 infinite values").arg(p.infValues));
    }
    return problems;
}

Result<AnalysisResult> runAnalysis(std::vector<std::shared_ptr<const Checkpoint>> models,
                                   const analysis::AnalysisOptions &options,
                                   const ProgressSink &progress, const CancelFlag &cancel)
{
    if (progress)
        progress(Progress{"aligning", 0, 0, 0, 0, 0.0, -1.0});
    Result<std::shared_ptr<const ModelSet>> set = ModelSet::create(std::move(models));
    if (!set)
        return set.takeError();
    Result<std::shared_ptr<const analysis::AnalysisSnapshot>> snapshot =
        analysis::analyse(**set, options, progress, &cancel);
    if (!snapshot)
        return snapshot.takeError();
    AnalysisResult result;
    result.modelSet = *set;
    result.snapshot = *snapshot;
    result.kinds = buildKindTable(**snapshot);
    result.problems = collectProblems(**set, **snapshot);
    return result;
}

} // namespace basin::ui
