// SPDX-License-Identifier: GPL-3.0-or-later
#include "export/exportdialog.h"

#include "engine/mergerunner.h"
#include "jobs/jobrunner.h"
#include "jobs/progresswidget.h"

#include <QComboBox>
#include <QDesktopServices>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QSettings>
#include <QSpinBox>
#include <QUrl>
#include <QVBoxLayout>

#include <filesystem>

namespace basin::ui {

namespace {

const QString kChannel = QStringLiteral("export");

std::filesystem::path toPath(const QString &path)
{
    return std::filesystem::path(path.toStdU16String());
}

bool nonEmptyFolder(const QString &path)
{
    const QFileInfo info(path);
    if (!info.exists())
        return false;
    if (!info.isDir())
        return true;
    return !QDir(path).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden).isEmpty();
}

} // namespace

ExportDialog::ExportDialog(const recipe::Recipe &recipe, JobRunner *runner, QWidget *parent)
    : QDialog(parent), m_recipe(recipe), m_runner(runner)
{
    setObjectName(QStringLiteral("exportDialog"));
    setWindowTitle(tr("Export merged model"));
    auto *layout = new QVBoxLayout(this);
    auto *form = new QFormLayout;

    auto *destRow = new QHBoxLayout;
    m_destination = new QLineEdit(this);
    m_destination->setObjectName(QStringLiteral("destination"));
    m_destination->setPlaceholderText(tr("New folder for the merged model"));
    auto *browseButton = new QPushButton(tr("Browse…"), this);
    destRow->addWidget(m_destination, 1);
    destRow->addWidget(browseButton);
    form->addRow(tr("Destination"), destRow);

    m_dtype = new QComboBox(this);
    m_dtype->setObjectName(QStringLiteral("dtype"));
    m_dtype->addItem(tr("As the recipe says"), QString());
    m_dtype->addItem(QStringLiteral("float32"), QStringLiteral("float32"));
    m_dtype->addItem(QStringLiteral("float16"), QStringLiteral("float16"));
    m_dtype->addItem(QStringLiteral("bfloat16"), QStringLiteral("bfloat16"));
    m_dtype->setToolTip(tr("Stored dtype of the output (out_dtype); the merge computes in f32"));
    form->addRow(tr("Output dtype"), m_dtype);

    m_shardMb = new QSpinBox(this);
    m_shardMb->setObjectName(QStringLiteral("shardSize"));
    m_shardMb->setRange(0, 1'000'000);
    m_shardMb->setSuffix(QStringLiteral(" MB"));
    m_shardMb->setSpecialValueText(tr("one file"));
    m_shardMb->setValue(int(engine::kDefaultShardBytes / 1'000'000));
    form->addRow(tr("Shard size"), m_shardMb);

    m_seed = new QLineEdit(this);
    m_seed->setObjectName(QStringLiteral("seed"));
    m_seed->setValidator(
        new QRegularExpressionValidator(QRegularExpression(QStringLiteral("[0-9]{0,19}")), m_seed));
    m_seed->setPlaceholderText(recipe.seed ? tr("recipe: %1").arg(*recipe.seed)
                                           : tr("recipe's, else 0"));
    m_seed->setToolTip(tr("Seed of the random methods (dare, della); overrides the recipe's"));
    form->addRow(tr("Seed"), m_seed);
    layout->addLayout(form);

    auto *progressRow = new QHBoxLayout;
    m_phase = new QLabel(this);
    m_bar = new QProgressBar(this);
    m_bar->setObjectName(QStringLiteral("progress"));
    m_bar->setRange(0, 1000);
    m_bar->setValue(0);
    m_eta = new QLabel(this);
    progressRow->addWidget(m_phase);
    progressRow->addWidget(m_bar, 1);
    progressRow->addWidget(m_eta);
    layout->addLayout(progressRow);

    m_result = new QPlainTextEdit(this);
    m_result->setObjectName(QStringLiteral("result"));
    m_result->setReadOnly(true);
    m_result->setMinimumHeight(120);
    layout->addWidget(m_result, 1);

    auto *buttons = new QHBoxLayout;
    m_openFolder = new QPushButton(tr("Open folder"), this);
    m_openFolder->setObjectName(QStringLiteral("openFolder"));
    m_openFolder->setEnabled(false);
    m_exportButton = new QPushButton(tr("Export"), this);
    m_exportButton->setObjectName(QStringLiteral("exportButton"));
    m_exportButton->setDefault(true);
    m_cancelButton = new QPushButton(tr("Cancel"), this);
    m_cancelButton->setObjectName(QStringLiteral("cancelButton"));
    m_cancelButton->setEnabled(false);
    m_closeButton = new QPushButton(tr("Close"), this);
    buttons->addWidget(m_openFolder);
    buttons->addStretch(1);
    buttons->addWidget(m_exportButton);
    buttons->addWidget(m_cancelButton);
    buttons->addWidget(m_closeButton);
    layout->addLayout(buttons);

    QSettings settings;
    const QString lastFolder = settings.value(QStringLiteral("export/folder")).toString();
    m_dtype->setCurrentIndex(
        std::max(0, m_dtype->findData(settings.value(QStringLiteral("export/dtype")).toString())));
    m_shardMb->setValue(
        settings.value(QStringLiteral("export/shardMb"), m_shardMb->value()).toInt());
    m_seed->setText(settings.value(QStringLiteral("export/seed")).toString());
    if (!lastFolder.isEmpty())
        m_destination->setText(QDir(lastFolder).filePath(QStringLiteral("merged")));

    connect(browseButton, &QPushButton::clicked, this, &ExportDialog::browse);
    connect(m_exportButton, &QPushButton::clicked, this, [this] { start(); });
    connect(m_cancelButton, &QPushButton::clicked, this, &ExportDialog::cancel);
    connect(m_closeButton, &QPushButton::clicked, this, &ExportDialog::reject);
    connect(m_openFolder, &QPushButton::clicked, this,
            [this] { QDesktopServices::openUrl(QUrl::fromLocalFile(destination())); });
    connect(m_runner, &JobRunner::jobProgress, this,
            [this](quint64 id, const QString &, const JobProgress &p) { onProgress(id, p); });
}

ExportDialog::~ExportDialog()
{
    // The runner outlives the dialog: stop a running export so it leaves nothing behind.
    if (m_cancel)
        m_cancel->store(true);
    if (m_job)
        m_runner->cancelJob(m_job);
}

void ExportDialog::setDestination(const QString &folder)
{
    m_destination->setText(folder);
}

QString ExportDialog::destination() const
{
    const QString text = m_destination->text().trimmed();
    return text.isEmpty() ? QString() : QFileInfo(text).absoluteFilePath();
}

engine::MergeRequest ExportDialog::request() const
{
    engine::MergeRequest request;
    request.recipe = m_recipe;
    const QString dtype = m_dtype->currentData().toString();
    if (!dtype.isEmpty())
        request.recipe.outDtype = recipe::parseRecipeDtype(dtype.toStdString());
    request.outDir = toPath(destination());
    request.options.maxShardBytes = std::uint64_t(m_shardMb->value()) * 1'000'000ull;
    if (!m_seed->text().isEmpty())
        request.options.seed = m_seed->text().toULongLong();
    return request;
}

bool ExportDialog::start()
{
    if (m_job)
        return false;
    const QString dest = destination();
    if (dest.isEmpty()) {
        finish(false, tr("Choose a destination folder first."));
        return false;
    }
    engine::MergeRequest req = request();
    if (nonEmptyFolder(dest)) {
        const bool replace =
            m_overwritePrompt
                ? m_overwritePrompt(dest)
                : QMessageBox::question(this, tr("Replace folder?"),
                                        tr("%1 already exists and is not empty. Replace it "
                                           "once the new model is complete?")
                                            .arg(QDir::toNativeSeparators(dest))) ==
                      QMessageBox::Yes;
        if (!replace)
            return false;
        req.options.overwrite = true;
    }
    saveOptions();
    m_report.reset();
    m_result->clear();
    m_cancel = std::make_shared<CancelFlag>(false);
    auto cancelFlag = m_cancel;
    auto hook = m_hook;
    JobRunner::Job<engine::MergeReport> job = [req = std::move(req), cancelFlag,
                                               hook](const ProgressSink &sink,
                                                     const CancelFlag &runnerCancel) {
        // runMerge watches one flag: ours, fed from the runner's and from the hook.
        const ProgressSink forward = [&](const Progress &p) {
            if (runnerCancel.load() || (hook && hook(p)))
                cancelFlag->store(true);
            sink(p);
        };
        if (runnerCancel.load())
            cancelFlag->store(true);
        return engine::runMerge(req, forward, *cancelFlag);
    };
    QPointer<ExportDialog> self(this);
    m_job = m_runner->submit<engine::MergeReport>(
        kChannel, std::move(job), [self](const JobOutcome<engine::MergeReport> &outcome) {
            if (!self)
                return;
            self->m_job = 0;
            if (outcome.ok()) {
                self->m_report = outcome.value;
                self->finish(true, summarize(*outcome.value));
            } else if (outcome.state == JobState::Cancelled ||
                       outcome.error.code == ErrorCode::Cancelled) {
                self->finish(false, tr("Cancelled: nothing was written."));
            } else {
                self->finish(
                    false,
                    tr("Export failed: %1").arg(QString::fromStdString(outcome.error.message)));
            }
        });
    setRunning(true);
    m_phase->setText(tr("Starting"));
    return true;
}

void ExportDialog::cancel()
{
    if (!m_job)
        return;
    if (m_cancel)
        m_cancel->store(true);
    m_runner->cancelJob(m_job);
    m_phase->setText(tr("Cancelling…"));
}

QString ExportDialog::resultText() const
{
    return m_result->toPlainText();
}

QString ExportDialog::summarize(const engine::MergeReport &report)
{
    const QLocale locale;
    QStringList lines;
    lines << tr("Merged %n tensor(s) into %1", nullptr, int(report.tensors.size()))
                 .arg(QString::fromStdU16String(report.outDir.u16string()));
    std::uint64_t total = 0;
    for (const engine::ShardReport &shard : report.shards) {
        total += shard.fileBytes;
        lines << QStringLiteral("  %1  %2")
                     .arg(QString::fromStdString(shard.fileName),
                          locale.formattedDataSize(qint64(shard.fileBytes)));
    }
    lines << tr("Total %1 in %2 s · seed %3")
                 .arg(locale.formattedDataSize(qint64(total)))
                 .arg(report.seconds, 0, 'f', 1)
                 .arg(report.seed);
    if (report.slerpFallbacks > 0)
        lines << tr("%n tensor(s) fell back from slerp to lerp (nearly parallel)", nullptr,
                    report.slerpFallbacks);
    if (report.modelsSkipped > 0)
        lines << tr("%n input(s) skipped for a shape mismatch", nullptr, report.modelsSkipped);
    if (report.embeddingsCropped > 0)
        lines << tr("%n embedding(s) cropped to the base's shape", nullptr,
                    report.embeddingsCropped);
    for (const std::string &w : report.warnings)
        lines << QStringLiteral("• ") + QString::fromStdString(w);
    return lines.join(QLatin1Char('\n'));
}

void ExportDialog::reject()
{
    if (m_job) {
        // Closing means stop: wait for the engine to clean up, then close.
        m_closeWhenDone = true;
        cancel();
        return;
    }
    QDialog::reject();
}

void ExportDialog::browse()
{
    const QString start = destination().isEmpty()
                              ? QSettings().value(QStringLiteral("export/folder")).toString()
                              : QFileInfo(destination()).absolutePath();
    const QString folder =
        QFileDialog::getSaveFileName(this, tr("Folder for the merged model"), start, QString(),
                                     nullptr, QFileDialog::ShowDirsOnly);
    if (!folder.isEmpty())
        m_destination->setText(folder);
}

void ExportDialog::onProgress(quint64 id, const JobProgress &progress)
{
    if (id != m_job || id == 0)
        return;
    m_phase->setText(tr("%1 %2/%3")
                         .arg(ProgressWidget::phaseName(progress.phase))
                         .arg(progress.itemsDone)
                         .arg(progress.itemsTotal));
    if (progress.fraction >= 0) {
        m_bar->setRange(0, 1000);
        m_bar->setValue(int(progress.fraction * 1000));
    } else {
        m_bar->setRange(0, 0);
    }
    m_eta->setText(ProgressWidget::formatEta(progress.etaSeconds));
}

void ExportDialog::finish(bool ok, const QString &text)
{
    setRunning(false);
    m_result->setPlainText(text);
    m_phase->setText(ok ? tr("Done") : QString());
    m_eta->clear();
    m_bar->setRange(0, 1000);
    m_bar->setValue(ok ? 1000 : 0);
    m_openFolder->setEnabled(ok);
    emit exportFinished(ok, text);
    if (m_closeWhenDone) {
        m_closeWhenDone = false;
        QDialog::reject();
    }
}

void ExportDialog::saveOptions() const
{
    QSettings settings;
    settings.setValue(QStringLiteral("export/folder"), QFileInfo(destination()).absolutePath());
    settings.setValue(QStringLiteral("export/dtype"), m_dtype->currentData().toString());
    settings.setValue(QStringLiteral("export/shardMb"), m_shardMb->value());
    settings.setValue(QStringLiteral("export/seed"), m_seed->text());
}

void ExportDialog::setRunning(bool running)
{
    m_exportButton->setEnabled(!running);
    m_cancelButton->setEnabled(running);
    m_destination->setEnabled(!running);
    m_dtype->setEnabled(!running);
    m_shardMb->setEnabled(!running);
    m_seed->setEnabled(!running);
    if (running)
        m_openFolder->setEnabled(false);
}

} // namespace basin::ui
