// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

// Test seam for the fault-injection tests (docs/RELIABILITY.md): the writers call these
// wrappers instead of ::write / ::fsync / ::rename / ::mkdir, so a test can make the Nth
// call of one kind fail with a chosen errno (disk full mid-export, …). Unarmed, a wrapper
// costs one relaxed atomic load before the system call.
namespace basin::fault {

enum class Op { Write, Sync, Rename, Mkdir };

namespace detail {
extern std::atomic<bool> g_active;
// Counts the call; returns the errno to fail it with, or 0.
int hit(Op op);
} // namespace detail

// From now on, counts calls of every kind; the `nth` call (1-based) of kind `op` fails with
// `err` (once). nth == 0 only counts. Resets the counters. Not for concurrent arming.
void arm(Op op, std::uint64_t nth, int err);
// Stops counting and failing.
void disarm();
// Calls of kind `op` seen since arm().
std::uint64_t calls(Op op);
// Faults fired since arm() (0 or 1).
std::uint64_t fired();

// ::write, or -1 with errno set when the armed fault fires.
ssize_t write(int fd, const void *data, std::size_t size);
// ::fsync, or -1 with errno set.
int fsync(int fd);
// ::rename, or -1 with errno set.
int rename(const char *from, const char *to);
// ::mkdir, or -1 with errno set.
int mkdir(const char *path, mode_t mode);

} // namespace basin::fault
