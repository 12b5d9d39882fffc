// SPDX-License-Identifier: GPL-3.0-or-later
#include "workbench/modelentry.h"

#include <QCoreApplication>

#include <algorithm>
#include <map>
#include <vector>

namespace basin::ui {

QString ModelProblems::summary() const
{
    QStringList parts;
    if (missingTensors > 0)
        parts << QCoreApplication::translate("ModelProblems", "%n missing", nullptr,
                                             missingTensors);
    if (shapeMismatches > 0)
        parts << QCoreApplication::translate("ModelProblems", "%n shape", nullptr, shapeMismatches);
    if (unsupportedTensors > 0)
        parts << QCoreApplication::translate("ModelProblems", "%n dtype", nullptr,
                                             unsupportedTensors);
    if (nanValues > 0)
        parts << QStringLiteral("NaN");
    if (infValues > 0)
        parts << QStringLiteral("Inf");
    return parts.join(QStringLiteral(" · "));
}

ModelEntry ModelEntry::fromCheckpoint(const QString &path,
                                      std::shared_ptr<const Checkpoint> checkpoint)
{
    ModelEntry entry;
    entry.path = path;
    entry.name = QString::fromStdString(checkpoint->displayName());
    entry.parameters = checkpoint->parameterCount();
    entry.bytes = checkpoint->totalBytes();
    entry.tensorCount = static_cast<int>(checkpoint->tensors().size());
    // Most checkpoints store one dtype; list every dtype by how many parameters use it so
    // a mixed checkpoint (bf16 weights with f32 norms) shows its main dtype first.
    std::map<Dtype, quint64> perDtype;
    for (const TensorInfo &tensor : checkpoint->tensors())
        perDtype[tensor.dtype] += tensor.numel;
    std::vector<std::pair<quint64, Dtype>> ranked;
    for (const auto &[dtype, count] : perDtype)
        ranked.emplace_back(count, dtype);
    std::sort(ranked.begin(), ranked.end(),
              [](const auto &a, const auto &b) { return a.first > b.first; });
    QStringList names;
    for (const auto &[count, dtype] : ranked) {
        const std::string_view name = dtypeName(dtype);
        names << QString::fromLatin1(name.data(), static_cast<qsizetype>(name.size()));
    }
    entry.dtype = names.join(QStringLiteral(" + "));
    for (const std::string &warning : checkpoint->warnings())
        entry.warnings << QString::fromStdString(warning);
    entry.checkpoint = std::move(checkpoint);
    return entry;
}

} // namespace basin::ui
