// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/modelcard.h"

#include "engine/bytesize.h"

#include <nlohmann/json.hpp>

#include <system_error>

namespace fs = std::filesystem;

namespace basin::engine {

namespace {

// A JSON string is a valid YAML double-quoted scalar: safe for any path or name.
std::string yamlString(const std::string &text)
{
    return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Markdown inline code that survives backticks in the text.
std::string code(const std::string &text)
{
    const std::string fence = text.find('`') == std::string::npos ? "`" : "`` ";
    const std::string close = fence == "`" ? "`" : " ``";
    return fence + text + close;
}

// Fenced block whose fence is longer than any run of backticks inside.
std::string fenced(const std::string &text, const std::string &language)
{
    std::size_t longest = 0;
    std::size_t run = 0;
    for (const char c : text) {
        run = c == '`' ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    const std::string fence(std::max<std::size_t>(3, longest + 1), '`');
    std::string block = fence + language + "\n" + text;
    if (!text.empty() && text.back() != '\n')
        block += '\n';
    return block + fence + "\n";
}

} // namespace

std::string modelPathFrom(const recipe::ModelRef &model, const fs::path &destination)
{
    if (model.resolved.empty())
        return model.path;
    std::error_code ec;
    const fs::path folder = fs::weakly_canonical(fs::absolute(destination), ec);
    const fs::path relative = model.resolved.lexically_relative(ec ? destination : folder);
    return relative.empty() ? model.resolved.generic_string() : relative.generic_string();
}

std::string modelCardText(const PreparedMerge &prepared, const fs::path &destination,
                          const std::string &recipeYaml, const std::vector<ShardReport> &shards,
                          const std::vector<std::string> &notes)
{
    const recipe::MergePlan &plan = prepared.plan;
    std::string card = "---\nbase_model:\n";
    for (const recipe::ModelRef &model : plan.models)
        card += "- " + yamlString(modelPathFrom(model, destination)) + "\n";
    card += "library_name: transformers\ntags:\n- merge\n- basin\n---\n\n";

    card += "# " + destination.filename().string() + "\n\n";
    card += "A merge of pre-trained language models made with Basin.\n\n";
    card += "## Merge details\n\n";
    card += "Method: **" + prepared.recipe.mergeMethod + "**";
    if (prepared.method && !prepared.method->help.empty())
        card += " — " + std::string(prepared.method->help);
    card += "\n\n";
    if (plan.baseIndex >= 0) {
        card += "Base model: " +
                code(modelPathFrom(plan.models[static_cast<std::size_t>(plan.baseIndex)],
                                   destination)) +
                "\n\n";
    }
    card += "Models merged:\n\n";
    for (std::size_t i = 0; i < plan.models.size(); ++i) {
        if (static_cast<int>(i) == plan.baseIndex)
            continue;
        card += "- " + code(modelPathFrom(plan.models[i], destination)) + "\n";
    }
    card += "\n";
    std::uint64_t bytes = 0;
    for (const PlannedShard &shard : prepared.shards.shards)
        bytes += shard.dataBytes;
    card += "Output: " + std::to_string(prepared.outputs.size()) + " tensors, " +
            std::string(torchDtypeName(prepared.configDtype)) + ", " + formatByteSize(bytes) +
            " in " + std::to_string(shards.size()) + (shards.size() == 1 ? " file" : " files");
    if (prepared.recipe.usesSlices())
        card += ", " + std::to_string(plan.outputLayerCount) + " layers";
    card += ".\n\n";
    if (prepared.method && prepared.method->randomized)
        card +=
            "Seed: " + std::to_string(prepared.seed) + " (the same seed gives the same bytes).\n\n";
    if (!notes.empty()) {
        card += "## Notes\n\n";
        for (const std::string &note : notes)
            card += "- " + note + "\n";
        card += "\n";
    }

    card += "## Recipe\n\nRun it again with `basin merge basin_recipe.yml OUT_DIR`; mergekit reads "
            "it too.\n\n";
    card += fenced(recipeYaml, "yaml");
    card += "\n## Files\n\n| file | bytes | SHA-256 |\n|---|---:|---|\n";
    for (const ShardReport &shard : shards)
        card += "| " + shard.fileName + " | " + std::to_string(shard.fileBytes) + " | " +
                shard.sha256 + " |\n";
    return card;
}

} // namespace basin::engine
