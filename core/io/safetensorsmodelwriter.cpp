// SPDX-License-Identifier: GPL-3.0-or-later
#include "io/safetensorsmodelwriter.h"

#include "io/atomicfile.h"
#include "io/shardindex.h"

namespace basin {

Result<std::unique_ptr<SafetensorsModelWriter>>
SafetensorsModelWriter::create(const std::filesystem::path &folder, ShardPlan plan,
                               std::map<std::string, std::string> metadata)
{
    if (plan.shards.empty())
        return makeError(ErrorCode::InvalidArgument, folder.string() + ": empty shard plan");
    std::unique_ptr<SafetensorsModelWriter> writer(new SafetensorsModelWriter());
    writer->m_folder = folder;
    writer->m_plan = std::move(plan);
    writer->m_metadata = std::move(metadata);
    BASIN_TRY(writer->openShard(0));
    return writer;
}

Result<void> SafetensorsModelWriter::openShard(std::size_t index)
{
    const PlannedShard &shard = m_plan.shards[index];
    Result<std::unique_ptr<SafetensorsFileWriter>> file =
        SafetensorsFileWriter::create(m_folder / shard.fileName, shard.entries, &m_metadata);
    if (!file)
        return file.takeError();
    m_current = std::move(*file);
    m_shard = index;
    return {};
}

Result<void> SafetensorsModelWriter::append(std::span<const std::byte> bytes)
{
    while (!bytes.empty()) {
        if (!m_current)
            return makeError(ErrorCode::IoError, m_folder.string() + ": writer is closed");
        const std::uint64_t room = m_current->dataBytesExpected() - m_current->dataBytesWritten();
        if (room == 0) {
            if (m_shard + 1 >= m_plan.shards.size())
                return makeError(ErrorCode::InvalidArgument,
                                 m_folder.string() + ": more tensor bytes than planned (" +
                                     std::to_string(m_plan.totalBytes) + ")");
            BASIN_TRY(m_current->finish());
            BASIN_TRY(openShard(m_shard + 1));
            continue;
        }
        const std::size_t take =
            static_cast<std::size_t>(std::min<std::uint64_t>(room, bytes.size()));
        BASIN_TRY(m_current->append(bytes.first(take)));
        bytes = bytes.subspan(take);
        m_written += take;
    }
    return {};
}

Result<void> SafetensorsModelWriter::finish()
{
    if (m_finished || !m_current)
        return makeError(ErrorCode::IoError, m_folder.string() + ": writer already finished");
    // Trailing shards that hold only empty tensors still get their file.
    while (m_current->dataBytesWritten() == m_current->dataBytesExpected() &&
           m_shard + 1 < m_plan.shards.size()) {
        BASIN_TRY(m_current->finish());
        BASIN_TRY(openShard(m_shard + 1));
    }
    if (m_written != m_plan.totalBytes || m_shard + 1 != m_plan.shards.size()) {
        m_current->abort();
        return makeError(ErrorCode::IncompleteBuffer,
                         m_folder.string() + ": only " + std::to_string(m_written) + " of " +
                             std::to_string(m_plan.totalBytes) + " tensor bytes were written");
    }
    BASIN_TRY(m_current->finish());
    m_finished = true;
    if (m_plan.sharded())
        return writeFileAtomic(m_folder / std::string(kIndexFileName),
                               serializeShardIndex(m_plan.totalBytes, m_plan.weightMap()));
    return {};
}

} // namespace basin
