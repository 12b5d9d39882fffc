// SPDX-License-Identifier: GPL-3.0-or-later
#include "preview/curvedata.h"

#include <QStringList>

namespace basin::ui {

CurveData curveDataFrom(const analysis::CurveSet &curves)
{
    CurveData data;
    data.title = QString::fromStdString(curves.yTitle) + QStringLiteral(" — ") +
                 QString::fromStdString(curves.scope);
    if (!curves.exact)
        data.title += QStringLiteral("  (≈ sample ≤ %1 per tensor)").arg(curves.sampleSize);
    data.xLabel = QString::fromStdString(curves.xTitle);
    data.yLabel = QStringLiteral("weight-space proxy");
    data.x = curves.x;
    for (const analysis::CurveSeries &series : curves.series)
        data.curves.push_back({QString::fromStdString(series.label), series.y});
    return data;
}

HeatmapData retentionHeatmap(const analysis::Preview &preview)
{
    HeatmapData data;
    data.rows = static_cast<int>(preview.groups.size());
    data.cols = static_cast<int>(preview.fineTunes.size());
    for (const analysis::PreviewRow &row : preview.groups) {
        data.rowLabels << QString::fromStdString(row.label);
        for (double r : row.retention)
            data.values.push_back(r);
    }
    for (const std::string &ft : preview.fineTunes)
        data.colLabels << QString::fromStdString(ft);
    data.title = QStringLiteral("Retention under the current recipe (%1)")
                     .arg(QString::fromStdString(preview.method));
    if (!preview.exact)
        data.title += QStringLiteral(" ") + QString::fromStdString(preview.marker());
    data.valueName = QStringLiteral("retention");
    data.diverging = true;
    data.decimals = 3;
    return data;
}

QString scoresToCsv(const std::vector<std::pair<double, double>> &points)
{
    QString text = QStringLiteral("x,score\n");
    for (const auto &[x, y] : points)
        text += QString::number(x, 'g', 17) + QLatin1Char(',') + QString::number(y, 'g', 17) +
                QLatin1Char('\n');
    return text;
}

std::optional<std::vector<std::pair<double, double>>> scoresFromCsv(const QString &text,
                                                                    QString *error)
{
    std::vector<std::pair<double, double>> points;
    const QStringList lines = text.split(QLatin1Char('\n'));
    for (int i = 0; i < lines.size(); ++i) {
        const QString line = lines[i].trimmed();
        if (line.isEmpty())
            continue;
        const QStringList cells = line.split(QLatin1Char(','));
        bool okX = false, okY = false;
        const double x = cells.value(0).trimmed().toDouble(&okX);
        const double y = cells.value(1).trimmed().toDouble(&okY);
        if (cells.size() < 2 || !okX || !okY) {
            if (points.empty() && i == 0)
                continue; // header
            if (error)
                *error =
                    QStringLiteral("line %1: expected 'x,score', got '%2'").arg(i + 1).arg(line);
            return std::nullopt;
        }
        points.emplace_back(x, y);
    }
    return points;
}

} // namespace basin::ui
