// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/floatbuffer.h"

#include <cstdint>
#include <new>
#include <utility>

#include <sys/mman.h>

namespace basin::engine {

namespace {
std::uint64_t bytesOf(std::uint64_t floats)
{
    return floats * sizeof(float);
}
} // namespace

FloatBuffer::FloatBuffer(std::uint64_t capacity) : m_capacity(capacity)
{
    constexpr std::uint64_t kMapFrom = 256u << 10; // bytes
    const std::uint64_t bytes = bytesOf(capacity);
    if (bytes >= kMapFrom) {
        if (bytes > SIZE_MAX)
            throw std::bad_alloc();
        void *memory = ::mmap(nullptr, static_cast<std::size_t>(bytes), PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (memory == MAP_FAILED)
            throw std::bad_alloc();
        m_data = static_cast<float *>(memory);
        m_mapped = true;
    } else if (capacity > 0) {
        m_data = new float[static_cast<std::size_t>(capacity)];
    }
}

FloatBuffer::~FloatBuffer()
{
    reset();
}

FloatBuffer::FloatBuffer(FloatBuffer &&other) noexcept
    : m_data(std::exchange(other.m_data, nullptr)), m_capacity(std::exchange(other.m_capacity, 0)),
      m_mapped(std::exchange(other.m_mapped, false))
{
}

FloatBuffer &FloatBuffer::operator=(FloatBuffer &&other) noexcept
{
    if (this != &other) {
        reset();
        m_data = std::exchange(other.m_data, nullptr);
        m_capacity = std::exchange(other.m_capacity, 0);
        m_mapped = std::exchange(other.m_mapped, false);
    }
    return *this;
}

void FloatBuffer::reset()
{
    if (m_mapped)
        ::munmap(m_data, static_cast<std::size_t>(bytesOf(m_capacity)));
    else
        delete[] m_data;
    m_data = nullptr;
    m_capacity = 0;
    m_mapped = false;
}

void BufferPool::trim(std::uint64_t extra)
{
    while (!m_idle.empty() && m_idleBytes + m_inUseBytes + extra > m_limit) {
        m_idleBytes -= bytesOf(m_idle.front().capacity());
        m_idle.erase(m_idle.begin());
    }
}

FloatBuffer BufferPool::acquire(std::uint64_t count)
{
    std::unique_lock lock(m_mutex);
    std::size_t best = m_idle.size();
    for (std::size_t i = 0; i < m_idle.size(); ++i) {
        if (m_idle[i].capacity() >= count &&
            (best == m_idle.size() || m_idle[i].capacity() < m_idle[best].capacity()))
            best = i;
    }
    // A buffer far larger than needed would pin memory the smaller tensor does not use.
    if (best < m_idle.size() && m_idle[best].capacity() <= 2 * count + (1u << 16)) {
        FloatBuffer buffer = std::move(m_idle[best]);
        m_idle.erase(m_idle.begin() + static_cast<std::ptrdiff_t>(best));
        m_idleBytes -= bytesOf(buffer.capacity());
        m_inUseBytes += bytesOf(buffer.capacity());
        return buffer;
    }
    trim(bytesOf(count));
    m_inUseBytes += bytesOf(count);
    lock.unlock();
    try {
        return FloatBuffer(count);
    } catch (...) {
        const std::lock_guard relock(m_mutex);
        m_inUseBytes -= bytesOf(count);
        throw;
    }
}

void BufferPool::recycle(FloatBuffer buffer)
{
    if (buffer.empty())
        return;
    const std::lock_guard lock(m_mutex);
    m_inUseBytes -= bytesOf(buffer.capacity());
    m_idle.push_back(std::move(buffer));
    m_idleBytes += bytesOf(m_idle.back().capacity());
    trim(0);
}

std::uint64_t BufferPool::inUseBytes() const
{
    const std::lock_guard lock(m_mutex);
    return m_inUseBytes;
}

} // namespace basin::engine
