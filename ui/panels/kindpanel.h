// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "panels/plotpanel.h"
#include "workbench/metric.h"

#include <vector>

class QComboBox;

namespace basin::ui {

class HeatmapWidget;

// The per-kind heatmap: rows = transformer layers, columns = tensor kinds (q, k, v, o,
// gate, up, down, norm, …), for one fine-tune (per-model metrics) or one pair (pair
// metrics). Clicking a row selects that layer.
class KindPanel : public PlotPanel {
    Q_OBJECT

public:
    explicit KindPanel(Session *session, QWidget *parent = nullptr);
    ~KindPanel() override;

    HeatmapWidget *heatmap() const { return m_heatmap; }
    QComboBox *metricBox() const { return m_metricBox; }
    // Fine-tunes or pairs, by the metric.
    QComboBox *targetBox() const { return m_targetBox; }
    Metric metric() const;

protected:
    void refresh() override;

private:
    void fillTargets();
    void redraw();
    void showSelection(int group);

    QComboBox *m_metricBox = nullptr;
    QComboBox *m_targetBox = nullptr;
    HeatmapWidget *m_heatmap = nullptr;
    std::vector<int> m_rowGroups; // snapshot group of each heatmap row
    bool m_filling = false;
};

} // namespace basin::ui
