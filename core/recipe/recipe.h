// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "io/dtype.h"
#include "recipe/setting.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace basin::recipe {

// A model as a recipe names it: the path as written (relative paths stay relative so a
// recipe can be written back unchanged) and where it was found on disk.
struct ModelRef {
    std::string path;               // as written; empty = no model
    std::filesystem::path resolved; // absolute; empty when not resolved (built in memory)
    SourceLoc loc;

    bool empty() const { return path.empty() && resolved.empty(); }
    friend bool operator==(const ModelRef &, const ModelRef &) = default;
};

// True when both name the same model: same resolved path when both are resolved, else the
// same path string.
bool sameModel(const ModelRef &a, const ModelRef &b);

// `models:` entry.
struct ModelEntry {
    ModelRef model;
    Parameters parameters;
    SourceLoc loc;

    friend bool operator==(const ModelEntry &, const ModelEntry &) = default;
};

// One source of a slice: layers [layerStart, layerEnd) of a model.
struct SliceSource {
    ModelRef model;
    int layerStart = 0;
    int layerEnd = 0;
    Parameters parameters;
    SourceLoc loc;
    SourceLoc rangeLoc;

    int layerCount() const { return layerEnd - layerStart; }
    friend bool operator==(const SliceSource &, const SliceSource &) = default;
};

// `slices:` entry: output layers made from the same number of layers of every source.
struct Slice {
    std::vector<SliceSource> sources;
    Parameters parameters;
    SourceLoc loc;

    // Output layers this slice contributes (its first source's range length; validation
    // checks that every source agrees).
    int layerCount() const { return sources.empty() ? 0 : sources.front().layerCount(); }
    friend bool operator==(const Slice &, const Slice &) = default;
};

// Where the output's tokenizer comes from.
struct TokenizerSource {
    enum class Kind { Unset, Base, Model };
    Kind kind = Kind::Unset;
    ModelRef model;      // Kind::Model
    bool nested = false; // written as `tokenizer: {source: …}` rather than `tokenizer_source:`
    SourceLoc loc;

    friend bool operator==(const TokenizerSource &, const TokenizerSource &) = default;
};

// The name of the file a recipe came from, for messages. Like SourceLoc it never takes part
// in comparisons.
struct SourceName {
    std::string name;
    friend bool operator==(const SourceName &, const SourceName &) { return true; }
};

// A merge recipe: mergekit's YAML model (docs/RECIPES.md). Either `models` or `slices` is
// used, never both.
struct Recipe {
    std::string mergeMethod;
    SourceLoc methodLoc;
    ModelRef baseModel; // empty = none
    std::vector<ModelEntry> models;
    std::vector<Slice> slices;
    Parameters parameters; // top level
    SourceLoc parametersLoc;
    std::optional<Dtype> dtype; // F32, F16 or BF16
    SourceLoc dtypeLoc;
    std::optional<Dtype> outDtype; // F32, F16 or BF16
    SourceLoc outDtypeLoc;
    TokenizerSource tokenizer;
    std::optional<std::uint64_t> seed; // Basin extension, see docs/RECIPES.md
    SourceLoc seedLoc;
    SourceName source; // file the recipe was read from, for messages

    bool usesSlices() const { return !slices.empty(); }
    bool hasBase() const { return !baseModel.empty(); }

    // Every model the recipe reads tensors from, each once: the base first (when set), then
    // the models or slice sources in the order written. Plans and engines index this list.
    std::vector<ModelRef> referencedModels() const;

    // Index of a model in referencedModels(), or -1.
    int modelIndex(const ModelRef &model) const;

    // "file:line:column: " (or "recipe:line:column: ", or "" for an unknown location): the
    // prefix of every message about an element of this recipe.
    std::string where(SourceLoc loc) const;

    friend bool operator==(const Recipe &, const Recipe &) = default;
};

// Canonical recipe spelling of a dtype ("float32", "float16", "bfloat16"); empty for the
// dtypes a recipe cannot name.
std::string_view recipeDtypeName(Dtype dtype);

// Parses float32|float16|bfloat16 (optionally "torch."-prefixed) and fp32, f32, fp16, bf16.
// Returns nothing for any other name.
std::optional<Dtype> parseRecipeDtype(std::string_view name);

} // namespace basin::recipe
