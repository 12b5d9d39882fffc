// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"
#include "io/dtype.h"
#include "io/safetensorsheader.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace basin {

// A tensor the writer will produce; its bytes come later, in this order.
struct PlannedTensor {
    std::string name;
    Dtype dtype = Dtype::F32;
    std::vector<std::uint64_t> shape;
};

struct PlannedShard {
    std::string fileName;             // "model.safetensors" or "model-00001-of-00003.safetensors"
    std::vector<HeaderEntry> entries; // in write order, data_offsets assigned
    std::uint64_t dataBytes = 0;
};

struct ShardPlan {
    std::vector<PlannedShard> shards;
    // Per input tensor (same order): its shard and its index in that shard's entries.
    std::vector<std::pair<std::size_t, std::size_t>> location;
    std::uint64_t totalBytes = 0;

    bool sharded() const { return shards.size() > 1; }
    // tensor name → shard file, for the index.
    std::vector<std::pair<std::string, std::string>> weightMap() const;
};

// Splits `tensors`, kept in order, into shards of at most `maxShardBytes` of tensor data
// (0 = no limit: one file). A tensor larger than the limit gets a shard of its own, as
// Hugging Face does. Errors: InvalidArgument (empty or duplicate name, sub-byte dtype with
// a partial byte), Overflow (sizes past 64 bits).
Result<ShardPlan> planShards(const std::vector<PlannedTensor> &tensors,
                             std::uint64_t maxShardBytes);

// "model-00002-of-00005.safetensors".
std::string shardFileName(std::size_t index, std::size_t count);

} // namespace basin
