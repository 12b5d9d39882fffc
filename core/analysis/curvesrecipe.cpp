// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/curvesrecipe.h"

#include "analysis/preview.h"

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

} // namespace

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
    for (recipe::ModelEntry &entry : at.models) {
        if (snapshotModelIndex(snapshot, entry.model) == request.model) {
            recipe::setParameter(entry.parameters, "weight", number(x));
            return at;
        }
    }
    return makeError(ErrorCode::InvalidArgument, "curves: model " + std::to_string(request.model) +
                                                     " is not listed under models: in the recipe");
}

} // namespace basin::analysis
