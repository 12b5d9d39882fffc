// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/analysissnapshot.h"

#include <algorithm>
#include <map>

namespace basin::analysis {

namespace {
std::optional<ModelStockInfo> modelStockOf(const StatsBlock &stats)
{
    std::vector<bool> present;
    for (const ModelAccum &m : stats.models)
        present.push_back(m.count > 0);
    return modelStockInfo(Gram::fromStats(stats), present);
}
} // namespace

const TensorEntry *AnalysisSnapshot::findTensor(std::string_view name) const
{
    for (const TensorEntry &entry : tensors) {
        if (entry.name == name)
            return &entry;
    }
    return nullptr;
}

const GroupEntry *AnalysisSnapshot::findLayer(int layer) const
{
    for (const GroupEntry &group : groups) {
        if (group.kind == GroupKind::Layer && group.layer == layer)
            return &group;
    }
    return nullptr;
}

std::string AnalysisSnapshot::fineTuneLabel(int t) const
{
    const auto index = static_cast<std::size_t>(t + 1);
    if (index >= modelNames.size())
        return "ft" + std::to_string(t + 1);
    const std::string &name = modelNames[index];
    const auto same = std::count(modelNames.begin() + 1, modelNames.end(), name);
    if (name.empty() || same > 1)
        return "ft" + std::to_string(t + 1);
    return name;
}

GroupKind groupKindOf(const TensorNameInfo &info)
{
    if (info.layer)
        return GroupKind::Layer;
    switch (info.kind) {
    case TensorKind::Embed:
        return GroupKind::Embed;
    case TensorKind::Norm:
        return GroupKind::Norm;
    case TensorKind::Head:
        return GroupKind::Head;
    default:
        return GroupKind::Other;
    }
}

std::string_view groupKindName(GroupKind kind)
{
    switch (kind) {
    case GroupKind::Embed:
        return "embed";
    case GroupKind::Layer:
        return "layer";
    case GroupKind::Norm:
        return "norm";
    case GroupKind::Head:
        return "head";
    case GroupKind::Other:
        return "other";
    }
    return "other";
}

void finishSnapshot(AnalysisSnapshot &snapshot)
{
    const int T = snapshot.fineTunes();
    for (TensorEntry &entry : snapshot.tensors) {
        const Gram gram = entry.gram();
        entry.slerp.assign(static_cast<std::size_t>(T), std::nullopt);
        for (int t = 0; t < T; ++t) {
            if (t < static_cast<int>(entry.present.size()) &&
                entry.present[static_cast<std::size_t>(t)])
                entry.slerp[static_cast<std::size_t>(t)] = slerpInfo(gram, t);
        }
        entry.modelStock = modelStockInfo(gram, entry.present);
    }

    // Row order: embed, layers ascending, norm, head, other.
    std::map<int, std::vector<std::size_t>> layers;
    std::map<GroupKind, std::vector<std::size_t>> others;
    for (std::size_t i = 0; i < snapshot.tensors.size(); ++i) {
        const TensorEntry &entry = snapshot.tensors[i];
        const GroupKind kind = groupKindOf(entry.nameInfo);
        if (kind == GroupKind::Layer)
            layers[*entry.nameInfo.layer].push_back(i);
        else
            others[kind].push_back(i);
    }
    const auto makeGroup = [&](GroupKind kind, int layer, std::string label,
                               std::vector<std::size_t> members) {
        GroupEntry group;
        group.kind = kind;
        group.layer = layer;
        group.label = std::move(label);
        group.tensors = std::move(members);
        group.stats = StatsBlock(T);
        for (const std::size_t i : group.tensors)
            group.stats.merge(snapshot.tensors[i].stats);
        group.modelStock = modelStockOf(group.stats);
        snapshot.groups.push_back(std::move(group));
    };
    snapshot.groups.clear();
    if (others.count(GroupKind::Embed))
        makeGroup(GroupKind::Embed, -1, "embed", others[GroupKind::Embed]);
    for (auto &[layer, members] : layers) {
        // Appending (not "L" + …) sidesteps a GCC 12 -Wrestrict false positive.
        std::string label = "L";
        label += std::to_string(layer);
        makeGroup(GroupKind::Layer, layer, std::move(label), members);
    }
    for (const GroupKind kind : {GroupKind::Norm, GroupKind::Head, GroupKind::Other}) {
        if (others.count(kind))
            makeGroup(kind, -1, std::string(groupKindName(kind)), others[kind]);
    }

    snapshot.total = StatsBlock(T);
    for (const TensorEntry &entry : snapshot.tensors)
        snapshot.total.merge(entry.stats);
    snapshot.totalModelStock = modelStockOf(snapshot.total);
}

StatsBlock combineTensors(const AnalysisSnapshot &snapshot,
                          const std::function<bool(const TensorEntry &)> &select)
{
    StatsBlock block(snapshot.fineTunes());
    for (const TensorEntry &entry : snapshot.tensors) {
        if (select(entry))
            block.merge(entry.stats);
    }
    return block;
}

} // namespace basin::analysis
