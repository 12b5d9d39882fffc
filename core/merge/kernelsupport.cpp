// SPDX-License-Identifier: GPL-3.0-or-later
#include "merge/kernelsupport.h"

#include <charconv>

namespace basin::merge {

Error kernelError(ErrorCode code, std::string_view method, const TensorJob &job,
                  const ModelInput *model, std::string_view rule)
{
    std::string message;
    message.append(method).append(": ").append(rule).append(" (tensor ");
    message.append(job.tensorName);
    if (model != nullptr)
        message.append(", model ").append(model->label);
    message.append(")");
    return makeError(code, std::move(message));
}

std::string formatValue(double value)
{
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, result.ptr);
}

Result<void> checkJob(std::string_view method, const TensorJob &job, std::span<float> out,
                      BaseRule base, int minModels, int maxModels)
{
    if (out.size() != job.numel) {
        return kernelError(ErrorCode::InvalidArgument, method, job, nullptr,
                           "output holds " + std::to_string(out.size()) + " values, the tensor " +
                               std::to_string(job.numel));
    }
    if (base == BaseRule::Required && job.base == nullptr && job.numel > 0)
        return kernelError(ErrorCode::MissingBase, method, job, nullptr, "needs a base model");
    const auto count = static_cast<int>(job.models.size());
    if (count < minModels || count > maxModels) {
        std::string rule = "needs ";
        if (minModels == maxModels)
            rule += "exactly " + std::to_string(minModels);
        else if (maxModels >= (1 << 20))
            rule += "at least " + std::to_string(minModels);
        else
            rule += std::to_string(minModels) + " to " + std::to_string(maxModels);
        rule += base == BaseRule::AsInput ? " input" : " model";
        rule += minModels == 1 && maxModels == 1 ? "" : "s";
        if (base == BaseRule::Required)
            rule += " besides the base";
        rule += ", got " + std::to_string(count);
        return kernelError(ErrorCode::InvalidArgument, method, job, nullptr, rule);
    }
    for (const auto &model : job.models) {
        if (model.data == nullptr && job.numel > 0) {
            return kernelError(ErrorCode::InvalidArgument, method, job, &model,
                               "the model's tensor data is missing");
        }
    }
    return {};
}

namespace {

// The registry's default, so a caller that did not fill defaults in still gets them.
std::optional<double> declaredDefault(std::string_view method, std::string_view name)
{
    if (const MethodDecl *decl = findMethod(method)) {
        if (const ParamDecl *param = decl->findParam(name))
            return param->defaultValue;
    }
    return std::nullopt;
}

} // namespace

Result<double> modelParam(std::string_view method, const TensorJob &job, const ModelInput &model,
                          std::string_view name)
{
    if (const auto value = model.params.get(name))
        return *value;
    if (const auto fallback = declaredDefault(method, name))
        return *fallback;
    return kernelError(ErrorCode::MissingParameter, method, job, &model,
                       "parameter '" + std::string(name) + "' is not set");
}

Result<double> globalParam(std::string_view method, const TensorJob &job, std::string_view name)
{
    if (const auto value = job.global.get(name))
        return *value;
    if (const auto fallback = declaredDefault(method, name))
        return *fallback;
    return kernelError(ErrorCode::MissingParameter, method, job, nullptr,
                       "parameter '" + std::string(name) + "' is not set");
}

} // namespace basin::merge
