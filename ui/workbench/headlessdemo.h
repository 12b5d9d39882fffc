// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

namespace basin::ui {

struct HeadlessDemoOptions {
    QString size = QStringLiteral("small"); // "tiny" or "small"
    QString reportPath;                     // empty: basin-demo-report.png in the current folder
};

// `basin --demo` without a display: makes (or reuses) the cached demo family, analyses it,
// writes a PNG report of the cosine and sign-conflict heatmaps, then merges the family
// with TIES through the core engine into a folder beside the cached family, printing each
// step on stdout and errors on stderr. Needs a QApplication (offscreen platform). Returns the exit
// code: 0 on success, 1 when a step failed, 130 when interrupted.
int runHeadlessDemo(const HeadlessDemoOptions &options);

} // namespace basin::ui
