// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysisoptions.h"

#include <QMainWindow>
#include <QStringList>

class QAction;
class QDockWidget;
class QLabel;
class QMenu;
class QPlainTextEdit;
class QUndoStack;

namespace basin::ui {

class DistributionPanel;
class InterferencePanel;
class KindPanel;
class LayersPanel;
class MatrixPanel;
class MessageBar;
class ModelsPanel;
class ProgressWidget;
class Session;

// The workbench window. Central area: the interference heatmap, the T×T matrix, the
// per-kind heatmap and the distribution, over a message bar for errors. Docks: Models,
// Layers, Recipe, Preview, Log. All views read one Session (models, analysis, selected
// layer); background work runs on the session's JobRunner, shown in the status bar with
// a Cancel button. Geometry, dock layout, folders, recent models and view choices persist
// through QSettings.
//
// Integration points for later panels: setRecipePanel() / setPreviewPanel() replace the
// placeholders of those docks; addPanelDock() adds a new dock (and its View menu entry);
// session() is where they find the models, the analysis and the selection.
class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    Session *session() const { return m_session; }
    QUndoStack *undoStack() const { return m_undoStack; }
    MessageBar *messageBar() const { return m_messageBar; }
    ModelsPanel *modelsPanel() const { return m_modelsPanel; }
    LayersPanel *layersPanel() const { return m_layersPanel; }
    InterferencePanel *interferencePanel() const { return m_interferencePanel; }
    KindPanel *kindPanel() const { return m_kindPanel; }
    MatrixPanel *matrixPanel() const { return m_matrixPanel; }
    DistributionPanel *distributionPanel() const { return m_distributionPanel; }
    ProgressWidget *progressWidget() const { return m_progressWidget; }

    // Replaces the Recipe / Preview dock's content (the window takes ownership).
    void setRecipePanel(QWidget *panel);
    void setPreviewPanel(QWidget *panel);
    // Adds a dock with a View menu entry; returns it for tabifying or sizing.
    QDockWidget *addPanelDock(const QString &title, const QString &objectName, QWidget *content,
                              Qt::DockWidgetArea area);
    QMenu *viewMenu() const { return m_viewMenu; }
    QMenu *fileMenu() const { return m_fileMenu; }

    // Appends a line to the Log dock (time-stamped).
    void log(const QString &line);

    // Recent models, newest first (QSettings "recent/models").
    static QStringList recentModels();

public slots:
    // Drag and drop, the command line and File ▸ Open Recent: the first path becomes the
    // base when none is loaded, the rest fine-tunes; family folders are expanded.
    void openPaths(const QStringList &paths);
    // Generates (once, in the background) and opens the demo family ("tiny" or "small").
    void openDemoFamily(const QString &size = QStringLiteral("small"));
    void closeAllModels();
    // Analysis ▸ Settings: the dialog; on OK, applyAnalysisOptions().
    void editAnalysisOptions();
    // Remembers the options and, when they differ from the session's, analyses again.
    void applyAnalysisOptions(const basin::analysis::AnalysisOptions &options);

signals:
    // The demo family is ready and being opened (or failed: message not empty).
    void demoFamilyReady(const QString &folder, const QString &message);

protected:
    void closeEvent(QCloseEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void createActions();
    void createMenus();
    void createCentral();
    void createDocks();
    void connectSession();
    void restoreWindowState();
    void saveWindowState();
    void resetLayout();
    void applyDefaultDockSizes();
    void showAbout();
    void addRecentModel(const QString &path);
    void updateRecentMenu();
    void updateAnalysisActions();
    void selectNeighbourLayer(int step);
    void selectMostConflictingLayer();

    QDockWidget *addDock(const QString &title, const QString &objectName, QWidget *content,
                         Qt::DockWidgetArea area);

    Session *m_session = nullptr;
    QUndoStack *m_undoStack = nullptr;
    MessageBar *m_messageBar = nullptr;
    ModelsPanel *m_modelsPanel = nullptr;
    LayersPanel *m_layersPanel = nullptr;
    InterferencePanel *m_interferencePanel = nullptr;
    KindPanel *m_kindPanel = nullptr;
    MatrixPanel *m_matrixPanel = nullptr;
    DistributionPanel *m_distributionPanel = nullptr;
    ProgressWidget *m_progressWidget = nullptr;
    QLabel *m_statusModels = nullptr;
    QPlainTextEdit *m_logView = nullptr;
    QDockWidget *m_modelsDock = nullptr;
    QDockWidget *m_layersDock = nullptr;
    QDockWidget *m_recipeDock = nullptr;
    QDockWidget *m_previewDock = nullptr;
    QDockWidget *m_logDock = nullptr;
    QMenu *m_fileMenu = nullptr;
    QMenu *m_recentMenu = nullptr;
    QMenu *m_viewMenu = nullptr;
    QAction *m_openDemoAction = nullptr;
    QAction *m_closeAllAction = nullptr;
    QAction *m_quitAction = nullptr;
    QAction *m_undoAction = nullptr;
    QAction *m_redoAction = nullptr;
    QAction *m_analyseAction = nullptr;
    QAction *m_cancelAction = nullptr;
    QAction *m_previousLayerAction = nullptr;
    QAction *m_nextLayerAction = nullptr;
    QAction *m_resetLayoutAction = nullptr;
    QAction *m_viewSeparator = nullptr; // dock entries go above it
    QAction *m_aboutAction = nullptr;
    QAction *m_analysisOptionsAction = nullptr;
    QByteArray m_defaultState;
    quint64 m_demoJob = 0;
};

} // namespace basin::ui
