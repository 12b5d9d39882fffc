// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysissnapshot.h"
#include "analysis/curves.h"
#include "analysis/preview.h"
#include "recipe/recipe.h"

#include <QWidget>

#include <map>
#include <memory>
#include <optional>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace basin::ui {

class CurvePlotWidget;
class Evaluator;
class HeatmapWidget;
class JobRunner;

// The Preview dock (docs/PREVIEW.md): interpolation curves of weight-space proxies over a
// chosen variable, the live "retention under the current recipe" heatmap (layers × models),
// and real evaluations of candidate merges drawn as markers on a second axis. Every
// recomputation runs on the JobRunner's "preview" channel, so a newer request (a slider
// moved again) supersedes the running one and stale results are never shown.
class PreviewPanel : public QWidget {
    Q_OBJECT

public:
    explicit PreviewPanel(JobRunner *runner, QWidget *parent = nullptr);
    ~PreviewPanel() override;

    // A new analysis (null clears the views).
    void setSnapshot(std::shared_ptr<const analysis::AnalysisSnapshot> snapshot);
    // The recipe being edited; nothing = no recipe (α and density curves still work).
    void setRecipe(std::optional<recipe::Recipe> recipe);

    // The curve selection (also driven by the combo boxes).
    void setVariable(analysis::CurveVariable variable);
    void setModels(int a, int b);        // α ends, snapshot model indices (0 = base)
    void setModel(int model);            // weight / density model
    void setScope(const QString &scope); // "" or "global", "L3", "embed", …

    // Evaluations: the command (with {model}) and the points to evaluate.
    void setEvaluatorCommand(const QString &command);
    void setEvaluationPoints(const QString &commaSeparated);
    void evaluatePoints();
    void cancelEvaluations();
    bool importScores(const QString &path, QString *error);
    bool exportScores(const QString &path, QString *error) const;
    const std::map<double, double> &scores() const { return m_scores; }

    CurvePlotWidget *curvePlot() const { return m_plot; }
    HeatmapWidget *retentionMap() const { return m_heatmap; }
    Evaluator *evaluator() const { return m_evaluator; }
    QString statusText() const;
    // Results delivered so far (tests count them; superseded requests never count).
    int updates() const { return m_updates; }
    const std::optional<analysis::Preview> &preview() const { return m_preview; }
    const std::optional<analysis::CurveSet> &curves() const { return m_curves; }

signals:
    // A line for the Log dock.
    void logMessage(const QString &line);
    // A recomputation was delivered (curves and heatmap are up to date).
    void updated();

private:
    void buildUi();
    void fillSelectors();
    void scheduleRecompute();
    void applyScores();
    analysis::CurveRequest currentRequest() const;

    JobRunner *m_runner = nullptr;
    std::shared_ptr<const analysis::AnalysisSnapshot> m_snapshot;
    std::optional<recipe::Recipe> m_recipe;
    std::optional<analysis::Preview> m_preview;
    std::optional<analysis::CurveSet> m_curves;
    std::map<double, double> m_scores;
    int m_updates = 0;
    bool m_filling = false;

    QComboBox *m_variable = nullptr;
    QComboBox *m_modelA = nullptr;
    QComboBox *m_modelB = nullptr;
    QComboBox *m_model = nullptr;
    QComboBox *m_scope = nullptr;
    QLabel *m_status = nullptr;
    CurvePlotWidget *m_plot = nullptr;
    HeatmapWidget *m_heatmap = nullptr;
    QLineEdit *m_command = nullptr;
    QLineEdit *m_points = nullptr;
    QPushButton *m_evaluate = nullptr;
    QPushButton *m_cancel = nullptr;
    Evaluator *m_evaluator = nullptr;
};

} // namespace basin::ui
