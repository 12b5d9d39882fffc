// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "plots/plotwidget.h"

#include <vector>

namespace basin::ui {

// One histogram: counts[i] falls in [edges[i], edges[i + 1]).
struct HistogramSeries {
    QString name;
    std::vector<double> edges; // counts.size() + 1, increasing
    std::vector<double> counts;
};

struct HistogramData {
    QString title;
    QString xLabel;                      // e.g. "τ" or "log10 |τ|"
    QString yLabel;                      // empty: "count"
    std::vector<HistogramSeries> series; // usually one per model, on the same bins
};

// Several histograms over one x axis, drawn as step lines or as translucent filled bars
// so overlapping series stay visible; optional logarithmic x axis; legend with the
// series names.
class HistogramWidget : public PlotWidget {
    Q_OBJECT

public:
    enum class Style { Steps, Bars };

    explicit HistogramWidget(QWidget *parent = nullptr);
    ~HistogramWidget() override;

    // Replaces the snapshot and redraws. A series whose edges do not number counts + 1 is
    // drawn over the bins both describe (the shorter wins).
    void setData(HistogramData data);
    const HistogramData &data() const { return m_data; }

    void setStyle(Style style);
    Style style() const { return m_style; }

    // Logarithmic x axis; bins with a lower edge <= 0 are then not drawn (they stay in
    // the TSV export).
    void setLogX(bool enabled);
    bool logX() const { return m_logX; }

    // Shared bins: "lower, upper, <series>…" one row per bin. Different bins per series:
    // long form "series, lower, upper, count".
    QString dataAsTsv() const override;
    void resetView() override;

private:
    void rebuild();

    HistogramData m_data;
    Style m_style = Style::Bars;
    bool m_logX = false;
};

} // namespace basin::ui
