// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysissnapshot.h"
#include "analysis/curves.h"
#include "common/result.h"
#include "recipe/recipe.h"

namespace basin::analysis {

// The recipe a curve's point x stands for, for real evaluations (an evaluator runs on the
// merge of this recipe). Alpha: slerp's t when `recipe` is a slerp between the request's two
// models, else a linear recipe (no normalize) of weights 1 − α and α on the two models
// (lerp); Lambda: the top-level lambda; Weight: the model's weight; Density: every model's
// density. Model paths come from the snapshot. Errors: InvalidArgument as computeCurves
// reports them (no recipe for lambda / weight / density, a model the recipe does not list).
Result<recipe::Recipe> recipeAt(const AnalysisSnapshot &snapshot, const recipe::Recipe *recipe,
                                const CurveRequest &request, double x);

} // namespace basin::analysis
