// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "merge/method.h"
#include "recipe/recipe.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace basin::ui {

// Which tensors a per-layer curve applies to. Attention and MLP curves are saved as
// mergekit filter rules (`- filter: self_attn`, `- filter: mlp`); All is the catch-all value.
enum class LayerScope { All, Attention, Mlp };

// The filter substring of a scope; empty for All.
std::string_view scopeFilter(LayerScope scope);

// A tensor name of layer `layer` that the scope's rule (and only it) matches, used to read
// a setting back per layer: self_attn / mlp projections, and a layer norm for All.
std::string scopeTensorName(LayerScope scope, int layer);

// Pure edits on a Recipe. The GUI builds the edited copy with these and pushes it as one
// undo command, so the rules for how a form value becomes YAML live in one place.
namespace recipeedits {

// Switches the method. Parameters the new method does not declare are dropped (Basin
// rejects unknown names, mergekit would ignore them), and required parameters without a
// value get a starting value: the declared default, else 1 for weights and 0.5 otherwise,
// clamped into the declared range.
void setMethod(recipe::Recipe &recipe, std::string_view method);

// A plain number for one parameter (replacing any gradient or filter list).
void setNumber(recipe::Parameters &parameters, std::string_view name, double value);

// Removes a parameter so its default applies; no-op when absent.
void removeParameter(recipe::Parameters &parameters, std::string_view name);

// The value of `name` for each of `layers` layers of the scope, as the merge would read it
// for model row `row` (own parameters, then top level), or `fallback` where nothing applies.
std::vector<double> layerValues(const recipe::Recipe &recipe, int row, std::string_view name,
                                LayerScope scope, int layers, double fallback);

// Sets one value per layer (a gradient list of exactly `values.size()` anchors, which the
// gradient rule maps one to one onto the layers) for model row `row` and the scope. Setting
// a scope other than All turns a plain value into a filter list whose catch-all keeps the
// previous value; an existing list has its rule for the scope replaced (or added first).
// `fallback` is the parameter's default, used for the catch-all when nothing set it before.
// Does nothing when the row does not exist.
void setLayerValues(recipe::Recipe &recipe, int row, std::string_view name, LayerScope scope,
                    const std::vector<double> &values, double fallback);

// Replaces the recipe's models with the given base and fine-tunes (absolute paths),
// keeping the parameters of fine-tunes that stay. `models:` form only.
void setModels(recipe::Recipe &recipe, const std::string &base,
               const std::vector<std::string> &fineTunes);

// A plain number when the setting is one; nothing for gradients and filter lists.
std::optional<double> plainNumber(const recipe::Parameter *parameter);

// Starting value for a parameter without one (see setMethod).
double startingValue(const merge::ParamDecl &decl);

} // namespace recipeedits
} // namespace basin::ui
