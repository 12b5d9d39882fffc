// SPDX-License-Identifier: GPL-3.0-or-later
#include "recipe/recipedocument.h"

#include "recipe/recipecommand.h"
#include "recipe/validate.h"
#include "recipe/yamlreader.h"
#include "recipe/yamlwriter.h"

#include <QFileInfo>
#include <QUndoStack>

#include <filesystem>

namespace basin::ui {

namespace {

std::filesystem::path toPath(const QString &path)
{
    return std::filesystem::path(path.toStdU16String());
}

} // namespace

RecipeDocument::RecipeDocument(QUndoStack *undoStack, QObject *parent)
    : QObject(parent), m_undoStack(undoStack)
{
    m_recipe.mergeMethod = "task_arithmetic";
    connect(m_undoStack, &QUndoStack::cleanChanged, this,
            [this](bool clean) { emit modifiedChanged(!clean); });
}

RecipeDocument::~RecipeDocument() = default;

QString RecipeDocument::displayName() const
{
    return m_filePath.isEmpty() ? tr("Untitled recipe") : QFileInfo(m_filePath).fileName();
}

bool RecipeDocument::isModified() const
{
    return !m_undoStack->isClean();
}

void RecipeDocument::edit(const QString &text, const std::function<void(recipe::Recipe &)> &change,
                          const QString &mergeKey)
{
    recipe::Recipe after = m_recipe;
    change(after);
    if (after == m_recipe)
        return;
    const QString key = inContinuousEdit() ? mergeKey : QString();
    m_undoStack->push(new RecipeCommand(this, m_recipe, std::move(after), text, key, m_dragSerial));
}

void RecipeDocument::beginContinuousEdit()
{
    if (m_dragDepth++ == 0)
        ++m_dragSerial;
}

void RecipeDocument::endContinuousEdit()
{
    if (m_dragDepth > 0 && --m_dragDepth == 0)
        ++m_dragSerial; // a later drag never merges into this one
}

void RecipeDocument::reset(recipe::Recipe recipe, const QString &filePath)
{
    m_undoStack->clear();
    m_recipe = std::move(recipe);
    m_undoStack->setClean();
    setFilePath(filePath);
    emit recipeReplaced();
    emit recipeChanged();
    emit modifiedChanged(false);
}

Result<void> RecipeDocument::open(const QString &path)
{
    Result<recipe::Recipe> read = recipe::readRecipeFile(toPath(path));
    if (!read.ok())
        return read.takeError();
    reset(std::move(read).value(), QFileInfo(path).absoluteFilePath());
    return {};
}

Result<void> RecipeDocument::save(const QString &path)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    recipe::WriteOptions options;
    options.relativeTo = toPath(QFileInfo(absolute).absolutePath());
    Result<void> written = recipe::writeRecipeFile(m_recipe, toPath(absolute), options);
    if (!written.ok())
        return written;
    m_undoStack->setClean();
    setFilePath(absolute);
    return {};
}

QString RecipeDocument::validationMessage() const
{
    Result<void> valid = recipe::validateRecipe(m_recipe);
    return valid.ok() ? QString() : QString::fromStdString(valid.error().message);
}

void RecipeDocument::applyFromCommand(const recipe::Recipe &recipe)
{
    m_recipe = recipe;
    emit recipeChanged();
}

void RecipeDocument::setFilePath(const QString &path)
{
    if (path == m_filePath)
        return;
    m_filePath = path;
    emit filePathChanged(path);
}

} // namespace basin::ui
