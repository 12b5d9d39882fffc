// SPDX-License-Identifier: GPL-3.0-or-later
#include "recipe/mergeplan.h"

#include "recipe/layername.h"
#include "recipe/resolve.h"
#include "recipe/validate.h"

#include <algorithm>
#include <unordered_set>

namespace basin::recipe {

namespace {

using merge::BaseRule;
using merge::MethodDecl;

// One model read by a group of output tensors, with the parameter blocks its lookup visits.
struct Source {
    int model = -1;
    const Parameters *own = nullptr;
    const Parameters *slice = nullptr;
    int layerStart = 0; // first input layer (slices)
};

// The sources of one group of output tensors: the whole model list, or one slice.
struct Group {
    std::optional<Source> base; // the base, for methods that treat it apart
    std::vector<Source> inputs;
    bool baseIsInput = false;
    int reference = -1;     // model whose tensor names (and order) define the outputs
    int referenceStart = 0; // its first input layer
};

class Planner {
public:
    Planner(const Recipe &recipe, const MethodDecl &method, const PlanInputs &inputs)
        : m_recipe(recipe), m_method(method), m_inputs(inputs)
    {
    }

    Result<MergePlan> run();

private:
    bool treatsBaseApart(const ModelRef &model) const
    {
        return m_method.base != BaseRule::AsInput && m_recipe.hasBase() &&
               sameModel(model, m_recipe.baseModel);
    }
    const std::string &label(int model) const { return m_plan.models[model].path; }
    bool has(int model, const std::string &name) const { return m_names[model].contains(name); }

    Group modelsGroup() const;
    Group sliceGroup(const Slice &slice) const;
    Result<void> checkIndexes();
    Result<void> addTensor(const Group &group, const std::string &outputName,
                           const std::string &referenceName, std::optional<int> outputLayer,
                           int layerOffset, double t);
    Result<void> planModels();
    Result<void> planSlices();
    void warnAboutExtras();

    const Recipe &m_recipe;
    const MethodDecl &m_method;
    const PlanInputs &m_inputs;
    MergePlan m_plan;
    std::vector<std::unordered_set<std::string>> m_names;
    std::vector<int> m_layerCounts;         // per model, from its tensor names
    std::unordered_set<std::string> m_used; // input names some output reads, per "model\0name"
};

Result<MergePlan> Planner::run()
{
    m_plan.models = m_recipe.referencedModels();
    m_plan.baseIndex = m_recipe.hasBase() ? 0 : -1;
    if (m_inputs.tensorNames.size() != m_plan.models.size()) {
        return makeError(ErrorCode::InvalidArgument,
                         "merge plan: the recipe reads " + std::to_string(m_plan.models.size()) +
                             " models but tensor names were given for " +
                             std::to_string(m_inputs.tensorNames.size()));
    }
    for (const auto &names : m_inputs.tensorNames) {
        m_names.emplace_back(names.begin(), names.end());
        int layers = 0;
        for (const auto &name : names) {
            if (const auto span = findLayer(name))
                layers = std::max(layers, span->index + 1);
        }
        m_layerCounts.push_back(layers);
    }
    if (m_recipe.usesSlices())
        BASIN_TRY(planSlices());
    else
        BASIN_TRY(planModels());
    warnAboutExtras();
    return std::move(m_plan);
}

Group Planner::modelsGroup() const
{
    Group group;
    bool baseListed = false;
    for (const auto &entry : m_recipe.models) {
        const int index = m_recipe.modelIndex(entry.model);
        if (m_recipe.hasBase() && sameModel(entry.model, m_recipe.baseModel))
            baseListed = true;
        if (treatsBaseApart(entry.model))
            continue;
        group.inputs.push_back({index, &entry.parameters, nullptr, 0});
        if (index == m_plan.baseIndex)
            group.baseIsInput = true;
    }
    if (m_recipe.hasBase()) {
        if (m_method.base != BaseRule::AsInput) {
            group.base = Source{m_plan.baseIndex, nullptr, nullptr, 0};
        } else if (!baseListed) {
            // mergekit appends an unlisted base to the models: one more input (a karcher point,
            // a linear term that then needs a weight from the top-level parameters).
            group.inputs.push_back({m_plan.baseIndex, nullptr, nullptr, 0});
            group.baseIsInput = true;
        }
    }
    group.reference = m_recipe.hasBase() ? m_plan.baseIndex : group.inputs.front().model;
    return group;
}

Group Planner::sliceGroup(const Slice &slice) const
{
    Group group;
    for (const auto &source : slice.sources) {
        const Source planned{m_recipe.modelIndex(source.model), &source.parameters,
                             &slice.parameters, source.layerStart};
        if (treatsBaseApart(source.model)) {
            group.base = planned;
            continue;
        }
        group.inputs.push_back(planned);
        if (planned.model == m_plan.baseIndex)
            group.baseIsInput = true;
    }
    const Source &reference = group.base ? *group.base : group.inputs.front();
    group.reference = reference.model;
    group.referenceStart = reference.layerStart;
    return group;
}

Result<void> Planner::addTensor(const Group &group, const std::string &outputName,
                                const std::string &referenceName, std::optional<int> outputLayer,
                                int layerOffset, double t)
{
    PlannedTensor tensor;
    tensor.name = outputName;
    tensor.layer = outputLayer;
    tensor.t = t;
    tensor.baseIsInput = group.baseIsInput;

    const auto span = findLayer(referenceName);
    // The input tensor of `source` that corresponds to the reference tensor.
    const auto inputName = [&](const Source &source) {
        if (!span)
            return referenceName;
        return withLayer(referenceName, *span, source.layerStart + layerOffset);
    };
    const auto check = [&](const Source &source, const std::string &name) -> Result<void> {
        if (has(source.model, name)) {
            m_used.insert(std::to_string(source.model) + '\0' + name);
            return {};
        }
        return makeError(ErrorCode::InvalidArgument,
                         m_recipe.where(m_plan.models[source.model].loc) + "model " +
                             label(source.model) + " has no tensor " + name + ", needed for " +
                             outputName);
    };

    if (group.base) {
        const std::string name = inputName(*group.base);
        BASIN_TRY(check(*group.base, name));
        tensor.base = PlannedInput{group.base->model, name, {}};
    }
    for (const auto &source : group.inputs) {
        std::string name = inputName(source);
        BASIN_TRY(check(source, name));
        // Per-model filters see the input name, global ones the output name (METHODS.md).
        auto params = resolveModelParameters(
            m_method, ParameterScopes{source.own, source.slice, &m_recipe.parameters}, name, t,
            label(source.model));
        if (!params)
            return makeError(params.error().code, m_recipe.where({}) + params.error().message);
        tensor.inputs.push_back(PlannedInput{source.model, std::move(name), std::move(*params)});
    }
    auto global = resolveGlobalParameters(m_method, m_recipe.parameters, outputName, t);
    if (!global)
        return makeError(global.error().code, m_recipe.where({}) + global.error().message);
    tensor.global = std::move(*global);
    m_plan.tensors.push_back(std::move(tensor));
    return {};
}

Result<void> Planner::planModels()
{
    const Group group = modelsGroup();
    const int reference = group.reference;
    const int layers = m_inputs.layerCount >= 0 ? m_inputs.layerCount : m_layerCounts[reference];
    m_plan.outputLayerCount = layers;
    for (const auto &name : m_inputs.tensorNames[reference]) {
        const auto span = findLayer(name);
        if (span && span->index >= layers) {
            return makeError(ErrorCode::InvalidArgument,
                             "model " + label(reference) + ": tensor " + name + " is in layer " +
                                 std::to_string(span->index) + " but the model has " +
                                 std::to_string(layers) + " layers (num_hidden_layers)");
        }
        const std::optional<int> layer =
            span ? std::optional<int>(span->index) : std::optional<int>();
        const double t = span ? layerPosition(span->index, layers) : 0.0;
        BASIN_TRY(addTensor(group, name, name, layer, span ? span->index : 0, t));
    }
    return {};
}

// Embeddings come before the layers (from the first slice), everything else outside the
// layers after them (from the last slice), as in mergekit's architecture tables.
bool isEmbedding(std::string_view name)
{
    return name.find("embed") != std::string_view::npos ||
           name.find("wte.") != std::string_view::npos ||
           name.find("wpe.") != std::string_view::npos;
}

Result<void> Planner::planSlices()
{
    std::vector<Group> groups;
    for (std::size_t s = 0; s < m_recipe.slices.size(); ++s) {
        const Slice &slice = m_recipe.slices[s];
        groups.push_back(sliceGroup(slice));
        for (const auto &source : slice.sources) {
            const int model = m_recipe.modelIndex(source.model);
            if (source.layerEnd > m_layerCounts[model]) {
                return makeError(ErrorCode::InvalidArgument,
                                 m_recipe.where(source.rangeLoc) + "slice " +
                                     std::to_string(s + 1) + ": layer_range [" +
                                     std::to_string(source.layerStart) + ", " +
                                     std::to_string(source.layerEnd) + "] of model " +
                                     label(model) + " goes past its last layer (it has " +
                                     std::to_string(m_layerCounts[model]) + ")");
            }
        }
    }

    const Group &first = groups.front();
    for (const auto &name : m_inputs.tensorNames[first.reference]) {
        if (!findLayer(name) && isEmbedding(name))
            BASIN_TRY(addTensor(first, name, name, std::nullopt, 0, 0.0));
    }

    int outputLayer = 0;
    for (std::size_t s = 0; s < groups.size(); ++s) {
        const Group &group = groups[s];
        const int count = m_recipe.slices[s].layerCount();
        for (int k = 0; k < count; ++k, ++outputLayer) {
            // t restarts in every slice: position k of the slice's own layers.
            const double t = layerPosition(k, count);
            for (const auto &name : m_inputs.tensorNames[group.reference]) {
                const auto span = findLayer(name);
                if (!span || span->index != group.referenceStart + k)
                    continue;
                BASIN_TRY(
                    addTensor(group, withLayer(name, *span, outputLayer), name, outputLayer, k, t));
            }
        }
    }
    m_plan.outputLayerCount = outputLayer;

    const Group &last = groups.back();
    for (const auto &name : m_inputs.tensorNames[last.reference]) {
        if (!findLayer(name) && !isEmbedding(name))
            BASIN_TRY(addTensor(last, name, name, std::nullopt, 0, 0.0));
    }
    return {};
}

void Planner::warnAboutExtras()
{
    // Slices leave out layers and non-layer tensors on purpose; only a plain model list can
    // silently drop a tensor that some model has and the reference model lacks.
    if (m_recipe.usesSlices())
        return;
    for (std::size_t model = 0; model < m_inputs.tensorNames.size(); ++model) {
        bool readAny = false;
        std::vector<std::string> unread;
        for (const auto &name : m_inputs.tensorNames[model]) {
            if (m_used.contains(std::to_string(model) + '\0' + name)) {
                readAny = true;
                continue;
            }
            unread.push_back(name);
        }
        if (!readAny || unread.empty())
            continue;
        std::string message =
            "model " + m_plan.models[model].path + ": " + std::to_string(unread.size()) +
            " tensor(s) the output has no place for are left out: " + unread.front();
        if (unread.size() > 1)
            message += ", …";
        m_plan.warnings.push_back(std::move(message));
    }
}

} // namespace

Result<MergePlan> planMerge(const Recipe &recipe, const PlanInputs &inputs)
{
    BASIN_TRY(validateRecipe(recipe));
    const MethodDecl *method = merge::findMethod(recipe.mergeMethod);
    Planner planner(recipe, *method, inputs);
    return planner.run();
}

} // namespace basin::recipe
