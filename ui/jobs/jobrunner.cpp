// SPDX-License-Identifier: GPL-3.0-or-later
#include "jobs/jobrunner.h"

#include "jobs/progressthrottle.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEvent>
#include <QThread>

#include <algorithm>
#include <exception>
#include <new>

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void *addr);
extern "C" void __tsan_release(void *addr);
#endif

namespace basin::ui {

namespace {
// Qt hands a job to a worker (QThreadPool's queue) and an event to the GUI thread under a
// QMutex, a bare futex ThreadSanitizer cannot see (Debian's Qt is not built with TSan). In
// a TSan build these calls tell it what Qt guarantees: what the sender wrote before
// handing over happens before what the receiver reads after taking over. What is handed
// over (a std::function, an event) is complete before the hand-over, and the receiver
// takes over before reading any of it, so both sides use fixed addresses.
char g_toWorker;
char g_toGui;

inline void handOver([[maybe_unused]] char *queue)
{
#if defined(__SANITIZE_THREAD__)
    __tsan_release(queue);
#endif
}

inline void takeOver([[maybe_unused]] char *queue)
{
#if defined(__SANITIZE_THREAD__)
    __tsan_acquire(queue);
#endif
}

// A worker's progress report or outcome, built on the worker, run on the GUI thread.
class Delivery : public QEvent {
public:
    explicit Delivery(std::function<void(JobRunner &)> deliver)
        : QEvent(type()), m_deliver(std::move(deliver))
    {
    }
    static QEvent::Type type()
    {
        static const auto registered = QEvent::Type(QEvent::registerEventType());
        return registered;
    }
    void run(JobRunner &runner) const { m_deliver(runner); }

private:
    std::function<void(JobRunner &)> m_deliver;
};

void post(JobRunner *runner, std::function<void(JobRunner &)> deliver)
{
    auto *event = new Delivery(std::move(deliver));
    handOver(&g_toGui);
    QCoreApplication::postEvent(runner, event);
}
} // namespace

struct JobRunner::Request {
    quint64 id = 0;
    QString channel;
    CancelFlag cancel{false};
};

namespace {
JobProgress toJobProgress(const Progress &p, double elapsedSeconds, double phaseSeconds)
{
    JobProgress out;
    out.phase = QString::fromStdString(p.phase);
    out.fraction = ProgressThrottle::fraction(p);
    out.itemsDone = p.itemsDone;
    out.itemsTotal = p.itemsTotal;
    out.bytesDone = p.bytesDone;
    out.bytesTotal = p.bytesTotal;
    out.elapsedSeconds = p.elapsedSeconds > 0.0 ? p.elapsedSeconds : elapsedSeconds;
    out.etaSeconds = p.etaSeconds;
    // Without the job's own estimate, extrapolate the current phase's pace once it has
    // run long enough for the pace to mean something.
    if (out.etaSeconds < 0.0 && out.fraction >= 0.01 && out.fraction < 1.0 && phaseSeconds > 0.5)
        out.etaSeconds = phaseSeconds * (1.0 - out.fraction) / out.fraction;
    return out;
}
} // namespace

JobRunner::JobRunner(QObject *parent) : QObject(parent)
{
    m_pool.setObjectName(QStringLiteral("JobRunnerPool"));
    m_pool.setMaxThreadCount(std::max(4, QThread::idealThreadCount()));
}

JobRunner::~JobRunner()
{
    cancelAll();
    // Jobs capture `this` to post their results; none may outlive it. Results posted in
    // the meantime are discarded with the runner's pending events.
    m_pool.waitForDone();
}

void JobRunner::cancel(const QString &channel)
{
    cancelJob(currentJob(channel));
}

void JobRunner::cancelJob(quint64 id)
{
    const auto it = m_running.find(id);
    if (it != m_running.end())
        it->second->cancel.store(true);
}

void JobRunner::cancelAll()
{
    for (const auto &[id, request] : m_running)
        request->cancel.store(true);
}

quint64 JobRunner::currentJob(const QString &channel) const
{
    return m_current.value(channel, 0);
}

quint64 JobRunner::submitErased(const QString &channel, ErasedJob job, ErasedDone done)
{
    auto request = std::make_shared<Request>();
    request->id = m_nextId++;
    request->channel = channel;

    cancel(channel); // superseded: its result will be dropped on arrival
    m_current.insert(channel, request->id);
    m_running.emplace(request->id, request);
    if (done)
        m_handlers.emplace(request->id, std::move(done));

    emit jobStarted(request->id, channel);
    std::function<void()> task = [this, request, job = std::move(job)] {
        takeOver(&g_toWorker);
        runOnWorker(request, job);
    };
    handOver(&g_toWorker);
    m_pool.start(std::move(task));
    return request->id;
}

void JobRunner::runOnWorker(const std::shared_ptr<Request> &request, const ErasedJob &job)
{
    ProgressThrottle throttle;
    QElapsedTimer clock;
    clock.start();
    std::string phase;
    qint64 phaseStartMs = 0;
    const quint64 id = request->id;

    const ProgressSink sink = [&](const Progress &progress) {
        const qint64 now = clock.elapsed();
        if (progress.phase != phase) {
            phase = progress.phase;
            phaseStartMs = now;
        }
        if (!throttle.accept(progress, now))
            return;
        const JobProgress report =
            toJobProgress(progress, now / 1000.0, (now - phaseStartMs) / 1000.0);
        post(this, [id, report](JobRunner &runner) { runner.deliverProgress(id, report); });
    };

    Outcome outcome;
    if (request->cancel.load()) {
        // Cancelled or superseded while still queued: do not start at all.
        outcome.state = JobState::Cancelled;
    } else {
        try {
            outcome = job(sink, request->cancel);
        } catch (const std::bad_alloc &) {
            outcome = Outcome{JobState::Failed, nullptr,
                              makeError(ErrorCode::Internal, "the job ran out of memory")};
        } catch (const std::exception &e) {
            outcome = Outcome{JobState::Failed, nullptr,
                              makeError(ErrorCode::Internal,
                                        std::string("the job failed unexpectedly: ") + e.what())};
        } catch (...) {
            outcome = Outcome{JobState::Failed, nullptr,
                              makeError(ErrorCode::Internal, "the job failed unexpectedly")};
        }
    }
    // A cancelled job ends Cancelled even if it finished anyway: the user asked not to
    // see its result.
    if (request->cancel.load() ||
        (outcome.state == JobState::Failed && outcome.error.code == ErrorCode::Cancelled)) {
        outcome.state = JobState::Cancelled;
        outcome.value.reset();
        if (outcome.error.code != ErrorCode::Cancelled || outcome.error.message.empty())
            outcome.error = makeError(ErrorCode::Cancelled, "cancelled");
    }
    post(this, [id, outcome](JobRunner &runner) { runner.deliverOutcome(id, outcome); });
}

bool JobRunner::event(QEvent *event)
{
    if (event->type() != Delivery::type())
        return QObject::event(event);
    takeOver(&g_toGui);
    static_cast<const Delivery *>(event)->run(*this);
    return true;
}

void JobRunner::deliverProgress(quint64 id, const JobProgress &progress)
{
    const auto it = m_running.find(id);
    if (it == m_running.end() || m_current.value(it->second->channel) != id)
        return; // superseded: its progress no longer describes what the user waits for
    emit jobProgress(id, it->second->channel, progress);
}

void JobRunner::deliverOutcome(quint64 id, const Outcome &outcome)
{
    const auto it = m_running.find(id);
    if (it == m_running.end())
        return;
    const QString channel = it->second->channel;
    m_running.erase(it);
    ErasedDone handler;
    if (const auto h = m_handlers.find(id); h != m_handlers.end()) {
        handler = std::move(h->second);
        m_handlers.erase(h);
    }

    if (m_current.value(channel) != id) {
        emit jobFinished(id, channel, JobState::Superseded, QString());
        return;
    }
    // Cleared before the handler so that it may submit a follow-up on the same channel.
    m_current.remove(channel);
    if (handler)
        handler(id, outcome);
    emit jobFinished(id, channel, outcome.state, QString::fromStdString(outcome.error.message));
}

} // namespace basin::ui
