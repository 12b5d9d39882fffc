// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysissnapshot.h"
#include "common/result.h"
#include "recipe/recipe.h"

#include <Eigen/Dense>

#include <cstdint>
#include <string>
#include <vector>

namespace basin::analysis {

// The Gram matrix of one tensor over the basis [B, τ_1 … τ_T]: K_00 = w, K_0t = b_t,
// K_st = G_st. Every affine merge (linear, task arithmetic, slerp, Model Stock) is a
// coefficient vector c over this basis, so its norms and dots are quadratic forms in K.
Eigen::MatrixXd basisGram(const Gram &gram);

// What a preview knows about the merged delta τ_m = merged − B of one tensor (or the sum over
// a group of tensors): its squared norm and its dots with the basis [B, τ_1 … τ_T], next to
// the basis Gram itself. Moments of disjoint tensors add.
struct MergedMoments {
    double normSq = 0.0;   // ‖τ_m‖²
    Eigen::VectorXd dot;   // T+1: ⟨τ_m, B⟩, ⟨τ_m, τ_t⟩
    Eigen::MatrixXd basis; // (T+1)²: basisGram, summed

    explicit MergedMoments(int fineTunes = 0);
    // Exact moments of τ_m = Σ_k c_k·basis_k.
    static MergedMoments affine(const Eigen::MatrixXd &basis, const Eigen::VectorXd &coefficients);
    void add(const MergedMoments &other);
    // The moments of s·τ_m (λ rescaling of the task-arithmetic family is exactly this).
    MergedMoments scaled(double s) const;
};

// The preview figures of one row (a layer group, or global). NaN marks a figure that is
// undefined (a zero norm in a denominator).
struct PreviewRow {
    std::string label;                 // "L3", "embed", …, "global"
    double mergedNorm = 0.0;           // ‖τ_m‖
    double relativePerturbation = 0.0; // ‖τ_m‖ / ‖B‖
    std::vector<double> retention;     // per fine-tune: ⟨τ_m, τ_t⟩ / ‖τ_t‖²
    std::vector<double> cosine;        // per fine-tune: cos(τ_m, τ_t)
    std::vector<double> distance; // per fine-tune: ‖τ_m − τ_t‖ (= ‖merged − X_t‖)
    double distanceToBase = 0.0;  // ‖merged − B‖ = ‖τ_m‖
};

// Figures of one row from its moments.
PreviewRow previewRow(const std::string &label, const MergedMoments &moments);

struct PreviewOptions {
    // Overrides the recipe's seed for the random methods (dare, della) when set.
    std::optional<std::uint64_t> seed;
};

// The weight-space preview of a recipe on an analysis snapshot (docs/PREVIEW.md).
struct Preview {
    std::string method;
    // True when every number is exact (from the Gram cache); false when some tensor was
    // merged on its sample cache (the numbers are then estimates, shown with "≈").
    bool exact = true;
    std::uint64_t sampleSize = 0;         // largest per-tensor sample used (0 when exact)
    std::uint64_t sampledCoordinates = 0; // coordinates merged on samples, all tensors
    int slerpFallbacks = 0;               // tensors whose slerp takes the lerp branch
    std::vector<std::string> fineTunes;   // labels, snapshot order
    std::vector<MergedMoments> tensors;   // per snapshot tensor (zero moments when not merged)
    std::vector<PreviewRow> groups;       // snapshot.groups order
    PreviewRow global;
    std::vector<std::string> warnings;

    // "" when exact, else "≈ (sample ≤ S per tensor)".
    std::string marker() const;
};

// Previews `recipe` on `snapshot` without touching tensor data. The recipe's models are
// matched to the snapshot's models by path (models of the snapshot the recipe does not use
// get weight 0). Linear-family recipes (linear; task_arithmetic, dare_linear and breadcrumbs
// with every density ≥ 1), slerp and Model Stock (flattened) are exact quadratic forms of
// the Gram cache; every other method runs its real kernel on each tensor's sample cache and
// scales the sampled moments to the tensor with the ratio of the exact and sampled ‖τ‖².
// Errors: Unsupported (slices that move or stack layers, or a sampled method on a snapshot without
// a sample cache), InvalidArgument (a recipe model that is not in the snapshot, weights summing to
// 0 under normalize), the planner's errors (missing parameters), the kernel's (e.g. a density that
// keeps no sampled element), each naming the tensor and rule.
Result<Preview> computePreview(const AnalysisSnapshot &snapshot, const recipe::Recipe &recipe,
                               const PreviewOptions &options = {});

// Index of a recipe model in the snapshot's models (0 = base), or -1: same canonical path,
// else the same file name when either path is relative and unresolved.
int snapshotModelIndex(const AnalysisSnapshot &snapshot, const recipe::ModelRef &model);

} // namespace basin::analysis
