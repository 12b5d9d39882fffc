// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The one place Basin includes QCustomPlot. Its header uses the `foreach` keyword inside
// templates, which QT_NO_FOREACH (on for every Basin Qt target) removes; a range-for
// stand-in is defined for the length of the include only, so our own code still cannot
// use `foreach`.
#include <QtGlobal>

#ifndef foreach
#define BASIN_QCP_FOREACH_SHIM
#define foreach(declaration, container) for (declaration : container)
#endif

#include <qcustomplot.h>

#ifdef BASIN_QCP_FOREACH_SHIM
#undef foreach
#undef BASIN_QCP_FOREACH_SHIM
#endif
