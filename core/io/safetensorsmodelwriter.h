// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"
#include "io/safetensorsfilewriter.h"
#include "io/shardplanner.h"

#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>

namespace basin {

// Writes a whole model as planned: one file, or shards plus model.safetensors.index.json.
// Tensor bytes arrive in plan order (any chunking) and are routed to the right shard; only
// one shard file is open at a time and nothing is held beyond a small write buffer. Each
// file is written under a temporary name and renamed when complete; destroying the writer
// before finish() removes the temporary of the open shard (shards already finished stay:
// write into a temporary folder to make the whole export atomic).
class SafetensorsModelWriter {
public:
    // `metadata` is written as __metadata__ of every file ({"format": "pt"} by default).
    static Result<std::unique_ptr<SafetensorsModelWriter>>
    create(const std::filesystem::path &folder, ShardPlan plan,
           std::map<std::string, std::string> metadata = {{"format", "pt"}});

    // Appends the next bytes of the tensor stream. Errors: InvalidArgument (more bytes
    // than planned), NoSpace, IoError, PermissionDenied.
    Result<void> append(std::span<const std::byte> bytes);
    // Finishes the last shard and writes the index when sharded. Errors: IncompleteBuffer
    // (bytes missing), file errors.
    Result<void> finish();

    const ShardPlan &plan() const { return m_plan; }
    std::uint64_t bytesWritten() const { return m_written; }

private:
    SafetensorsModelWriter() = default;
    Result<void> openShard(std::size_t index);

    std::filesystem::path m_folder;
    ShardPlan m_plan;
    std::map<std::string, std::string> m_metadata;
    std::unique_ptr<SafetensorsFileWriter> m_current;
    std::size_t m_shard = 0; // index of m_current
    std::uint64_t m_written = 0;
    bool m_finished = false;
};

} // namespace basin
