// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "recipe/recipe.h"

#include <QString>
#include <QUndoCommand>

namespace basin::ui {

class RecipeDocument;

// One recipe edit: the whole recipe before and after. Recipes are small, so snapshots keep
// undo exact (a restored recipe compares equal) with no per-field inverse logic.
// Continuous edits (a slider or point drag) carry a merge key and the document's drag
// serial: commands with the same key pushed during the same drag merge into one step.
class RecipeCommand : public QUndoCommand {
public:
    static constexpr int kId = 0x5265; // "Re"

    RecipeCommand(RecipeDocument *document, recipe::Recipe before, recipe::Recipe after,
                  const QString &text, const QString &mergeKey, quint64 dragSerial);

    void undo() override;
    void redo() override;
    int id() const override { return kId; }
    bool mergeWith(const QUndoCommand *other) override;

private:
    RecipeDocument *m_document;
    recipe::Recipe m_before;
    recipe::Recipe m_after;
    QString m_mergeKey; // empty: never merges
    quint64 m_dragSerial = 0;
};

} // namespace basin::ui
