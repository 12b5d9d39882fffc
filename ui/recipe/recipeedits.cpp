// SPDX-License-Identifier: GPL-3.0-or-later
#include "recipe/recipeedits.h"

#include "recipe/resolve.h"

#include <algorithm>
#include <filesystem>

namespace basin::ui {

using recipe::FilterRule;
using recipe::Parameters;
using recipe::Recipe;
using recipe::Setting;
using recipe::Value;

std::string_view scopeFilter(LayerScope scope)
{
    switch (scope) {
    case LayerScope::Attention:
        return "self_attn";
    case LayerScope::Mlp:
        return "mlp";
    case LayerScope::All:
        break;
    }
    return {};
}

std::string scopeTensorName(LayerScope scope, int layer)
{
    const std::string prefix = "model.layers." + std::to_string(layer) + ".";
    switch (scope) {
    case LayerScope::Attention:
        return prefix + "self_attn.q_proj.weight";
    case LayerScope::Mlp:
        return prefix + "mlp.up_proj.weight";
    case LayerScope::All:
        break;
    }
    // Matches neither filter, so it reads the catch-all value.
    return prefix + "input_layernorm.weight";
}

namespace recipeedits {

namespace {

bool isCatchAll(const FilterRule &rule)
{
    return !rule.filter || *rule.filter == "*";
}

void dropUndeclared(Parameters &parameters, const merge::MethodDecl &method, bool topLevel)
{
    std::erase_if(parameters, [&](const recipe::Parameter &p) {
        const merge::ParamDecl *decl = method.findParam(p.name);
        if (!decl)
            return true;
        return !topLevel && decl->scope == merge::ParamScope::Global;
    });
}

} // namespace

double startingValue(const merge::ParamDecl &decl)
{
    double v = decl.defaultValue ? *decl.defaultValue : (decl.name == "weight" ? 1.0 : 0.5);
    if (decl.kind == merge::ParamKind::Integer)
        v = std::max(1.0, v);
    return std::clamp(v, decl.minValue, decl.maxValue);
}

void setMethod(Recipe &recipe, std::string_view method)
{
    const merge::MethodDecl *decl = merge::findMethod(method);
    recipe.mergeMethod = std::string(method);
    if (!decl)
        return;
    dropUndeclared(recipe.parameters, *decl, true);
    for (auto &model : recipe.models)
        dropUndeclared(model.parameters, *decl, false);
    for (auto &slice : recipe.slices) {
        dropUndeclared(slice.parameters, *decl, false);
        for (auto &source : slice.sources)
            dropUndeclared(source.parameters, *decl, false);
    }
    for (const merge::ParamDecl &p : decl->params) {
        if (!p.required || p.defaultValue)
            continue;
        const Value start = p.kind == merge::ParamKind::Boolean
                                ? Value::makeBoolean(startingValue(p) != 0.0)
                                : Value::makeNumber(startingValue(p));
        if (p.scope == merge::ParamScope::Global) {
            if (!recipe::findParameter(recipe.parameters, p.name))
                recipe::setParameter(recipe.parameters, p.name, Setting(start));
            continue;
        }
        // Per-model: a top-level value covers every model; only fill models lacking one.
        if (recipe::findParameter(recipe.parameters, p.name))
            continue;
        for (auto &model : recipe.models) {
            if (recipe.hasBase() && recipe::sameModel(model.model, recipe.baseModel) &&
                decl->base != merge::BaseRule::AsInput)
                continue;
            if (!recipe::findParameter(model.parameters, p.name))
                recipe::setParameter(model.parameters, p.name, Setting(start));
        }
    }
}

void setNumber(Parameters &parameters, std::string_view name, double value)
{
    recipe::setParameter(parameters, name, Setting(Value::makeNumber(value)));
}

void removeParameter(Parameters &parameters, std::string_view name)
{
    std::erase_if(parameters, [&](const recipe::Parameter &p) { return p.name == name; });
}

std::vector<double> layerValues(const Recipe &recipe, int row, std::string_view name,
                                LayerScope scope, int layers, double fallback)
{
    std::vector<double> values(std::max(layers, 0), fallback);
    recipe::ParameterScopes scopes;
    if (row >= 0 && row < static_cast<int>(recipe.models.size()))
        scopes.own = &recipe.models[row].parameters;
    scopes.top = &recipe.parameters;
    for (int i = 0; i < layers; ++i) {
        const std::string tensor = scopeTensorName(scope, i);
        if (auto v =
                recipe::lookupParameter(name, scopes, tensor, recipe::layerPosition(i, layers)))
            values[i] = *v;
    }
    return values;
}

void setLayerValues(Recipe &recipe, int row, std::string_view name, LayerScope scope,
                    const std::vector<double> &values, double fallback)
{
    if (row < 0 || row >= static_cast<int>(recipe.models.size()) || values.empty())
        return;
    Parameters &own = recipe.models[row].parameters;
    const Value curve = Value::makeGradient(values);
    const recipe::Parameter *existing = recipe::findParameter(own, name);

    if (scope == LayerScope::All) {
        if (!existing || !existing->setting.isFiltered()) {
            recipe::setParameter(own, name, Setting(curve));
            return;
        }
        Setting setting = existing->setting;
        auto &rules = setting.rules();
        auto it = std::find_if(rules.begin(), rules.end(), isCatchAll);
        if (it != rules.end())
            it->value = curve;
        else
            rules.push_back(FilterRule{std::nullopt, curve, {}});
        recipe::setParameter(own, name, std::move(setting));
        return;
    }

    const std::string filter(scopeFilter(scope));
    std::vector<FilterRule> rules;
    if (!existing) {
        // Keep what the other tensors read today (top level or default) as the catch-all,
        // so adding an attention curve never changes the MLP or norms.
        const std::vector<double> all = layerValues(recipe, row, name, LayerScope::All,
                                                    static_cast<int>(values.size()), fallback);
        rules.push_back(FilterRule{filter, curve, {}});
        if (recipe::findParameter(recipe.parameters, name) == nullptr)
            rules.push_back(FilterRule{std::nullopt, Value::makeGradient(all), {}});
    } else if (!existing->setting.isFiltered()) {
        rules.push_back(FilterRule{filter, curve, {}});
        rules.push_back(FilterRule{std::nullopt, existing->setting.value(), {}});
    } else {
        rules = existing->setting.rules();
        auto it = std::find_if(rules.begin(), rules.end(), [&](const FilterRule &r) {
            return r.filter && *r.filter == filter;
        });
        if (it != rules.end())
            it->value = curve;
        else
            rules.insert(rules.begin(), FilterRule{filter, curve, {}});
    }
    recipe::setParameter(own, name, Setting(std::move(rules)));
}

void setModels(Recipe &recipe, const std::string &base, const std::vector<std::string> &fineTunes)
{
    auto ref = [](const std::string &path) {
        recipe::ModelRef r;
        r.path = path;
        r.resolved = std::filesystem::path(path);
        return r;
    };
    recipe.baseModel = base.empty() ? recipe::ModelRef{} : ref(base);
    std::vector<recipe::ModelEntry> models;
    for (const std::string &path : fineTunes) {
        recipe::ModelEntry entry;
        entry.model = ref(path);
        for (const auto &old : recipe.models) {
            if (recipe::sameModel(old.model, entry.model)) {
                entry.parameters = old.parameters;
                break;
            }
        }
        models.push_back(std::move(entry));
    }
    recipe.models = std::move(models);
    recipe.slices.clear();
}

std::optional<double> plainNumber(const recipe::Parameter *parameter)
{
    if (!parameter || parameter->setting.isFiltered())
        return std::nullopt;
    const Value &v = parameter->setting.value();
    if (v.kind == Value::Kind::Number)
        return v.number;
    if (v.kind == Value::Kind::Boolean)
        return v.boolean ? 1.0 : 0.0;
    return std::nullopt;
}

} // namespace recipeedits
} // namespace basin::ui
