// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"
#include "recipe/recipe.h"

#include <filesystem>
#include <string>
#include <string_view>

namespace basin::recipe {

struct ReadOptions {
    // Look every model path up on disk: relative paths against the recipe's folder first, then
    // the current directory. When false (the GUI parsing a recipe whose models are elsewhere,
    // tests), relative paths are resolved against the recipe's folder without checking.
    bool checkPaths = true;
    // Name used in messages for readRecipeString() ("recipe" when empty).
    std::string sourceName;
};

// Reads and validates a mergekit YAML recipe (docs/RECIPES.md). Every error message starts
// with "file:line:column: " (1-based) and carries a code: RecipeSyntax (not YAML, duplicate
// keys), UnknownKey, UnknownMethod, UnknownParameter, MissingParameter, WrongType,
// OutOfRange, MissingBase, InvalidRecipe, Unsupported (union tokenizers, token surgery,
// modules:, Hub ids, LoRA), NotFound (a model path that exists neither next to the recipe nor
// in the current directory: the message names both attempts). NotFound/IoError also when the
// recipe file itself cannot be read.
Result<Recipe> readRecipeFile(const std::filesystem::path &path, const ReadOptions &options = {});

// The same for recipe text; relative model paths resolve against `baseDir` first (an empty
// baseDir means the current directory).
Result<Recipe> readRecipeString(std::string_view text, const std::filesystem::path &baseDir,
                                const ReadOptions &options = {});

} // namespace basin::recipe
