// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "plots/plotwidget.h"

#include <optional>
#include <vector>

namespace basin::ui {

// A line over the shared x values of CurveData; NaN leaves a gap.
struct Curve {
    QString name;
    std::vector<double> y;
};

// Measured points (e.g. evaluation scores at some α), drawn as markers only on the
// second y axis: never joined, never interpolated.
struct MeasuredSeries {
    QString name;
    std::vector<double> x, y;
};

struct CurveData {
    QString title;  // e.g. "weight-space proxy vs α"
    QString xLabel; // e.g. "α"
    QString yLabel;
    QString y2Label; // e.g. "perplexity"; the second axis shows only with measured series
    std::vector<double> x;
    std::vector<Curve> curves;
    std::vector<MeasuredSeries> measured;
};

// Several named curves over one x variable, optional measured markers on a second y axis,
// and a vertical line marking the current value of x (the slider position).
class CurvePlotWidget : public PlotWidget {
    Q_OBJECT

public:
    explicit CurvePlotWidget(QWidget *parent = nullptr);
    ~CurvePlotWidget() override;

    // Replaces the snapshot and redraws. A curve longer or shorter than x is drawn over
    // the points both have.
    void setData(CurveData data);
    const CurveData &data() const { return m_data; }

    // Moves the marker line; cheap enough to call on every slider step.
    void setCurrentValue(double x);
    void clearCurrentValue();
    std::optional<double> currentValue() const { return m_current; }

    // Curves as "x, <curve>…" one row per x; measured series follow after a blank line as
    // "series, x, y" rows.
    QString dataAsTsv() const override;
    void resetView() override;

protected:
    void applyPalette() override;

private:
    void rebuild();

    CurveData m_data;
    std::optional<double> m_current;
    QCPItemStraightLine *m_marker = nullptr;
};

} // namespace basin::ui
