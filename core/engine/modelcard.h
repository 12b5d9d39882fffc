// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "engine/mergerequest.h"
#include "engine/preparedmerge.h"

#include <filesystem>
#include <string>
#include <vector>

namespace basin::engine {

// The README.md of a merged model: YAML front matter (base_model: every model merged, as
// the written recipe names them; library_name: transformers; tags: [merge, basin]), then
// the method, the models, the seed of random methods, notes, the recipe as a YAML block, and
// a table of the weight files with their SHA-256.
std::string modelCardText(const PreparedMerge &prepared, const std::filesystem::path &destination,
                          const std::string &recipeYaml, const std::vector<ShardReport> &shards,
                          const std::vector<std::string> &notes);

// How the written recipe names a model: its path relative to the output folder (absolute
// when on another root), else the path as written.
std::string modelPathFrom(const recipe::ModelRef &model, const std::filesystem::path &destination);

} // namespace basin::engine
