// SPDX-License-Identifier: GPL-3.0-or-later
#include "recipe/recipecommand.h"

#include "recipe/recipedocument.h"

namespace basin::ui {

RecipeCommand::RecipeCommand(RecipeDocument *document, recipe::Recipe before, recipe::Recipe after,
                             const QString &text, const QString &mergeKey, quint64 dragSerial)
    : m_document(document), m_before(std::move(before)), m_after(std::move(after)),
      m_mergeKey(mergeKey), m_dragSerial(dragSerial)
{
    setText(text);
}

void RecipeCommand::undo()
{
    m_document->applyFromCommand(m_before);
}

void RecipeCommand::redo()
{
    m_document->applyFromCommand(m_after);
}

bool RecipeCommand::mergeWith(const QUndoCommand *other)
{
    const auto *next = static_cast<const RecipeCommand *>(other);
    if (m_mergeKey.isEmpty() || next->m_mergeKey != m_mergeKey ||
        next->m_dragSerial != m_dragSerial || next->m_document != m_document)
        return false;
    m_after = next->m_after;
    // A drag that ends where it started leaves nothing to undo.
    setObsolete(m_after == m_before);
    return true;
}

} // namespace basin::ui
