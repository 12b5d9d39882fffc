// SPDX-License-Identifier: GPL-3.0-or-later
#include "model/modelset.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>
#include <unordered_map>

namespace basin {

namespace {

std::string shapeText(const std::vector<std::uint64_t> &shape)
{
    std::string out = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        out += (i ? ", " : "") + std::to_string(shape[i]);
    return out + "]";
}

} // namespace

Result<std::shared_ptr<const ModelSet>>
ModelSet::create(std::vector<std::shared_ptr<const Checkpoint>> models)
{
    if (models.empty())
        return makeError(ErrorCode::InvalidArgument, "a model set needs at least a base model");
    for (std::size_t i = 0; i < models.size(); ++i) {
        if (!models[i])
            return makeError(ErrorCode::InvalidArgument,
                             "model " + std::to_string(i) + " of the set is not open");
    }
    try {
        std::shared_ptr<ModelSet> set(new ModelSet());
        set->m_models = std::move(models);
        const int count = static_cast<int>(set->m_models.size());

        // Union of names: the base's file order first, then each model's extra names.
        std::unordered_map<std::string_view, std::size_t> slot;
        for (int m = 0; m < count; ++m) {
            for (const TensorInfo &t : set->m_models[static_cast<std::size_t>(m)]->tensors()) {
                const auto [it, inserted] = slot.emplace(t.name, set->m_tensors.size());
                if (inserted) {
                    AlignedTensor aligned;
                    aligned.name = t.name;
                    aligned.nameInfo = parseTensorName(t.name);
                    aligned.shape = t.shape;
                    aligned.numel = t.numel;
                    aligned.perModel.assign(static_cast<std::size_t>(count), nullptr);
                    set->m_tensors.push_back(std::move(aligned));
                }
                set->m_tensors[it->second].perModel[static_cast<std::size_t>(m)] = &t;
            }
        }
        // The string_views above point into the checkpoints, which the set keeps alive.

        auto modelName = [&](int m) {
            return m == 0 ? std::string("base")
                          : set->m_models[static_cast<std::size_t>(m)]->displayName();
        };
        int maxLayer = -1;
        for (AlignedTensor &aligned : set->m_tensors) {
            if (aligned.nameInfo.layer)
                maxLayer = std::max(maxLayer, *aligned.nameInfo.layer);
            int reference = -1;
            for (int m = 0; m < count; ++m) {
                const TensorInfo *t = aligned.perModel[static_cast<std::size_t>(m)];
                if (!t) {
                    aligned.missing.push_back(m);
                    continue;
                }
                if (reference < 0) {
                    reference = m;
                    continue;
                }
                if (t->shape != aligned.shape) {
                    aligned.shapeMismatch.push_back(m);
                    set->m_problems.push_back(modelName(m) + ": " + aligned.name + " has shape " +
                                              shapeText(t->shape) + ", " + modelName(reference) +
                                              " " + shapeText(aligned.shape));
                }
            }
            if (!aligned.missing.empty()) {
                std::string who;
                for (std::size_t i = 0; i < aligned.missing.size(); ++i)
                    who += (i ? ", " : "") + modelName(aligned.missing[i]);
                set->m_problems.push_back(who + ": " + aligned.name + " is missing (present in " +
                                          modelName(reference) + ")");
            }
        }
        set->m_layerCount = maxLayer + 1;
        return std::shared_ptr<const ModelSet>(std::move(set));
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::Internal, "out of memory while aligning models");
    }
}

int ModelSet::modelCount() const
{
    return static_cast<int>(m_models.size());
}

const Checkpoint &ModelSet::model(int index) const
{
    return *m_models.at(static_cast<std::size_t>(index));
}

std::shared_ptr<const Checkpoint> ModelSet::modelPtr(int index) const
{
    return m_models.at(static_cast<std::size_t>(index));
}

const std::vector<AlignedTensor> &ModelSet::tensors() const
{
    return m_tensors;
}

int ModelSet::layerCount() const
{
    return m_layerCount;
}

const std::vector<std::string> &ModelSet::problems() const
{
    return m_problems;
}

Result<ModelSet::NonFiniteCount> ModelSet::scanNonFinite(int modelIndex,
                                                         const AlignedTensor &tensor) const
{
    if (modelIndex < 0 || modelIndex >= modelCount() || tensor.perModel.size() != m_models.size())
        return makeError(ErrorCode::InvalidArgument, "scanNonFinite: no such model or tensor");
    const TensorInfo *info = tensor.perModel[static_cast<std::size_t>(modelIndex)];
    if (!info)
        return makeError(ErrorCode::InvalidArgument, model(modelIndex).displayName() +
                                                         ": tensor '" + tensor.name +
                                                         "' is missing");
    const Checkpoint &checkpoint = model(modelIndex);
    // Chunked so an embedding of any size needs a bounded buffer.
    constexpr std::uint64_t kChunk = 1 << 20;
    NonFiniteCount count;
    try {
        std::vector<float> buffer(static_cast<std::size_t>(std::min(kChunk, info->numel)));
        for (std::uint64_t first = 0; first < info->numel; first += kChunk) {
            const std::size_t n = static_cast<std::size_t>(std::min(kChunk, info->numel - first));
            const std::span<float> chunk(buffer.data(), n);
            BASIN_TRY(checkpoint.readF32(*info, first, chunk));
            for (const float v : chunk) {
                const std::uint32_t bits = std::bit_cast<std::uint32_t>(v) & 0x7fffffffu;
                count.nan += bits > 0x7f800000u ? 1 : 0;
                count.inf += bits == 0x7f800000u ? 1 : 0;
            }
        }
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::Internal, "out of memory while scanning " + tensor.name);
    }
    return count;
}

} // namespace basin
