// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/curvesrecipe.h"

#include "analysis/preview.h"
#include "merge/method.h"

#include <limits>

namespace basin::analysis {

namespace {

recipe::ModelRef refOf(const AnalysisSnapshot &snapshot, int s)
{
    recipe::ModelRef ref;
    ref.path = snapshot.modelPaths[static_cast<std::size_t>(s)];
    ref.resolved = ref.path;
    return ref;
}

recipe::Setting number(double x)
{
    return recipe::Setting(recipe::Value::makeNumber(x));
}

constexpr std::size_t kNoSlice = std::numeric_limits<std::size_t>::max();

// Where a recipe lists a model: models[index] (slice == kNoSlice) or
// slices[slice].sources[index].
struct Place {
    std::size_t slice = kNoSlice;
    std::size_t index = 0;
};

std::vector<Place> placesOf(const AnalysisSnapshot &snapshot, const recipe::Recipe &recipe,
                            int model)
{
    std::vector<Place> places;
    for (std::size_t i = 0; i < recipe.models.size(); ++i)
        if (snapshotModelIndex(snapshot, recipe.models[i].model) == model)
            places.push_back({kNoSlice, i});
    for (std::size_t s = 0; s < recipe.slices.size(); ++s) {
        const auto &sources = recipe.slices[s].sources;
        for (std::size_t i = 0; i < sources.size(); ++i)
            if (snapshotModelIndex(snapshot, sources[i].model) == model)
                places.push_back({s, i});
    }
    return places;
}

recipe::Parameters &ownParameters(recipe::Recipe &recipe, const Place &place)
{
    return place.slice == kNoSlice ? recipe.models[place.index].parameters
                                   : recipe.slices[place.slice].sources[place.index].parameters;
}

// The parameter blocks a model's weight is looked up in, innermost first (as the planner).
std::vector<const recipe::Parameters *> scopesOf(const recipe::Recipe &recipe, const Place &place)
{
    if (place.slice == kNoSlice)
        return {&recipe.models[place.index].parameters, &recipe.parameters};
    const recipe::Slice &slice = recipe.slices[place.slice];
    return {&slice.sources[place.index].parameters, &slice.parameters, &recipe.parameters};
}

// The weight when the first block that sets it holds one plain number (the same for every
// tensor); nothing otherwise.
std::optional<double> plainWeight(const recipe::Recipe &recipe, const Place &place)
{
    for (const recipe::Parameters *scope : scopesOf(recipe, place)) {
        const recipe::Parameter *p = recipe::findParameter(*scope, "weight");
        if (!p)
            continue;
        if (p->setting.isFiltered() || p->setting.value().kind != recipe::Value::Kind::Number)
            return std::nullopt;
        return p->setting.value().number;
    }
    return std::nullopt;
}

recipe::Value scaledValue(const recipe::Value &value, double x)
{
    switch (value.kind) {
    case recipe::Value::Kind::Gradient: {
        std::vector<double> anchors = value.anchors;
        for (double &a : anchors)
            a *= x;
        return recipe::Value::makeGradient(std::move(anchors));
    }
    case recipe::Value::Kind::Boolean:
        return recipe::Value::makeNumber((value.boolean ? 1.0 : 0.0) * x);
    case recipe::Value::Kind::Number:
        break;
    }
    return recipe::Value::makeNumber(value.number * x);
}

// One filtered list that resolves, for every tensor, to x times what the scopes resolve to:
// the first matching rule wins and an unmatched list falls through to the next scope, so the
// scopes' rules in order (up to the first plain value) behave the same in one list.
recipe::Setting scaledWeight(const recipe::Recipe &recipe, const Place &place, double x)
{
    std::vector<recipe::FilterRule> rules;
    for (const recipe::Parameters *scope : scopesOf(recipe, place)) {
        const recipe::Parameter *p = recipe::findParameter(*scope, "weight");
        if (!p)
            continue;
        if (!p->setting.isFiltered()) {
            rules.push_back({std::nullopt, scaledValue(p->setting.value(), x), {}});
            return recipe::Setting(std::move(rules));
        }
        for (const recipe::FilterRule &rule : p->setting.rules())
            rules.push_back({rule.filter, scaledValue(rule.value, x), {}});
    }
    // Nothing matched anywhere: the method's default, if it has one (else the planner reports
    // the missing weight as it would for the recipe itself).
    const merge::MethodDecl *method = merge::findMethod(recipe.mergeMethod);
    const merge::ParamDecl *decl = method ? method->findParam("weight") : nullptr;
    if (decl && decl->defaultValue)
        rules.push_back({std::nullopt, recipe::Value::makeNumber(*decl->defaultValue * x), {}});
    return recipe::Setting(std::move(rules));
}

Error notListed(const AnalysisSnapshot &snapshot, int model)
{
    const bool known = model >= 0 && model < static_cast<int>(snapshot.modelNames.size());
    return makeError(
        ErrorCode::InvalidArgument,
        "curves: model " + std::to_string(model) + " (" +
            (known ? snapshot.modelNames[static_cast<std::size_t>(model)] : std::string("?")) +
            ") is not listed under models: (or as a slice source) in the recipe");
}

} // namespace

Result<WeightAxis> weightAxis(const AnalysisSnapshot &snapshot, const recipe::Recipe &recipe,
                              int model)
{
    const std::vector<Place> places = placesOf(snapshot, recipe, model);
    if (places.empty())
        return notListed(snapshot, model);
    const std::optional<double> first = plainWeight(recipe, places.front());
    bool plain = first.has_value();
    for (const Place &place : places) {
        const std::optional<double> w = plainWeight(recipe, place);
        plain = plain && w.has_value() && *w == first.value_or(0.0);
    }
    WeightAxis axis;
    axis.scaled = !plain;
    axis.current = plain ? first.value_or(0.0) : 1.0;
    return axis;
}

Result<recipe::Recipe> withModelWeight(const AnalysisSnapshot &snapshot,
                                       const recipe::Recipe &recipe, int model, double x)
{
    auto axis = weightAxis(snapshot, recipe, model);
    if (!axis)
        return axis.takeError();
    recipe::Recipe at = recipe;
    for (const Place &place : placesOf(snapshot, recipe, model)) {
        recipe::setParameter(ownParameters(at, place), "weight",
                             axis->scaled ? scaledWeight(recipe, place, x) : number(x));
    }
    return at;
}

Result<recipe::Recipe> recipeAt(const AnalysisSnapshot &snapshot, const recipe::Recipe *recipe,
                                const CurveRequest &request, double x)
{
    const int models = static_cast<int>(snapshot.modelPaths.size());
    switch (request.variable) {
    case CurveVariable::Alpha: {
        if (request.modelA < 0 || request.modelA >= models || request.modelB < 0 ||
            request.modelB >= models || request.modelA == request.modelB)
            return makeError(ErrorCode::InvalidArgument,
                             "curves: α needs two different models of the snapshot");
        if (recipe && recipe->mergeMethod == "slerp" && recipe->models.size() == 2) {
            const int base = snapshotModelIndex(snapshot, recipe->baseModel);
            if (base == request.modelA || base == request.modelB) {
                recipe::Recipe at = *recipe;
                recipe::setParameter(at.parameters, "t",
                                     number(base == request.modelA ? x : 1.0 - x));
                return at;
            }
        }
        recipe::Recipe at;
        at.mergeMethod = "linear";
        at.dtype = recipe ? recipe->dtype : std::nullopt;
        at.outDtype = recipe ? recipe->outDtype : std::nullopt;
        for (const auto &[s, weight] :
             {std::pair{request.modelA, 1.0 - x}, std::pair{request.modelB, x}}) {
            recipe::ModelEntry entry;
            entry.model = refOf(snapshot, s);
            recipe::setParameter(entry.parameters, "weight", number(weight));
            at.models.push_back(std::move(entry));
        }
        recipe::setParameter(at.parameters, "normalize",
                             recipe::Setting(recipe::Value::makeBoolean(false)));
        return at;
    }
    case CurveVariable::Lambda:
    case CurveVariable::Weight:
    case CurveVariable::Density:
        break;
    }
    if (!recipe)
        return makeError(ErrorCode::InvalidArgument,
                         "curves: varying " + std::string(curveVariableName(request.variable)) +
                             " needs a recipe");
    recipe::Recipe at = *recipe;
    if (request.variable == CurveVariable::Lambda) {
        recipe::setParameter(at.parameters, "lambda", number(x));
        return at;
    }
    if (request.variable == CurveVariable::Density) {
        for (recipe::ModelEntry &entry : at.models)
            recipe::setParameter(entry.parameters, "density", number(x));
        return at;
    }
    return withModelWeight(snapshot, *recipe, request.model, x);
}

} // namespace basin::analysis
