// SPDX-License-Identifier: GPL-3.0-or-later
#include "recipe/recipe.h"

namespace basin::recipe {

bool sameModel(const ModelRef &a, const ModelRef &b)
{
    if (!a.resolved.empty() && !b.resolved.empty())
        return a.resolved.lexically_normal() == b.resolved.lexically_normal();
    return a.path == b.path;
}

std::vector<ModelRef> Recipe::referencedModels() const
{
    std::vector<ModelRef> all;
    const auto add = [&all](const ModelRef &model) {
        if (model.empty())
            return;
        for (const auto &known : all) {
            if (sameModel(known, model))
                return;
        }
        all.push_back(model);
    };
    add(baseModel);
    for (const auto &entry : models)
        add(entry.model);
    for (const auto &slice : slices) {
        for (const auto &source : slice.sources)
            add(source.model);
    }
    return all;
}

int Recipe::modelIndex(const ModelRef &model) const
{
    const auto all = referencedModels();
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (sameModel(all[i], model))
            return static_cast<int>(i);
    }
    return -1;
}

std::string Recipe::where(SourceLoc loc) const
{
    if (!loc.known())
        return source.name.empty() ? std::string() : source.name + ": ";
    const std::string file = source.name.empty() ? std::string("recipe") : source.name;
    return file + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.column) + ": ";
}

std::string_view recipeDtypeName(Dtype dtype)
{
    switch (dtype) {
    case Dtype::F32:
        return "float32";
    case Dtype::F16:
        return "float16";
    case Dtype::BF16:
        return "bfloat16";
    default:
        return {};
    }
}

std::optional<Dtype> parseRecipeDtype(std::string_view name)
{
    constexpr std::string_view torchPrefix = "torch.";
    if (name.starts_with(torchPrefix))
        name.remove_prefix(torchPrefix.size());
    if (name == "float32" || name == "fp32" || name == "f32")
        return Dtype::F32;
    if (name == "float16" || name == "fp16")
        return Dtype::F16;
    if (name == "bfloat16" || name == "bf16")
        return Dtype::BF16;
    return std::nullopt;
}

} // namespace basin::recipe
