// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "plots/heatmapdata.h"
#include "plots/plotwidget.h"

#include <QPoint>

namespace basin::ui {

// A matrix of one metric drawn cell by cell (no interpolation): rows top to bottom in
// label order, text labels on both axes, a colour scale titled with the value name.
// Hovering shows "row · column: value"; clicking a cell selects its row.
class HeatmapWidget : public PlotWidget {
    Q_OBJECT

public:
    explicit HeatmapWidget(QWidget *parent = nullptr);
    ~HeatmapWidget() override;

    // Replaces the snapshot and redraws. Values beyond rows * cols are ignored, missing
    // ones are treated as NaN, missing labels become row/column numbers.
    void setData(HeatmapData data);
    const HeatmapData &data() const { return m_data; }

    // The value at (row, col); NaN if the cell holds no value or is out of range.
    double cellValue(int row, int col) const;

    // Centre of a cell in widget coordinates, as laid out by the last replot; (-1, -1)
    // for a cell outside the matrix.
    QPoint cellCenter(int row, int col) const;

    // (row, col) of the cell under a widget position, or (-1, -1) if there is none.
    std::pair<int, int> cellAt(const QPoint &pos) const;

    // "row · column: value" with the value's shortest exact decimal form.
    QString toolTipForCell(int row, int col) const;

    // The highlighted row (-1: none). setSelectedRow() does not emit rowSelected, which
    // reports user clicks and key presses only, so views can sync without loops.
    int selectedRow() const { return m_selectedRow; }
    void setSelectedRow(int row);

    // Colour range in use (fixed, or derived from the data in setData()).
    QCPRange colorRange() const { return m_colorRange; }

    // Colour a value is drawn with under the current gradient and range.
    QColor colorFor(double value) const;

    QString dataAsTsv() const override;
    void resetView() override;

signals:
    void cellClicked(int row, int col);
    void rowSelected(int row);

protected:
    // Called at the end of setData() once the map and ranges are up to date, so
    // subclasses can add per-cell decorations.
    virtual void onDataChanged() {}

    void applyPalette() override;
    bool event(QEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;

    QCPColorMap *colorMap() const { return m_map; }

private:
    void updateMap();
    void updateTickers();
    void updateLabelDensity();
    void updateSelectionOutline();

    HeatmapData m_data;
    QCPRange m_colorRange{0.0, 1.0};
    QCPColorMap *m_map = nullptr;
    QCPColorScale *m_scale = nullptr;
    QCPItemRect *m_outlineOuter = nullptr;
    QCPItemRect *m_outlineInner = nullptr;
    int m_selectedRow = -1;
    int m_rowLabelStep = 1; // label every n-th row/column when cells are too small for text
    int m_colLabelStep = 1;
    QPoint m_pressPos{-1, -1};
};

} // namespace basin::ui
