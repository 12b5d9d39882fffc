// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// model.safetensors.index.json: parsing (pure, on a string) and writing.
namespace basin {

inline constexpr std::string_view kIndexFileName = "model.safetensors.index.json";
inline constexpr std::string_view kSingleFileName = "model.safetensors";
// Index files above this size are refused before reading (a 10^6-tensor index is ~100 MB).
inline constexpr std::uint64_t kMaxIndexBytes = 256'000'000;

struct ShardIndex {
    std::optional<std::uint64_t> totalSize; // metadata.total_size, when present
    // tensor name → shard file name, sorted by tensor name.
    std::vector<std::pair<std::string, std::string>> weightMap;
    // Distinct shard file names, sorted.
    std::vector<std::string> shardFiles;
};

// True when `name` is a plain file name ending in ".safetensors": no '/', '\\', NUL or
// control characters, no "..", not absolute, not hidden.
bool isPlainShardName(std::string_view name);

// Parses and validates an index. Errors: InvalidIndex (not JSON, wrong structure, empty
// weight_map, non-string values), DuplicateKey (a tensor listed twice), UnsafePath (a value
// that is not a plain shard file name; names the tensor and the value).
Result<ShardIndex> parseShardIndex(std::string_view json, std::string_view label);

// Index JSON as Hugging Face writes it: {"metadata": {"total_size": N}, "weight_map": {…}}
// with sorted keys and two-space indentation.
std::string serializeShardIndex(std::uint64_t totalSize,
                                const std::vector<std::pair<std::string, std::string>> &weightMap);

} // namespace basin
