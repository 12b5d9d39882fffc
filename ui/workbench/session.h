// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysisoptions.h"
#include "workbench/analysisresult.h"
#include "workbench/modelentry.h"

#include <QObject>
#include <QString>
#include <QStringList>

#include <deque>
#include <memory>
#include <vector>

namespace basin::ui {

class JobRunner;

// The workbench's document: the base and fine-tunes the user loaded, the analysis of that
// set, and the selected layer (a group index into the snapshot: embed, L0…, norm, head).
// Every view reads from here and reports selections back here, so panels added later
// (recipe, preview, export) connect to these signals instead of to each other.
//
// Opening and analysing run on the one JobRunner (jobRunner()); the GUI thread only sees
// finished, immutable results. Any change to the model list drops the current analysis at
// once, cancels a running pass and starts a new one when the set is analysable (a base and
// at least one fine-tune), so no view ever shows numbers of another model list.
class Session : public QObject {
    Q_OBJECT

public:
    explicit Session(QObject *parent = nullptr);
    ~Session() override;

    JobRunner *jobRunner() const { return m_runner; }

    // --- models -----------------------------------------------------------------------
    // The base (null when none) and the fine-tunes in order.
    const ModelEntry *base() const { return m_hasBase ? &m_base : nullptr; }
    const std::vector<ModelEntry> &fineTunes() const { return m_fineTunes; }
    int fineTuneCount() const { return static_cast<int>(m_fineTunes.size()); }
    // Paths of the loaded models, base first (only loaded ones; none while opening).
    QStringList modelPaths() const;
    // Problems of model `index` (0 = base, 1… = fine-tunes) found by the current analysis;
    // null while there is none.
    const ModelProblems *problemsOf(int index) const;
    // Models requested but still being opened.
    int pendingOpenCount() const { return static_cast<int>(m_pending.size()); }

    // Opens `path` in the background and makes it the base (replacing the current one)
    // once it opened. A model that fails to open leaves the list unchanged and emits
    // openFailed().
    void setBase(const QString &path);
    // Opens each path in the background and appends it as a fine-tune, in the given order.
    void addFineTunes(const QStringList &paths);
    // Drag and drop, command line and recent files: the first path becomes the base when
    // there is none, the others fine-tunes. A folder holding model folders (a family such
    // as the demo's base/, ft1/ …) is expanded into them, base/ first.
    void addModels(const QStringList &paths);
    void removeBase();
    void removeFineTune(int index);
    // Moves fine-tune `from` to position `to` (both 0-based; out-of-range calls are ignored).
    void moveFineTune(int from, int to);
    // Removes every model and cancels pending work.
    void clear();

    // --- analysis ---------------------------------------------------------------------
    // The analysis of the current model list; null while none is available.
    std::shared_ptr<const AnalysisResult> analysis() const { return m_analysis; }
    std::shared_ptr<const analysis::AnalysisSnapshot> snapshot() const;
    bool canAnalyse() const { return m_hasBase && !m_fineTunes.empty(); }
    bool isAnalysing() const { return m_analysisJob != 0; }
    const analysis::AnalysisOptions &analysisOptions() const { return m_options; }
    // Changes the options and re-runs the analysis.
    void setAnalysisOptions(const analysis::AnalysisOptions &options);
    // Runs the analysis again (after a cancel or a failure).
    void reanalyse();
    void cancelAnalysis();

    // --- selection --------------------------------------------------------------------
    // Selected group (row of the layer views), -1 for none (the views then show totals).
    int selectedGroup() const { return m_selectedGroup; }
    void setSelectedGroup(int group);

    // Opens folders containing model folders into their members (base/ first, then the
    // rest by name) and leaves other paths as they are; absolute, cleaned paths.
    static QStringList expandModelPaths(const QStringList &paths);

signals:
    void modelsChanged();
    // pendingOpenCount() changed.
    void pendingOpensChanged();
    void modelOpened(const QString &path);
    void openFailed(const QString &path, const QString &message);
    // A new analysis was submitted (the previous result is already dropped).
    void analysisStarted();
    // analysis() was replaced: a new result, or null when the list changed.
    void analysisChanged();
    // A result for the current model list arrived (after analysisChanged()).
    void analysisFinished();
    void analysisFailed(const QString &message);
    void analysisCancelled();
    void selectedGroupChanged(int group);

private:
    struct PendingOpen {
        quint64 sequence = 0;
        QString path;
        bool asBase = false;
        bool done = false;
        std::shared_ptr<const Checkpoint> checkpoint;
        QString error;
    };

    void open(const QString &path, bool asBase);
    void onOpened(quint64 sequence, std::shared_ptr<const Checkpoint> checkpoint,
                  const QString &error);
    void applyFinishedOpens();
    bool isLoaded(const QString &path) const;
    // The list changed: drop the analysis, cancel a running one, schedule a new one.
    void modelsEdited();
    void scheduleAnalysis();
    void startAnalysis();
    void setAnalysis(std::shared_ptr<const AnalysisResult> analysis);

    JobRunner *m_runner = nullptr;
    bool m_hasBase = false;
    ModelEntry m_base;
    std::vector<ModelEntry> m_fineTunes;
    std::deque<PendingOpen> m_pending;
    quint64 m_nextSequence = 1;

    analysis::AnalysisOptions m_options;
    std::shared_ptr<const AnalysisResult> m_analysis;
    quint64 m_analysisJob = 0;
    bool m_analysisScheduled = false;
    bool m_analysisDeferred = false; // waiting for pending opens before starting
    int m_selectedGroup = -1;
};

} // namespace basin::ui
