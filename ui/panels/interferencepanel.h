// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "panels/plotpanel.h"
#include "plots/heatmapdata.h"
#include "workbench/metric.h"

class QComboBox;

namespace basin::ui {

class HeatmapWidget;

// The interference heatmap: rows = layers (plus embed, norm, head), columns = pairs of
// fine-tunes or fine-tunes, colour = the chosen metric. Clicking a row selects that layer
// in the session. The metric is remembered across sessions.
class InterferencePanel : public PlotPanel {
    Q_OBJECT

public:
    explicit InterferencePanel(Session *session, QWidget *parent = nullptr);
    ~InterferencePanel() override;

    HeatmapWidget *heatmap() const { return m_heatmap; }
    QComboBox *metricBox() const { return m_metricBox; }
    Metric metric() const;
    void setMetric(Metric metric);

protected:
    void refresh() override;

private:
    QComboBox *m_metricBox = nullptr;
    HeatmapWidget *m_heatmap = nullptr;
};

// The footnote of a heatmap with undefined (grey) cells; "" when every cell has a value.
QString noValueNote(const HeatmapData &data);
// Minimum width of a combo box that shows at least `characters` characters.
int shrinkableWidth(const QComboBox *box, int characters);
// Fills a combo box with the metrics (key as item data, explanation as tooltip).
void fillMetricBox(QComboBox *box, const QList<Metric> &metrics);
Metric metricOf(const QComboBox *box);
void selectMetric(QComboBox *box, Metric metric);

} // namespace basin::ui
