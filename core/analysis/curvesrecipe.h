// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysissnapshot.h"
#include "analysis/curves.h"
#include "common/result.h"
#include "recipe/recipe.h"

#include <optional>

namespace basin::analysis {

// How a curve varies one model's weight (CurveVariable::Weight). Only that model's weight
// changes; every other model keeps its per-tensor weights (gradients, filters, slices).
// When the model's weight is one plain number for every tensor, x is that weight; otherwise
// (a gradient, filters, different values per slice, a setting inherited from the top level)
// x scales the model's per-tensor weights, so x = 1 is the recipe itself and the per-layer
// shape is kept.
struct WeightAxis {
    bool scaled = false;           // x multiplies the per-tensor weights
    std::optional<double> current; // the recipe's value of x: the plain weight, or 1 when scaled
};

// The weight axis of snapshot model `model` in `recipe`. InvalidArgument when the recipe does
// not list that model (under models: or as a slice source).
Result<WeightAxis> weightAxis(const AnalysisSnapshot &snapshot, const recipe::Recipe &recipe,
                              int model);

// `recipe` with snapshot model `model`'s weight at x, as weightAxis() defines x: the plain
// weight set to x, or the model's own weight replaced by a filtered list equal, tensor by
// tensor, to x times the weight it resolved to (its own rules, then the slice's and the top
// level's, then the method's default). InvalidArgument as weightAxis().
Result<recipe::Recipe> withModelWeight(const AnalysisSnapshot &snapshot,
                                       const recipe::Recipe &recipe, int model, double x);

// The recipe a curve's point x stands for, for real evaluations (an evaluator runs on the
// merge of this recipe). Alpha: slerp's t when `recipe` is a slerp between the request's two
// models, else a linear recipe (no normalize) of weights 1 − α and α on the two models
// (lerp); Lambda: the top-level lambda; Weight: the model's weight; Density: every model's
// density. Model paths come from the snapshot. Errors: InvalidArgument as computeCurves
// reports them (no recipe for lambda / weight / density, a model the recipe does not list).
Result<recipe::Recipe> recipeAt(const AnalysisSnapshot &snapshot, const recipe::Recipe *recipe,
                                const CurveRequest &request, double x);

} // namespace basin::analysis
