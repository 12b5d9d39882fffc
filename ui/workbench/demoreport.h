// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysissnapshot.h"

#include <QString>
#include <QStringList>

namespace basin::ui {

// Renders a one-page PNG report of an analysis: a heading, the lines in `notes`, and the
// cosine and sign-conflict heatmaps drawn by the same widgets as the workbench. Works
// offscreen (needs a QApplication, not a display). Returns false and sets *error when the
// image cannot be written.
bool writeDemoReport(const analysis::AnalysisSnapshot &snapshot, const QString &heading,
                     const QStringList &notes, const QString &fileName, QString *error);

} // namespace basin::ui
