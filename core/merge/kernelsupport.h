// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Checks and messages every kernel shares, so each rule is worded once and every error
// names the method, the tensor, the model and the rule.

#include "merge/method.h"

#include <string>
#include <string_view>

namespace basin::merge {

// "<method>: <rule> (tensor <name>[, model <label>])". model may be null.
Error kernelError(ErrorCode code, std::string_view method, const TensorJob &job,
                  const ModelInput *model, std::string_view rule);

// Shortest round-trip decimal of a parameter value, for messages.
std::string formatValue(double value);

// Checks what every kernel relies on: out and every input hold job.numel values, a base is
// present when base is Required, and the number of models is in [minModels, maxModels].
// Returns InvalidArgument (MissingBase for a missing base) naming the rule otherwise.
Result<void> checkJob(std::string_view method, const TensorJob &job, std::span<float> out,
                      BaseRule base, int minModels, int maxModels);

// The model's resolved per-model parameter, else the registry's default; MissingParameter
// when it has neither.
Result<double> modelParam(std::string_view method, const TensorJob &job, const ModelInput &model,
                          std::string_view name);

// The resolved global parameter, else the registry's default; MissingParameter when it has
// neither.
Result<double> globalParam(std::string_view method, const TensorJob &job, std::string_view name);

} // namespace basin::merge
