// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"
#include "merge/method.h"
#include "recipe/setting.h"

#include <optional>
#include <string_view>

namespace basin::recipe {

// The parameter blocks a per-model lookup visits, most specific first (mergekit's order):
// the model's own (or its slice source's), its slice's, the top level. Any may be null.
struct ParameterScopes {
    const Parameters *own = nullptr;
    const Parameters *slice = nullptr;
    const Parameters *top = nullptr;
};

// The value of `name` for one tensor at interpolation position t: the first block holding the
// name whose setting matches the tensor (a filtered list with no matching rule falls through
// to the next block). Returns nothing when no block gives a value.
std::optional<double> lookupParameter(std::string_view name, const ParameterScopes &scopes,
                                      std::string_view tensorName, double t);

// Every per-model parameter `method` declares, for one input tensor (filters match the input
// tensor's name), defaults filled in from the registry; optional parameters without a default
// are left out. Fails with MissingParameter (naming the parameter, model and tensor) when a
// required one has no value for this tensor.
Result<merge::ParamValues> resolveModelParameters(const merge::MethodDecl &method,
                                                  const ParameterScopes &scopes,
                                                  std::string_view inputTensor, double t,
                                                  std::string_view modelLabel);

// Every global parameter `method` declares, read from the top level only (filters match the
// output tensor's name), defaults filled in. Fails with MissingParameter like the above.
Result<merge::ParamValues> resolveGlobalParameters(const merge::MethodDecl &method,
                                                   const Parameters &top,
                                                   std::string_view outputTensor, double t);

} // namespace basin::recipe
