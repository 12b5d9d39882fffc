// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace basin::merge {

// ---- Parameter declarations: the single description of every method ---------------------
// The YAML validator, the CLI and the GUI's generated forms all read these; no method is
// described anywhere else.

enum class ParamKind { Number, Boolean, Integer };
enum class ParamScope { Global, PerModel };

struct ParamDecl {
    std::string_view name;
    ParamKind kind = ParamKind::Number;
    ParamScope scope = ParamScope::Global;
    bool required = false;
    std::optional<double> defaultValue; // booleans as 0/1; absent when required/optional
    double minValue = -1e30;            // inclusive bounds for validation and sliders
    double maxValue = 1e30;
    std::string_view help; // one line
};

// How a method treats `base_model`.
enum class BaseRule {
    AsInput,  // linear, karcher, passthrough: a base is just one more input
    Optional, // nuslerp, multislerp: with a base, task vectors are used
    Required, // task-arithmetic family, slerp, model_stock, sce, nearswap, ram, arcee_fusion
};

// ---- Kernel interface --------------------------------------------------------------------

// Resolved parameter values for one tensor (booleans as 0/1).
class ParamValues {
public:
    void set(std::string_view name, double value);
    bool has(std::string_view name) const;
    std::optional<double> get(std::string_view name) const;
    double get(std::string_view name, double fallback) const;
    const std::vector<std::pair<std::string, double>> &items() const { return m_items; }

private:
    std::vector<std::pair<std::string, double>> m_items;
};

struct ModelInput {
    const float *data = nullptr; // numel values, same shape as the output
    ParamValues params;          // per-model parameters (weight, density, …), resolved
    int modelIndex = 0;          // stable index in the recipe, keys the RNG
    std::string label;           // for messages
};

// Everything one kernel call sees. Shapes are already reconciled by the caller
// (embeddings cropped, mismatched models dropped with a note).
struct TensorJob {
    std::string_view tensorName;
    std::span<const std::uint64_t> shape;
    std::uint64_t numel = 0;
    const float *base = nullptr;    // null when the method's BaseRule is AsInput or no base
    std::vector<ModelInput> models; // non-base inputs, recipe order
    ParamValues global;             // global parameters, resolved (defaults filled in)
    std::uint64_t seed = 0;
};

// What the user should know about one tensor.
struct TensorNotes {
    bool slerpFellBack = false;
    std::vector<std::string> warnings;
};

// Writes numel values to out. Errors name the tensor (and model) and the rule, e.g.
// "ties: density 0.001 keeps no element of model.layers.0.mlp.up_proj.weight (ft2)".
using KernelFn = Result<void> (*)(const TensorJob &job, std::span<float> out, TensorNotes &notes);

struct MethodDecl {
    std::string_view name;  // mergekit's merge_method
    std::string_view label; // for the GUI
    std::string_view help;  // one line
    BaseRule base = BaseRule::Required;
    int minModels = 1; // non-base inputs after the BaseRule is applied
    int maxModels = 1 << 20;
    bool randomized = false; // uses the seed (dare, della)
    std::vector<ParamDecl> params;
    // The kernel reads base[i] only before it writes out[i] (rules first, then element
    // blocks), so the caller may pass the base's own buffer as out and save a tensor of
    // memory: the engine does for whole-tensor merges.
    bool outputOverBase = false;
    KernelFn kernel = nullptr;

    const ParamDecl *findParam(std::string_view name) const;
};

// All methods, in the order the GUI lists them.
const std::vector<MethodDecl> &methods();
const MethodDecl *findMethod(std::string_view name);

} // namespace basin::merge
