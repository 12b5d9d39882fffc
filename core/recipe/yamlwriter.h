// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"
#include "recipe/recipe.h"

#include <filesystem>
#include <optional>
#include <string>

namespace basin::recipe {

struct WriteOptions {
    // When set, every model path with a resolved location is rewritten relative to this folder:
    // the folder the recipe is about to be saved in (the GUI's "Save as", the engine's
    // basin_recipe.yml next to a merged model). Otherwise paths are written as given.
    std::optional<std::filesystem::path> relativeTo;
};

// The recipe as mergekit YAML, in the form it was given (models: or slices:), with canonical
// names (float32/float16/bfloat16, true/false, numbers PyYAML reads as numbers). Reading the
// text back gives an equal Recipe. Never fails.
std::string writeRecipeString(const Recipe &recipe, const WriteOptions &options = {});

// Writes writeRecipeString() to `path` through a temporary file in the same folder that is
// renamed into place, so a failed save never leaves half a recipe. Errors: IoError,
// PermissionDenied or NotFound (missing folder), naming the file.
Result<void> writeRecipeFile(const Recipe &recipe, const std::filesystem::path &path,
                             const WriteOptions &options = {});

} // namespace basin::recipe
