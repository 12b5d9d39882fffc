// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "plots/qcp.h"

#include <QColor>
#include <QPalette>

namespace basin::ui::plotcolors {

// Linear mix of two colours in RGB: t = 0 gives `from`, t = 1 gives `to`.
QColor blend(const QColor &from, const QColor &to, double t);

// Colour of the i-th data series (cycles). Chosen to stay distinguishable on both light
// and dark backgrounds, so series colours need not follow the palette.
QColor seriesColor(int index);

// Signed metrics: blue (negative) through near-white (zero) to red (positive). Symmetric
// ranges put zero on the light centre.
QCPColorGradient divergingGradient();

// Unsigned metrics: light (low) to dark blue-purple (high), monotone in lightness.
QCPColorGradient sequentialGradient();

// Colour for cells that hold no value (NaN): a grey taken from the palette, distinct
// from the light centre of the diverging gradient.
QColor noValueColor(const QPalette &palette);

// Black or white, whichever reads better on `background` (WCAG relative luminance).
QColor contrastingTextColor(const QColor &background);

} // namespace basin::ui::plotcolors
