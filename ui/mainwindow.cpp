// SPDX-License-Identifier: GPL-3.0-or-later
#include "mainwindow.h"

#include "analysis/metrics.h"
#include "basin/version.h"
#include "jobs/jobrunner.h"
#include "jobs/progresswidget.h"
#include "panels/distributionpanel.h"
#include "panels/interferencepanel.h"
#include "panels/kindpanel.h"
#include "panels/layerspanel.h"
#include "panels/matrixpanel.h"
#include "panels/messagebar.h"
#include "panels/modelspanel.h"
#include "preview/previewpanel.h"
#include "recipe/recipecontroller.h"
#include "recipe/recipedock.h"
#include "recipe/recipedocument.h"
#include "workbench/analysisoptionsdialog.h"
#include "workbench/democache.h"
#include "workbench/session.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QUndoStack>
#include <QUrl>
#include <QVBoxLayout>

#include <algorithm>
#include <filesystem>
#include <memory>

namespace basin::ui {

namespace {
const QString kRecentKey = QStringLiteral("recent/models");
constexpr int kMaxRecent = 10;
// Bumped when the default dock layout changes, so an old saved layout is not restored
// over docks it does not know.
constexpr int kLayoutVersion = 2;

QLabel *placeholder(const QString &text)
{
    auto *label = new QLabel(text);
    label->setAlignment(Qt::AlignCenter);
    label->setWordWrap(true);
    label->setEnabled(false);
    label->setMargin(12);
    return label;
}

QStringList localPaths(const QMimeData *mime)
{
    QStringList paths;
    if (!mime || !mime->hasUrls())
        return paths;
    for (const QUrl &url : mime->urls()) {
        if (url.isLocalFile())
            paths << url.toLocalFile();
    }
    return paths;
}
} // namespace

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent), m_session(new Session(this)), m_undoStack(new QUndoStack(this))
{
    setObjectName(QStringLiteral("MainWindow"));
    setWindowTitle(QStringLiteral("Basin"));
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks |
                   QMainWindow::AllowNestedDocks);
    setAcceptDrops(true);

    createCentral();
    createDocks();
    createActions();
    createMenus();
    connectSession();
    // Settings of earlier sessions (Analysis ▸ Settings); nothing is loaded yet to analyse.
    if (const analysis::AnalysisOptions saved = AnalysisOptionsDialog::load();
        !sameAnalysisOptions(saved, m_session->analysisOptions()))
        m_session->setAnalysisOptions(saved);

    // Recipe dock, recipe files and export (ui/recipe, ui/export). Created after
    // connectSession() so the recipe's title (file name + modified mark) is set last.
    {
        auto *recipe = new RecipeController(this);
        setRecipePanel(recipe->dock());
        // Ctrl+O opens recipes; Add Fine-tunes moves to Ctrl+Shift+F (Ctrl+Shift+O adds
        // single files).
        m_modelsPanel->addFineTunesAction()->setShortcut(
            QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F));
        QAction *first = m_fileMenu->actions().value(0);
        m_fileMenu->insertActions(first, {recipe->openAction(), recipe->saveAction(),
                                          recipe->saveAsAction(), recipe->exportAction()});
        m_fileMenu->insertSeparator(first);
    }

    // Preview dock (ui/preview): curves and live retention of the recipe being edited.
    {
        auto *preview = new PreviewPanel(m_session->jobRunner());
        preview->setObjectName(QStringLiteral("previewPanel"));
        setPreviewPanel(preview);
        connect(preview, &PreviewPanel::logMessage, this, &MainWindow::log);
        connect(m_session, &Session::analysisChanged, preview,
                [this, preview] { preview->setSnapshot(m_session->snapshot()); });
        if (auto *controller = findChild<RecipeController *>()) {
            const RecipeDocument *document = controller->document();
            auto update = [preview, document] {
                const recipe::Recipe &r = document->recipe();
                preview->setRecipe(r.models.empty() && r.slices.empty() ? std::nullopt
                                                                        : std::optional(r));
            };
            connect(document, &RecipeDocument::recipeChanged, preview, update);
            update();
        }
        preview->setSnapshot(m_session->snapshot());
    }

    m_statusModels = new QLabel(this);
    m_statusModels->setObjectName(QStringLiteral("statusModels"));
    m_statusModels->setText(tr("No models loaded"));
    statusBar()->addWidget(m_statusModels, 1);
    m_progressWidget = new ProgressWidget(m_session->jobRunner(), this);
    m_progressWidget->setObjectName(QStringLiteral("progressWidget"));
    statusBar()->addPermanentWidget(m_progressWidget);

    // Every dock exists now (the recipe and preview blocks above add theirs).
    m_recipeDock->raise();
    applyDefaultDockSizes();
    m_defaultState = saveState(kLayoutVersion);
    restoreWindowState();
    updateRecentMenu();
    updateAnalysisActions();
}

MainWindow::~MainWindow()
{
    // From here on nothing may react to the session or the undo stack: their teardown emits
    // signals (the stack's cleanChanged, jobs cancelled), and a slot calling back into this
    // half-destroyed window is undefined behaviour (UBSan caught RecipeController::
    // updateTitle doing it from ~QUndoStack).
    m_session->disconnect();
    m_undoStack->disconnect();
    // Views and docks hold pointers to the session and its job runner (and may cancel
    // their jobs on the way out), so they go first; the session, the window's first
    // child, would otherwise be destroyed before them.
    delete takeCentralWidget();
    qDeleteAll(findChildren<QDockWidget *>(Qt::FindDirectChildrenOnly));
}

void MainWindow::createCentral()
{
    m_messageBar = new MessageBar;
    m_interferencePanel = new InterferencePanel(m_session);
    m_matrixPanel = new MatrixPanel(m_session);
    m_kindPanel = new KindPanel(m_session);
    m_distributionPanel = new DistributionPanel(m_session);

    // Two rows: the overview (interference + pairwise matrix) above the detail (per kind +
    // distribution). The heatmaps get the width, the square matrix and the histogram less.
    auto *top = new QSplitter(Qt::Horizontal);
    top->setObjectName(QStringLiteral("topSplitter"));
    top->addWidget(m_interferencePanel);
    top->addWidget(m_matrixPanel);
    top->setStretchFactor(0, 3);
    top->setStretchFactor(1, 2);
    auto *bottom = new QSplitter(Qt::Horizontal);
    bottom->setObjectName(QStringLiteral("bottomSplitter"));
    bottom->addWidget(m_kindPanel);
    bottom->addWidget(m_distributionPanel);
    bottom->setStretchFactor(0, 3);
    bottom->setStretchFactor(1, 2);
    auto *rows = new QSplitter(Qt::Vertical);
    rows->setObjectName(QStringLiteral("centralSplitter"));
    rows->addWidget(top);
    rows->addWidget(bottom);
    rows->setStretchFactor(0, 1);
    rows->setStretchFactor(1, 1);
    for (QSplitter *splitter : {top, bottom, rows})
        splitter->setChildrenCollapsible(false);

    auto *central = new QWidget;
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_messageBar);
    layout->addWidget(rows, 1);
    setCentralWidget(central);
}

QDockWidget *MainWindow::addDock(const QString &title, const QString &objectName, QWidget *content,
                                 Qt::DockWidgetArea area)
{
    auto *dock = new QDockWidget(title, this);
    dock->setObjectName(objectName);
    dock->setWidget(content);
    addDockWidget(area, dock);
    return dock;
}

QDockWidget *MainWindow::addPanelDock(const QString &title, const QString &objectName,
                                      QWidget *content, Qt::DockWidgetArea area)
{
    QDockWidget *dock = addDock(title, objectName, content, area);
    if (m_viewMenu)
        m_viewMenu->insertAction(m_viewSeparator, dock->toggleViewAction());
    return dock;
}

void MainWindow::createDocks()
{
    m_modelsPanel = new ModelsPanel(m_session);
    m_modelsDock =
        addDock(tr("Models"), QStringLiteral("modelsDock"), m_modelsPanel, Qt::LeftDockWidgetArea);
    m_layersPanel = new LayersPanel(m_session);
    m_layersDock = addDock(tr("Layers"), QStringLiteral("layersDock"), m_layersPanel,
                           Qt::BottomDockWidgetArea);

    m_logView = new QPlainTextEdit;
    m_logView->setObjectName(QStringLiteral("logView"));
    m_logView->setReadOnly(true);
    m_logView->setMaximumBlockCount(5000);
    m_logDock = addDock(tr("Log"), QStringLiteral("logDock"), m_logView, Qt::BottomDockWidgetArea);
    tabifyDockWidget(m_layersDock, m_logDock);
    m_layersDock->raise();

    // Filled by the recipe and preview work; hidden until a real panel arrives so the
    // default layout gives the analysis views the room.
    m_recipeDock = addDock(tr("Recipe"), QStringLiteral("recipeDock"),
                           placeholder(tr("Choose a merge method.")), Qt::RightDockWidgetArea);
    m_previewDock =
        addDock(tr("Preview"), QStringLiteral("previewDock"),
                placeholder(tr("Interpolation curves appear here.")), Qt::RightDockWidgetArea);
    tabifyDockWidget(m_recipeDock, m_previewDock);
    m_recipeDock->hide();
    m_previewDock->hide();
}

void MainWindow::applyDefaultDockSizes()
{
    // The analysis views get most of the width; the docks enough for their tables.
    resizeDocks({m_modelsDock, m_recipeDock}, {340, 400}, Qt::Horizontal);
    resizeDocks({m_layersDock}, {220}, Qt::Vertical);
}

void MainWindow::setRecipePanel(QWidget *panel)
{
    QWidget *old = m_recipeDock->widget();
    m_recipeDock->setWidget(panel);
    delete old;
    m_recipeDock->show();
}

void MainWindow::setPreviewPanel(QWidget *panel)
{
    QWidget *old = m_previewDock->widget();
    m_previewDock->setWidget(panel);
    delete old;
    m_previewDock->show();
}

void MainWindow::createActions()
{
    m_undoAction = m_undoStack->createUndoAction(this, tr("&Undo"));
    m_undoAction->setObjectName(QStringLiteral("undoAction"));
    m_undoAction->setShortcut(QKeySequence::Undo);
    m_redoAction = m_undoStack->createRedoAction(this, tr("&Redo"));
    m_redoAction->setObjectName(QStringLiteral("redoAction"));
    m_redoAction->setShortcuts(
        {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence::Redo});

    m_openDemoAction = new QAction(tr("Open &Demo Family"), this);
    m_openDemoAction->setObjectName(QStringLiteral("openDemoAction"));
    m_openDemoAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D));
    m_openDemoAction->setStatusTip(tr("Generate (once) and open a small model family whose "
                                      "fine-tunes agree early and conflict late"));
    connect(m_openDemoAction, &QAction::triggered, this, [this] { openDemoFamily(); });

    m_closeAllAction = new QAction(tr("&Close All Models"), this);
    m_closeAllAction->setObjectName(QStringLiteral("closeAllAction"));
    m_closeAllAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_W));
    m_closeAllAction->setStatusTip(tr("Remove every model from the set"));
    connect(m_closeAllAction, &QAction::triggered, this, &MainWindow::closeAllModels);

    m_quitAction = new QAction(tr("&Quit"), this);
    m_quitAction->setObjectName(QStringLiteral("quitAction"));
    m_quitAction->setShortcut(QKeySequence::Quit);
    connect(m_quitAction, &QAction::triggered, this, &QWidget::close);

    m_analyseAction = new QAction(tr("&Analyse Again"), this);
    m_analyseAction->setObjectName(QStringLiteral("analyseAction"));
    m_analyseAction->setShortcut(QKeySequence::Refresh);
    m_analyseAction->setStatusTip(tr("Run the analysis pass over the models again"));
    connect(m_analyseAction, &QAction::triggered, m_session, &Session::reanalyse);

    m_cancelAction = new QAction(tr("&Cancel Analysis"), this);
    m_cancelAction->setObjectName(QStringLiteral("cancelAnalysisAction"));
    m_cancelAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));
    m_cancelAction->setStatusTip(tr("Stop the running analysis"));
    connect(m_cancelAction, &QAction::triggered, m_session, &Session::cancelAnalysis);

    m_previousLayerAction = new QAction(tr("&Previous Layer"), this);
    m_previousLayerAction->setObjectName(QStringLiteral("previousLayerAction"));
    m_previousLayerAction->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Up));
    m_previousLayerAction->setStatusTip(tr("Select the layer above in every view"));
    connect(m_previousLayerAction, &QAction::triggered, this, [this] { selectNeighbourLayer(-1); });
    m_nextLayerAction = new QAction(tr("&Next Layer"), this);
    m_nextLayerAction->setObjectName(QStringLiteral("nextLayerAction"));
    m_nextLayerAction->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Down));
    m_nextLayerAction->setStatusTip(tr("Select the layer below in every view"));
    connect(m_nextLayerAction, &QAction::triggered, this, [this] { selectNeighbourLayer(1); });

    m_resetLayoutAction = new QAction(tr("Reset &Layout"), this);
    m_resetLayoutAction->setObjectName(QStringLiteral("resetLayoutAction"));
    m_resetLayoutAction->setStatusTip(tr("Put the docks back where they started"));
    connect(m_resetLayoutAction, &QAction::triggered, this, &MainWindow::resetLayout);

    m_analysisOptionsAction = new QAction(tr("Analysis &Settings…"), this);
    m_analysisOptionsAction->setObjectName(QStringLiteral("analysisOptionsAction"));
    m_analysisOptionsAction->setStatusTip(
        tr("Trim density, zero threshold, sample cache and threads of the analysis"));
    connect(m_analysisOptionsAction, &QAction::triggered, this, &MainWindow::editAnalysisOptions);

    m_aboutAction = new QAction(tr("&About Basin"), this);
    m_aboutAction->setObjectName(QStringLiteral("aboutAction"));
    connect(m_aboutAction, &QAction::triggered, this, &MainWindow::showAbout);

    // Menu actions show their shortcut in the tooltip, for toolbars and the status tip.
    for (QAction *action : findChildren<QAction *>()) {
        if (action->toolTip() == action->iconText() && !action->statusTip().isEmpty())
            action->setToolTip(action->statusTip());
    }
}

void MainWindow::createMenus()
{
    m_fileMenu = menuBar()->addMenu(tr("&File"));
    m_fileMenu->setObjectName(QStringLiteral("fileMenu"));
    m_fileMenu->addAction(m_modelsPanel->setBaseAction());
    m_fileMenu->addAction(m_modelsPanel->addFineTunesAction());
    m_fileMenu->addAction(m_modelsPanel->addFilesAction());
    m_recentMenu = m_fileMenu->addMenu(tr("Open &Recent"));
    m_recentMenu->setObjectName(QStringLiteral("recentMenu"));
    m_fileMenu->addAction(m_openDemoAction);
    m_fileMenu->addSeparator();
    m_fileMenu->addAction(m_closeAllAction);
    m_fileMenu->addSeparator();
    m_fileMenu->addAction(m_quitAction);

    QMenu *editMenu = menuBar()->addMenu(tr("&Edit"));
    editMenu->setObjectName(QStringLiteral("editMenu"));
    editMenu->addAction(m_undoAction);
    editMenu->addAction(m_redoAction);

    m_viewMenu = menuBar()->addMenu(tr("&View"));
    m_viewMenu->setObjectName(QStringLiteral("viewMenu"));
    for (QDockWidget *dock : {m_modelsDock, m_layersDock, m_recipeDock, m_previewDock, m_logDock})
        m_viewMenu->addAction(dock->toggleViewAction());
    m_viewSeparator = m_viewMenu->addSeparator();
    m_viewMenu->addAction(m_resetLayoutAction);

    QMenu *analysisMenu = menuBar()->addMenu(tr("&Analysis"));
    analysisMenu->setObjectName(QStringLiteral("analysisMenu"));
    analysisMenu->addAction(m_analyseAction);
    analysisMenu->addAction(m_cancelAction);
    analysisMenu->addSeparator();
    analysisMenu->addAction(m_previousLayerAction);
    analysisMenu->addAction(m_nextLayerAction);
    analysisMenu->addSeparator();
    analysisMenu->addAction(m_analysisOptionsAction);

    QMenu *helpMenu = menuBar()->addMenu(tr("&Help"));
    helpMenu->setObjectName(QStringLiteral("helpMenu"));
    helpMenu->addAction(m_aboutAction);
}

void MainWindow::connectSession()
{
    connect(m_session, &Session::openFailed, this,
            [this](const QString &path, const QString &message) {
                const QString text =
                    tr("Could not open %1: %2").arg(QFileInfo(path).fileName(), message);
                m_messageBar->showError(text);
                log(text);
            });
    connect(m_session, &Session::modelOpened, this, [this](const QString &path) {
        addRecentModel(path);
        log(tr("Opened %1").arg(path));
    });
    connect(m_session, &Session::modelsChanged, this, [this] {
        const ModelEntry *base = m_session->base();
        const int fineTunes = m_session->fineTuneCount();
        if (!base && fineTunes == 0)
            m_statusModels->setText(tr("No models loaded"));
        else
            m_statusModels->setText(tr("Base: %1 · %n fine-tune(s)", nullptr, fineTunes)
                                        .arg(base ? base->name : tr("none")));
        setWindowTitle(base ? tr("%1 — Basin").arg(base->name) : QStringLiteral("Basin"));
        updateAnalysisActions();
    });
    connect(m_session, &Session::analysisStarted, this, [this] {
        log(tr("Analysing base + %n fine-tune(s)…", nullptr, m_session->fineTuneCount()));
        updateAnalysisActions();
    });
    connect(m_session, &Session::analysisFinished, this, [this] {
        const auto snapshot = m_session->snapshot();
        const QString text = tr("Analysed %1 tensors in %2 s")
                                 .arg(snapshot->tensors.size())
                                 .arg(snapshot->seconds, 0, 'f', 2);
        log(text);
        statusBar()->showMessage(text, 5000);
        updateAnalysisActions();
    });
    connect(m_session, &Session::analysisCancelled, this, [this] {
        log(tr("Analysis cancelled"));
        statusBar()->showMessage(tr("Analysis cancelled — F5 runs it again"), 8000);
        updateAnalysisActions();
    });
    connect(m_session, &Session::analysisFailed, this, [this](const QString &message) {
        const QString text = tr("The analysis failed: %1").arg(message);
        m_messageBar->showError(text);
        log(text);
        updateAnalysisActions();
    });
}

void MainWindow::updateAnalysisActions()
{
    m_analyseAction->setEnabled(m_session->canAnalyse());
    m_cancelAction->setEnabled(m_session->isAnalysing());
    m_closeAllAction->setEnabled(m_session->base() || m_session->fineTuneCount() > 0);
}

void MainWindow::selectNeighbourLayer(int step)
{
    const auto snapshot = m_session->snapshot();
    if (!snapshot || snapshot->groups.empty())
        return;
    const int count = static_cast<int>(snapshot->groups.size());
    const int current = m_session->selectedGroup();
    const int next =
        current < 0 ? (step > 0 ? 0 : count - 1) : std::clamp(current + step, 0, count - 1);
    m_session->setSelectedGroup(next);
}

void MainWindow::selectMostConflictingLayer()
{
    const auto snapshot = m_session->snapshot();
    if (!snapshot)
        return;
    int best = -1;
    double highest = -1.0;
    for (std::size_t g = 0; g < snapshot->groups.size(); ++g) {
        const analysis::GroupEntry &group = snapshot->groups[g];
        const auto conflict = analysis::meanSignConflict(group.stats);
        if (group.kind == analysis::GroupKind::Layer && conflict && *conflict > highest) {
            highest = *conflict;
            best = static_cast<int>(g);
        }
    }
    if (best < 0)
        return;
    m_session->setSelectedGroup(best);
    log(tr("Selected %1, the layer with the most sign conflicts (%2 % on average)")
            .arg(QString::fromStdString(snapshot->groups[static_cast<std::size_t>(best)].label))
            .arg(highest * 100.0, 0, 'f', 1));
}

void MainWindow::openPaths(const QStringList &paths)
{
    if (!paths.isEmpty())
        m_session->addModels(paths);
}

void MainWindow::editAnalysisOptions()
{
    AnalysisOptionsDialog dialog(m_session->analysisOptions(), this);
    if (dialog.exec() == QDialog::Accepted)
        applyAnalysisOptions(dialog.options());
}

void MainWindow::applyAnalysisOptions(const analysis::AnalysisOptions &options)
{
    AnalysisOptionsDialog::save(options);
    if (sameAnalysisOptions(options, m_session->analysisOptions()))
        return;
    m_session->setAnalysisOptions(options);
    log(tr("Analysis settings: trim density %1, zero threshold %2, sample %3")
            .arg(options.density)
            .arg(options.zeroThreshold)
            .arg(options.sampleSize));
}

void MainWindow::closeAllModels()
{
    m_session->clear();
}

void MainWindow::openDemoFamily(const QString &size)
{
    if (m_demoJob != 0)
        return;
    const QString folder = demoCacheFolder(size);
    log(tr("Preparing the demo family in %1").arg(folder));
    const std::filesystem::path fsFolder(QFile::encodeName(folder).toStdString());
    m_demoJob = m_session->jobRunner()->submit<DemoFamily>(
        QStringLiteral("demo"),
        [fsFolder, size](const ProgressSink &sink, const CancelFlag &cancel) {
            // The writer reports bytes; name the phase for the status bar.
            const ProgressSink phased = [&sink](const Progress &p) {
                Progress named = p;
                named.phase = "generating demo";
                if (sink)
                    sink(named);
            };
            return ensureDemoFamily(fsFolder, size, phased, &cancel);
        },
        [this, folder](const JobOutcome<DemoFamily> &outcome) {
            m_demoJob = 0;
            if (!outcome.ok()) {
                const QString message = QString::fromStdString(outcome.error.message);
                if (outcome.state != JobState::Cancelled)
                    m_messageBar->showError(
                        tr("Could not prepare the demo family: %1").arg(message));
                emit demoFamilyReady(folder, message.isEmpty() ? tr("cancelled") : message);
                return;
            }
            log(outcome.value->generated ? tr("Generated the demo family")
                                         : tr("Reusing the cached demo family"));
            QStringList paths;
            for (const std::filesystem::path &path : outcome.value->models)
                paths << QFile::decodeName(QByteArray::fromStdString(path.string()));
            m_session->clear();
            m_session->addModels(paths);
            // Guide the first look: once analysed, select the layer where the fine-tunes
            // disagree most, so every view opens on the interesting part.
            auto once = std::make_shared<QMetaObject::Connection>();
            *once = connect(m_session, &Session::analysisFinished, this, [this, once] {
                disconnect(*once);
                selectMostConflictingLayer();
            });
            emit demoFamilyReady(folder, QString());
        });
}

QStringList MainWindow::recentModels()
{
    return QSettings().value(kRecentKey).toStringList();
}

void MainWindow::addRecentModel(const QString &path)
{
    QStringList recent = recentModels();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > kMaxRecent)
        recent.removeLast();
    QSettings().setValue(kRecentKey, recent);
    updateRecentMenu();
}

void MainWindow::updateRecentMenu()
{
    m_recentMenu->clear();
    const QStringList recent = recentModels();
    for (int i = 0; i < recent.size(); ++i) {
        const QString &path = recent.at(i);
        const QFileInfo info(path);
        QAction *action = m_recentMenu->addAction(
            QStringLiteral("&%1  %2 — %3")
                .arg(i + 1 < 10 ? QString::number(i + 1) : QStringLiteral("0"), info.fileName(),
                     info.absolutePath()));
        action->setStatusTip(tr("Add %1 (as the base when none is loaded)").arg(path));
        action->setToolTip(action->statusTip());
        connect(action, &QAction::triggered, this, [this, path] { openPaths({path}); });
    }
    if (!recent.isEmpty()) {
        m_recentMenu->addSeparator();
        QAction *clear = m_recentMenu->addAction(tr("Clear List"));
        connect(clear, &QAction::triggered, this, [this] {
            QSettings().remove(kRecentKey);
            updateRecentMenu();
        });
    }
    m_recentMenu->setEnabled(!recent.isEmpty());
}

void MainWindow::log(const QString &line)
{
    m_logView->appendPlainText(QStringLiteral("%1  %2").arg(
        QTime::currentTime().toString(QStringLiteral("HH:mm:ss")), line));
}

void MainWindow::restoreWindowState()
{
    QSettings settings;
    if (!restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray()))
        resize(1500, 940);
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray(), kLayoutVersion);
}

void MainWindow::saveWindowState()
{
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState(kLayoutVersion));
}

void MainWindow::resetLayout()
{
    restoreState(m_defaultState, kLayoutVersion);
    applyDefaultDockSizes();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (auto *recipe = findChild<RecipeController *>(); recipe && !recipe->maybeSave()) {
        event->ignore();
        return;
    }
    saveWindowState();
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    if (!localPaths(event->mimeData()).isEmpty())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    const QStringList paths = localPaths(event->mimeData());
    if (paths.isEmpty())
        return;
    event->acceptProposedAction();
    openPaths(paths);
}

void MainWindow::showAbout()
{
    QMessageBox::about(
        this, tr("About Basin"),
        tr("<h3>Basin %1</h3><p>A workbench for merging fine-tuned neural networks that share "
           "a base model: inspect task vectors and interference, design a merge, preview it, "
           "export it.</p><p>Licensed under the GNU GPL, version 3 or later.</p>")
            .arg(QLatin1String(kVersion)));
}

} // namespace basin::ui
