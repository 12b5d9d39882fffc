// SPDX-License-Identifier: GPL-3.0-or-later
#include "recipe/layerpresets.h"

#include "analysis/analysissnapshot.h"
#include "recipe/setting.h"

#include <cmath>
#include <numbers>

namespace basin::ui::layerpresets {

std::vector<double> flat(int layers, double value)
{
    return std::vector<double>(std::max(layers, 0), value);
}

std::vector<double> ramp(int layers, double low, double high)
{
    std::vector<double> v(std::max(layers, 0));
    for (int i = 0; i < layers; ++i)
        v[i] = low + (high - low) * recipe::layerPosition(i, layers);
    return v;
}

std::vector<double> bell(int layers, double low, double high)
{
    std::vector<double> v(std::max(layers, 0));
    for (int i = 0; i < layers; ++i)
        v[i] = low + (high - low) * std::sin(std::numbers::pi * recipe::layerPosition(i, layers));
    return v;
}

std::vector<double> lines(int layers, double value, double alpha)
{
    std::vector<double> v(std::max(layers, 0));
    for (int i = 0; i < layers; ++i)
        v[i] = value * (alpha + (1.0 - alpha) * recipe::layerPosition(i, layers));
    return v;
}

std::optional<std::vector<double>> modelStock(const analysis::AnalysisSnapshot &snapshot,
                                              int layers)
{
    std::vector<double> v(std::max(layers, 0));
    for (int i = 0; i < layers; ++i) {
        const analysis::GroupEntry *group = snapshot.findLayer(i);
        if (!group || !group->modelStock)
            return std::nullopt;
        v[i] = group->modelStock->t;
    }
    return v;
}

} // namespace basin::ui::layerpresets
