// SPDX-License-Identifier: GPL-3.0-or-later
#include "preview/evaluator.h"

#include "engine/mergerunner.h"
#include "io/sha256.h"
#include "jobs/jobrunner.h"
#include "recipe/yamlwriter.h"

#include <QDir>
#include <QRegularExpression>

#include <cmath>
#include <csignal>
#include <span>

#include <sys/types.h>
#include <unistd.h>

namespace basin::ui {

QString expandEvaluatorCommand(const QString &command, const QString &modelPath)
{
    // Single quotes keep every character literal in sh; a quote inside is closed, escaped
    // and reopened.
    QString quoted = modelPath;
    quoted.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
    quoted = QLatin1Char('\'') + quoted + QLatin1Char('\'');
    QString expanded = command;
    expanded.replace(QStringLiteral("{model}"), quoted);
    return expanded;
}

std::optional<double> lastNumberIn(const QString &output)
{
    static const QRegularExpression number(
        QStringLiteral("[-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?"));
    std::optional<double> last;
    auto it = number.globalMatch(output);
    while (it.hasNext()) {
        bool ok = false;
        const double value = it.next().captured(0).toDouble(&ok);
        if (ok && std::isfinite(value))
            last = value;
    }
    return last;
}

QString evaluationKey(const recipe::Recipe &candidate, double x)
{
    std::string text = recipe::writeRecipeString(candidate);
    text += "\n# x = " + QString::number(x, 'g', 17).toStdString() + "\n";
    return QString::fromStdString(
        Sha256::hexOf(std::as_bytes(std::span<const char>(text.data(), text.size()))));
}

namespace {

// The command runs in its own process group (see mergeDone), so stopping it stops what
// the shell started too (a perplexity run would otherwise outlive a cancelled sh).
void stopProcess(QProcess *process)
{
    if (process->processId() > 0)
        ::kill(-static_cast<pid_t>(process->processId()), SIGKILL);
    process->kill();
    process->waitForFinished(2000);
}

} // namespace

Evaluator::Evaluator(JobRunner *runner, QObject *parent) : QObject(parent), m_runner(runner)
{
    m_timeout.setSingleShot(true);
    connect(&m_timeout, &QTimer::timeout, this, [this] {
        if (!m_process)
            return;
        const int seconds = m_timeoutMs / 1000;
        QProcess *process = m_process;
        m_process = nullptr;
        process->disconnect(this);
        stopProcess(process);
        process->deleteLater();
        fail(tr("the evaluator did not finish within %1 s and was stopped").arg(seconds));
        startNext();
    });
}

Evaluator::~Evaluator()
{
    m_queue.clear();
    if (m_process) {
        m_process->disconnect(this);
        stopProcess(m_process);
    }
    if (m_mergeJob && m_runner)
        m_runner->cancelJob(m_mergeJob);
}

QString Evaluator::workDir()
{
    if (!m_workDir.isEmpty())
        return m_workDir;
    if (!m_tempDir)
        m_tempDir = std::make_unique<QTemporaryDir>(QDir::tempPath() +
                                                    QStringLiteral("/basin-eval-XXXXXX"));
    return m_tempDir->path();
}

void Evaluator::enqueue(double x, const recipe::Recipe &candidate)
{
    Item item{x, candidate, evaluationKey(candidate, x)};
    m_queue.push_back(std::move(item));
    if (!m_running)
        startNext();
}

void Evaluator::cancel()
{
    const bool wasBusy = busy();
    m_queue.clear();
    if (m_running) {
        if (m_mergeJob && m_runner)
            m_runner->cancelJob(m_mergeJob);
        m_mergeJob = 0;
        if (m_process) {
            QProcess *process = m_process;
            m_process = nullptr;
            process->disconnect(this);
            stopProcess(process);
            process->deleteLater();
        }
        m_timeout.stop();
        const double x = m_running->x;
        finishRunning();
        emit logMessage(tr("Evaluation cancelled at x = %1").arg(x));
        emit pointFailed(x, tr("cancelled"));
    }
    if (wasBusy)
        emit idle();
}

void Evaluator::startNext()
{
    while (!m_running && !m_queue.empty()) {
        m_running = std::move(m_queue.front());
        m_queue.pop_front();
        const Item &item = *m_running;
        emit pointStarted(item.x);
        if (auto cached = m_cache.find(item.key); cached != m_cache.end()) {
            const double x = item.x;
            const double score = cached.value();
            m_running.reset();
            emit pointFinished(x, score, true);
            continue;
        }
        if (m_command.trimmed().isEmpty()) {
            fail(tr("no evaluator command is set"));
            continue;
        }
        if (!m_command.contains(QStringLiteral("{model}"))) {
            fail(tr("the evaluator command has no {model} placeholder"));
            continue;
        }
        m_modelDir = workDir() + QLatin1Char('/') + item.key.left(16);
        QDir(m_modelDir).removeRecursively();
        emit logMessage(tr("Evaluating x = %1: merging into %2").arg(item.x).arg(m_modelDir));
        engine::MergeRequest request;
        request.recipe = item.candidate;
        request.outDir = m_modelDir.toStdString();
        request.options.overwrite = true;
        QPointer<Evaluator> self(this);
        if (!m_runner) {
            fail(tr("no job runner"));
            continue;
        }
        m_mergeJob = m_runner->submit<engine::MergeReport>(
            QStringLiteral("evaluate-merge"),
            [request](const ProgressSink &progress, const CancelFlag &cancel) {
                return engine::runMerge(request, progress, cancel);
            },
            [self](const JobOutcome<engine::MergeReport> &outcome) {
                if (!self || outcome.id != self->m_mergeJob)
                    return; // cancelled meanwhile
                self->m_mergeJob = 0;
                self->mergeDone(outcome.ok(), QString::fromStdString(outcome.error.message));
            });
    }
    if (!m_running && m_queue.empty())
        emit idle();
}

void Evaluator::mergeDone(bool ok, const QString &error)
{
    if (!m_running)
        return;
    if (!ok) {
        fail(tr("the candidate merge failed: %1").arg(error));
        startNext();
        return;
    }
    const QString command = expandEvaluatorCommand(m_command, m_modelDir);
    emit logMessage(tr("$ %1").arg(command));
    auto *process = new QProcess(this);
    m_process = process;
    process->setProgram(QStringLiteral("/bin/sh"));
    process->setArguments({QStringLiteral("-c"), command});
    process->setChildProcessModifier([] { ::setpgid(0, 0); });
    connect(process, &QProcess::finished, this, &Evaluator::processDone);
    connect(process, &QProcess::errorOccurred, this, [this, process](QProcess::ProcessError e) {
        if (e != QProcess::FailedToStart || process != m_process)
            return;
        m_process = nullptr;
        process->deleteLater();
        m_timeout.stop();
        fail(tr("the evaluator could not start: %1").arg(process->errorString()));
        startNext();
    });
    m_timeout.start(m_timeoutMs);
    process->start();
}

void Evaluator::processDone(int exitCode, QProcess::ExitStatus status)
{
    QProcess *process = m_process;
    if (!process || !m_running)
        return;
    m_process = nullptr;
    m_timeout.stop();
    const QString out = QString::fromLocal8Bit(process->readAllStandardOutput());
    const QString err = QString::fromLocal8Bit(process->readAllStandardError());
    process->deleteLater();
    for (const QString &line : out.split(QLatin1Char('\n'), Qt::SkipEmptyParts))
        emit logMessage(line);
    for (const QString &line : err.split(QLatin1Char('\n'), Qt::SkipEmptyParts))
        emit logMessage(tr("stderr: %1").arg(line));
    if (status != QProcess::NormalExit || exitCode != 0) {
        const QString tail = err.trimmed().split(QLatin1Char('\n')).last();
        fail(status != QProcess::NormalExit
                 ? tr("the evaluator crashed")
                 : tr("the evaluator exited with code %1%2")
                       .arg(exitCode)
                       .arg(tail.isEmpty() ? QString() : QStringLiteral(": ") + tail));
        startNext();
        return;
    }
    const auto score = lastNumberIn(out);
    if (!score) {
        fail(tr("the evaluator printed no number on stdout"));
        startNext();
        return;
    }
    const double x = m_running->x;
    m_cache.insert(m_running->key, *score);
    finishRunning();
    emit logMessage(tr("Score at x = %1: %2").arg(x).arg(*score, 0, 'g', 10));
    emit pointFinished(x, *score, false);
    startNext();
}

void Evaluator::fail(const QString &message)
{
    if (!m_running)
        return;
    const double x = m_running->x;
    finishRunning();
    emit logMessage(tr("Evaluation at x = %1 failed: %2").arg(x).arg(message));
    emit pointFailed(x, message);
}

void Evaluator::finishRunning()
{
    if (!m_modelDir.isEmpty())
        QDir(m_modelDir).removeRecursively();
    m_modelDir.clear();
    m_running.reset();
}

} // namespace basin::ui
