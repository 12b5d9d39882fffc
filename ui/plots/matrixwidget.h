// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "plots/heatmapwidget.h"

#include <vector>

namespace basin::ui {

// A small square matrix (e.g. pairwise cosines of T fine-tunes for one layer) drawn as a
// heatmap with each value written in its cell, in black or white for contrast. Values
// are hidden when the cells are too small to hold them; the tooltip still shows them.
class MatrixWidget : public HeatmapWidget {
    Q_OBJECT

public:
    explicit MatrixWidget(QWidget *parent = nullptr);
    ~MatrixWidget() override;

    // Text written in a cell ("" for no value or out of range), rounded to data().decimals.
    QString cellText(int row, int col) const;

    // Colour of that text: whichever of black and white contrasts more with the cell.
    QColor cellTextColor(int row, int col) const;

    // Whether the cell texts fit and are drawn at the current size.
    bool cellTextsVisible() const { return m_textsVisible; }

protected:
    void onDataChanged() override;

private:
    void updateTextVisibility();
    QCPItemText *textItem(int row, int col) const;

    std::vector<QCPItemText *> m_texts; // row-major, null for cells without a value
    bool m_textsVisible = true;
};

} // namespace basin::ui
