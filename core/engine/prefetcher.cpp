// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/prefetcher.h"

#include <omp.h>

#include <new>
#include <system_error>

namespace basin::engine {

namespace {

// Decoded per call: large enough to amortise the call, small enough that the NaN count runs
// on values still in L2 and the mapped pages read so far are dropped promptly (memory stays
// bounded on models larger than RAM).
constexpr std::uint64_t kDecodeChunk = 1u << 18;
// Tensors in flight, at most: the one being merged, one ready, one being read. More would
// only hold memory: whichever side is slower sets the pace.
constexpr std::size_t kMaxAhead = 3;

std::uint64_t costOf(const OutputTensor &out, bool decode)
{
    return decode ? out.inputFloatBytes() : out.inputRawBytes();
}

} // namespace

Prefetcher::Prefetcher(const PreparedMerge &prepared, bool decode, std::uint64_t budgetBytes)
    : m_prepared(prepared), m_decode(decode), m_budget(budgetBytes), m_pool(budgetBytes)
{
}

Prefetcher::~Prefetcher()
{
    stop();
    if (m_thread.joinable())
        m_thread.join();
}

Result<void> Prefetcher::start()
{
    try {
        m_thread = std::thread([this] { run(); });
    } catch (const std::system_error &error) {
        return makeError(ErrorCode::Internal,
                         std::string("cannot start the prefetch thread: ") + error.what());
    }
    return {};
}

void Prefetcher::stop()
{
    {
        const std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_abort.store(true);
    m_changed.notify_all();
}

Result<LoadedTensor> Prefetcher::next()
{
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [this] { return !m_ready.empty() || m_stop; });
    if (m_ready.empty())
        return makeError(ErrorCode::Cancelled, "reading stopped");
    Result<LoadedTensor> front = std::move(m_ready.front());
    m_ready.pop_front();
    return front;
}

void Prefetcher::finished(LoadedTensor tensor)
{
    m_pool.recycle(std::move(tensor.base));
    for (FloatBuffer &buffer : tensor.inputs)
        m_pool.recycle(std::move(buffer));
    {
        const std::lock_guard lock(m_mutex);
        m_inFlight -= tensor.cost;
        --m_queued;
    }
    m_changed.notify_all();
}

void Prefetcher::run()
{
    // Decoding here is sequential: the kernels own the cores, and a second OpenMP team
    // spinning next to theirs would slow both.
    omp_set_num_threads(1);
    for (std::size_t i = 0; i < m_prepared.outputs.size(); ++i) {
        const std::uint64_t cost = costOf(m_prepared.outputs[i], m_decode);
        {
            std::unique_lock lock(m_mutex);
            m_changed.wait(lock, [&] {
                return m_stop || m_queued == 0 ||
                       (m_queued < kMaxAhead && m_inFlight + cost <= m_budget);
            });
            if (m_stop)
                return;
            m_inFlight += cost;
            ++m_queued;
        }
        Result<LoadedTensor> loaded = load(i);
        const bool failed = !loaded.ok();
        {
            const std::lock_guard lock(m_mutex);
            m_ready.push_back(std::move(loaded));
        }
        m_changed.notify_all();
        if (failed)
            return;
    }
}

Result<void> Prefetcher::decodeInput(const InputSource &input, const OutputTensor &out,
                                     FloatBuffer &buffer, ValueCounts &counts)
{
    const Checkpoint &model = *m_prepared.models[static_cast<std::size_t>(input.model)];
    buffer = m_pool.acquire(out.numel);
    for (std::uint64_t first = 0; first < out.numel; first += kDecodeChunk) {
        if (m_abort.load(std::memory_order_relaxed))
            return makeError(ErrorCode::Cancelled, "reading stopped");
        const std::uint64_t count = std::min(kDecodeChunk, out.numel - first);
        Result<ValueCounts> chunk = readInputRange(model, input, out.shape, first,
                                                   buffer.first(out.numel).subspan(first, count));
        if (!chunk)
            return chunk.takeError();
        counts += *chunk;
        releaseInputPrefix(model, input, first + count, out.numel);
    }
    return {};
}

Result<LoadedTensor> Prefetcher::load(std::size_t index)
{
    const OutputTensor &out = m_prepared.outputs[index];
    LoadedTensor loaded;
    loaded.index = index;
    loaded.cost = costOf(out, m_decode);
    loaded.inputs.resize(out.inputs.size());
    loaded.inputCounts.resize(out.inputs.size());
    if (!m_decode) {
        // The streamed path reads its own chunks; start the disk early for them.
        if (out.base)
            m_prepared.models[static_cast<std::size_t>(out.base->model)]->prefetch(
                *out.base->tensor);
        for (const InputSource &input : out.inputs) {
            if (input.use != InputUse::Skipped)
                m_prepared.models[static_cast<std::size_t>(input.model)]->prefetch(*input.tensor);
        }
        return loaded;
    }
    try {
        if (out.base)
            BASIN_TRY(decodeInput(*out.base, out, loaded.base, loaded.baseCounts));
        for (std::size_t i = 0; i < out.inputs.size(); ++i) {
            if (out.inputs[i].use == InputUse::Skipped)
                continue;
            BASIN_TRY(decodeInput(out.inputs[i], out, loaded.inputs[i], loaded.inputCounts[i]));
        }
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::IoError, "out of memory reading the inputs of tensor " +
                                                 m_prepared.plan.tensors[index].name + " (" +
                                                 std::to_string(loaded.cost) + " bytes as f32)");
    }
    return loaded;
}

} // namespace basin::engine
