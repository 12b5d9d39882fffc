// SPDX-License-Identifier: GPL-3.0-or-later
#include "recipe/resolve.h"

#include <string>

namespace basin::recipe {

namespace {

using merge::ParamScope;

std::optional<double> fromBlock(const Parameters *block, std::string_view name,
                                std::string_view tensorName, double t)
{
    if (!block)
        return std::nullopt;
    const Parameter *parameter = findParameter(*block, name);
    if (!parameter)
        return std::nullopt;
    return parameter->setting.evaluate(tensorName, t);
}

Result<merge::ParamValues> resolveScope(const merge::MethodDecl &method, ParamScope scope,
                                        const ParameterScopes &scopes, std::string_view tensor,
                                        double t, std::string_view modelLabel)
{
    merge::ParamValues values;
    for (const auto &decl : method.params) {
        if (decl.scope != scope)
            continue;
        std::optional<double> value = lookupParameter(decl.name, scopes, tensor, t);
        if (!value)
            value = decl.defaultValue;
        if (value) {
            values.set(decl.name, *value);
            continue;
        }
        if (!decl.required)
            continue;
        std::string message = std::string(method.name) + ": no value of " + std::string(decl.name) +
                              " applies to tensor " + std::string(tensor);
        if (!modelLabel.empty())
            message += " of model " + std::string(modelLabel);
        message += " (no filter matches it and nothing is set without a filter)";
        return makeError(ErrorCode::MissingParameter, std::move(message));
    }
    return values;
}

} // namespace

std::optional<double> lookupParameter(std::string_view name, const ParameterScopes &scopes,
                                      std::string_view tensorName, double t)
{
    for (const Parameters *block : {scopes.own, scopes.slice, scopes.top}) {
        if (auto value = fromBlock(block, name, tensorName, t))
            return value;
    }
    return std::nullopt;
}

Result<merge::ParamValues> resolveModelParameters(const merge::MethodDecl &method,
                                                  const ParameterScopes &scopes,
                                                  std::string_view inputTensor, double t,
                                                  std::string_view modelLabel)
{
    return resolveScope(method, ParamScope::PerModel, scopes, inputTensor, t, modelLabel);
}

Result<merge::ParamValues> resolveGlobalParameters(const merge::MethodDecl &method,
                                                   const Parameters &top,
                                                   std::string_view outputTensor, double t)
{
    return resolveScope(method, ParamScope::Global, ParameterScopes{nullptr, nullptr, &top},
                        outputTensor, t, {});
}

} // namespace basin::recipe
