// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/workerpool.h"

#include <system_error>

namespace basin::engine {

WorkerPool::WorkerPool(int threads)
{
    // A thread the system refuses only means fewer workers; the caller always works.
    for (int i = 1; i < threads; ++i) {
        try {
            m_workers.emplace_back([this, i] { work(i); });
        } catch (const std::system_error &) {
            break;
        }
    }
}

WorkerPool::~WorkerPool()
{
    {
        const std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_start.notify_all();
    for (std::thread &worker : m_workers)
        worker.join();
}

void WorkerPool::run(std::size_t count, const std::function<void(std::size_t, int)> &task)
{
    if (count == 0)
        return;
    std::unique_lock lock(m_mutex);
    m_task = &task;
    m_count = count;
    m_nextIndex = 0;
    m_finished = 0;
    ++m_batch;
    lock.unlock();
    m_start.notify_all();

    // The caller takes indices like any worker.
    lock.lock();
    while (m_nextIndex < m_count) {
        const std::size_t index = m_nextIndex++;
        lock.unlock();
        task(index, 0);
        lock.lock();
        ++m_finished;
    }
    m_done.wait(lock, [this] { return m_finished == m_count; });
    m_task = nullptr;
}

void WorkerPool::work(int worker)
{
    unsigned long seen = 0;
    std::unique_lock lock(m_mutex);
    while (true) {
        m_start.wait(lock, [&] { return m_stop || (m_batch != seen && m_task); });
        if (m_stop)
            return;
        seen = m_batch;
        while (m_task && m_nextIndex < m_count) {
            const std::size_t index = m_nextIndex++;
            const auto *task = m_task;
            lock.unlock();
            (*task)(index, worker);
            lock.lock();
            if (++m_finished == m_count)
                m_done.notify_one();
        }
    }
}

} // namespace basin::engine
