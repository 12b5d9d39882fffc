// SPDX-License-Identifier: GPL-3.0-or-later
#include "workbench/session.h"

#include "jobs/jobrunner.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTimer>

#include <algorithm>
#include <filesystem>

namespace basin::ui {

namespace {
const QString kAnalysisChannel = QStringLiteral("analysis");

QString openChannel(quint64 sequence)
{
    return QStringLiteral("open-%1").arg(sequence);
}

QString absolutePath(const QString &path)
{
    return QDir::cleanPath(QFileInfo(path).absoluteFilePath());
}

bool holdsWeights(const QDir &dir)
{
    return !dir.entryList({QStringLiteral("*.safetensors")}, QDir::Files).isEmpty() ||
           dir.exists(QStringLiteral("model.safetensors.index.json"));
}

using CheckpointPtr = std::shared_ptr<const Checkpoint>;
} // namespace

Session::Session(QObject *parent) : QObject(parent), m_runner(new JobRunner(this)) {}

Session::~Session()
{
    // Jobs hold no pointer to the session, but their done-handlers do: the runner must go
    // (cancelling and waiting for its jobs) while the session's members still exist.
    delete m_runner;
    m_runner = nullptr;
}

QStringList Session::modelPaths() const
{
    QStringList paths;
    if (m_hasBase)
        paths << m_base.path;
    for (const ModelEntry &entry : m_fineTunes)
        paths << entry.path;
    return paths;
}

const ModelProblems *Session::problemsOf(int index) const
{
    if (!m_analysis || index < 0 || index >= static_cast<int>(m_analysis->problems.size()))
        return nullptr;
    return &m_analysis->problems[static_cast<std::size_t>(index)];
}

void Session::setBase(const QString &path)
{
    if (!path.isEmpty())
        open(path, true);
}

void Session::addFineTunes(const QStringList &paths)
{
    for (const QString &path : paths) {
        if (!path.isEmpty())
            open(path, false);
    }
}

void Session::addModels(const QStringList &paths)
{
    const QStringList expanded = expandModelPaths(paths);
    // A base is already loaded or on its way: everything else is a fine-tune.
    bool baseComing = m_hasBase || std::any_of(m_pending.begin(), m_pending.end(),
                                               [](const PendingOpen &p) { return p.asBase; });
    for (const QString &path : expanded) {
        open(path, !baseComing);
        baseComing = true;
    }
}

void Session::removeBase()
{
    if (!m_hasBase)
        return;
    m_hasBase = false;
    m_base = ModelEntry();
    modelsEdited();
}

void Session::removeFineTune(int index)
{
    if (index < 0 || index >= fineTuneCount())
        return;
    m_fineTunes.erase(m_fineTunes.begin() + index);
    modelsEdited();
}

void Session::moveFineTune(int from, int to)
{
    if (from < 0 || to < 0 || from >= fineTuneCount() || to >= fineTuneCount() || from == to)
        return;
    ModelEntry entry = std::move(m_fineTunes[static_cast<std::size_t>(from)]);
    m_fineTunes.erase(m_fineTunes.begin() + from);
    m_fineTunes.insert(m_fineTunes.begin() + to, std::move(entry));
    modelsEdited();
}

void Session::clear()
{
    for (const PendingOpen &pending : m_pending)
        m_runner->cancel(openChannel(pending.sequence));
    const bool hadPending = !m_pending.empty();
    m_pending.clear();
    if (hadPending)
        emit pendingOpensChanged();
    m_hasBase = false;
    m_base = ModelEntry();
    m_fineTunes.clear();
    modelsEdited();
}

std::shared_ptr<const analysis::AnalysisSnapshot> Session::snapshot() const
{
    return m_analysis ? m_analysis->snapshot : nullptr;
}

void Session::setAnalysisOptions(const analysis::AnalysisOptions &options)
{
    m_options = options;
    reanalyse();
}

void Session::reanalyse()
{
    if (m_analysisJob != 0) {
        m_runner->cancel(kAnalysisChannel);
        m_analysisJob = 0;
    }
    setAnalysis(nullptr);
    scheduleAnalysis();
}

void Session::cancelAnalysis()
{
    m_analysisDeferred = false;
    if (m_analysisJob != 0)
        m_runner->cancel(kAnalysisChannel); // the handler reports the cancellation
}

void Session::setSelectedGroup(int group)
{
    const auto snap = snapshot();
    if (group < -1 || (snap && group >= static_cast<int>(snap->groups.size())))
        group = -1;
    if (group == m_selectedGroup)
        return;
    m_selectedGroup = group;
    emit selectedGroupChanged(group);
}

QStringList Session::expandModelPaths(const QStringList &paths)
{
    QStringList out;
    for (const QString &path : paths) {
        const QString absolute = absolutePath(path);
        const QFileInfo info(absolute);
        if (info.isDir() && !holdsWeights(QDir(absolute))) {
            QStringList members;
            const QDir dir(absolute);
            for (const QString &name :
                 dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
                if (holdsWeights(QDir(dir.filePath(name))))
                    members << name;
            }
            // A family folder: base first, the fine-tunes in name order.
            if (members.removeOne(QStringLiteral("base")))
                members.prepend(QStringLiteral("base"));
            for (const QString &name : std::as_const(members))
                out << QDir::cleanPath(dir.filePath(name));
            if (!members.isEmpty())
                continue;
        }
        out << absolute;
    }
    return out;
}

void Session::open(const QString &path, bool asBase)
{
    PendingOpen pending;
    pending.sequence = m_nextSequence++;
    pending.path = absolutePath(path);
    pending.asBase = asBase;
    m_pending.push_back(pending);

    const quint64 sequence = pending.sequence;
    const std::filesystem::path fsPath(QFile::encodeName(pending.path).toStdString());
    m_runner->submit<CheckpointPtr>(
        openChannel(sequence),
        [fsPath](const ProgressSink &sink, const CancelFlag &) -> Result<CheckpointPtr> {
            if (sink)
                sink(Progress{"opening", 0, 1, 0, 0, 0.0, -1.0});
            return Checkpoint::open(fsPath);
        },
        [this, sequence](const JobOutcome<CheckpointPtr> &outcome) {
            if (outcome.ok())
                onOpened(sequence, *outcome.value, {});
            else
                onOpened(sequence, nullptr, QString::fromStdString(outcome.error.message));
        });
    emit pendingOpensChanged();
}

void Session::onOpened(quint64 sequence, std::shared_ptr<const Checkpoint> checkpoint,
                       const QString &error)
{
    const auto it =
        std::find_if(m_pending.begin(), m_pending.end(),
                     [sequence](const PendingOpen &p) { return p.sequence == sequence; });
    if (it == m_pending.end())
        return; // cleared meanwhile
    it->done = true;
    it->checkpoint = std::move(checkpoint);
    it->error = error.isEmpty() ? tr("could not open the model") : error;
    applyFinishedOpens();
}

bool Session::isLoaded(const QString &path) const
{
    if (m_hasBase && m_base.path == path)
        return true;
    return std::any_of(m_fineTunes.begin(), m_fineTunes.end(),
                       [&path](const ModelEntry &e) { return e.path == path; });
}

void Session::applyFinishedOpens()
{
    // Models join the list in the order they were requested, whatever order their
    // headers finished reading in.
    bool changed = false;
    const std::size_t before = m_pending.size();
    while (!m_pending.empty() && m_pending.front().done) {
        PendingOpen pending = std::move(m_pending.front());
        m_pending.pop_front();
        if (!pending.checkpoint) {
            emit openFailed(pending.path, pending.error);
            continue;
        }
        const bool replacingBase = pending.asBase && m_hasBase && m_base.path == pending.path;
        if (isLoaded(pending.path) && !replacingBase) {
            emit openFailed(pending.path, tr("%1 is already loaded.").arg(pending.path));
            continue;
        }
        ModelEntry entry = ModelEntry::fromCheckpoint(pending.path, std::move(pending.checkpoint));
        if (pending.asBase) {
            m_base = std::move(entry);
            m_hasBase = true;
        } else {
            m_fineTunes.push_back(std::move(entry));
        }
        changed = true;
        emit modelOpened(pending.path);
    }
    if (m_pending.size() != before)
        emit pendingOpensChanged();
    if (changed)
        modelsEdited();
    else if (m_pending.empty() && m_analysisDeferred)
        scheduleAnalysis();
}

void Session::modelsEdited()
{
    if (m_analysisJob != 0) {
        m_runner->cancel(kAnalysisChannel);
        m_analysisJob = 0;
    }
    setAnalysis(nullptr);
    emit modelsChanged();
    scheduleAnalysis();
}

void Session::scheduleAnalysis()
{
    // Coalesce: several edits in one event-loop turn start one pass.
    if (m_analysisScheduled)
        return;
    m_analysisScheduled = true;
    QTimer::singleShot(0, this, [this] {
        m_analysisScheduled = false;
        startAnalysis();
    });
}

void Session::startAnalysis()
{
    if (!m_pending.empty()) {
        m_analysisDeferred = true;
        return;
    }
    m_analysisDeferred = false;
    if (!canAnalyse() || m_analysis || m_analysisJob != 0)
        return;

    std::vector<CheckpointPtr> models;
    models.push_back(m_base.checkpoint);
    for (const ModelEntry &entry : m_fineTunes)
        models.push_back(entry.checkpoint);
    const analysis::AnalysisOptions options = m_options;
    m_analysisJob = m_runner->submit<AnalysisResult>(
        kAnalysisChannel,
        [models = std::move(models), options](const ProgressSink &sink, const CancelFlag &cancel) {
            return runAnalysis(models, options, sink, cancel);
        },
        [this](const JobOutcome<AnalysisResult> &outcome) {
            if (outcome.id != m_analysisJob)
                return; // the list changed since: this result describes other models
            m_analysisJob = 0;
            switch (outcome.state) {
            case JobState::Succeeded:
                setAnalysis(outcome.value);
                emit analysisFinished();
                break;
            case JobState::Cancelled:
                emit analysisCancelled();
                break;
            case JobState::Failed:
            case JobState::Superseded:
                emit analysisFailed(QString::fromStdString(outcome.error.message));
                break;
            }
        });
    emit analysisStarted();
}

void Session::setAnalysis(std::shared_ptr<const AnalysisResult> analysis)
{
    if (!analysis && !m_analysis)
        return;
    m_analysis = std::move(analysis);
    emit analysisChanged();
    if (m_analysis && m_selectedGroup >= static_cast<int>(m_analysis->snapshot->groups.size())) {
        m_selectedGroup = -1;
        emit selectedGroupChanged(-1);
    }
}

} // namespace basin::ui
