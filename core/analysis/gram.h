// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/statsblock.h"

#include <Eigen/Dense>

#include <optional>
#include <vector>

namespace basin::analysis {

// The Gram cache of one tensor or group: G_ij = ⟨τ_i, τ_j⟩, b_i = ⟨B, τ_i⟩, w = ‖B‖² (f64).
// Every linear merge τ_m = Σ λ_t τ_t is measured exactly from it, without touching the
// tensors again. Fine-tune indices are 0-based. A fine-tune absent from some tensors
// contributes zeros there (it is left out of that tensor's merge).
struct Gram {
    Eigen::MatrixXd g; // T×T
    Eigen::VectorXd b; // T
    double w = 0.0;

    // Reads G, b and w out of a block's accumulators.
    static Gram fromStats(const StatsBlock &stats);
    int fineTunes() const { return static_cast<int>(b.size()); }

    // ‖τ_m‖² = λᵀGλ. lambda.size() must equal fineTunes().
    double mergedNormSq(const Eigen::VectorXd &lambda) const;
    // ‖τ_m‖ / ‖B‖; nothing when ‖B‖ = 0.
    std::optional<double> relativePerturbation(const Eigen::VectorXd &lambda) const;
    // cos(τ_m, τ_t) = (Gλ)_t / √(λᵀGλ · G_tt); nothing when a norm is 0.
    std::optional<double> mergedCosine(const Eigen::VectorXd &lambda, int t) const;
    // Retention r_t = (Gλ)_t / G_tt: 1 = task t fully present along its own direction.
    std::optional<double> retention(const Eigen::VectorXd &lambda, int t) const;
    // ‖τ_m − τ_t‖² = λᵀGλ − 2(Gλ)_t + G_tt (clamped at 0 against rounding).
    double distanceSqToParent(const Eigen::VectorXd &lambda, int t) const;

    // Raw weights X_0 = B, X_t = B + τ_t (t = 1..T here): ⟨X_a, X_b⟩ = w + b_a + b_b + G_ab.
    double rawDot(int a, int b) const;
    // cos(X_a, X_b); nothing when a norm is 0.
    std::optional<double> rawCosine(int a, int b) const;
};

// What slerp(B, X_t) would do with this tensor (METHODS.md): the cosine of the normalised
// inputs (each normalised only when its norm exceeds 1e-8), the angle θ = acos(cos) in
// radians, and whether |cos| > 0.9995 sends slerp to its lerp branch.
struct SlerpInfo {
    double cosine = 1.0;
    double angle = 0.0;
    bool lerpFallback = true;
};
// Fine-tune t is 0-based (X_{t+1}).
SlerpInfo slerpInfo(const Gram &gram, int t);

// Model Stock (METHODS.md): cosθ = mean over fine-tune pairs of the clamped cosine of their
// offsets (denominator at least 1e-6) and t = N·cosθ / (1 + (N−1)·cosθ). Only the present
// fine-tunes count (present[t] true); nothing with fewer than two.
struct ModelStockInfo {
    double cosine = 0.0;
    double t = 0.0;
    int n = 0;
};
std::optional<ModelStockInfo> modelStockInfo(const Gram &gram, const std::vector<bool> &present);

} // namespace basin::analysis
