// SPDX-License-Identifier: GPL-3.0-or-later
#include "io/shardindex.h"

#include "io/jsontext.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace basin {

bool isPlainShardName(std::string_view name)
{
    constexpr std::string_view suffix = ".safetensors";
    if (name.size() <= suffix.size() || !name.ends_with(suffix) || name.size() > 255)
        return false;
    if (name.front() == '.' || name.find("..") != std::string_view::npos)
        return false;
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '/' || c == '\\' || c == ':' || u < 0x20 || u == 0x7f)
            return false;
    }
    return true;
}

Result<ShardIndex> parseShardIndex(std::string_view json, std::string_view label)
{
    const std::string labelText(label);
    Result<nlohmann::json> doc = parseJsonStrict(json, label, ErrorCode::InvalidIndex);
    if (!doc)
        return doc.takeError();
    const nlohmann::json &root = *doc;
    if (!root.is_object())
        return makeError(ErrorCode::InvalidIndex, labelText + ": root is not a JSON object");

    ShardIndex index;
    if (const auto meta = root.find("metadata"); meta != root.end() && !meta->is_null()) {
        if (!meta->is_object())
            return makeError(ErrorCode::InvalidIndex,
                             labelText + ": \"metadata\" is not an object");
        if (const auto total = meta->find("total_size"); total != meta->end()) {
            if (total->is_number_unsigned()) {
                index.totalSize = total->get<std::uint64_t>();
            } else if (total->is_number_float()) {
                // Some exporters write total_size as a float; accept it only when exact.
                const double v = total->get<double>();
                if (!(v >= 0 && v < 0x1p64 && std::floor(v) == v))
                    return makeError(ErrorCode::InvalidIndex,
                                     labelText + ": metadata.total_size is not a byte count");
                index.totalSize = static_cast<std::uint64_t>(v);
            } else {
                return makeError(ErrorCode::InvalidIndex,
                                 labelText + ": metadata.total_size is not a byte count");
            }
        }
    }
    const auto map = root.find("weight_map");
    if (map == root.end())
        return makeError(ErrorCode::InvalidIndex, labelText + ": no \"weight_map\"");
    if (!map->is_object())
        return makeError(ErrorCode::InvalidIndex, labelText + ": \"weight_map\" is not an object");
    if (map->empty())
        return makeError(ErrorCode::InvalidIndex, labelText + ": \"weight_map\" lists no tensors");

    index.weightMap.reserve(map->size());
    for (auto it = map->begin(); it != map->end(); ++it) {
        std::string tensorText(1, '\'');
        tensorText += printableSnippet(it.key(), 200);
        tensorText += '\'';
        if (!it.value().is_string())
            return makeError(ErrorCode::InvalidIndex, labelText + ": weight_map entry for tensor " +
                                                          tensorText +
                                                          " is not a file name string");
        const std::string &file = it.value().get_ref<const std::string &>();
        if (!isPlainShardName(file))
            return makeError(ErrorCode::UnsafePath,
                             labelText + ": tensor " + tensorText + " maps to '" +
                                 printableSnippet(file, 200) +
                                 "', which is not a plain .safetensors file name in the folder");
        index.weightMap.emplace_back(it.key(), file);
        index.shardFiles.push_back(file);
    }
    // nlohmann objects iterate in key order already; keep the contract explicit.
    std::sort(index.weightMap.begin(), index.weightMap.end());
    std::sort(index.shardFiles.begin(), index.shardFiles.end());
    index.shardFiles.erase(std::unique(index.shardFiles.begin(), index.shardFiles.end()),
                           index.shardFiles.end());
    return index;
}

std::string serializeShardIndex(std::uint64_t totalSize,
                                const std::vector<std::pair<std::string, std::string>> &weightMap)
{
    nlohmann::json doc;
    doc["metadata"]["total_size"] = totalSize;
    nlohmann::json &map = doc["weight_map"];
    map = nlohmann::json::object();
    for (const auto &[tensor, file] : weightMap)
        map[tensor] = file;
    return doc.dump(2) + "\n";
}

} // namespace basin
