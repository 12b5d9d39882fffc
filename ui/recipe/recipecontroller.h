// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QObject>
#include <QString>

#include <functional>
#include <string_view>

class QAction;

namespace basin::ui {

class MainWindow;
class RecipeDock;
class RecipeDocument;

// Puts the recipe into the main window: creates the document (on the window's undo stack)
// and the Recipe dock, the File actions (Open Recipe Ctrl+O, Save Ctrl+S, Save As
// Ctrl+Shift+S, Export Ctrl+E), keeps the title as "recipe.yml[*] — Basin" with the
// modified mark, loads an opened recipe's models into the session, starts a TIES recipe over
// models loaded into a fresh window, and asks about unsaved changes before the recipe is
// replaced or the window closes.
class RecipeController : public QObject {
    Q_OBJECT

public:
    // Picks a file: caption, start folder, filter, save (true) or open; returns "" for cancel.
    using FileChooser = std::function<QString(const QString &caption, const QString &folder,
                                              const QString &filter, bool save)>;

    explicit RecipeController(MainWindow *window);
    ~RecipeController() override;

    RecipeDocument *document() const { return m_document; }
    RecipeDock *dock() const { return m_dock; }
    QAction *openAction() const { return m_openAction; }
    QAction *saveAction() const { return m_saveAction; }
    QAction *saveAsAction() const { return m_saveAsAction; }
    QAction *exportAction() const { return m_exportAction; }

    // Opens a recipe file: on success the document holds it and the session holds its
    // models (base + fine-tunes); on failure the message (file:line:column) is shown in the
    // dock and the message bar, and neither the recipe nor the models change.
    bool openFile(const QString &path);
    // Saves to `path`; errors are shown like open errors.
    bool saveFile(const QString &path);
    bool save();   // to the current file, else asks (Save As)
    bool saveAs(); // asks for a file
    // Shows the export dialog for the current recipe (refused while it is invalid).
    void exportModel();
    // Unsaved changes: asks to save, discard or cancel. False when the user cancelled (or a
    // save failed); the caller then keeps the window open.
    bool maybeSave();

    // Replaces the file dialogs (tests).
    void setFileChooser(FileChooser chooser) { m_chooser = std::move(chooser); }

    // The method of the recipe started over freshly loaded models.
    static constexpr std::string_view kStartMethod = "ties";
    static constexpr double kStartDensity = 0.5;

private:
    void updateTitle();
    void loadModels();
    void startFromSessionModels();
    QString choose(const QString &caption, const QString &filter, bool save);

    MainWindow *m_window;
    RecipeDocument *m_document = nullptr;
    RecipeDock *m_dock = nullptr;
    QAction *m_openAction = nullptr;
    QAction *m_saveAction = nullptr;
    QAction *m_saveAsAction = nullptr;
    QAction *m_exportAction = nullptr;
    FileChooser m_chooser;
};

} // namespace basin::ui
