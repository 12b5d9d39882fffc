// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <memory>
#include <optional>
#include <vector>

namespace basin::analysis {
struct AnalysisSnapshot;
}

namespace basin::ui::layerpresets {

// One value per layer for `layers` layers; t = i/(L−1) (1 when L = 1).
std::vector<double> flat(int layers, double value);
// low at the first layer to high at the last, linearly.
std::vector<double> ramp(int layers, double low, double high);
// low at both ends, high in the middle: low + (high − low)·sin(π·t).
std::vector<double> bell(int layers, double low, double high);
// LiNeS (layer-increasing network scaling): shallow layers keep little of the task vector,
// deep ones all of it: value·(alpha + (1 − alpha)·t).
std::vector<double> lines(int layers, double value, double alpha = 0.2);
// Model Stock's interpolation ratio t = k·cos/(1 + (k − 1)·cos) per layer, from the
// analysis snapshot's per-layer figures; nothing when the snapshot lacks a layer.
std::optional<std::vector<double>> modelStock(const analysis::AnalysisSnapshot &snapshot,
                                              int layers);

} // namespace basin::ui::layerpresets
