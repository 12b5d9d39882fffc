// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"
#include "recipe/recipe.h"

#include <QObject>
#include <QString>

#include <functional>

class QUndoStack;

namespace basin::ui {

// The recipe being designed: the current basin::Recipe, the file it came from, and the undo
// stack every edit goes through (MainWindow's). Modified = the stack is not at its clean
// index. Views never change the recipe directly: they call edit() with a change function,
// which becomes one RecipeCommand; during a drag (beginContinuousEdit … endContinuousEdit)
// edits with the same merge key collapse into one undo step.
class RecipeDocument : public QObject {
    Q_OBJECT

public:
    explicit RecipeDocument(QUndoStack *undoStack, QObject *parent = nullptr);
    ~RecipeDocument() override;

    const recipe::Recipe &recipe() const { return m_recipe; }
    QUndoStack *undoStack() const { return m_undoStack; }
    // The file the recipe was opened from or saved to; empty for a new recipe.
    QString filePath() const { return m_filePath; }
    // File name for the title bar ("Untitled recipe" without a file).
    QString displayName() const;
    bool isModified() const;

    // Applies `change` to a copy of the recipe and pushes it as one undo step named `text`.
    // An edit that changes nothing pushes nothing. With a non-empty mergeKey during a
    // continuous edit, it merges with the previous step of the same key.
    void edit(const QString &text, const std::function<void(recipe::Recipe &)> &change,
              const QString &mergeKey = {});
    // Brackets a drag. Nested calls are counted; the drag ends at the outermost end.
    void beginContinuousEdit();
    void endContinuousEdit();
    bool inContinuousEdit() const { return m_dragDepth > 0; }

    // Starts over with `recipe` (a new or opened recipe): clears the undo stack and marks
    // the document clean.
    void reset(recipe::Recipe recipe, const QString &filePath = {});

    // Reads a mergekit YAML file. On failure (message with file:line:column) nothing changes.
    Result<void> open(const QString &path);
    // Writes the recipe (model paths relative to the file's folder) atomically and marks the
    // document clean. On failure nothing changes.
    Result<void> save(const QString &path);

    // validateRecipe()'s message for the current recipe; empty when it is valid.
    QString validationMessage() const;

signals:
    // After every change of the recipe (edit, undo, redo, reset).
    void recipeChanged();
    // After reset()/open(): a different recipe, views rebuild.
    void recipeReplaced();
    void filePathChanged(const QString &path);
    void modifiedChanged(bool modified);

private:
    friend class RecipeCommand;
    void applyFromCommand(const recipe::Recipe &recipe);
    void setFilePath(const QString &path);

    QUndoStack *m_undoStack;
    recipe::Recipe m_recipe;
    QString m_filePath;
    int m_dragDepth = 0;
    quint64 m_dragSerial = 0;
};

} // namespace basin::ui
