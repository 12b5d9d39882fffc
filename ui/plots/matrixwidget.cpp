// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/matrixwidget.h"

#include "plots/plotcolors.h"

#include <QFontMetrics>
#include <QLocale>

#include <cmath>

namespace basin::ui {

MatrixWidget::MatrixWidget(QWidget *parent) : HeatmapWidget(parent)
{
    setExportName(QStringLiteral("matrix"));
    connect(this, &QCustomPlot::afterLayout, this, &MatrixWidget::updateTextVisibility);
}

MatrixWidget::~MatrixWidget() = default;

QString MatrixWidget::cellText(int row, int col) const
{
    const QCPItemText *item = textItem(row, col);
    return item ? item->text() : QString();
}

QColor MatrixWidget::cellTextColor(int row, int col) const
{
    const QCPItemText *item = textItem(row, col);
    return item ? item->color() : QColor();
}

void MatrixWidget::onDataChanged()
{
    for (QCPItemText *item : m_texts) {
        if (item)
            removeItem(item);
    }
    m_texts.clear();

    const HeatmapData &d = data();
    m_texts.resize(d.values.size(), nullptr);
    const QLocale locale;
    for (int r = 0; r < d.rows; ++r) {
        for (int c = 0; c < d.cols; ++c) {
            const double v = d.at(r, c);
            if (std::isnan(v))
                continue;
            auto *item = new QCPItemText(this);
            item->setSelectable(false);
            item->setClipToAxisRect(true);
            item->setPositionAlignment(Qt::AlignCenter);
            item->position->setCoords(c, r);
            item->setText(locale.toString(v, 'f', std::max(0, d.decimals)));
            item->setFont(font());
            // Chosen once per snapshot here, never in paint code.
            item->setColor(plotcolors::contrastingTextColor(colorFor(v)));
            m_texts[static_cast<std::size_t>(r) * static_cast<std::size_t>(d.cols) +
                    static_cast<std::size_t>(c)] = item;
        }
    }
    m_textsVisible = true;
}

QCPItemText *MatrixWidget::textItem(int row, int col) const
{
    const HeatmapData &d = data();
    if (row < 0 || col < 0 || row >= d.rows || col >= d.cols)
        return nullptr;
    return m_texts[static_cast<std::size_t>(row) * static_cast<std::size_t>(d.cols) +
                   static_cast<std::size_t>(col)];
}

void MatrixWidget::updateTextVisibility()
{
    const HeatmapData &d = data();
    if (d.rows == 0 || d.cols == 0)
        return;
    const QFontMetrics metrics(font());
    int widest = 0;
    for (const QCPItemText *item : m_texts) {
        if (item)
            widest = std::max(widest, metrics.horizontalAdvance(item->text()));
    }
    const double cellWidth = std::abs(xAxis->coordToPixel(1) - xAxis->coordToPixel(0));
    const double cellHeight = std::abs(yAxis->coordToPixel(1) - yAxis->coordToPixel(0));
    m_textsVisible = cellWidth >= widest + 4 && cellHeight >= metrics.height();
    for (QCPItemText *item : m_texts) {
        if (item)
            item->setVisible(m_textsVisible);
    }
}

} // namespace basin::ui
