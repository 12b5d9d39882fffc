// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/error.h"
#include "common/progress.h"
#include "common/result.h"

#include <QHash>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QThreadPool>

#include <functional>
#include <map>
#include <memory>
#include <type_traits>
#include <utility>

namespace basin::ui {

enum class JobState {
    Succeeded,
    Failed,
    Cancelled,  // cancel() was called, or the job ended with ErrorCode::Cancelled
    Superseded, // a newer request on the same channel replaced it; its result was dropped
};

// A progress report as the GUI sees it, already throttled.
struct JobProgress {
    QString phase;          // "reading", "analysing", "merging", "writing", …
    double fraction = -1.0; // 0..1; negative when the job gave no totals
    quint64 itemsDone = 0, itemsTotal = 0;
    quint64 bytesDone = 0, bytesTotal = 0;
    double elapsedSeconds = 0.0;
    double etaSeconds = -1.0; // the job's estimate, else one from the phase's pace; < 0: unknown
};

// What a finished job hands to its done-handler on the GUI thread.
template <typename T> struct JobOutcome {
    quint64 id = 0;
    JobState state = JobState::Failed;
    std::shared_ptr<const T> value; // set when state == Succeeded (never for T = void)
    Error error;                    // set when Failed or Cancelled

    bool ok() const { return state == JobState::Succeeded; }
};

// The one bridge between the GUI and core jobs. submit() runs a job on a worker thread
// and hands its result back on the GUI thread as an immutable snapshot. Requests carry
// increasing ids and a channel name ("analysis", "preview", …): a new request on a
// channel cancels the previous one, whose result is then never delivered, so results
// cannot arrive out of order when sliders move faster than jobs end. Progress is
// throttled (see ProgressThrottle) and delivered through queued calls, never a blocking
// handshake. The destructor cancels every job and waits for them to return; jobs must
// therefore check their cancel flag between tensors or chunks.
// Use from the GUI thread only (the thread the runner lives in).
class JobRunner : public QObject {
    Q_OBJECT

public:
    template <typename T>
    using Job = std::function<Result<T>(const ProgressSink &, const CancelFlag &)>;
    template <typename T> using DoneHandler = std::function<void(const JobOutcome<T> &)>;

    explicit JobRunner(QObject *parent = nullptr);
    ~JobRunner() override;

    // Starts `job` on a worker thread and returns its id (> 0). onDone runs on the GUI
    // thread once the job ends as Succeeded, Failed or Cancelled; it never runs for a
    // superseded job or after the runner is destroyed. Exceptions thrown by the job
    // become a Failed outcome with ErrorCode::Internal.
    template <typename T>
    quint64 submit(const QString &channel, Job<T> job, DoneHandler<T> onDone = {})
    {
        ErasedJob erased = [job = std::move(job)](const ProgressSink &sink,
                                                  const CancelFlag &cancel) {
            Result<T> result = job(sink, cancel);
            Outcome out;
            if (!result.ok()) {
                out.state = JobState::Failed;
                out.error = result.takeError();
                return out;
            }
            out.state = JobState::Succeeded;
            if constexpr (!std::is_void_v<T>)
                out.value = std::make_shared<const T>(std::move(result).value());
            return out;
        };
        ErasedDone done;
        if (onDone) {
            done = [onDone = std::move(onDone)](quint64 id, const Outcome &out) {
                JobOutcome<T> typed;
                typed.id = id;
                typed.state = out.state;
                typed.error = out.error;
                if constexpr (!std::is_void_v<T>)
                    typed.value = std::static_pointer_cast<const T>(out.value);
                onDone(typed);
            };
        }
        return submitErased(channel, std::move(erased), std::move(done));
    }

    // Asks the channel's current job to stop; it then ends as Cancelled. No-op when idle.
    void cancel(const QString &channel);
    // Same, for one job by id (current or superseded).
    void cancelJob(quint64 id);
    // Cancels every job that has not returned yet.
    void cancelAll();

    // Id of the channel's current (newest, undelivered) request; 0 when idle.
    quint64 currentJob(const QString &channel) const;
    bool isBusy(const QString &channel) const { return currentJob(channel) != 0; }
    // Jobs submitted whose worker has not reported back yet, superseded ones included.
    int runningCount() const { return int(m_running.size()); }

    // Worker threads (default: max(4, ideal thread count), so a new request need not wait
    // for superseded jobs to reach their next cancellation check).
    void setMaxThreadCount(int count) { m_pool.setMaxThreadCount(count); }

protected:
    // Delivers the workers' progress and outcomes (posted as events, see jobrunner.cpp).
    bool event(QEvent *event) override;

signals:
    void jobStarted(quint64 id, const QString &channel);
    // Only for the channel's current job.
    void jobProgress(quint64 id, const QString &channel, const basin::ui::JobProgress &progress);
    // After the done-handler ran; message is the error text for Failed and Cancelled.
    void jobFinished(quint64 id, const QString &channel, basin::ui::JobState state,
                     const QString &message);

private:
    struct Outcome {
        JobState state = JobState::Failed;
        std::shared_ptr<const void> value;
        Error error;
    };
    using ErasedJob = std::function<Outcome(const ProgressSink &, const CancelFlag &)>;
    using ErasedDone = std::function<void(quint64 id, const Outcome &)>;
    struct Request;

    quint64 submitErased(const QString &channel, ErasedJob job, ErasedDone done);
    void runOnWorker(const std::shared_ptr<Request> &request, const ErasedJob &job);
    void deliverProgress(quint64 id, const JobProgress &progress);
    void deliverOutcome(quint64 id, const Outcome &outcome);

    QThreadPool m_pool;
    quint64 m_nextId = 1;
    // GUI thread only.
    std::map<quint64, std::shared_ptr<Request>> m_running;
    std::map<quint64, ErasedDone> m_handlers;
    QHash<QString, quint64> m_current;
};

} // namespace basin::ui

Q_DECLARE_METATYPE(basin::ui::JobProgress)
Q_DECLARE_METATYPE(basin::ui::JobState)
