// SPDX-License-Identifier: GPL-3.0-or-later
#include "recipe/recipecontroller.h"

#include "export/exportdialog.h"
#include "mainwindow.h"
#include "merge/method.h"
#include "panels/messagebar.h"
#include "recipe/recipedock.h"
#include "recipe/recipedocument.h"
#include "recipe/recipeedits.h"
#include "workbench/session.h"

#include <QAction>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMessageBox>
#include <QSettings>

namespace basin::ui {

namespace {
const QString kFilter = QStringLiteral("Merge recipes (*.yml *.yaml);;All files (*)");
const QString kFolderKey = QStringLiteral("recipe/folder");
} // namespace

RecipeController::RecipeController(MainWindow *window) : QObject(window), m_window(window)
{
    m_document = new RecipeDocument(window->undoStack(), this);
    m_dock = new RecipeDock(m_document);
    m_dock->setSession(window->session());

    m_openAction = new QAction(tr("&Open Recipe…"), this);
    m_openAction->setObjectName(QStringLiteral("openRecipeAction"));
    m_openAction->setShortcut(QKeySequence::Open);
    m_saveAction = new QAction(tr("&Save Recipe"), this);
    m_saveAction->setObjectName(QStringLiteral("saveRecipeAction"));
    m_saveAction->setShortcut(QKeySequence::Save);
    m_saveAsAction = new QAction(tr("Save Recipe &As…"), this);
    m_saveAsAction->setObjectName(QStringLiteral("saveRecipeAsAction"));
    m_saveAsAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
    m_exportAction = new QAction(tr("&Export Merged Model…"), this);
    m_exportAction->setObjectName(QStringLiteral("exportAction"));
    m_exportAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));

    connect(m_openAction, &QAction::triggered, this, [this] {
        if (!maybeSave())
            return;
        const QString path = choose(tr("Open recipe"), kFilter, false);
        if (!path.isEmpty())
            openFile(path);
    });
    connect(m_saveAction, &QAction::triggered, this, [this] { save(); });
    connect(m_saveAsAction, &QAction::triggered, this, [this] { saveAs(); });
    connect(m_exportAction, &QAction::triggered, this, &RecipeController::exportModel);

    connect(m_document, &RecipeDocument::modifiedChanged, this, &RecipeController::updateTitle);
    connect(m_document, &RecipeDocument::filePathChanged, this, &RecipeController::updateTitle);
    // Connected after MainWindow's own handler, so this title wins.
    connect(window->session(), &Session::modelsChanged, this, &RecipeController::updateTitle);
    connect(window->session(), &Session::modelsChanged, this,
            &RecipeController::startFromSessionModels);
    connect(window->session(), &Session::pendingOpensChanged, this,
            &RecipeController::startFromSessionModels);
    updateTitle();
}

RecipeController::~RecipeController() = default;

QString RecipeController::choose(const QString &caption, const QString &filter, bool save)
{
    const QString folder = QSettings().value(kFolderKey, QDir::homePath()).toString();
    if (m_chooser)
        return m_chooser(caption, folder, filter, save);
    return save ? QFileDialog::getSaveFileName(m_window, caption, folder, filter)
                : QFileDialog::getOpenFileName(m_window, caption, folder, filter);
}

bool RecipeController::openFile(const QString &path)
{
    Result<void> opened = m_document->open(path);
    if (!opened.ok()) {
        const QString message = QString::fromStdString(opened.error().message);
        m_dock->showFileError(message);
        m_window->messageBar()->showError(message);
        m_window->log(message);
        return false;
    }
    m_dock->showFileError(QString());
    QSettings().setValue(kFolderKey, QFileInfo(path).absolutePath());
    m_window->log(tr("Opened recipe %1").arg(QDir::toNativeSeparators(path)));
    loadModels();
    return true;
}

void RecipeController::loadModels()
{
    const recipe::Recipe &r = m_document->recipe();
    auto qpath = [](const recipe::ModelRef &m) {
        return QString::fromStdU16String(
            (m.resolved.empty() ? std::filesystem::path(m.path) : m.resolved).u16string());
    };
    QStringList fineTunes;
    std::vector<recipe::ModelRef> seen;
    auto add = [&](const recipe::ModelRef &m) {
        if (m.empty() || (r.hasBase() && recipe::sameModel(m, r.baseModel)))
            return;
        for (const auto &s : seen) {
            if (recipe::sameModel(s, m))
                return;
        }
        seen.push_back(m);
        fineTunes << qpath(m);
    };
    for (const auto &entry : r.models)
        add(entry.model);
    for (const auto &slice : r.slices) {
        for (const auto &source : slice.sources)
            add(source.model);
    }
    Session *session = m_window->session();
    session->clear();
    if (r.hasBase())
        session->setBase(qpath(r.baseModel));
    if (!fineTunes.isEmpty())
        session->addFineTunes(fineTunes);
}

void RecipeController::startFromSessionModels()
{
    // A fresh window that receives models (the demo, `basin BASE FT…`, a drop) gets a recipe
    // over them instead of an empty form, so the preview and export work at once. Only an
    // untouched, untitled, empty recipe is replaced, and only once every open has finished.
    const Session *session = m_window->session();
    const recipe::Recipe &current = m_document->recipe();
    if (session->pendingOpenCount() > 0 || !session->base() || session->fineTunes().empty() ||
        !m_document->filePath().isEmpty() || m_document->isModified() || !current.models.empty() ||
        !current.slices.empty())
        return;
    std::vector<std::string> fineTunes;
    for (const ModelEntry &m : session->fineTunes())
        fineTunes.push_back(m.path.toStdString());
    recipe::Recipe started = current;
    recipeedits::setModels(started, session->base()->path.toStdString(), fineTunes);
    recipeedits::setMethod(started, kStartMethod);
    // TIES keeps everything by default; half is the usual starting point.
    for (recipe::ModelEntry &model : started.models)
        recipeedits::setNumber(model.parameters, "density", kStartDensity);
    m_document->reset(std::move(started));
    m_window->log(tr("Started a %1 recipe over the loaded models")
                      .arg(QString::fromLatin1(kStartMethod.data(), kStartMethod.size())));
}

bool RecipeController::saveFile(const QString &path)
{
    Result<void> saved = m_document->save(path);
    if (!saved.ok()) {
        const QString message = QString::fromStdString(saved.error().message);
        m_dock->showFileError(message);
        m_window->messageBar()->showError(message);
        return false;
    }
    m_dock->showFileError(QString());
    QSettings().setValue(kFolderKey, QFileInfo(path).absolutePath());
    m_window->log(tr("Saved recipe %1").arg(QDir::toNativeSeparators(path)));
    return true;
}

bool RecipeController::save()
{
    if (m_document->filePath().isEmpty())
        return saveAs();
    return saveFile(m_document->filePath());
}

bool RecipeController::saveAs()
{
    QString path = choose(tr("Save recipe"), kFilter, true);
    if (path.isEmpty())
        return false;
    if (QFileInfo(path).suffix().isEmpty())
        path += QStringLiteral(".yml");
    return saveFile(path);
}

void RecipeController::exportModel()
{
    const QString problem = m_document->validationMessage();
    if (!problem.isEmpty()) {
        m_window->messageBar()->showError(tr("Fix the recipe before exporting: %1").arg(problem));
        return;
    }
    auto *dialog =
        new ExportDialog(m_document->recipe(), m_window->session()->jobRunner(), m_window);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &ExportDialog::exportFinished, this, [this](bool ok, const QString &text) {
        m_window->log(ok ? tr("Export finished") : text);
    });
    dialog->open();
}

bool RecipeController::maybeSave()
{
    if (!m_document->isModified())
        return true;
    const auto answer = QMessageBox::warning(
        m_window, tr("Unsaved recipe"),
        tr("The recipe %1 has unsaved changes. Save them?").arg(m_document->displayName()),
        QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    if (answer == QMessageBox::Cancel)
        return false;
    if (answer == QMessageBox::Discard)
        return true;
    return save();
}

void RecipeController::updateTitle()
{
    const Session *session = m_window->session();
    QString title = m_document->displayName() + QStringLiteral("[*]");
    if (session->base())
        title += QStringLiteral(" — ") + session->base()->name;
    m_window->setWindowTitle(title + QStringLiteral(" — Basin"));
    m_window->setWindowModified(m_document->isModified());
}

} // namespace basin::ui
