// SPDX-License-Identifier: GPL-3.0-or-later
#include "io/shardplanner.h"

#include "io/shardindex.h"

#include <algorithm>
#include <cstdio>
#include <unordered_set>

namespace basin {

std::string shardFileName(std::size_t index, std::size_t count)
{
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "model-%05zu-of-%05zu.safetensors", index + 1, count);
    return buffer;
}

std::vector<std::pair<std::string, std::string>> ShardPlan::weightMap() const
{
    std::vector<std::pair<std::string, std::string>> map;
    for (const PlannedShard &shard : shards) {
        for (const HeaderEntry &e : shard.entries)
            map.emplace_back(e.name, shard.fileName);
    }
    std::sort(map.begin(), map.end());
    return map;
}

Result<ShardPlan> planShards(const std::vector<PlannedTensor> &tensors, std::uint64_t maxShardBytes)
{
    ShardPlan plan;
    std::unordered_set<std::string_view> names;
    names.reserve(tensors.size());
    plan.shards.emplace_back();
    for (const PlannedTensor &t : tensors) {
        if (t.name.empty())
            return makeError(ErrorCode::InvalidArgument, "writer: a tensor has an empty name");
        if (!names.insert(t.name).second)
            return makeError(ErrorCode::InvalidArgument,
                             "writer: tensor '" + t.name + "' is planned twice");
        HeaderEntry e;
        e.name = t.name;
        e.dtype = t.dtype;
        e.shape = t.shape;
        std::uint64_t numel = 1;
        for (const std::uint64_t dim : t.shape) {
            if (__builtin_mul_overflow(numel, dim, &numel))
                return makeError(ErrorCode::Overflow,
                                 "writer: tensor '" + t.name + "' has too many elements");
        }
        std::uint64_t bits = 0;
        if (__builtin_mul_overflow(numel, std::uint64_t{dtypeBits(t.dtype)}, &bits))
            return makeError(ErrorCode::Overflow, "writer: tensor '" + t.name + "' is too large");
        if (bits % 8 != 0)
            return makeError(ErrorCode::InvalidArgument,
                             "writer: tensor '" + t.name + "' does not fill whole bytes");
        e.numel = numel;
        e.byteSize = bits / 8;

        PlannedShard *shard = &plan.shards.back();
        // Empty tensors never open a shard of their own.
        const bool full = maxShardBytes > 0 && !shard->entries.empty() && e.byteSize > 0 &&
                          (shard->dataBytes + e.byteSize > maxShardBytes ||
                           shard->dataBytes + e.byteSize < shard->dataBytes);
        if (full) {
            plan.shards.emplace_back();
            shard = &plan.shards.back();
        }
        e.begin = shard->dataBytes;
        if (__builtin_add_overflow(e.begin, e.byteSize, &e.end) ||
            __builtin_add_overflow(plan.totalBytes, e.byteSize, &plan.totalBytes))
            return makeError(ErrorCode::Overflow, "writer: total size overflows 64 bits");
        shard->dataBytes = e.end;
        plan.location.emplace_back(plan.shards.size() - 1, shard->entries.size());
        shard->entries.push_back(std::move(e));
    }
    for (std::size_t i = 0; i < plan.shards.size(); ++i)
        plan.shards[i].fileName = plan.shards.size() == 1 ? std::string(kSingleFileName)
                                                          : shardFileName(i, plan.shards.size());
    return plan;
}

} // namespace basin
