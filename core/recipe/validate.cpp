// SPDX-License-Identifier: GPL-3.0-or-later
#include "recipe/validate.h"

#include "merge/method.h"
#include "recipe/suggest.h"

#include <charconv>
#include <cmath>
#include <string>
#include <vector>

namespace basin::recipe {

namespace {

using merge::BaseRule;
using merge::MethodDecl;
using merge::ParamDecl;
using merge::ParamKind;
using merge::ParamScope;

// mergekit's int8_mask only saved memory; Basin accepts it for every method (METHODS.md) even
// where the registry does not list it.
constexpr std::string_view kInt8Mask = "int8_mask";

std::string inQuotes(std::string_view text)
{
    // Built by appending: GCC 12 warns (-Wrestrict, a false positive) on "literal" + string&&.
    std::string out(1, '"');
    out += text;
    out += '"';
    return out;
}

std::string number(double value)
{
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value); // shortest exact
    return std::string(buffer, result.ptr);
}

Error fail(const Recipe &recipe, SourceLoc loc, ErrorCode code, const std::string &message)
{
    return makeError(code, recipe.where(loc) + message);
}

std::vector<std::string_view> paramNames(const MethodDecl &method, bool perModelOnly)
{
    std::vector<std::string_view> names;
    for (const auto &param : method.params) {
        if (!perModelOnly || param.scope == ParamScope::PerModel)
            names.push_back(param.name);
    }
    if (!perModelOnly && !method.findParam(kInt8Mask))
        names.push_back(kInt8Mask);
    return names;
}

std::string kindWords(ParamKind kind)
{
    switch (kind) {
    case ParamKind::Boolean:
        return "true or false";
    case ParamKind::Integer:
        return "a whole number";
    case ParamKind::Number:
        break;
    }
    return "a number, a list of numbers (a gradient) or a filtered list";
}

Result<void> checkNumber(const Recipe &recipe, const MethodDecl &method, const ParamDecl &decl,
                         double value, SourceLoc loc)
{
    if (!std::isfinite(value) || value < decl.minValue || value > decl.maxValue) {
        return fail(recipe, loc, ErrorCode::OutOfRange,
                    std::string(method.name) + " parameter " + std::string(decl.name) + " is " +
                        number(value) + ", outside its range [" + number(decl.minValue) + ", " +
                        number(decl.maxValue) + "]");
    }
    if (decl.kind == ParamKind::Integer && std::floor(value) != value) {
        return fail(recipe, loc, ErrorCode::WrongType,
                    std::string(method.name) + " parameter " + std::string(decl.name) +
                        " must be a whole number, not " + number(value));
    }
    return {};
}

Result<void> checkValue(const Recipe &recipe, const MethodDecl &method, const ParamDecl &decl,
                        const Value &value)
{
    const std::string what = std::string(method.name) + " parameter " + std::string(decl.name);
    const auto wrongType = [&](const std::string &got) {
        return fail(recipe, value.loc, ErrorCode::WrongType,
                    what + " expects " + kindWords(decl.kind) + ", not " + got);
    };
    switch (value.kind) {
    case Value::Kind::Boolean:
        if (decl.kind != ParamKind::Boolean)
            return wrongType(value.boolean ? "true" : "false");
        return {};
    case Value::Kind::Number:
        if (decl.kind == ParamKind::Boolean)
            return wrongType("the number " + number(value.number));
        return checkNumber(recipe, method, decl, value.number, value.loc);
    case Value::Kind::Gradient:
        if (decl.kind != ParamKind::Number)
            return wrongType("a list (gradients interpolate, so only plain numbers take them)");
        if (value.anchors.empty())
            return wrongType("an empty list");
        for (std::size_t i = 0; i < value.anchors.size(); ++i) {
            const SourceLoc loc = i < value.anchorLocs.size() ? value.anchorLocs[i] : value.loc;
            BASIN_TRY(checkNumber(recipe, method, decl, value.anchors[i], loc));
        }
        return {};
    }
    return {};
}

Result<void> checkSetting(const Recipe &recipe, const MethodDecl &method, const ParamDecl &decl,
                          const Setting &setting)
{
    for (const Value *value : setting.values())
        BASIN_TRY(checkValue(recipe, method, decl, *value));
    return {};
}

// `topLevel` blocks accept every name the method declares; the others only per-model names.
Result<void> checkParameters(const Recipe &recipe, const MethodDecl &method,
                             const Parameters &parameters, bool topLevel)
{
    static const ParamDecl int8MaskDecl{.name = kInt8Mask,
                                        .kind = ParamKind::Boolean,
                                        .defaultValue = 0.0,
                                        .minValue = 0.0,
                                        .maxValue = 1.0,
                                        .help = "Accepted and ignored"};
    for (const auto &parameter : parameters) {
        const ParamDecl *decl = method.findParam(parameter.name);
        if (!decl && parameter.name == kInt8Mask)
            decl = &int8MaskDecl;
        if (!decl) {
            return fail(recipe, parameter.loc, ErrorCode::UnknownParameter,
                        std::string(method.name) + " has no parameter " + parameter.name +
                            didYouMean(parameter.name, paramNames(method, !topLevel)));
        }
        if (!topLevel && decl->scope == ParamScope::Global) {
            return fail(recipe, parameter.loc, ErrorCode::UnknownParameter,
                        inQuotes(parameter.name) + " is a global parameter of " +
                            std::string(method.name) +
                            ": set it under the top-level parameters:, not for one model or "
                            "slice");
        }
        BASIN_TRY(checkSetting(recipe, method, *decl, parameter.setting));
    }
    return {};
}

// True when a per-model parameter is set for an input in one of the places mergekit looks.
bool isSet(std::string_view name, const Parameters *own, const Parameters *slice,
           const Parameters &top)
{
    return (own && findParameter(*own, name)) || (slice && findParameter(*slice, name)) ||
           findParameter(top, name);
}

// One non-base input of the merge, for the count and required-parameter rules.
struct InputRef {
    const ModelRef *model = nullptr;
    const Parameters *own = nullptr; // null for an appended base
    const Parameters *slice = nullptr;
    SourceLoc loc;
};

Result<void> checkInputs(const Recipe &recipe, const MethodDecl &method,
                         const std::vector<InputRef> &inputs, SourceLoc where,
                         const std::string &scope)
{
    const int count = static_cast<int>(inputs.size());
    if (count < method.minModels || count > method.maxModels) {
        std::string rule;
        if (method.minModels == method.maxModels)
            rule = "exactly " + std::to_string(method.minModels);
        else if (count < method.minModels)
            rule = "at least " + std::to_string(method.minModels);
        else
            rule = "at most " + std::to_string(method.maxModels);
        const bool baseApart = method.base != BaseRule::AsInput && recipe.hasBase();
        return fail(recipe, where, ErrorCode::InvalidRecipe,
                    std::string(method.name) + " merges " + rule + " model" +
                        (rule.ends_with(" 1") ? "" : "s") + (baseApart ? " besides the base" : "") +
                        "; " + scope + " gives " + std::to_string(count));
    }
    for (const auto &input : inputs) {
        for (const auto &decl : method.params) {
            if (decl.scope != ParamScope::PerModel || !decl.required)
                continue;
            if (isSet(decl.name, input.own, input.slice, recipe.parameters))
                continue;
            if (!input.own) {
                return fail(recipe, input.loc, ErrorCode::MissingParameter,
                            "base_model " + input.model->path +
                                " is not listed under models:, "
                                "so " +
                                std::string(method.name) +
                                " merges it as one more input, which needs a " +
                                std::string(decl.name) + " (list it under models: with a " +
                                std::string(decl.name) + ", or set " + std::string(decl.name) +
                                " in the top-level parameters:)");
            }
            return fail(recipe, input.loc, ErrorCode::MissingParameter,
                        std::string(method.name) + " needs parameter " + std::string(decl.name) +
                            " for model " + input.model->path +
                            " (set it for the model, its slice or in the top-level parameters:)");
        }
    }
    return {};
}

bool isBase(const Recipe &recipe, const MethodDecl &method, const ModelRef &model)
{
    return method.base != BaseRule::AsInput && recipe.hasBase() &&
           sameModel(model, recipe.baseModel);
}

Result<void> checkModelsForm(const Recipe &recipe, const MethodDecl &method)
{
    std::vector<InputRef> inputs;
    bool baseListed = false;
    for (std::size_t i = 0; i < recipe.models.size(); ++i) {
        const auto &entry = recipe.models[i];
        if (entry.model.empty())
            return fail(recipe, entry.loc, ErrorCode::InvalidRecipe, "model entry without a model");
        for (std::size_t j = 0; j < i; ++j) {
            if (sameModel(recipe.models[j].model, entry.model)) {
                return fail(recipe, entry.model.loc, ErrorCode::InvalidRecipe,
                            "model " + entry.model.path + " is listed twice under models:");
            }
        }
        if (recipe.hasBase() && sameModel(entry.model, recipe.baseModel))
            baseListed = true;
        if (isBase(recipe, method, entry.model))
            continue;
        inputs.push_back({&entry.model, &entry.parameters, nullptr, entry.loc});
    }
    // mergekit appends an unlisted base to the models; for AsInput methods it is then an input.
    if (method.base == BaseRule::AsInput && recipe.hasBase() && !baseListed)
        inputs.push_back({&recipe.baseModel, nullptr, nullptr, recipe.baseModel.loc});
    const SourceLoc where = recipe.models.empty() ? recipe.methodLoc : recipe.models.front().loc;
    return checkInputs(recipe, method, inputs, where, "this recipe");
}

Result<void> checkSlicesForm(const Recipe &recipe, const MethodDecl &method)
{
    for (std::size_t s = 0; s < recipe.slices.size(); ++s) {
        const auto &slice = recipe.slices[s];
        const std::string name = "slice " + std::to_string(s + 1);
        if (slice.sources.empty())
            return fail(recipe, slice.loc, ErrorCode::InvalidRecipe, name + " has no sources");
        std::vector<InputRef> inputs;
        bool baseFound = false;
        for (std::size_t i = 0; i < slice.sources.size(); ++i) {
            const auto &source = slice.sources[i];
            if (source.model.empty())
                return fail(recipe, source.loc, ErrorCode::InvalidRecipe,
                            name + ": source without a model");
            if (source.layerStart < 0 || source.layerEnd <= source.layerStart) {
                return fail(recipe, source.rangeLoc, ErrorCode::OutOfRange,
                            name + ": layer_range [" + std::to_string(source.layerStart) + ", " +
                                std::to_string(source.layerEnd) +
                                "] is empty or negative (ranges are [start, end), start < end)");
            }
            if (source.layerCount() != slice.sources.front().layerCount()) {
                return fail(recipe, source.rangeLoc, ErrorCode::InvalidRecipe,
                            name + ": every source of a slice needs the same number of layers (" +
                                std::to_string(slice.sources.front().layerCount()) + ", not " +
                                std::to_string(source.layerCount()) + ")");
            }
            for (std::size_t j = 0; j < i; ++j) {
                if (sameModel(slice.sources[j].model, source.model)) {
                    return fail(recipe, source.model.loc, ErrorCode::InvalidRecipe,
                                name + ": model " + source.model.path + " is a source twice");
                }
            }
            if (isBase(recipe, method, source.model)) {
                baseFound = true;
                continue;
            }
            inputs.push_back({&source.model, &source.parameters, &slice.parameters, source.loc});
        }
        // With slices nothing is appended: the base must be one of each slice's sources.
        if (method.base != BaseRule::AsInput && recipe.hasBase() && !baseFound) {
            return fail(recipe, slice.loc, ErrorCode::MissingBase,
                        name + " has no source from base_model " + recipe.baseModel.path + "; " +
                            std::string(method.name) +
                            " reads the base's layers, so list it among the sources");
        }
        BASIN_TRY(checkInputs(recipe, method, inputs, slice.loc, name));
    }
    return {};
}

} // namespace

Result<void> validateRecipe(const Recipe &recipe)
{
    if (recipe.mergeMethod.empty())
        return fail(recipe, {}, ErrorCode::InvalidRecipe, "the recipe has no merge_method");
    const MethodDecl *method = merge::findMethod(recipe.mergeMethod);
    if (!method) {
        std::vector<std::string_view> names;
        for (const auto &known : merge::methods())
            names.push_back(known.name);
        return fail(recipe, recipe.methodLoc, ErrorCode::UnknownMethod,
                    "unknown merge_method " + inQuotes(recipe.mergeMethod) +
                        didYouMean(recipe.mergeMethod, names));
    }
    if (recipe.models.empty() == recipe.slices.empty()) {
        return fail(recipe, recipe.methodLoc, ErrorCode::InvalidRecipe,
                    recipe.models.empty() ? "the recipe lists neither models: nor slices:"
                                          : "the recipe lists both models: and slices:; use one");
    }
    // Every parameter block first, in the usual document order (models or slices, then the
    // top level), so a misspelt name is reported before the rules it may have broken.
    for (const auto &entry : recipe.models)
        BASIN_TRY(checkParameters(recipe, *method, entry.parameters, false));
    for (const auto &slice : recipe.slices) {
        for (const auto &source : slice.sources)
            BASIN_TRY(checkParameters(recipe, *method, source.parameters, false));
        BASIN_TRY(checkParameters(recipe, *method, slice.parameters, false));
    }
    BASIN_TRY(checkParameters(recipe, *method, recipe.parameters, true));

    if (method->base == BaseRule::Required && !recipe.hasBase()) {
        return fail(recipe, recipe.methodLoc, ErrorCode::MissingBase,
                    std::string(method->name) + " needs a base_model");
    }
    for (const auto &decl : method->params) {
        if (decl.scope == ParamScope::Global && decl.required &&
            !findParameter(recipe.parameters, decl.name)) {
            return fail(recipe,
                        recipe.parametersLoc.known() ? recipe.parametersLoc : recipe.methodLoc,
                        ErrorCode::MissingParameter,
                        std::string(method->name) + " needs parameter " + std::string(decl.name) +
                            " in the top-level parameters:");
        }
    }
    if (recipe.usesSlices())
        BASIN_TRY(checkSlicesForm(recipe, *method));
    else
        BASIN_TRY(checkModelsForm(recipe, *method));

    if (recipe.tokenizer.kind == TokenizerSource::Kind::Base && !recipe.hasBase()) {
        return fail(recipe, recipe.tokenizer.loc, ErrorCode::MissingBase,
                    "the tokenizer source is base, but the recipe has no base_model");
    }
    if (recipe.tokenizer.kind == TokenizerSource::Kind::Model && recipe.tokenizer.model.empty())
        return fail(recipe, recipe.tokenizer.loc, ErrorCode::InvalidRecipe,
                    "tokenizer source names no model");
    return {};
}

} // namespace basin::recipe
