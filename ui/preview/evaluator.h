// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/progress.h"
#include "recipe/recipe.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>
#include <QTimer>

#include <deque>
#include <memory>
#include <optional>
#include <vector>

namespace basin::ui {

class JobRunner;

// `command` with every "{model}" replaced by the shell-quoted path.
QString expandEvaluatorCommand(const QString &command, const QString &modelPath);
// The last number written in `output` (integers, decimals, exponents, nan/inf excluded).
std::optional<double> lastNumberIn(const QString &output);
// Cache key of one evaluation: SHA-256 of the candidate's recipe YAML and the point.
QString evaluationKey(const recipe::Recipe &candidate, double x);

// Real evaluations of candidate merges (ANALYSIS.md, "Real evaluations"): each queued point
// is merged with the engine into a temporary folder (on a JobRunner worker), then the
// user's command runs on it through /bin/sh (QProcess, asynchronous, with a timeout); the
// last number it prints is the score. One point runs at a time; scores are cached by
// evaluationKey, so a repeated point does not merge or run again. The GUI never blocks:
// everything is signals. The CLI drives the same object with a local event loop.
class Evaluator : public QObject {
    Q_OBJECT

public:
    explicit Evaluator(JobRunner *runner, QObject *parent = nullptr);
    ~Evaluator() override;

    void setCommand(const QString &command) { m_command = command; }
    QString command() const { return m_command; }
    void setTimeoutMs(int ms) { m_timeoutMs = ms; }
    // Where candidate merges are written (default: a fresh temporary folder).
    void setWorkDir(const QString &dir) { m_workDir = dir; }

    // Queues one point; it starts at once when idle. Empty command: pointFailed.
    void enqueue(double x, const recipe::Recipe &candidate);
    // Drops the queue, stops the running merge or kills the running command. Emits
    // pointFailed ("cancelled") for the running point, then idle().
    void cancel();
    bool busy() const { return m_running.has_value() || !m_queue.empty(); }
    int pending() const { return int(m_queue.size()) + (m_running ? 1 : 0); }
    // Known scores by key (filled by finished evaluations, or seeded by the caller).
    const QHash<QString, double> &cache() const { return m_cache; }
    void insertCached(const QString &key, double score) { m_cache.insert(key, score); }

signals:
    void pointStarted(double x);
    void pointFinished(double x, double score, bool fromCache);
    void pointFailed(double x, const QString &message);
    // One line for the Log dock: the command, its output, failures.
    void logMessage(const QString &line);
    void idle();

private:
    struct Item {
        double x = 0.0;
        recipe::Recipe candidate;
        QString key;
    };
    void startNext();
    void mergeDone(bool ok, const QString &error);
    void processDone(int exitCode, QProcess::ExitStatus status);
    void fail(const QString &message);
    void finishRunning();
    QString workDir();

    JobRunner *m_runner = nullptr;
    QString m_command;
    int m_timeoutMs = 10 * 60 * 1000;
    QString m_workDir;
    std::unique_ptr<QTemporaryDir> m_tempDir;
    std::deque<Item> m_queue;
    std::optional<Item> m_running;
    QString m_modelDir;
    quint64 m_mergeJob = 0;
    QPointer<QProcess> m_process;
    QTimer m_timeout;
    QHash<QString, double> m_cache;
};

} // namespace basin::ui
