// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "jobs/jobrunner.h"

#include <QPointer>
#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;

namespace basin::ui {

// Status-bar strip for the newest job of a JobRunner: phase text, a progress bar (busy
// indicator when the job gives no totals), the time left, and a Cancel button. Hidden
// while no followed job runs.
class ProgressWidget : public QWidget {
    Q_OBJECT

public:
    explicit ProgressWidget(JobRunner *runner, QWidget *parent = nullptr);
    ~ProgressWidget() override;

    // Follow only jobs of this channel; empty (the default) follows every channel.
    void setChannel(const QString &channel) { m_channel = channel; }
    QString channel() const { return m_channel; }

    // Id of the job shown; 0 when idle.
    quint64 trackedJob() const { return m_tracked; }

    // "12 s left", "3 min 05 s left", "1 h 20 min left"; empty for negative seconds.
    static QString formatEta(double seconds);
    // Display name of a core phase ("reading" → "Reading").
    static QString phaseName(const QString &phase);

private:
    void onStarted(quint64 id, const QString &channel);
    void onProgress(quint64 id, const QString &channel, const JobProgress &progress);
    void onFinished(quint64 id, const QString &channel, JobState state, const QString &message);
    void cancelTracked();

    QPointer<JobRunner> m_runner;
    QString m_channel;
    quint64 m_tracked = 0;
    QLabel *m_phaseLabel = nullptr;
    QProgressBar *m_bar = nullptr;
    QLabel *m_etaLabel = nullptr;
    QPushButton *m_cancelButton = nullptr;
};

} // namespace basin::ui
