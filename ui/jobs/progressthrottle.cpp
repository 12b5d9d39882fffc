// SPDX-License-Identifier: GPL-3.0-or-later
#include "jobs/progressthrottle.h"

#include <algorithm>
#include <cmath>

namespace basin::ui {

double ProgressThrottle::fraction(const Progress &progress)
{
    if (progress.bytesTotal > 0)
        return std::clamp(double(progress.bytesDone) / double(progress.bytesTotal), 0.0, 1.0);
    if (progress.itemsTotal > 0)
        return std::clamp(double(progress.itemsDone) / double(progress.itemsTotal), 0.0, 1.0);
    return -1.0;
}

bool ProgressThrottle::accept(const Progress &progress, std::int64_t nowMs)
{
    const double f = fraction(progress);
    bool send = false;
    if (!m_sentAny || progress.phase != m_phase) {
        send = true;
    } else if (f >= 1.0 && m_fraction < 1.0) {
        send = true; // the bar always reaches its end
    } else if (nowMs - m_lastMs >= kMinIntervalMs) {
        if (f >= 0.0)
            send = m_fraction < 0.0 || std::abs(f - m_fraction) >= kMinStep;
        else
            send = progress.itemsDone != m_itemsDone || progress.bytesDone != m_bytesDone;
    }
    if (send) {
        m_sentAny = true;
        m_phase = progress.phase;
        m_fraction = f;
        m_itemsDone = progress.itemsDone;
        m_bytesDone = progress.bytesDone;
        m_lastMs = nowMs;
    }
    return send;
}

} // namespace basin::ui
