// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"
#include "engine/mergerequest.h"
#include "io/safetensorsmodelwriter.h"
#include "io/sha256.h"

#include <array>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

namespace basin::engine {

// The write side of the engine: streams encoded tensor bytes into the planned shards
// (io/safetensorsmodelwriter.h) as they come and hashes every shard file on the way, so no
// shard is ever held in memory or read back. Writing and hashing each run on a thread of
// their own (both are sequential and, for cheap merges, the slowest steps) over a ring of
// buffers: the engine encodes into a free one while the others are written and hashed.
class ShardSink {
public:
    // Creates the first shard file in `folder` and starts the writer thread. Errors: the
    // writer's (PermissionDenied, NoSpace, IoError, InvalidArgument), Internal when the
    // system refuses a thread.
    static Result<std::unique_ptr<ShardSink>> create(const std::filesystem::path &folder,
                                                     const ShardPlan &plan);
    // Stops the threads; an unfinished sink leaves only the writer's temporary file, which
    // the writer removes.
    ~ShardSink();
    ShardSink(const ShardSink &) = delete;
    ShardSink &operator=(const ShardSink &) = delete;

    // A buffer of at least `bytes` to encode the next bytes into, once its earlier contents
    // are written (waits for that). Errors: a write error of earlier bytes.
    Result<std::span<std::byte>> buffer(std::size_t bytes);
    // Queues the first `bytes` of the buffer last returned for writing, in order.
    void commit(std::size_t bytes);
    // Encodes `values` as `dtype` (round to nearest even, in parallel) and queues them.
    // Returns how many finite values became ±Inf. Errors: UnsupportedDtype, write errors.
    Result<std::uint64_t> writeValues(std::span<const float> values, Dtype dtype);
    // Waits for every queued byte, closes the last shard, writes the index when sharded, and
    // returns each file's size and SHA-256. Errors: IncompleteBuffer (bytes missing), the
    // writer's.
    Result<std::vector<ShardReport>> finish();

    // Bytes queued so far.
    std::uint64_t bytesQueued() const { return m_queued; }

private:
    enum Stage { Write, Hash };
    static constexpr std::size_t kBuffers = 3;

    ShardSink() = default;
    void run(Stage stage);
    void startShard(std::size_t index);
    void hash(std::span<const std::byte> bytes);
    Result<void> drain();

    std::unique_ptr<SafetensorsModelWriter> m_writer;
    ShardPlan m_plan;
    std::vector<ShardReport> m_reports;
    Sha256 m_sha;
    std::size_t m_shard = 0;
    std::uint64_t m_shardData = 0; // data bytes hashed into the current shard
    std::uint64_t m_queued = 0;

    std::array<std::vector<std::byte>, kBuffers> m_buffers;
    std::array<int, kBuffers> m_users{}; // stages still to consume the buffer
    std::size_t m_next = 0;              // buffer handed out by the next buffer()
    std::size_t m_current = 0;           // buffer last handed out
    std::mutex m_mutex;
    std::condition_variable m_changed;
    // Per stage: (buffer, bytes) in commit order.
    std::array<std::deque<std::pair<std::size_t, std::size_t>>, 2> m_pending;
    std::optional<Error> m_error;
    bool m_stop = false;
    std::array<std::thread, 2> m_threads;
};

// Encodes `values` into `out` (values.size() × the dtype's size) in parallel over fixed
// chunks; the result does not depend on the thread count. Returns the overflow count, or
// UnsupportedDtype.
Result<std::uint64_t> encodeParallel(Dtype dtype, std::span<const float> values,
                                     std::span<std::byte> out);

} // namespace basin::engine
