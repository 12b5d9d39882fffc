// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "engine/preparedmerge.h"

#include <optional>
#include <string>

namespace basin::engine {

// The merged model's config.json: the base's (else the first model's) with torch_dtype set
// to the output dtype and, for slices, the layer count (num_hidden_layers, or the model's
// own key for it) set to the output's. Returns nothing when that model has no config.json.
std::optional<std::string> outputConfigText(const PreparedMerge &prepared);

} // namespace basin::engine
