// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QWidget>

class QAction;
class QLabel;
class QTableView;

namespace basin::ui {

class ModelListModel;
class Session;

// The Models dock: the base and the fine-tunes of the session with their dtype, size and
// problem badges, and the actions that edit the list. The dialogs only pick paths and call
// the public slots below, which tests and drag and drop call directly.
class ModelsPanel : public QWidget {
    Q_OBJECT

public:
    explicit ModelsPanel(Session *session, QWidget *parent = nullptr);
    ~ModelsPanel() override;

    QTableView *view() const { return m_view; }
    ModelListModel *model() const { return m_model; }

    QAction *setBaseAction() const { return m_setBase; }
    QAction *addFineTunesAction() const { return m_addFineTunes; }
    QAction *addFilesAction() const { return m_addFiles; }
    QAction *removeAction() const { return m_remove; }
    QAction *moveUpAction() const { return m_moveUp; }
    QAction *moveDownAction() const { return m_moveDown; }

    // Folder of the last model chosen in a dialog (remembered in QSettings).
    static QString lastFolder();

public slots:
    // Dialogs: a model folder for the base, model folders or .safetensors files for
    // fine-tunes.
    void chooseBase();
    void chooseFineTunes();
    void chooseFiles();

    void setBasePath(const QString &path);
    void addFineTunePaths(const QStringList &paths);
    // Removes the selected models (base and/or fine-tunes).
    void removeSelected();
    void moveSelectedUp();
    void moveSelectedDown();

private:
    void updateActions();
    void moveSelected(int step);
    // Fine-tune index of the current row; -1 for the base or no selection.
    int currentFineTune() const;
    static void rememberFolder(const QString &path);

    Session *m_session = nullptr;
    ModelListModel *m_model = nullptr;
    QTableView *m_view = nullptr;
    QLabel *m_hint = nullptr;
    QAction *m_setBase = nullptr;
    QAction *m_addFineTunes = nullptr;
    QAction *m_addFiles = nullptr;
    QAction *m_remove = nullptr;
    QAction *m_moveUp = nullptr;
    QAction *m_moveDown = nullptr;
};

} // namespace basin::ui
