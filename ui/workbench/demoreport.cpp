// SPDX-License-Identifier: GPL-3.0-or-later
#include "workbench/demoreport.h"

#include "plots/heatmapwidget.h"
#include "workbench/heatmapbuilder.h"

#include <QFont>
#include <QFontMetrics>
#include <QImage>
#include <QPainter>
#include <QTemporaryDir>

namespace basin::ui {

namespace {
constexpr int kWidth = 1600;
constexpr int kPlotWidth = 780;
constexpr int kPlotHeight = 640;
constexpr int kMargin = 20;

// Renders one metric's heatmap with the workbench widget, through its own offscreen-safe
// PNG export, and loads the result.
QImage renderHeatmap(const analysis::AnalysisSnapshot &snapshot, Metric metric,
                     const QString &folder)
{
    HeatmapWidget widget;
    widget.resize(kPlotWidth, kPlotHeight);
    widget.setData(interferenceHeatmap(snapshot, metric));
    const QString file = folder + QStringLiteral("/%1.png").arg(metricKey(metric));
    if (!widget.savePng(file, kPlotWidth, kPlotHeight))
        return {};
    return QImage(file);
}
} // namespace

bool writeDemoReport(const analysis::AnalysisSnapshot &snapshot, const QString &heading,
                     const QStringList &notes, const QString &fileName, QString *error)
{
    QTemporaryDir folder;
    if (!folder.isValid()) {
        if (error)
            *error =
                QStringLiteral("cannot create a temporary folder: %1").arg(folder.errorString());
        return false;
    }
    const QImage cosine = renderHeatmap(snapshot, Metric::Cosine, folder.path());
    const QImage conflict = renderHeatmap(snapshot, Metric::Conflict, folder.path());
    if (cosine.isNull() || conflict.isNull()) {
        if (error)
            *error = QStringLiteral("cannot render the heatmaps");
        return false;
    }

    QFont headingFont;
    headingFont.setPointSize(16);
    headingFont.setBold(true);
    QFont bodyFont;
    bodyFont.setPointSize(10);
    const QFontMetrics headingMetrics(headingFont);
    const QFontMetrics bodyMetrics(bodyFont);
    const int textHeight =
        headingMetrics.height() + 8 + static_cast<int>(notes.size()) * (bodyMetrics.height() + 2);
    const int height = kMargin + textHeight + kMargin + kPlotHeight + kMargin;

    QImage page(kWidth, height, QImage::Format_RGB32);
    page.fill(Qt::white);
    QPainter painter(&page);
    painter.setRenderHint(QPainter::TextAntialiasing);
    painter.setPen(QColor(30, 30, 30));
    int y = kMargin + headingMetrics.ascent();
    painter.setFont(headingFont);
    painter.drawText(kMargin, y, heading);
    y += headingMetrics.descent() + 8;
    painter.setFont(bodyFont);
    for (const QString &line : notes) {
        y += bodyMetrics.ascent();
        painter.drawText(kMargin, y, line);
        y += bodyMetrics.descent() + 2;
    }
    const int plotsTop = kMargin + textHeight + kMargin;
    painter.drawImage(kMargin, plotsTop, cosine);
    painter.drawImage(kWidth - kMargin - kPlotWidth, plotsTop, conflict);
    painter.end();

    if (!page.save(fileName, "PNG")) {
        if (error)
            *error = QStringLiteral("cannot write %1").arg(fileName);
        return false;
    }
    return true;
}

} // namespace basin::ui
