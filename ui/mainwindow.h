// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QMainWindow>

class QAction;
class QDockWidget;
class QPlainTextEdit;
class QUndoStack;

namespace basin::ui {

// The workbench window: central analysis views and the docks (Models, Layers, Recipe,
// Preview, Log). Geometry and dock layout persist through QSettings.
class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    QUndoStack *undoStack() const { return m_undoStack; }

    // Appends a line to the Log dock (time-stamped).
    void log(const QString &line);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void createActions();
    void createMenus();
    void createDocks();
    void restoreWindowState();
    void saveWindowState();
    void showAbout();

    QDockWidget *addDock(const QString &title, const QString &objectName, QWidget *content,
                         Qt::DockWidgetArea area);

    QUndoStack *m_undoStack = nullptr;
    QPlainTextEdit *m_logView = nullptr;
    QMenu *m_viewMenu = nullptr;
    QAction *m_quitAction = nullptr;
    QAction *m_undoAction = nullptr;
    QAction *m_redoAction = nullptr;
    QAction *m_aboutAction = nullptr;
};

} // namespace basin::ui
