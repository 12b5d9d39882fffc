// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysissnapshot.h"
#include "analysis/preview.h"
#include "common/result.h"
#include "recipe/recipe.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace basin::analysis {

// What a curve varies (ANALYSIS.md, "Interpolation curves").
enum class CurveVariable {
    Alpha,   // interpolation between two models, lerp and slerp side by side
    Lambda,  // the recipe's lambda (task-arithmetic family)
    Weight,  // one model's weight in the recipe
    Density, // trimming density of every fine-tune (ties / dare proxies)
};

// "alpha", "lambda", "weight", "density".
std::string_view curveVariableName(CurveVariable variable);
// Parses the names above (and "t" for alpha); nothing otherwise.
std::optional<CurveVariable> parseCurveVariable(std::string_view name);
// The usual range of a variable: α 0–1, λ 0–2, weight 0–1, density 0.05–1.
std::pair<double, double> defaultCurveRange(CurveVariable variable);

struct CurveRequest {
    CurveVariable variable = CurveVariable::Alpha;
    int modelA = 0; // Alpha: snapshot model indices (0 = base) of the two ends
    int modelB = 1;
    int model = 1; // Weight: snapshot model index whose weight varies
    double from = 0.0;
    double to = 1.0;
    int steps = 21;    // ≥ 2; the first and last x are exactly from and to
    std::string scope; // "" = global, else a group label ("L3", "embed", …)
};

// One curve: y per x; NaN where undefined.
struct CurveSeries {
    std::string key;   // machine name, CSV column: "lerp_dist_a", "retention_ft1", …
    std::string label; // legend text
    std::vector<double> y;
};

struct CurveSet {
    CurveVariable variable = CurveVariable::Alpha;
    std::string xTitle; // "α", "λ", "weight of ft1", "density"
    std::string yTitle; // "weight-space proxy vs α" — a proxy, never a loss
    std::string scope;  // "global" or the group label
    std::vector<double> x;
    std::vector<CurveSeries> series;
    std::optional<double> current; // the recipe's current value of the variable, if any
    bool exact = true;             // false: some values are sample estimates ("≈")
    std::uint64_t sampleSize = 0;
    std::vector<std::string> warnings;

    const CurveSeries *find(std::string_view key) const;
};

// Computes the curves of `request` on `snapshot`. Alpha needs no recipe (recipe may be null;
// when the recipe is a slerp between the two chosen models its t is marked); Lambda and
// Weight re-preview the recipe (computePreview) at each x; Density reads the sample cache.
// Endpoints are exact: α = 0 / 1 are the parents themselves. Errors: InvalidArgument for a
// bad range, step count, model index, scope, a missing recipe, a method without that
// parameter (lambda for linear), a model the recipe does not list; computePreview's errors.
Result<CurveSet> computeCurves(const AnalysisSnapshot &snapshot, const recipe::Recipe *recipe,
                               const CurveRequest &request);

// CSV text: a header "x,<key>,…" then one row per x (values in shortest round-trip form,
// empty for NaN).
std::string curvesCsv(const CurveSet &curves);

} // namespace basin::analysis
