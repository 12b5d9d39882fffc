// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "plots/plotwidget.h"

#include <QColor>
#include <QPoint>

#include <functional>
#include <optional>
#include <vector>

namespace basin::ui {

// One draggable point per layer for the curve being edited, over the other models' curves
// in faded colours. Drag a point vertically; shift-drag sweeps a range of layers to the
// pointer's value; double-click asks for a value. Edits are reported, not applied: the
// owner pushes them to the recipe and calls setCurves() back.
class LayerPointPlot : public PlotWidget {
    Q_OBJECT

public:
    struct Background {
        QString name;
        std::vector<double> values;
        QColor color;
    };

    explicit LayerPointPlot(QWidget *parent = nullptr);
    ~LayerPointPlot() override;

    // The edited curve (one value per layer), the other curves, and the value range the
    // points may take.
    void setCurves(const std::vector<double> &values, const QColor &color,
                   const std::vector<Background> &others, double minimum, double maximum);
    const std::vector<double> &values() const { return m_values; }

    // Pixel position of a layer's point in widget coordinates (for tests and tooltips).
    QPoint pointPosition(int layer);
    // The value a pixel row stands for, clamped to the range.
    double valueAt(int pixelY) const;
    // Replaces the double-click prompt (tests): returns the typed value, or nothing.
    void setValuePrompt(std::function<std::optional<double>(int layer, double current)> prompt)
    {
        m_prompt = std::move(prompt);
    }

    QString dataAsTsv() const override;

signals:
    void editStarted();
    void valuesEdited(const std::vector<double> &values);
    void editFinished();

protected:
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;

private:
    int pointNear(const QPoint &pos);
    int layerAtX(int pixelX) const;
    void rebuild();

    std::vector<double> m_values;
    QColor m_color;
    std::vector<Background> m_others;
    double m_min = 0.0, m_max = 1.0;
    int m_dragLayer = -1; // the point grabbed; -1 when not dragging
    bool m_sweep = false; // shift-drag: every layer between grab and pointer follows
    std::function<std::optional<double>(int, double)> m_prompt;
};

} // namespace basin::ui
