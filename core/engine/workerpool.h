// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace basin::engine {

// A few threads that sleep between batches. Streamed merges hand them one span at a time;
// an OpenMP team would spin between spans instead, and on a small machine those spinning
// threads take the cores the writer and hasher threads need.
class WorkerPool {
public:
    // `threads` workers in all, the calling thread included (at least one).
    explicit WorkerPool(int threads);
    // Stops and joins the workers.
    ~WorkerPool();
    WorkerPool(const WorkerPool &) = delete;
    WorkerPool &operator=(const WorkerPool &) = delete;

    int threads() const { return static_cast<int>(m_workers.size()) + 1; }

    // Calls task(index, worker) for every index in [0, count), spread over the workers
    // (worker 0 is the calling thread), and returns when all are done. Which worker runs an
    // index varies; results must depend on the index only. `task` must not throw.
    void run(std::size_t count, const std::function<void(std::size_t, int)> &task);

private:
    void work(int worker);

    std::vector<std::thread> m_workers;
    std::mutex m_mutex;
    std::condition_variable m_start;
    std::condition_variable m_done;
    const std::function<void(std::size_t, int)> *m_task = nullptr;
    std::size_t m_count = 0;
    std::size_t m_nextIndex = 0;
    std::size_t m_finished = 0;
    unsigned long m_batch = 0;
    bool m_stop = false;
};

} // namespace basin::engine
