// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "jobs/jobrunner.h"
#include "panels/plotpanel.h"
#include "plots/histogramwidget.h"
#include "workbench/distribution.h"

#include <memory>

#include <vector>

class QComboBox;
class QMenu;
class QToolButton;

namespace basin::ui {

struct AnalysisResult;

// The distribution of one tensor's task vectors for the chosen fine-tunes:
// - log |τ|, from the exact bit histograms the analysis kept (instant);
// - signed τ, read from the checkpoints by a background job (never on the GUI thread);
// - for bf16 models, |τ| in bf16 steps of the base value.
// The tensor list follows the selected layer (all tensors when none is selected).
class DistributionPanel : public PlotPanel {
    Q_OBJECT

public:
    enum class Mode { LogAbs, Signed, Ulp };

    explicit DistributionPanel(Session *session, QWidget *parent = nullptr);
    ~DistributionPanel() override;

    HistogramWidget *histogram() const { return m_histogram; }
    QComboBox *tensorBox() const { return m_tensorBox; }
    QComboBox *modeBox() const { return m_modeBox; }
    QToolButton *modelsButton() const { return m_modelsButton; }

    Mode mode() const;
    void setMode(Mode mode);
    // Full name of the tensor shown ("" when none).
    QString tensorName() const;
    void setTensorName(const QString &name);
    // Fine-tunes (0-based) whose series are drawn.
    std::vector<int> chosenModels() const;

signals:
    // The histogram shows data for the current choice (after a background job, if any).
    void histogramUpdated();

protected:
    void refresh() override;

private:
    void fillTensors();
    void fillModels();
    void updateModes();
    void redraw();
    void onSignedDone(quint64 id, const std::shared_ptr<const AnalysisResult> &analysis,
                      const std::shared_ptr<const Distribution> &data, JobState state,
                      const QString &message);

    QComboBox *m_tensorBox = nullptr;
    QComboBox *m_modeBox = nullptr;
    QToolButton *m_modelsButton = nullptr;
    QMenu *m_modelsMenu = nullptr;
    HistogramWidget *m_histogram = nullptr;
    bool m_filling = false;
    quint64 m_job = 0;
};

} // namespace basin::ui
