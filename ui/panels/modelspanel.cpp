// SPDX-License-Identifier: GPL-3.0-or-later
#include "panels/modelspanel.h"

#include "models/modellistmodel.h"
#include "workbench/session.h"

#include <QAction>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QSettings>
#include <QStyle>
#include <QTableView>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace basin::ui {

namespace {
const QString kFolderKey = QStringLiteral("folders/models");

// Window-wide shortcuts for opening models (they also sit in the File menu); the
// list-editing ones act only while the panel has focus, so Delete in another view is safe.
QAction *makeAction(QWidget *owner, const QIcon &icon, const QString &text, const QString &tip,
                    const QKeySequence &shortcut = {},
                    Qt::ShortcutContext context = Qt::WidgetWithChildrenShortcut)
{
    auto *action = new QAction(icon, text, owner);
    action->setToolTip(shortcut.isEmpty() ? tip
                                          : QStringLiteral("%1 (%2)").arg(
                                                tip, shortcut.toString(QKeySequence::NativeText)));
    action->setStatusTip(tip);
    if (!shortcut.isEmpty()) {
        action->setShortcut(shortcut);
        action->setShortcutContext(context);
    }
    owner->addAction(action);
    return action;
}
} // namespace

ModelsPanel::ModelsPanel(Session *session, QWidget *parent)
    : QWidget(parent), m_session(session), m_model(new ModelListModel(session, this))
{
    setObjectName(QStringLiteral("modelsPanel"));
    QStyle *st = style();
    m_setBase = makeAction(this, st->standardIcon(QStyle::SP_DirHomeIcon), tr("Set &Base…"),
                           tr("Choose the base model folder (the model the fine-tunes started "
                              "from)"),
                           QKeySequence(Qt::CTRL | Qt::Key_B), Qt::WindowShortcut);
    m_setBase->setObjectName(QStringLiteral("setBaseAction"));
    m_addFineTunes =
        makeAction(this, st->standardIcon(QStyle::SP_DirOpenIcon), tr("Add &Fine-tunes…"),
                   tr("Add fine-tuned model folders of the same base"), QKeySequence::Open,
                   Qt::WindowShortcut);
    m_addFineTunes->setObjectName(QStringLiteral("addFineTunesAction"));
    m_addFiles =
        makeAction(this, st->standardIcon(QStyle::SP_FileIcon), tr("Add .safetensors &Files…"),
                   tr("Add single-file fine-tunes (.safetensors)"),
                   QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O), Qt::WindowShortcut);
    m_addFiles->setObjectName(QStringLiteral("addFilesAction"));
    m_remove = makeAction(this, st->standardIcon(QStyle::SP_TrashIcon), tr("&Remove"),
                          tr("Remove the selected models from the set"), QKeySequence::Delete);
    m_remove->setObjectName(QStringLiteral("removeModelAction"));
    m_moveUp = makeAction(this, st->standardIcon(QStyle::SP_ArrowUp), tr("Move &Up"),
                          tr("Move the selected fine-tune up (changes the column order)"),
                          QKeySequence(Qt::CTRL | Qt::Key_Up));
    m_moveUp->setObjectName(QStringLiteral("moveUpAction"));
    m_moveDown =
        makeAction(this, st->standardIcon(QStyle::SP_ArrowDown), tr("Move &Down"),
                   tr("Move the selected fine-tune down"), QKeySequence(Qt::CTRL | Qt::Key_Down));
    m_moveDown->setObjectName(QStringLiteral("moveDownAction"));

    connect(m_setBase, &QAction::triggered, this, &ModelsPanel::chooseBase);
    connect(m_addFineTunes, &QAction::triggered, this, &ModelsPanel::chooseFineTunes);
    connect(m_addFiles, &QAction::triggered, this, &ModelsPanel::chooseFiles);
    connect(m_remove, &QAction::triggered, this, &ModelsPanel::removeSelected);
    connect(m_moveUp, &QAction::triggered, this, &ModelsPanel::moveSelectedUp);
    connect(m_moveDown, &QAction::triggered, this, &ModelsPanel::moveSelectedDown);

    auto *toolbar = new QToolBar(this);
    toolbar->setIconSize(QSize(16, 16));
    toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolbar->addAction(m_setBase);
    toolbar->addAction(m_addFineTunes);
    // The single-file variant hangs off the fine-tunes button to keep the strip short.
    if (auto *button = qobject_cast<QToolButton *>(toolbar->widgetForAction(m_addFineTunes))) {
        button->addAction(m_addFiles);
        button->setPopupMode(QToolButton::MenuButtonPopup);
    }
    auto *spacer = new QWidget(toolbar);
    spacer->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    toolbar->addWidget(spacer);
    for (QAction *action : {m_moveUp, m_moveDown, m_remove}) {
        toolbar->addAction(action);
        if (auto *button = qobject_cast<QToolButton *>(toolbar->widgetForAction(action)))
            button->setToolButtonStyle(Qt::ToolButtonIconOnly);
    }

    m_hint = new QLabel(tr("Drop model folders or .safetensors files here, or use <b>Set "
                           "Base</b> and <b>Add Fine-tunes</b>. <b>File ▸ Open Demo "
                           "Family</b> loads a generated example."),
                        this);
    m_hint->setWordWrap(true);
    m_hint->setObjectName(QStringLiteral("modelsHint"));
    m_hint->setContentsMargins(6, 6, 6, 6);
    m_hint->setEnabled(false);

    m_view = new QTableView(this);
    m_view->setObjectName(QStringLiteral("modelsView"));
    m_view->setModel(m_model);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setAlternatingRowColors(true);
    m_view->setWordWrap(false);
    m_view->setShowGrid(false);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 8);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->horizontalHeader()->setHighlightSections(false);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_view->horizontalHeader()->setSectionResizeMode(ModelListModel::PathColumn,
                                                     QHeaderView::Interactive);
    m_view->setToolTip(tr("Models of the set. Hover a row for details; problems found by the "
                          "analysis carry a warning badge."));

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(toolbar);
    layout->addWidget(m_hint);
    layout->addWidget(m_view, 1);

    connect(m_model, &QAbstractItemModel::modelReset, this, &ModelsPanel::updateActions);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &ModelsPanel::updateActions);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentChanged, this,
            &ModelsPanel::updateActions);
    updateActions();
}

ModelsPanel::~ModelsPanel() = default;

QString ModelsPanel::lastFolder()
{
    return QSettings().value(kFolderKey).toString();
}

void ModelsPanel::rememberFolder(const QString &path)
{
    const QFileInfo info(path);
    // Remember the folder that holds the model, so the next dialog shows its siblings.
    QSettings().setValue(kFolderKey, info.absolutePath());
}

void ModelsPanel::chooseBase()
{
    const QString path =
        QFileDialog::getExistingDirectory(this, tr("Choose the Base Model"), lastFolder());
    if (!path.isEmpty())
        setBasePath(path);
}

void ModelsPanel::chooseFineTunes()
{
    // A folder dialog picks one folder at a time; a non-native dialog in Directory mode
    // picks several.
    QFileDialog dialog(this, tr("Add Fine-tuned Models"), lastFolder());
    dialog.setFileMode(QFileDialog::Directory);
    dialog.setOption(QFileDialog::ShowDirsOnly, true);
    dialog.setOption(QFileDialog::DontUseNativeDialog, true);
    if (auto *view = dialog.findChild<QAbstractItemView *>(QStringLiteral("listView")))
        view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    if (dialog.exec() == QDialog::Accepted)
        addFineTunePaths(dialog.selectedFiles());
}

void ModelsPanel::chooseFiles()
{
    const QStringList files =
        QFileDialog::getOpenFileNames(this, tr("Add Fine-tuned Models"), lastFolder(),
                                      tr("Safetensors checkpoints (*.safetensors);;All files (*)"));
    if (!files.isEmpty())
        addFineTunePaths(files);
}

void ModelsPanel::setBasePath(const QString &path)
{
    if (path.isEmpty())
        return;
    rememberFolder(path);
    m_session->setBase(path);
}

void ModelsPanel::addFineTunePaths(const QStringList &paths)
{
    if (paths.isEmpty())
        return;
    rememberFolder(paths.constLast());
    m_session->addFineTunes(paths);
}

void ModelsPanel::removeSelected()
{
    bool removeBase = false;
    std::vector<int> fineTunes;
    for (const QModelIndex &index : m_view->selectionModel()->selectedRows()) {
        if (index.data(ModelListModel::IsBaseRole).toBool())
            removeBase = true;
        else
            fineTunes.push_back(index.data(ModelListModel::FineTuneIndexRole).toInt());
    }
    if (fineTunes.empty() && !removeBase) {
        const QModelIndex current = m_view->currentIndex();
        if (!current.isValid())
            return;
        if (current.data(ModelListModel::IsBaseRole).toBool())
            removeBase = true;
        else
            fineTunes.push_back(current.data(ModelListModel::FineTuneIndexRole).toInt());
    }
    // From the back, so the remaining indices stay valid.
    std::sort(fineTunes.rbegin(), fineTunes.rend());
    for (const int t : fineTunes)
        m_session->removeFineTune(t);
    if (removeBase)
        m_session->removeBase();
}

int ModelsPanel::currentFineTune() const
{
    const QModelIndex current = m_view->currentIndex();
    if (!current.isValid())
        return -1;
    return current.data(ModelListModel::FineTuneIndexRole).toInt();
}

void ModelsPanel::moveSelectedUp()
{
    moveSelected(-1);
}

void ModelsPanel::moveSelectedDown()
{
    moveSelected(1);
}

void ModelsPanel::moveSelected(int step)
{
    const int from = currentFineTune();
    const int to = from + step;
    if (from < 0 || to < 0 || to >= m_session->fineTuneCount())
        return;
    m_session->moveFineTune(from, to);
    // Keep the moved model selected so repeated presses keep moving it.
    const int row = m_model->rowOfFineTune(to);
    m_view->selectionModel()->setCurrentIndex(
        m_model->index(row, 0), QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

void ModelsPanel::updateActions()
{
    const bool empty = m_model->rowCount() == 0;
    m_hint->setVisible(empty);
    const bool selected =
        m_view->selectionModel()->hasSelection() || m_view->currentIndex().isValid();
    m_remove->setEnabled(selected && !empty);
    const int t = currentFineTune();
    m_moveUp->setEnabled(t > 0);
    m_moveDown->setEnabled(t >= 0 && t + 1 < m_session->fineTuneCount());
}

} // namespace basin::ui
