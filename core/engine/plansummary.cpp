// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/plansummary.h"

#include "engine/bytesize.h"

#include <charconv>
#include <map>

namespace basin::engine {

namespace {

std::string number(double value)
{
    char text[32];
    const auto result = std::to_chars(text, text + sizeof text, value);
    return std::string(text, result.ptr);
}

std::string shapeText(const std::vector<std::uint64_t> &shape)
{
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
}

std::string params(const merge::ParamValues &values)
{
    std::string text;
    for (const auto &[name, value] : values.items())
        text += " " + name + "=" + number(value);
    return text;
}

} // namespace

std::string describePlan(const PreparedMerge &prepared)
{
    const recipe::MergePlan &plan = prepared.plan;
    std::string text;
    if (!prepared.recipe.source.name.empty())
        text += "Recipe: " + prepared.recipe.source.name + "\n";
    text += "Method: " + prepared.recipe.mergeMethod;
    if (prepared.method && !prepared.method->help.empty())
        text += " — " + std::string(prepared.method->help);
    text += "\n";
    text += "Base: " +
            (plan.baseIndex >= 0 ? plan.models[static_cast<std::size_t>(plan.baseIndex)].path
                                 : std::string("none")) +
            "\n";
    text += "Models:\n";
    for (std::size_t i = 0; i < plan.models.size(); ++i) {
        const Checkpoint &model = *prepared.models[i];
        text += "  " + std::to_string(i) + ". " + plan.models[i].path + " (" +
                std::to_string(model.tensors().size()) + " tensors, " +
                formatByteSize(model.totalBytes()) + ")" +
                (static_cast<int>(i) == plan.baseIndex ? " base" : "") + "\n";
    }
    if (prepared.method && prepared.method->randomized)
        text += "Seed: " + std::to_string(prepared.seed) + "\n";

    std::map<Dtype, std::size_t> dtypes;
    for (const OutputTensor &out : prepared.outputs)
        ++dtypes[out.dtype];
    std::string dtypeText;
    for (const auto &[dtype, count] : dtypes)
        dtypeText += (dtypeText.empty() ? "" : ", ") + std::string(dtypeName(dtype)) +
                     (dtypes.size() > 1 ? " ×" + std::to_string(count) : "");
    const std::size_t files = prepared.shards.shards.size();
    text += "Output: " + std::to_string(prepared.outputs.size()) + " tensors, " +
            formatByteSize(prepared.shards.totalBytes) + " (" + dtypeText + "), " +
            std::to_string(files) + (files == 1 ? " file: " : " files: ") +
            prepared.shards.shards.front().fileName +
            (files > 1 ? " … " + prepared.shards.shards.back().fileName : std::string()) + "\n";
    text += "Layers: " + std::to_string(plan.outputLayerCount) + "\n";
    text += "Streaming: " +
            std::string(prepared.elementwise ? "element-wise (chunked)" : "whole tensors") + "\n";

    text += "\nTensors:\n";
    for (std::size_t i = 0; i < prepared.outputs.size(); ++i) {
        const OutputTensor &out = prepared.outputs[i];
        const recipe::PlannedTensor &planned = plan.tensors[i];
        text += "  " + planned.name + " " + shapeText(out.shape) + " " +
                std::string(dtypeName(out.dtype));
        if (planned.layer)
            text += " layer " + std::to_string(*planned.layer) + " t=" + number(planned.t);
        text += params(planned.global);
        if (out.base) {
            text += " | base " + plan.models[static_cast<std::size_t>(out.base->model)].path;
            if (out.base->tensor->name != planned.name)
                text += "[" + out.base->tensor->name + "]";
        }
        for (const InputSource &input : out.inputs) {
            text += " | " + plan.models[static_cast<std::size_t>(input.model)].path;
            if (input.tensor->name != planned.name)
                text += "[" + input.tensor->name + "]";
            if (input.use == InputUse::Cropped)
                text += " (cropped)";
            if (input.use == InputUse::Skipped)
                text += " (skipped: shape " + shapeText(input.tensor->shape) + ")";
            text += params(planned.inputs[static_cast<std::size_t>(input.planInput)].params);
        }
        text += "\n";
    }
    if (!prepared.warnings.empty()) {
        text += "\nWarnings:\n";
        for (const std::string &warning : prepared.warnings)
            text += "  - " + warning + "\n";
    }
    return text;
}

} // namespace basin::engine
