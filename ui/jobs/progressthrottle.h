// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/progress.h"

#include <cstdint>
#include <string>

namespace basin::ui {

// Decides which progress reports of one job are worth sending to the GUI thread: the
// first one, every phase change, reaching 100 %, and otherwise a change of at least
// 0.1 % no sooner than 50 ms after the last one sent (at most ~20 updates a second).
// Used from the job's thread only; not thread-safe.
class ProgressThrottle {
public:
    static constexpr double kMinStep = 0.001;          // 0.1 %
    static constexpr std::int64_t kMinIntervalMs = 50; // ~20 per second

    // True if `progress`, reported at monotonic time nowMs, should be forwarded; the
    // throttle then remembers it as the last one sent.
    bool accept(const Progress &progress, std::int64_t nowMs);

    // Completed share in [0, 1] by bytes when their total is known, else by items;
    // negative when neither total is known.
    static double fraction(const Progress &progress);

private:
    bool m_sentAny = false;
    std::string m_phase;
    double m_fraction = -1.0;
    std::uint64_t m_itemsDone = 0;
    std::uint64_t m_bytesDone = 0;
    std::int64_t m_lastMs = 0;
};

} // namespace basin::ui
