// SPDX-License-Identifier: GPL-3.0-or-later
// The method table: the one description of every merge method (docs/METHODS.md). Data
// only; the kernels live in one file per method family.
#include "merge/kernels.h"
#include "merge/method.h"

namespace basin::merge {

namespace {

constexpr double kHuge = 1e30;

// ---- Reusable parameter declarations ------------------------------------------------------

ParamDecl weightRequired()
{
    return {.name = "weight",
            .scope = ParamScope::PerModel,
            .required = true,
            .defaultValue = std::nullopt,
            .minValue = -100.0,
            .maxValue = 100.0,
            .help = "Weight of this model's contribution; negative subtracts it"};
}

// sce and karcher accept a weight in recipes (mergekit tolerates it) but do not use it.
ParamDecl weightIgnored()
{
    return {.name = "weight",
            .scope = ParamScope::PerModel,
            .defaultValue = std::nullopt,
            .minValue = -100.0,
            .maxValue = 100.0,
            .help = "Accepted for mergekit compatibility; this method ignores it"};
}

ParamDecl density()
{
    return {.name = "density",
            .scope = ParamScope::PerModel,
            .defaultValue = 1.0,
            .minValue = 0.0,
            .maxValue = 1.0,
            .help = "Fraction of the task vector's elements to keep"};
}

ParamDecl gamma()
{
    return {.name = "gamma",
            .scope = ParamScope::PerModel,
            .defaultValue = 0.01,
            .minValue = 0.0,
            .maxValue = 1.0,
            .help = "Fraction of the largest-magnitude elements dropped as outliers"};
}

ParamDecl dellaEpsilon()
{
    return {.name = "epsilon",
            .scope = ParamScope::PerModel,
            .defaultValue = 0.15,
            .minValue = 0.0,
            .maxValue = 1.0,
            .help = "Keep probability spreads over density ± epsilon by magnitude rank"};
}

ParamDecl boolParam(std::string_view name, bool defaultValue, std::string_view help)
{
    return {.name = name,
            .kind = ParamKind::Boolean,
            .defaultValue = defaultValue ? 1.0 : 0.0,
            .minValue = 0.0,
            .maxValue = 1.0,
            .help = help};
}

ParamDecl normalize(bool defaultValue)
{
    return boolParam("normalize", defaultValue, "Divide the mix by the sum of the weights");
}

ParamDecl rescale(bool defaultValue)
{
    return boolParam("rescale", defaultValue,
                     "Rescale kept elements so the task vector keeps its L1 norm");
}

ParamDecl lambda()
{
    return {.name = "lambda",
            .defaultValue = 1.0,
            .minValue = -100.0,
            .maxValue = 100.0,
            .help = "Scale applied to the merged task vector after normalisation"};
}

ParamDecl int8Mask()
{
    return boolParam("int8_mask", false, "Accepted for mergekit compatibility; has no effect");
}

// The task-arithmetic family shares its parameters; only defaults and extras differ.
std::vector<ParamDecl> taskArithmeticParams(bool normalizeDefault, bool rescaleDefault,
                                            std::vector<ParamDecl> extraPerModel = {})
{
    std::vector<ParamDecl> params{normalize(normalizeDefault),
                                  rescale(rescaleDefault),
                                  lambda(),
                                  int8Mask(),
                                  weightRequired(),
                                  density()};
    for (auto &extra : extraPerModel)
        params.push_back(std::move(extra));
    return params;
}

ParamDecl slerpT()
{
    return {.name = "t",
            .required = true,
            .defaultValue = std::nullopt,
            .minValue = 0.0,
            .maxValue = 1.0,
            .help = "Interpolation position: 0 gives the base, 1 the other model"};
}

// ---- The table ------------------------------------------------------------------------------

std::vector<MethodDecl> buildMethods()
{
    std::vector<MethodDecl> all;

    all.push_back({.name = "linear",
                   .label = "Linear",
                   .help = "Weighted average of the models (a base is one more input)",
                   .base = BaseRule::AsInput,
                   .minModels = 1,
                   .params = {normalize(true), weightRequired()},
                   .kernel = kernelLinear});

    all.push_back({.name = "task_arithmetic",
                   .label = "Task arithmetic",
                   .help = "Adds the weighted task vectors to the base",
                   .params = taskArithmeticParams(false, false),
                   .outputOverBase = true,
                   .kernel = kernelTaskArithmetic});

    all.push_back({.name = "ties",
                   .label = "TIES",
                   .help = "Trims each task vector by magnitude, elects signs, averages agreeing "
                           "values",
                   .params = taskArithmeticParams(true, false),
                   .outputOverBase = true,
                   .kernel = kernelTies});

    all.push_back({.name = "dare_linear",
                   .label = "DARE (linear)",
                   .help = "Randomly drops task-vector elements, rescales, adds them",
                   .randomized = true,
                   .params = taskArithmeticParams(false, true),
                   .outputOverBase = true,
                   .kernel = kernelDareLinear});

    all.push_back({.name = "dare_ties",
                   .label = "DARE-TIES",
                   .help = "Random drop and rescale, then TIES sign election",
                   .randomized = true,
                   .params = taskArithmeticParams(false, true),
                   .outputOverBase = true,
                   .kernel = kernelDareTies});

    all.push_back({.name = "breadcrumbs",
                   .label = "Model breadcrumbs",
                   .help = "Drops the smallest and the largest (outlier) task-vector elements",
                   .params = taskArithmeticParams(false, false, {gamma()}),
                   .outputOverBase = true,
                   .kernel = kernelBreadcrumbs});

    all.push_back({.name = "breadcrumbs_ties",
                   .label = "Breadcrumbs + TIES",
                   .help = "Breadcrumbs sparsification, then TIES sign election",
                   .params = taskArithmeticParams(false, false, {gamma()}),
                   .outputOverBase = true,
                   .kernel = kernelBreadcrumbsTies});

    all.push_back({.name = "della",
                   .label = "DELLA",
                   .help = "Magnitude-ranked random drop (MagPrune), then TIES sign election",
                   .randomized = true,
                   .params = taskArithmeticParams(true, true, {dellaEpsilon()}),
                   .outputOverBase = true,
                   .kernel = kernelDella});

    all.push_back({.name = "della_linear",
                   .label = "DELLA (linear)",
                   .help = "Magnitude-ranked random drop (MagPrune), then a weighted sum",
                   .randomized = true,
                   .params = taskArithmeticParams(false, true, {dellaEpsilon()}),
                   .outputOverBase = true,
                   .kernel = kernelDellaLinear});

    all.push_back({.name = "slerp",
                   .label = "SLERP",
                   .help = "Spherical interpolation between the base and one other model",
                   .minModels = 1,
                   .maxModels = 1,
                   .params = {slerpT()},
                   .kernel = kernelSlerp});

    all.push_back(
        {.name = "nuslerp",
         .label = "NuSLERP",
         .help = "Spherical interpolation of two models (or their task vectors) by weight",
         .base = BaseRule::Optional,
         .minModels = 2,
         .maxModels = 2,
         .params = {boolParam("nuslerp_flatten", true,
                              "Interpolate the whole tensor as one vector"),
                    boolParam("nuslerp_row_wise", false,
                              "When not flattened, interpolate rows instead of columns"),
                    weightRequired()},
         .kernel = kernelNuslerp});

    all.push_back(
        {.name = "multislerp",
         .label = "Multi-SLERP",
         .help = "Weighted spherical barycentre of any number of models",
         .base = BaseRule::Optional,
         .minModels = 1,
         .params = {boolParam("normalize_weights", true, "Divide the weights by their sum"),
                    {.name = "eps",
                     .defaultValue = 1e-8,
                     .minValue = 0.0,
                     .maxValue = 1.0,
                     .help = "Added to norms to avoid division by zero"},
                    weightRequired()},
         .kernel = kernelMultislerp});

    all.push_back({.name = "karcher",
                   .label = "Karcher mean",
                   .help = "Riemannian mean of all inputs on the sphere, scaled by the mean norm",
                   .base = BaseRule::AsInput,
                   .minModels = 1,
                   .params = {{.name = "max_iter",
                               .kind = ParamKind::Integer,
                               .defaultValue = 10.0,
                               .minValue = 1.0,
                               .maxValue = 100000.0,
                               .help = "Maximum number of iterations"},
                              {.name = "tol",
                               .defaultValue = 1e-5,
                               .minValue = 0.0,
                               .maxValue = 1.0,
                               .help = "Stop when the tangent step's norm falls below this"},
                              weightIgnored()},
                   .kernel = kernelKarcher});

    all.push_back(
        {.name = "model_stock",
         .label = "Model Stock",
         .help = "Interpolates the models' mean towards the base by their task vectors' angles",
         .minModels = 2,
         .params = {boolParam("filter_wise", false, "Compute the ratio per row, not per tensor")},
         .kernel = kernelModelStock});

    all.push_back({.name = "sce",
                   .label = "SCE",
                   .help = "Selects high-variance elements, weights models by task-vector energy, "
                           "TIES sign mask",
                   .minModels = 1,
                   .params = {{.name = "select_topk",
                               .defaultValue = 1.0,
                               .minValue = 0.0,
                               .maxValue = 1.0,
                               .help = "Fraction of elements kept, by variance across models"},
                              int8Mask(),
                              weightIgnored()},
                   .kernel = kernelSce});

    all.push_back({.name = "nearswap",
                   .label = "NearSwap",
                   .help = "Takes the other model's value where it is close to the base",
                   .minModels = 1,
                   .maxModels = 1,
                   .params = {{.name = "t",
                               .required = true,
                               .defaultValue = std::nullopt,
                               .minValue = 0.0,
                               .maxValue = kHuge,
                               .help = "Similarity threshold: smaller swaps fewer elements"}},
                   .kernel = kernelNearswap});

    const ParamDecl ramEpsilon{.name = "epsilon",
                               .defaultValue = 1e-5,
                               .minValue = 0.0,
                               .maxValue = kHuge,
                               .help = "A task-vector element counts as changed above this"};

    all.push_back({.name = "ram",
                   .label = "RAM",
                   .help = "Adds unique changes, averages changes several models share",
                   .minModels = 1,
                   .params = {ramEpsilon},
                   .kernel = kernelRam});

    all.push_back({.name = "ramplus_tl",
                   .label = "RAM+ (TL)",
                   .help = "RAM with unique changes boosted by the share of overlap",
                   .minModels = 1,
                   .params = {ramEpsilon,
                              {.name = "r",
                               .defaultValue = 0.1,
                               .minValue = 0.0,
                               .maxValue = 100.0,
                               .help = "Boost strength for unique changes"},
                              {.name = "alpha",
                               .defaultValue = 0.2,
                               .minValue = 0.0,
                               .maxValue = 1.0,
                               .help = "Cap on the overlap ratio used for the boost"}},
                   .kernel = kernelRamplusTl});

    all.push_back({.name = "arcee_fusion",
                   .label = "Arcee Fusion",
                   .help = "Takes the other model's rows where they differ most from the base",
                   .minModels = 1,
                   .maxModels = 1,
                   .params = {},
                   .kernel = kernelArceeFusion});

    all.push_back({.name = "passthrough",
                   .label = "Passthrough",
                   .help = "Copies one input (optionally scaled); stacks layers with slices",
                   .base = BaseRule::AsInput,
                   .minModels = 1,
                   .maxModels = 1,
                   .params = {{.name = "scale",
                               .scope = ParamScope::PerModel,
                               .defaultValue = std::nullopt,
                               .minValue = -100.0,
                               .maxValue = 100.0,
                               .help = "Multiplies the tensor"}},
                   .kernel = kernelPassthrough});

    return all;
}

} // namespace

const ParamDecl *MethodDecl::findParam(std::string_view paramName) const
{
    for (const auto &param : params) {
        if (param.name == paramName)
            return &param;
    }
    return nullptr;
}

const std::vector<MethodDecl> &methods()
{
    static const std::vector<MethodDecl> all = buildMethods();
    return all;
}

const MethodDecl *findMethod(std::string_view name)
{
    for (const auto &method : methods()) {
        if (method.name == name)
            return &method;
    }
    return nullptr;
}

} // namespace basin::merge
