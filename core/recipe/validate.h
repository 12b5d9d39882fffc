// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"
#include "recipe/recipe.h"

namespace basin::recipe {

// Checks a recipe against the method registry (core/merge/method.h): the method exists;
// every parameter is one the method declares, in the right place (per-model names may sit
// under a model, a slice or the top level; global names only at the top level), of the right
// kind and inside its range; required parameters are present for every input; the base rule
// and the model-count rule of the method hold; slice ranges are sane.
// Returns the first problem found as an Error whose message starts with the YAML position
// ("file:line:column: ") and whose code is UnknownMethod, UnknownParameter, MissingParameter,
// WrongType, OutOfRange, MissingBase or InvalidRecipe.
Result<void> validateRecipe(const Recipe &recipe);

} // namespace basin::recipe
