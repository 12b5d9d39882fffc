// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace basin::recipe {

// The layer index inside a tensor name ("model.layers.12.mlp.up_proj.weight" → 12) and
// where its digits are, so slices can renumber it.
struct LayerSpan {
    int index = 0;
    std::size_t pos = 0;    // first digit
    std::size_t length = 0; // number of digits
};

// Finds the first "layers.{i}" path segment pair (docs/RECIPES.md). Returns nothing for
// tensors outside the layers (embeddings, final norm, lm_head) and for absurd indices.
std::optional<LayerSpan> findLayer(std::string_view name);

// The name with the layer index replaced by `index`.
std::string withLayer(std::string_view name, const LayerSpan &span, int index);

} // namespace basin::recipe
