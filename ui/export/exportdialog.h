// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/progress.h"
#include "engine/mergerequest.h"
#include "recipe/recipe.h"

#include <QDialog>

#include <functional>
#include <memory>
#include <optional>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace basin::ui {

class JobRunner;
struct JobProgress;

// Export: merges the recipe into a model folder with the same engine as `basin merge`
// (engine::runMerge), in the background on the JobRunner. Options: destination, output
// dtype, shard size, seed; shows phase, tensors and time left, with Cancel. On success a
// summary (files, size, time, notes) and "Open folder"; on failure the engine's message.
// The engine builds the folder beside the destination and renames it into place at the end,
// so a failed or cancelled export leaves nothing. Options persist in QSettings.
class ExportDialog : public QDialog {
    Q_OBJECT

public:
    // `recipe` must be valid with resolved model paths (as RecipeDocument holds it).
    ExportDialog(const recipe::Recipe &recipe, JobRunner *runner, QWidget *parent = nullptr);
    ~ExportDialog() override;

    void setDestination(const QString &folder);
    QString destination() const;

    // The request the Export button would run (options from the form).
    engine::MergeRequest request() const;

    // Starts the export (the Export button). False, with the reason shown, when the form
    // is incomplete or the user declined to replace an existing folder.
    bool start();
    // Stops a running export (the Cancel button); it then ends as cancelled.
    void cancel();
    bool isRunning() const { return m_job != 0; }

    // Test hook, called on the worker thread with every progress report before it is shown;
    // returning true cancels the export right there (deterministic mid-run cancellation).
    void setProgressHook(std::function<bool(const Progress &)> hook) { m_hook = std::move(hook); }
    // Replaces the "replace the existing folder?" question (tests); returns the answer.
    void setOverwritePrompt(std::function<bool(const QString &folder)> prompt)
    {
        m_overwritePrompt = std::move(prompt);
    }

    // The last successful export's report; null before one or after a failure.
    const engine::MergeReport *report() const { return m_report.get(); }
    // The summary or error text shown after the last export.
    QString resultText() const;

    QLineEdit *destinationEdit() const { return m_destination; }
    QComboBox *dtypeCombo() const { return m_dtype; }
    QSpinBox *shardSizeBox() const { return m_shardMb; }
    QLineEdit *seedEdit() const { return m_seed; }
    QPushButton *exportButton() const { return m_exportButton; }
    QPushButton *cancelButton() const { return m_cancelButton; }
    QPushButton *openFolderButton() const { return m_openFolder; }
    QProgressBar *progressBar() const { return m_bar; }

    // Summary text of a report: files with sizes, total, time, seed, then the notes.
    static QString summarize(const engine::MergeReport &report);

signals:
    // The export ended: Succeeded (true) or failed/cancelled (false, with the message).
    void exportFinished(bool ok, const QString &message);

protected:
    void reject() override;

private:
    void browse();
    void onProgress(quint64 id, const JobProgress &progress);
    void finish(bool ok, const QString &text);
    void saveOptions() const;
    void setRunning(bool running);

    recipe::Recipe m_recipe;
    JobRunner *m_runner;
    quint64 m_job = 0;
    std::shared_ptr<CancelFlag> m_cancel;
    std::function<bool(const Progress &)> m_hook;
    std::function<bool(const QString &)> m_overwritePrompt;
    std::shared_ptr<const engine::MergeReport> m_report;
    bool m_closeWhenDone = false;

    QLineEdit *m_destination = nullptr;
    QComboBox *m_dtype = nullptr;
    QSpinBox *m_shardMb = nullptr;
    QLineEdit *m_seed = nullptr;
    QLabel *m_phase = nullptr;
    QProgressBar *m_bar = nullptr;
    QLabel *m_eta = nullptr;
    QPlainTextEdit *m_result = nullptr;
    QPushButton *m_exportButton = nullptr;
    QPushButton *m_cancelButton = nullptr;
    QPushButton *m_openFolder = nullptr;
    QPushButton *m_closeButton = nullptr;
};

} // namespace basin::ui
