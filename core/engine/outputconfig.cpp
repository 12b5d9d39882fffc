// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/outputconfig.h"

#include <array>

namespace basin::engine {

std::optional<std::string> outputConfigText(const PreparedMerge &prepared)
{
    const nlohmann::json &source =
        prepared.models[static_cast<std::size_t>(prepared.configModel)]->config();
    if (!source.is_object())
        return std::nullopt;
    nlohmann::json config = source;
    config["torch_dtype"] = std::string(torchDtypeName(prepared.configDtype));
    if (prepared.recipe.usesSlices()) {
        // Architectures name the layer count differently; update the one the model uses.
        constexpr std::array kLayerKeys{"num_hidden_layers", "n_layer", "num_layers"};
        bool updated = false;
        for (const char *key : kLayerKeys) {
            if (config.contains(key)) {
                config[key] = prepared.plan.outputLayerCount;
                updated = true;
            }
        }
        if (!updated)
            config["num_hidden_layers"] = prepared.plan.outputLayerCount;
    }
    // Hugging Face writes configs with two-space indentation and a final newline.
    return config.dump(2) + "\n";
}

} // namespace basin::engine
