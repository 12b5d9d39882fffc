// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/progresstracker.h"

namespace basin::engine {

ProgressTracker::ProgressTracker(const ProgressSink &sink)
    : m_sink(sink), m_start(std::chrono::steady_clock::now()), m_phaseStart(m_start)
{
}

double ProgressTracker::elapsedSeconds() const
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
}

void ProgressTracker::phase(std::string name, std::uint64_t itemsTotal, std::uint64_t bytesTotal)
{
    m_progress = Progress{};
    m_progress.phase = std::move(name);
    m_progress.itemsTotal = itemsTotal;
    m_progress.bytesTotal = bytesTotal;
    m_phaseStart = std::chrono::steady_clock::now();
    m_lastBytes = 0;
    m_reported = false;
    emit();
}

void ProgressTracker::update(std::uint64_t itemsDone, std::uint64_t bytesDone)
{
    const bool last = itemsDone == m_progress.itemsTotal && itemsDone != m_progress.itemsDone;
    m_progress.itemsDone = itemsDone;
    m_progress.bytesDone = bytesDone;
    const std::uint64_t step = m_progress.bytesTotal / 1000;
    if (!last && m_reported && bytesDone - m_lastBytes < step + (step == 0 ? 1 : 0))
        return;
    emit();
}

void ProgressTracker::emit()
{
    const auto now = std::chrono::steady_clock::now();
    m_progress.elapsedSeconds = std::chrono::duration<double>(now - m_start).count();
    const double phaseSeconds = std::chrono::duration<double>(now - m_phaseStart).count();
    m_progress.etaSeconds = -1.0;
    if (m_progress.bytesDone > 0 && m_progress.bytesTotal >= m_progress.bytesDone &&
        phaseSeconds > 0.0) {
        const double rate = static_cast<double>(m_progress.bytesDone) / phaseSeconds;
        m_progress.etaSeconds =
            static_cast<double>(m_progress.bytesTotal - m_progress.bytesDone) / rate;
    }
    m_lastBytes = m_progress.bytesDone;
    m_reported = true;
    if (m_sink)
        m_sink(m_progress);
}

} // namespace basin::engine
