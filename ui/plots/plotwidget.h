// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "plots/qcp.h"

#include <QList>
#include <QString>

#include <functional>

class QAction;

namespace basin::ui {

// Base of every Basin plot. Adds what all plots share on top of QCustomPlot:
// - a context menu: Save as PNG…, Save as PDF…, Copy data (TSV), Reset view;
// - colours (text, axes, grid, background) taken from palette() and refreshed on every
//   palette change, so plots read well in light and dark themes;
// - offscreen-safe export (savePng/savePdf) for the CLI and reports;
// - an optional title row.
// Subclasses own their data (a snapshot set by the caller) and provide dataAsTsv().
class PlotWidget : public QCustomPlot {
    Q_OBJECT

public:
    // Picks a file name for an export; gets the caption, a suggested path and a filter and
    // returns the chosen path, or an empty string for "cancelled".
    using FileChooser = std::function<QString(const QString &caption, const QString &suggestedPath,
                                              const QString &filter)>;

    explicit PlotWidget(QWidget *parent = nullptr);
    ~PlotWidget() override;

    // Renders the plot at width x height pixels into a PNG file. Works without a display
    // (QT_QPA_PLATFORM=offscreen). Returns false if the size is not positive or the file
    // cannot be written. The on-screen layout is restored afterwards.
    bool savePng(const QString &fileName, int width, int height);

    // Same as savePng, as a vector PDF page of width x height points.
    bool savePdf(const QString &fileName, int width, int height);

    // The plotted data as tab-separated text with a header row; empty when there is
    // nothing to export. "Copy data" puts this on the clipboard.
    virtual QString dataAsTsv() const;

    // Shows all data again after the user zoomed or panned.
    virtual void resetView();

    // Title row above the plot; an empty title removes the row.
    void setTitle(const QString &title);
    QString title() const;

    // Base name (without extension) suggested by the save dialogs.
    void setExportName(const QString &name) { m_exportName = name; }
    QString exportName() const;

    // The context menu's actions, in menu order (save PNG, save PDF, copy data, reset).
    QList<QAction *> contextMenuActions() const;

    // Replaces the save dialog (tests, scripted exports). An empty function restores
    // QFileDialog.
    void setFileChooser(FileChooser chooser) { m_fileChooser = std::move(chooser); }

    // Folder of the last interactive export, remembered across sessions in QSettings.
    static QString lastExportFolder();

signals:
    // After an interactive export (context menu): where it went and whether it worked.
    void exported(const QString &fileName, bool ok);

protected:
    // Recolours axes, grids, legends, colour scales and titles from palette(). Subclasses
    // that draw their own items override it, call the base, then recolour their items.
    // Subclass constructors call it once their items exist.
    virtual void applyPalette();

    // Moves the legend out of the plot area into a row under it, laid out horizontally with
    // at most perRow items a row, so it never hides data. Call once from the subclass
    // constructor. The widest row sets the plot's minimum width: long labels, fewer a row.
    void placeLegendBelow(int perRow = 6);

    void changeEvent(QEvent *event) override;
    void contextMenuEvent(QContextMenuEvent *event) override;

private:
    enum class Format { Png, Pdf };
    void layoutFor(const QSize &size);
    void exportInteractively(Format format);
    void copyData();

    QAction *m_savePngAction = nullptr;
    QAction *m_savePdfAction = nullptr;
    QAction *m_copyDataAction = nullptr;
    QAction *m_resetViewAction = nullptr;
    QCPTextElement *m_title = nullptr;
    QString m_exportName;
    FileChooser m_fileChooser;
};

} // namespace basin::ui
