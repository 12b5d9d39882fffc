// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/progress.h"
#include "common/result.h"
#include "engine/floatbuffer.h"
#include "engine/inputreader.h"
#include "engine/preparedmerge.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace basin::engine {

// The inputs of one output tensor, ready for its kernel.
struct LoadedTensor {
    std::size_t index = 0;           // into PreparedMerge::outputs
    FloatBuffer base;                // decoded base; empty without one (or when streaming)
    std::vector<FloatBuffer> inputs; // one per OutputTensor::inputs; empty when skipped
    ValueCounts baseCounts;          // NaN/Inf in the base
    std::vector<ValueCounts> inputCounts;
    std::uint64_t cost = 0; // budget bytes this tensor holds until finished()
};

// The read side of the engine: one thread that walks the output tensors in order, ahead of
// the kernels, behind a bounded queue. In decode mode it decodes every input of a tensor to
// f32 (the kernels need whole tensors) and drops the mapped pages it has read; otherwise
// (streamed element-wise merges, which read their own chunks) it only asks the kernel to
// read the next tensors' pages ahead. The queue holds at most `budgetBytes` (f32 buffers in
// decode mode, stored bytes otherwise) counting the tensor being merged, and at most a few
// tensors; one tensor is always allowed whatever its size.
class Prefetcher {
public:
    Prefetcher(const PreparedMerge &prepared, bool decode, std::uint64_t budgetBytes);
    // Stops the thread and waits for it.
    ~Prefetcher();
    Prefetcher(const Prefetcher &) = delete;
    Prefetcher &operator=(const Prefetcher &) = delete;

    // Starts the thread. Errors: Internal when the system refuses a thread.
    Result<void> start();
    // The next tensor in plan order, waiting for it. Errors: the reader's (naming file and
    // tensor), IoError when memory runs out.
    Result<LoadedTensor> next();
    // Gives the tensor's buffers and budget back once its kernel is done.
    void finished(LoadedTensor tensor);
    // Asks the thread to stop after the tensor it is reading; next() then fails.
    void stop();

private:
    void run();
    Result<LoadedTensor> load(std::size_t index);
    Result<void> decodeInput(const InputSource &input, const OutputTensor &out, FloatBuffer &buffer,
                             ValueCounts &counts);

    const PreparedMerge &m_prepared;
    const bool m_decode;
    const std::uint64_t m_budget;
    BufferPool m_pool;

    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<Result<LoadedTensor>> m_ready;
    std::uint64_t m_inFlight = 0; // budget bytes queued or being merged
    std::size_t m_queued = 0;     // tensors produced and not yet finished()
    bool m_stop = false;
    std::atomic<bool> m_abort{false}; // m_stop, readable between decode chunks
    std::thread m_thread;
};

} // namespace basin::engine
