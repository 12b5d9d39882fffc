// SPDX-License-Identifier: GPL-3.0-or-later
#include "jobs/jobrunner.h"
#include "jobs/progressthrottle.h"
#include "jobs/progresswidget.h"

#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QtTest>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

using basin::CancelFlag;
using basin::ErrorCode;
using basin::Progress;
using basin::ProgressSink;
using basin::Result;
using basin::ui::JobOutcome;
using basin::ui::JobProgress;
using basin::ui::JobRunner;
using basin::ui::JobState;
using basin::ui::ProgressThrottle;
using basin::ui::ProgressWidget;

namespace {
using namespace std::chrono_literals;

Progress progressAt(const char *phase, std::uint64_t done, std::uint64_t total)
{
    Progress p;
    p.phase = phase;
    p.itemsDone = done;
    p.itemsTotal = total;
    return p;
}

// Spins until cancelled (bounded so a broken runner fails the test instead of hanging).
bool waitForCancel(const CancelFlag &cancel, std::chrono::milliseconds limit = 10s)
{
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!cancel.load()) {
        if (std::chrono::steady_clock::now() > end)
            return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}
} // namespace

class TestJobRunner : public QObject {
    Q_OBJECT

private slots:
    // --- ProgressThrottle: pure decisions, explicit clock ------------------------------

    void throttleDecisions_data()
    {
        QTest::addColumn<QList<int>>("done");    // items done of 10000, per report
        QTest::addColumn<QList<int>>("times");   // ms, per report
        QTest::addColumn<QStringList>("phases"); // per report
        QTest::addColumn<QList<bool>>("sent");
        const QStringList reading(5, QStringLiteral("reading"));
        QTest::newRow("first-always")
            << QList<int>{0} << QList<int>{0} << QStringList{QStringLiteral("reading")}
            << QList<bool>{true};
        QTest::newRow("too-soon") << QList<int>{0, 100, 200, 300, 400}
                                  << QList<int>{0, 10, 20, 49, 50} << reading
                                  << QList<bool>{true, false, false, false, true};
        QTest::newRow("too-small-a-step")
            << QList<int>{0, 5, 9, 10, 11} << QList<int>{0, 100, 200, 300, 400} << reading
            << QList<bool>{true, false, false, true, false};
        QTest::newRow("phase-change-always")
            << QList<int>{0, 1, 2, 3} << QList<int>{0, 1, 2, 3}
            << QStringList{QStringLiteral("reading"), QStringLiteral("merging"),
                           QStringLiteral("merging"), QStringLiteral("writing")}
            << QList<bool>{true, true, false, true};
        QTest::newRow("completion-always")
            << QList<int>{0, 9999, 10000, 10000} << QList<int>{0, 1, 2, 3}
            << QStringList(4, QStringLiteral("reading")) << QList<bool>{true, false, true, false};
    }

    void throttleDecisions()
    {
        QFETCH(QList<int>, done);
        QFETCH(QList<int>, times);
        QFETCH(QStringList, phases);
        QFETCH(QList<bool>, sent);
        ProgressThrottle throttle;
        for (int i = 0; i < done.size(); ++i) {
            const QByteArray phase = phases.at(i).toLatin1();
            const bool accepted = throttle.accept(
                progressAt(phase.constData(), std::uint64_t(done.at(i)), 10000), times.at(i));
            QVERIFY2(accepted == sent.at(i), qPrintable(QStringLiteral("report %1").arg(i)));
        }
    }

    void throttleUnknownTotals()
    {
        ProgressThrottle throttle;
        QVERIFY(throttle.accept(progressAt("reading", 0, 0), 0));
        QVERIFY(!throttle.accept(progressAt("reading", 0, 0), 100)); // nothing moved
        QVERIFY(!throttle.accept(progressAt("reading", 5, 0), 20));  // too soon
        QVERIFY(throttle.accept(progressAt("reading", 5, 0), 100));
        QCOMPARE(ProgressThrottle::fraction(progressAt("reading", 5, 0)), -1.0);
        Progress bytes = progressAt("writing", 1, 4);
        bytes.bytesDone = 3;
        bytes.bytesTotal = 4;
        QCOMPARE(ProgressThrottle::fraction(bytes), 0.75); // bytes win over items
    }

    // --- JobRunner ---------------------------------------------------------------------

    void resultArrivesOnTheGuiThread()
    {
        JobRunner runner;
        QSignalSpy finished(&runner, &JobRunner::jobFinished);
        std::atomic<QThread *> jobThread{nullptr};
        QThread *doneThread = nullptr;
        int value = 0;
        JobState state = JobState::Failed;
        const quint64 id = runner.submit<int>(
            QStringLiteral("analysis"),
            [&](const ProgressSink &, const CancelFlag &) -> Result<int> {
                jobThread = QThread::currentThread();
                return 42;
            },
            [&](const JobOutcome<int> &outcome) {
                doneThread = QThread::currentThread();
                state = outcome.state;
                value = outcome.value ? *outcome.value : -1;
            });
        QVERIFY(id > 0);
        QCOMPARE(runner.currentJob(QStringLiteral("analysis")), id);
        QTRY_COMPARE_WITH_TIMEOUT(value, 42, 5000);
        QCOMPARE(state, JobState::Succeeded);
        QCOMPARE(doneThread, QCoreApplication::instance()->thread());
        QVERIFY(jobThread.load() != nullptr);
        QVERIFY(jobThread.load() != QCoreApplication::instance()->thread());
        QCOMPARE(finished.count(), 1);
        QCOMPARE(finished.at(0).at(0).toULongLong(), id);
        QCOMPARE(finished.at(0).at(2).value<JobState>(), JobState::Succeeded);
        QVERIFY(!runner.isBusy(QStringLiteral("analysis")));
        QCOMPARE(runner.runningCount(), 0);
    }

    void idsIncrease()
    {
        JobRunner runner;
        const auto job = [](const ProgressSink &, const CancelFlag &) -> Result<int> { return 1; };
        const quint64 a = runner.submit<int>(QStringLiteral("a"), job);
        const quint64 b = runner.submit<int>(QStringLiteral("b"), job);
        const quint64 c = runner.submit<int>(QStringLiteral("a"), job);
        QVERIFY(a < b && b < c);
        QTRY_COMPARE_WITH_TIMEOUT(runner.runningCount(), 0, 5000);
    }

    void progressIsThrottledAndInOrder()
    {
        JobRunner runner;
        QList<JobProgress> received;
        connect(&runner, &JobRunner::jobProgress, this,
                [&](quint64, const QString &, const JobProgress &p) { received.append(p); });
        bool done = false;
        runner.submit<int>(
            QStringLiteral("merge"),
            [](const ProgressSink &sink, const CancelFlag &) -> Result<int> {
                // 20000 reports in a tight loop: only a handful may get through.
                for (std::uint64_t i = 0; i <= 20000; ++i)
                    sink(progressAt("reading", i, 20000));
                // 30 reports over ~300 ms: no more than ~20 a second.
                for (std::uint64_t i = 0; i <= 30; ++i) {
                    sink(progressAt("merging", i, 30));
                    std::this_thread::sleep_for(10ms);
                }
                sink(progressAt("writing", 1, 1));
                return 0;
            },
            [&](const JobOutcome<int> &) { done = true; });
        QTRY_VERIFY_WITH_TIMEOUT(done, 10000);

        QVERIFY2(received.size() >= 5 && received.size() <= 16,
                 qPrintable(QString::number(received.size())));
        // Phases arrive in the order reported, each at least once, never going back.
        QStringList phases;
        for (const JobProgress &p : received) {
            if (phases.isEmpty() || phases.last() != p.phase)
                phases.append(p.phase);
        }
        QCOMPARE(phases, (QStringList{QStringLiteral("reading"), QStringLiteral("merging"),
                                      QStringLiteral("writing")}));
        int readingReports = 0;
        for (int i = 1; i < received.size(); ++i) {
            const JobProgress &prev = received.at(i - 1);
            const JobProgress &cur = received.at(i);
            if (cur.phase != prev.phase)
                continue;
            QVERIFY(cur.fraction > prev.fraction);
            // Between two reports of one phase: 50 ms at least, unless it is the 100 % one.
            if (cur.fraction < 1.0)
                QVERIFY(cur.elapsedSeconds - prev.elapsedSeconds >= 0.049);
        }
        for (const JobProgress &p : received)
            readingReports += p.phase == QStringLiteral("reading") ? 1 : 0;
        QVERIFY(readingReports <= 3);
        // Every phase ends at 100 %.
        for (const QString &phase : std::as_const(phases)) {
            double last = -1;
            for (const JobProgress &p : received) {
                if (p.phase == phase)
                    last = p.fraction;
            }
            QCOMPARE(last, 1.0);
        }
    }

    void newRequestSupersedesTheOldOne()
    {
        JobRunner runner;
        QSignalSpy finished(&runner, &JobRunner::jobFinished);
        std::atomic<bool> firstStarted{false};
        std::atomic<bool> firstSawCancel{false};
        QList<int> delivered;
        const auto record = [&](const JobOutcome<int> &o) {
            delivered.append(o.value ? *o.value : -int(o.state));
        };
        const quint64 first = runner.submit<int>(
            QStringLiteral("preview"),
            [&](const ProgressSink &sink, const CancelFlag &cancel) -> Result<int> {
                firstStarted = true;
                sink(progressAt("analysing", 1, 10));
                firstSawCancel = waitForCancel(cancel);
                return 1; // finishes "successfully" anyway: must still be dropped
            },
            record);
        QTRY_VERIFY_WITH_TIMEOUT(firstStarted.load(), 5000);
        const quint64 second = runner.submit<int>(
            QStringLiteral("preview"),
            [](const ProgressSink &, const CancelFlag &) -> Result<int> { return 2; }, record);
        QCOMPARE(runner.currentJob(QStringLiteral("preview")), second);

        QTRY_COMPARE_WITH_TIMEOUT(delivered, QList<int>{2}, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(runner.runningCount(), 0, 5000);
        QVERIFY(firstSawCancel.load());
        QCOMPARE(delivered, QList<int>{2});
        // Bookkeeping still reports the first one, as superseded.
        QCOMPARE(finished.count(), 2);
        bool firstSuperseded = false;
        for (const QList<QVariant> &args : std::as_const(finished)) {
            if (args.at(0).toULongLong() == first)
                firstSuperseded = args.at(2).value<JobState>() == JobState::Superseded;
        }
        QVERIFY(firstSuperseded);
    }

    void queuedSupersededJobNeverStarts()
    {
        JobRunner runner;
        runner.setMaxThreadCount(1);
        std::atomic<bool> blockerStarted{false};
        std::atomic<bool> middleRan{false};
        QList<int> delivered;
        runner.submit<int>(QStringLiteral("blocker"),
                           [&](const ProgressSink &, const CancelFlag &cancel) -> Result<int> {
                               blockerStarted = true;
                               waitForCancel(cancel, 3s);
                               return 0;
                           });
        QTRY_VERIFY_WITH_TIMEOUT(blockerStarted.load(), 5000);
        const auto record = [&](const JobOutcome<int> &o) {
            delivered.append(o.value ? *o.value : -1);
        };
        runner.submit<int>(
            QStringLiteral("slider"),
            [&](const ProgressSink &, const CancelFlag &) -> Result<int> {
                middleRan = true;
                return 1;
            },
            record);
        runner.submit<int>(
            QStringLiteral("slider"),
            [](const ProgressSink &, const CancelFlag &) -> Result<int> { return 3; }, record);
        runner.cancel(QStringLiteral("blocker"));
        QTRY_COMPARE_WITH_TIMEOUT(delivered, QList<int>{3}, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(runner.runningCount(), 0, 5000);
        QVERIFY(!middleRan.load());
    }

    void cancelYieldsCancelled_data()
    {
        QTest::addColumn<bool>("honoursFlag");
        QTest::newRow("job-returns-cancelled") << true;
        QTest::newRow("job-ignores-flag-and-succeeds") << false;
    }

    void cancelYieldsCancelled()
    {
        QFETCH(bool, honoursFlag);
        JobRunner runner;
        std::atomic<bool> started{false};
        bool delivered = false;
        JobOutcome<int> outcome;
        runner.submit<int>(
            QStringLiteral("analysis"),
            [&](const ProgressSink &, const CancelFlag &cancel) -> Result<int> {
                started = true;
                waitForCancel(cancel);
                if (honoursFlag)
                    return basin::makeError(ErrorCode::Cancelled, "analysis cancelled at tensor 3");
                return 7;
            },
            [&](const JobOutcome<int> &o) {
                outcome = o;
                delivered = true;
            });
        QTRY_VERIFY_WITH_TIMEOUT(started.load(), 5000);
        QVERIFY(runner.isBusy(QStringLiteral("analysis")));
        runner.cancel(QStringLiteral("analysis"));
        QTRY_VERIFY_WITH_TIMEOUT(delivered, 5000);
        QCOMPARE(outcome.state, JobState::Cancelled);
        QVERIFY(!outcome.ok());
        QVERIFY(!outcome.value);
        QCOMPARE(outcome.error.code, ErrorCode::Cancelled);
        if (honoursFlag)
            QCOMPARE(outcome.error.message, std::string("analysis cancelled at tensor 3"));
        QVERIFY(!runner.isBusy(QStringLiteral("analysis")));
    }

    void failuresAndExceptionsBecomeFailed_data()
    {
        QTest::addColumn<bool>("throws");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("message");
        QTest::newRow("error-value") << false << int(ErrorCode::NotFound)
                                     << QStringLiteral("base.safetensors: no such file");
        QTest::newRow("exception") << true << int(ErrorCode::Internal)
                                   << QStringLiteral("the job failed unexpectedly: boom");
    }

    void failuresAndExceptionsBecomeFailed()
    {
        QFETCH(bool, throws);
        QFETCH(int, code);
        QFETCH(QString, message);
        JobRunner runner;
        QSignalSpy finished(&runner, &JobRunner::jobFinished);
        bool delivered = false;
        JobOutcome<int> outcome;
        runner.submit<int>(
            QStringLiteral("open"),
            [throws](const ProgressSink &, const CancelFlag &) -> Result<int> {
                if (throws)
                    throw std::runtime_error("boom");
                return basin::makeError(ErrorCode::NotFound, "base.safetensors: no such file");
            },
            [&](const JobOutcome<int> &o) {
                outcome = o;
                delivered = true;
            });
        QTRY_VERIFY_WITH_TIMEOUT(delivered, 5000);
        QCOMPARE(outcome.state, JobState::Failed);
        QCOMPARE(int(outcome.error.code), code);
        QCOMPARE(QString::fromStdString(outcome.error.message), message);
        QCOMPARE(finished.count(), 1);
        QCOMPARE(finished.at(0).at(2).value<JobState>(), JobState::Failed);
        QCOMPARE(finished.at(0).at(3).toString(), message);
    }

    void voidJobsAndSnapshotsWork()
    {
        JobRunner runner;
        bool voidDone = false;
        runner.submit<void>(
            QStringLiteral("write"),
            [](const ProgressSink &, const CancelFlag &) -> Result<void> { return {}; },
            [&](const JobOutcome<void> &o) { voidDone = o.ok(); });
        // A move-only-ish snapshot travels as shared_ptr<const T>, no copy on delivery.
        struct Snapshot {
            std::vector<double> values;
        };
        std::shared_ptr<const Snapshot> snapshot;
        runner.submit<Snapshot>(
            QStringLiteral("stats"),
            [](const ProgressSink &, const CancelFlag &) -> Result<Snapshot> {
                return Snapshot{{1.0, 2.0, 3.0}};
            },
            [&](const JobOutcome<Snapshot> &o) { snapshot = o.value; });
        QTRY_VERIFY_WITH_TIMEOUT(voidDone && snapshot, 5000);
        QCOMPARE(snapshot->values, (std::vector<double>{1.0, 2.0, 3.0}));
    }

    void destroyingTheRunnerCancelsAndWaits()
    {
        auto *runner = new JobRunner;
        std::atomic<bool> started{false};
        auto sawCancel = std::make_shared<std::atomic<bool>>(false);
        bool delivered = false;
        runner->submit<int>(
            QStringLiteral("analysis"),
            [&started, sawCancel](const ProgressSink &sink,
                                  const CancelFlag &cancel) -> Result<int> {
                started = true;
                for (int i = 0; !cancel.load() && i < 10000; ++i) {
                    sink(progressAt("analysing", std::uint64_t(i), 10000));
                    std::this_thread::sleep_for(1ms);
                }
                *sawCancel = cancel.load();
                return 1;
            },
            [&](const JobOutcome<int> &) { delivered = true; });
        QTRY_VERIFY_WITH_TIMEOUT(started.load(), 5000);
        QTest::qWait(30); // let some progress get posted too

        QElapsedTimer timer;
        timer.start();
        delete runner;
        QVERIFY2(timer.elapsed() < 2000, qPrintable(QString::number(timer.elapsed())));
        QVERIFY(sawCancel->load()); // the destructor waited for the job to return
        QTest::qWait(50);           // nothing left to deliver
        QVERIFY(!delivered);
    }

    // --- ProgressWidget ----------------------------------------------------------------

    void progressWidgetFollowsAndCancels()
    {
        JobRunner runner;
        QWidget statusBar; // stands in for the window's status bar
        ProgressWidget panel(&runner, &statusBar);
        panel.setChannel(QStringLiteral("merge"));
        statusBar.show();
        QVERIFY(panel.isHidden()); // idle: hidden even though its parent shows
        auto *phase = panel.findChild<QLabel *>(QStringLiteral("phaseLabel"));
        auto *bar = panel.findChild<QProgressBar *>(QStringLiteral("progressBar"));
        auto *eta = panel.findChild<QLabel *>(QStringLiteral("etaLabel"));
        auto *cancel = panel.findChild<QPushButton *>(QStringLiteral("cancelButton"));
        QVERIFY(phase && bar && eta && cancel);

        // Another channel is ignored.
        std::atomic<bool> otherDone{false};
        runner.submit<int>(QStringLiteral("other"),
                           [&](const ProgressSink &, const CancelFlag &) -> Result<int> {
                               otherDone = true;
                               return 0;
                           });
        QTRY_VERIFY_WITH_TIMEOUT(otherDone.load() && runner.runningCount() == 0, 5000);
        QCOMPARE(panel.trackedJob(), quint64(0));

        JobOutcome<int> outcome;
        bool delivered = false;
        const quint64 id = runner.submit<int>(
            QStringLiteral("merge"),
            [](const ProgressSink &sink, const CancelFlag &cancel) -> Result<int> {
                Progress p = progressAt("merging", 5, 10);
                p.etaSeconds = 75;
                sink(p);
                if (!waitForCancel(cancel))
                    return 0;
                return basin::makeError(ErrorCode::Cancelled, "merge cancelled");
            },
            [&](const JobOutcome<int> &o) {
                outcome = o;
                delivered = true;
            });
        QCOMPARE(panel.trackedJob(), id);
        QVERIFY(panel.isVisible());
        QTRY_COMPARE_WITH_TIMEOUT(bar->value(), 500, 5000);
        QCOMPARE(bar->maximum(), 1000);
        QVERIFY(phase->text().contains(QStringLiteral("Merging")));
        QVERIFY(phase->text().contains(QStringLiteral("5 of 10")));
        QCOMPARE(eta->text(), QStringLiteral("1 min 15 s left"));

        QTest::mouseClick(cancel, Qt::LeftButton);
        QVERIFY(!cancel->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(delivered, 5000);
        QCOMPARE(outcome.state, JobState::Cancelled);
        QVERIFY(panel.isHidden());
        QCOMPARE(panel.trackedJob(), quint64(0));
    }

    void etaText_data()
    {
        QTest::addColumn<double>("seconds");
        QTest::addColumn<QString>("text");
        QTest::newRow("unknown") << -1.0 << QString();
        QTest::newRow("seconds") << 12.4 << QStringLiteral("12 s left");
        QTest::newRow("minutes") << 185.0 << QStringLiteral("3 min 05 s left");
        QTest::newRow("hours") << 4830.0 << QStringLiteral("1 h 20 min left");
    }

    void etaText()
    {
        QFETCH(double, seconds);
        QFETCH(QString, text);
        QCOMPARE(ProgressWidget::formatEta(seconds), text);
    }
};

QTEST_MAIN(TestJobRunner)
#include "tst_jobrunner.moc"
