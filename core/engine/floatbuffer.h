// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace basin::engine {

// An uninitialised f32 array: decoding overwrites every element, so zero-filling it first
// (std::vector) would only cost a pass over memory. Large buffers are mapped from the
// system directly, so freeing one returns its memory at once (malloc keeps freed
// mid-sized blocks, and the engine's peak memory would then be the sum of every size it
// ever used rather than what it holds).
class FloatBuffer {
public:
    FloatBuffer() = default;
    // Allocates `capacity` floats. Throws std::bad_alloc (callers sit at an I/O boundary).
    explicit FloatBuffer(std::uint64_t capacity);
    ~FloatBuffer();
    FloatBuffer(FloatBuffer &&other) noexcept;
    FloatBuffer &operator=(FloatBuffer &&other) noexcept;
    FloatBuffer(const FloatBuffer &) = delete;
    FloatBuffer &operator=(const FloatBuffer &) = delete;

    std::uint64_t capacity() const { return m_capacity; }
    float *data() { return m_data; }
    const float *data() const { return m_data; }
    std::span<float> first(std::uint64_t count) { return {m_data, count}; }
    std::span<const float> first(std::uint64_t count) const { return {m_data, count}; }
    bool empty() const { return m_capacity == 0; }

private:
    void reset();

    float *m_data = nullptr;
    std::uint64_t m_capacity = 0;
    bool m_mapped = false;
};

// Large buffers handed back for reuse: a model repeats the same few tensor sizes layer after
// layer, and a recycled buffer is already mapped (a fresh one costs a page fault and a
// kernel zero-fill per 4 KiB). Idle buffers are dropped whenever idle plus in-use bytes
// would pass `limitBytes`, so the pool never holds memory a larger tensor needs.
// Thread-safe.
class BufferPool {
public:
    explicit BufferPool(std::uint64_t limitBytes) : m_limit(limitBytes) {}

    // An idle buffer holding `count` floats (not much larger), else a new one after dropping
    // idle buffers that would push the total past the limit. Throws std::bad_alloc.
    FloatBuffer acquire(std::uint64_t count);
    // Takes a buffer back from use and keeps it idle while the limit allows.
    void recycle(FloatBuffer buffer);
    // Bytes of buffers handed out and not recycled yet.
    std::uint64_t inUseBytes() const;

private:
    void trim(std::uint64_t extra);

    mutable std::mutex m_mutex;
    std::vector<FloatBuffer> m_idle; // oldest first
    std::uint64_t m_idleBytes = 0;
    std::uint64_t m_inUseBytes = 0;
    std::uint64_t m_limit = 0;
};

} // namespace basin::engine
