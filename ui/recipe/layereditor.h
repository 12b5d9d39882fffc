// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "recipe/recipeedits.h"

#include <QWidget>

#include <functional>
#include <memory>

class QComboBox;
class QLabel;
class QPushButton;
class QTabBar;

namespace basin::analysis {
struct AnalysisSnapshot;
}

namespace basin::ui {

class LayerPointPlot;
class RecipeDocument;

// The per-layer editor: pick a model row and one of the method's per-model number
// parameters, pick a scope (all tensors / attention / MLP), then shape the curve by
// dragging points or applying a preset. Every model's curve of that parameter is drawn,
// faded, behind the edited one. Values are saved as gradient lists with one anchor per
// layer (exact under mergekit's gradient rule); a drag is one undo step.
class LayerEditor : public QWidget {
    Q_OBJECT

public:
    enum class Preset { Flat, RampUp, RampDown, Bell, Lines, ModelStock };

    explicit LayerEditor(RecipeDocument *document, QWidget *parent = nullptr);
    ~LayerEditor() override;

    // Layers of the models (num_hidden_layers); 0 disables editing.
    void setLayerCount(int layers);
    int layerCount() const { return m_layers; }
    // Where the Model Stock preset reads per-layer t from; may return null.
    void setSnapshotProvider(
        std::function<std::shared_ptr<const analysis::AnalysisSnapshot>()> provider);

    // Selection (rows index recipe.models; the parameter is a declared name).
    void setCurrent(int row, const QString &parameter, LayerScope scope);
    int currentRow() const;
    QString currentParameter() const;
    LayerScope currentScope() const;

    // Applies a preset to the current curve as one undo step; false when it cannot
    // (Model Stock without an analysis).
    bool applyPreset(Preset preset);

    LayerPointPlot *plot() const { return m_plot; }
    QComboBox *modelCombo() const { return m_modelCombo; }
    QComboBox *parameterCombo() const { return m_paramCombo; }
    QTabBar *scopeTabs() const { return m_scopeTabs; }
    QComboBox *presetCombo() const { return m_presetCombo; }

private:
    void rebuildChoices();
    void refreshCurves();
    void pushValues(const std::vector<double> &values, const QString &text, bool continuous);
    double parameterDefault() const;
    double parameterMinimum() const;
    double parameterMaximum() const;

    RecipeDocument *m_document;
    int m_layers = 0;
    std::function<std::shared_ptr<const analysis::AnalysisSnapshot>()> m_snapshot;
    QComboBox *m_modelCombo = nullptr;
    QComboBox *m_paramCombo = nullptr;
    QTabBar *m_scopeTabs = nullptr;
    QComboBox *m_presetCombo = nullptr;
    QPushButton *m_applyPreset = nullptr;
    QLabel *m_hint = nullptr;
    LayerPointPlot *m_plot = nullptr;
    bool m_rebuilding = false;
};

} // namespace basin::ui
