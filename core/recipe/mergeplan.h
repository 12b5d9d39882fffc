// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"
#include "merge/method.h"
#include "recipe/recipe.h"

#include <optional>
#include <string>
#include <vector>

namespace basin::recipe {

// What the planner needs to know about the models, without touching the disk.
struct PlanInputs {
    // The tensor names of every model of recipe.referencedModels(), same order, each list in
    // the model's file order.
    std::vector<std::vector<std::string>> tensorNames;
    // num_hidden_layers of the base (else of the first model), from its config.json; < 0 when
    // unknown: the planner then counts the layers in the tensor names.
    int layerCount = -1;
};

// One tensor read for an output tensor.
struct PlannedInput {
    int model = -1;            // index into MergePlan::models
    std::string tensorName;    // the input tensor's name (differs from the output's under slices)
    merge::ParamValues params; // per-model parameters, resolved; empty for the base
};

// One output tensor and everything needed to compute it.
struct PlannedTensor {
    std::string name;         // output tensor name
    std::optional<int> layer; // output layer index; none for embeddings, final norm, lm_head
    double t = 0.0;           // interpolation position gradients were evaluated at
    // The base tensor, for methods that treat the base apart (BaseRule Required, or Optional
    // with a base): passed to the kernel as TensorJob::base.
    std::optional<PlannedInput> base;
    // The other inputs, in recipe order (TensorJob::models).
    std::vector<PlannedInput> inputs;
    merge::ParamValues global; // global parameters, resolved, defaults filled in
    // True when the method takes the base as an ordinary input (linear, karcher, passthrough)
    // and the base is one of `inputs`.
    bool baseIsInput = false;
};

struct MergePlan {
    std::vector<ModelRef> models;       // recipe.referencedModels()
    int baseIndex = -1;                 // the base in `models`, or -1
    std::vector<PlannedTensor> tensors; // in output order
    int outputLayerCount = 0;           // num_hidden_layers of the output's config.json
    std::vector<std::string> warnings;  // e.g. tensors some model has that the output lacks
};

// Plans a merge (docs/RECIPES.md, "The merge plan"): validates the recipe, then lists the
// output tensors in order with their inputs and resolved parameters. Pure: no file I/O.
// With `models:` the output follows the base's tensor order (else the first model's); with
// `slices:` it is the first slice's embeddings, then each slice's layers renumbered
// consecutively, then the last slice's other non-layer tensors (final norm, lm_head).
// Errors: any validateRecipe() error; InvalidArgument when `inputs` does not match the
// recipe's models, a model lacks a tensor the output needs, or a layer_range goes past a
// model's layers; MissingParameter when a required parameter has no value for some tensor.
Result<MergePlan> planMerge(const Recipe &recipe, const PlanInputs &inputs);

} // namespace basin::recipe
