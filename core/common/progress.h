// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace basin {

// What a long job reports. Sinks are called from the job's thread; the UI adapts them to
// queued signals, the CLI prints them.
struct Progress {
    std::string phase;          // "reading", "analysing", "merging", "writing"
    std::uint64_t itemsDone = 0; // tensors
    std::uint64_t itemsTotal = 0;
    std::uint64_t bytesDone = 0;
    std::uint64_t bytesTotal = 0;
    double elapsedSeconds = 0.0;
    double etaSeconds = -1.0;    // < 0: unknown
};

using ProgressSink = std::function<void(const Progress &)>;

// Set from any thread (the GUI, a signal handler); jobs check it between tensors or chunks
// and end with ErrorCode::Cancelled.
using CancelFlag = std::atomic<bool>;

} // namespace basin
