// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/progress.h"

#include <chrono>
#include <cstdint>
#include <string>

namespace basin::engine {

// Feeds a ProgressSink from the engine's thread: phases, tensors and bytes done, elapsed
// time and an ETA from the byte rate. Throttled: within a phase a report goes out when the
// bytes done moved by at least 0.1 % of the total, or a phase or the last item completes.
class ProgressTracker {
public:
    explicit ProgressTracker(const ProgressSink &sink);

    // Starts a phase with new totals and reports it.
    void phase(std::string name, std::uint64_t itemsTotal, std::uint64_t bytesTotal);
    // Reports progress within the phase (throttled).
    void update(std::uint64_t itemsDone, std::uint64_t bytesDone);

    double elapsedSeconds() const;

private:
    void emit();

    const ProgressSink &m_sink;
    std::chrono::steady_clock::time_point m_start;
    std::chrono::steady_clock::time_point m_phaseStart;
    Progress m_progress;
    std::uint64_t m_lastBytes = 0;
    bool m_reported = false;
};

} // namespace basin::engine
