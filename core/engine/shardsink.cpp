// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/shardsink.h"

#include "io/codecs.h"
#include "io/safetensorsheader.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <string>
#include <system_error>

namespace basin::engine {

namespace {

// Values encoded per buffer: 8 MiB of f32 output at most per buffer.
constexpr std::uint64_t kWriteElements = 2u << 20;
// Encoded per OpenMP iteration.
constexpr std::uint64_t kEncodeChunk = 1u << 16;

const std::map<std::string, std::string> &shardMetadata()
{
    // What SafetensorsModelWriter writes by default (FORMATS.md).
    static const std::map<std::string, std::string> metadata{{"format", "pt"}};
    return metadata;
}

} // namespace

Result<std::uint64_t> encodeParallel(Dtype dtype, std::span<const float> values,
                                     std::span<std::byte> out)
{
    if (!dtypeEncodable(dtype))
        return makeError(ErrorCode::UnsupportedDtype,
                         "cannot write dtype " + std::string(dtypeName(dtype)));
    const std::size_t elementBytes = dtypeBits(dtype) / 8;
    const std::uint64_t n = values.size();
    const auto chunks = static_cast<std::int64_t>((n + kEncodeChunk - 1) / kEncodeChunk);
    std::uint64_t overflowed = 0;
#pragma omp parallel for schedule(static) reduction(+ : overflowed) if (n >= 4 * kEncodeChunk)
    for (std::int64_t c = 0; c < chunks; ++c) {
        const std::uint64_t begin = static_cast<std::uint64_t>(c) * kEncodeChunk;
        const std::uint64_t count = std::min(kEncodeChunk, n - begin);
        const Result<std::uint64_t> encoded =
            encodeFromF32(dtype, values.subspan(begin, count),
                          out.subspan(begin * elementBytes, count * elementBytes));
        overflowed += encoded.ok() ? *encoded : 0;
    }
    return overflowed;
}

Result<std::unique_ptr<ShardSink>> ShardSink::create(const std::filesystem::path &folder,
                                                     const ShardPlan &plan)
{
    std::unique_ptr<ShardSink> sink(new ShardSink());
    sink->m_plan = plan;
    Result<std::unique_ptr<SafetensorsModelWriter>> writer =
        SafetensorsModelWriter::create(folder, plan, shardMetadata());
    if (!writer)
        return writer.takeError();
    sink->m_writer = std::move(*writer);
    sink->startShard(0);
    try {
        sink->m_threads[Write] = std::thread([raw = sink.get()] { raw->run(Write); });
        sink->m_threads[Hash] = std::thread([raw = sink.get()] { raw->run(Hash); });
    } catch (const std::system_error &error) {
        return makeError(ErrorCode::Internal,
                         std::string("cannot start the writer threads: ") + error.what());
    }
    return sink;
}

ShardSink::~ShardSink()
{
    {
        const std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_changed.notify_all();
    for (std::thread &thread : m_threads) {
        if (thread.joinable())
            thread.join();
    }
}

void ShardSink::run(Stage stage)
{
    std::deque<std::pair<std::size_t, std::size_t>> &pending = m_pending[stage];
    while (true) {
        std::pair<std::size_t, std::size_t> job;
        bool failed = false;
        {
            std::unique_lock lock(m_mutex);
            m_changed.wait(lock, [&] { return m_stop || !pending.empty(); });
            if (m_stop)
                return; // finished, or abandoned: nothing more is written
            job = pending.front();
            failed = m_error.has_value();
        }
        // After a write error the rest is dropped; the error is reported to the engine.
        Result<void> done;
        if (!failed) {
            const std::span<const std::byte> bytes(m_buffers[job.first].data(), job.second);
            if (stage == Write)
                done = m_writer->append(bytes);
            else
                hash(bytes);
        }
        {
            const std::lock_guard lock(m_mutex);
            pending.pop_front();
            --m_users[job.first];
            if (!done && !m_error)
                m_error = done.takeError();
        }
        m_changed.notify_all();
    }
}

void ShardSink::startShard(std::size_t index)
{
    // The file's first bytes are the ones SafetensorsFileWriter writes: the length prefix
    // and the header serialised from the same entries and metadata.
    const PlannedShard &shard = m_plan.shards[index];
    const std::string header = serializeSafetensorsHeader(shard.entries, &shardMetadata());
    const std::string prefix = headerLengthPrefix(header.size());
    m_sha = Sha256();
    m_sha.update(prefix);
    m_sha.update(header);
    m_shard = index;
    m_shardData = 0;
    m_reports.push_back(
        ShardReport{shard.fileName, prefix.size() + header.size() + shard.dataBytes, {}});
}

void ShardSink::hash(std::span<const std::byte> bytes)
{
    // Shards switch lazily, when bytes arrive for the next one (as the writer does); shards
    // holding only empty tensors are passed through on the way.
    while (!bytes.empty()) {
        const std::uint64_t room = m_plan.shards[m_shard].dataBytes - m_shardData;
        if (room == 0) {
            if (m_shard + 1 >= m_plan.shards.size())
                return; // more bytes than planned: the writer has already refused them
            m_reports.back().sha256 = Sha256::hex(m_sha.finish());
            startShard(m_shard + 1);
            continue;
        }
        const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(room, bytes.size()));
        m_sha.update(bytes.first(take));
        m_shardData += take;
        bytes = bytes.subspan(take);
    }
}

Result<std::span<std::byte>> ShardSink::buffer(std::size_t bytes)
{
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [this] { return m_users[m_next] == 0 || m_error; });
    if (m_error)
        return *m_error;
    std::vector<std::byte> &buffer = m_buffers[m_next];
    if (buffer.size() < bytes)
        buffer.resize(bytes); // no thread touches a buffer nobody uses
    m_current = m_next;
    m_next = (m_next + 1) % kBuffers;
    return std::span<std::byte>(buffer.data(), bytes);
}

void ShardSink::commit(std::size_t bytes)
{
    {
        const std::lock_guard lock(m_mutex);
        m_users[m_current] = 2;
        m_pending[Write].emplace_back(m_current, bytes);
        m_pending[Hash].emplace_back(m_current, bytes);
    }
    m_queued += bytes;
    m_changed.notify_all();
}

Result<std::uint64_t> ShardSink::writeValues(std::span<const float> values, Dtype dtype)
{
    const std::size_t elementBytes = dtypeBits(dtype) / 8;
    std::uint64_t overflowed = 0;
    for (std::uint64_t first = 0; first < values.size(); first += kWriteElements) {
        const std::uint64_t count = std::min<std::uint64_t>(kWriteElements, values.size() - first);
        Result<std::span<std::byte>> encoded = buffer(count * elementBytes);
        if (!encoded)
            return encoded.takeError();
        Result<std::uint64_t> result =
            encodeParallel(dtype, values.subspan(first, count), *encoded);
        if (!result)
            return result.takeError();
        overflowed += *result;
        commit(count * elementBytes);
    }
    return overflowed;
}

Result<void> ShardSink::drain()
{
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [this] { return m_pending[Write].empty() && m_pending[Hash].empty(); });
    if (m_error)
        return *m_error;
    return {};
}

Result<std::vector<ShardReport>> ShardSink::finish()
{
    BASIN_TRY(drain());
    BASIN_TRY(m_writer->finish());
    // Trailing shards holding only empty tensors get their (header-only) digest here.
    while (true) {
        m_reports.back().sha256 = Sha256::hex(m_sha.finish());
        if (m_shard + 1 >= m_plan.shards.size())
            break;
        startShard(m_shard + 1);
    }
    return m_reports;
}

} // namespace basin::engine
