// SPDX-License-Identifier: GPL-3.0-or-later
#include "io/faultinjection.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace basin::fault {

namespace {

constexpr int kOps = 4;
std::atomic<std::uint64_t> g_calls[kOps];
std::atomic<std::uint64_t> g_fired{0};
Op g_op = Op::Write;
std::uint64_t g_nth = 0;
int g_errno = 0;

} // namespace

namespace detail {

std::atomic<bool> g_active{false};

int hit(Op op)
{
    const std::uint64_t n = g_calls[static_cast<int>(op)].fetch_add(1) + 1;
    if (op == g_op && n == g_nth && g_errno != 0) {
        g_fired.fetch_add(1);
        return g_errno;
    }
    return 0;
}

} // namespace detail

void arm(Op op, std::uint64_t nth, int err)
{
    detail::g_active.store(false);
    for (auto &c : g_calls)
        c.store(0);
    g_fired.store(0);
    g_op = op;
    g_nth = nth;
    g_errno = err;
    detail::g_active.store(true);
}

void disarm()
{
    detail::g_active.store(false);
}

std::uint64_t calls(Op op)
{
    return g_calls[static_cast<int>(op)].load();
}

std::uint64_t fired()
{
    return g_fired.load();
}

namespace {

// The errno to fail with, or 0: the whole cost when unarmed is this load.
inline int check(Op op)
{
    return detail::g_active.load(std::memory_order_relaxed) ? detail::hit(op) : 0;
}

} // namespace

ssize_t write(int fd, const void *data, std::size_t size)
{
    if (const int err = check(Op::Write)) {
        errno = err;
        return -1;
    }
    return ::write(fd, data, size);
}

int fsync(int fd)
{
    if (const int err = check(Op::Sync)) {
        errno = err;
        return -1;
    }
    return ::fsync(fd);
}

int rename(const char *from, const char *to)
{
    if (const int err = check(Op::Rename)) {
        errno = err;
        return -1;
    }
    return ::rename(from, to);
}

int mkdir(const char *path, mode_t mode)
{
    if (const int err = check(Op::Mkdir)) {
        errno = err;
        return -1;
    }
    return ::mkdir(path, mode);
}

} // namespace basin::fault
