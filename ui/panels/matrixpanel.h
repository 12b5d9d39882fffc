// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "panels/plotpanel.h"
#include "workbench/metric.h"

class QComboBox;
class QToolButton;

namespace basin::ui {

class MatrixWidget;

// The T×T matrix of a pair metric (cosine, sign conflict, pairwise TIES disagreement) for
// the selected layer, or for the whole model when no layer is selected or "All layers" is
// on. Values are written in the cells.
class MatrixPanel : public PlotPanel {
    Q_OBJECT

public:
    explicit MatrixPanel(Session *session, QWidget *parent = nullptr);
    ~MatrixPanel() override;

    MatrixWidget *matrix() const { return m_matrix; }
    QComboBox *metricBox() const { return m_metricBox; }
    QToolButton *globalButton() const { return m_global; }
    // Group shown (-1: all layers).
    int shownGroup() const { return m_shownGroup; }

protected:
    void refresh() override;

private:
    QComboBox *m_metricBox = nullptr;
    QToolButton *m_global = nullptr;
    MatrixWidget *m_matrix = nullptr;
    int m_shownGroup = -1;
};

} // namespace basin::ui
