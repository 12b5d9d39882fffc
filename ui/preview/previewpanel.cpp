// SPDX-License-Identifier: GPL-3.0-or-later
#include "preview/previewpanel.h"

#include "analysis/curvesrecipe.h"
#include "jobs/jobrunner.h"
#include "plots/curveplotwidget.h"
#include "plots/heatmapwidget.h"
#include "preview/curvedata.h"
#include "preview/evaluator.h"

#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QPushButton>
#include <QSaveFile>
#include <QSplitter>
#include <QVBoxLayout>

namespace basin::ui {

namespace {

const QString kChannel = QStringLiteral("preview");

// What one recomputation hands back to the GUI thread.
struct PreviewOutput {
    std::optional<analysis::Preview> preview;
    QString previewError;
    std::optional<analysis::CurveSet> curves;
    QString curveError;
};

} // namespace

PreviewPanel::PreviewPanel(JobRunner *runner, QWidget *parent)
    : QWidget(parent), m_runner(runner), m_evaluator(new Evaluator(runner, this))
{
    buildUi();
    connect(m_evaluator, &Evaluator::logMessage, this, &PreviewPanel::logMessage);
    connect(m_evaluator, &Evaluator::pointFinished, this, [this](double x, double score, bool) {
        m_scores[x] = score;
        applyScores();
    });
    connect(m_evaluator, &Evaluator::pointFailed, this, [this](double x, const QString &message) {
        m_status->setText(tr("Evaluation at %1 failed: %2").arg(x).arg(message));
    });
    connect(m_evaluator, &Evaluator::idle, this, [this] {
        m_evaluate->setEnabled(true);
        m_cancel->setEnabled(false);
    });
}

PreviewPanel::~PreviewPanel()
{
    if (m_runner)
        m_runner->cancel(kChannel);
}

void PreviewPanel::buildUi()
{
    m_variable = new QComboBox;
    m_variable->addItem(tr("α between two models"), int(analysis::CurveVariable::Alpha));
    m_variable->addItem(tr("λ (lambda)"), int(analysis::CurveVariable::Lambda));
    m_variable->addItem(tr("weight of a model"), int(analysis::CurveVariable::Weight));
    m_variable->addItem(tr("density"), int(analysis::CurveVariable::Density));
    m_modelA = new QComboBox;
    m_modelB = new QComboBox;
    m_model = new QComboBox;
    m_scope = new QComboBox;
    m_modelA->setToolTip(tr("α = 0 end"));
    m_modelB->setToolTip(tr("α = 1 end"));
    m_model->setToolTip(tr("Model whose weight varies (or whose density is marked)"));
    m_scope->setToolTip(tr("Layer, or global"));

    auto *selectors = new QHBoxLayout;
    selectors->addWidget(new QLabel(tr("Vary")));
    selectors->addWidget(m_variable);
    selectors->addWidget(m_modelA);
    selectors->addWidget(m_modelB);
    selectors->addWidget(m_model);
    selectors->addWidget(new QLabel(tr("Layer")));
    selectors->addWidget(m_scope);
    selectors->addStretch(1);

    m_plot = new CurvePlotWidget;
    m_heatmap = new HeatmapWidget;
    m_status = new QLabel;
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_command = new QLineEdit;
    m_command->setPlaceholderText(
        tr("Evaluator command, e.g. llama-perplexity -m {model}/… -f wiki.txt"));
    m_points = new QLineEdit(QStringLiteral("0, 0.25, 0.5, 0.75, 1"));
    m_points->setToolTip(tr("Values of the varied parameter to evaluate"));
    m_evaluate = new QPushButton(tr("Evaluate points"));
    m_cancel = new QPushButton(tr("Cancel"));
    m_cancel->setEnabled(false);
    auto *importButton = new QPushButton(tr("Import CSV…"));
    auto *exportButton = new QPushButton(tr("Export CSV…"));
    auto *evalRow = new QHBoxLayout;
    evalRow->addWidget(m_command, 3);
    evalRow->addWidget(m_points, 1);
    evalRow->addWidget(m_evaluate);
    evalRow->addWidget(m_cancel);
    evalRow->addWidget(importButton);
    evalRow->addWidget(exportButton);

    auto *splitter = new QSplitter(Qt::Vertical);
    splitter->addWidget(m_plot);
    splitter->addWidget(m_heatmap);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(selectors);
    layout->addWidget(splitter, 1);
    layout->addWidget(m_status);
    layout->addLayout(evalRow);

    auto changed = [this] {
        if (m_filling)
            return;
        const auto variable = analysis::CurveVariable(m_variable->currentData().toInt());
        const bool alpha = variable == analysis::CurveVariable::Alpha;
        m_modelA->setVisible(alpha);
        m_modelB->setVisible(alpha);
        m_model->setVisible(!alpha && variable != analysis::CurveVariable::Lambda);
        // Scores belong to one variable and model choice.
        m_scores.clear();
        scheduleRecompute();
    };
    for (QComboBox *box : {m_variable, m_modelA, m_modelB, m_model, m_scope})
        connect(box, &QComboBox::currentIndexChanged, this, changed);
    m_model->hide();
    connect(m_evaluate, &QPushButton::clicked, this, &PreviewPanel::evaluatePoints);
    connect(m_cancel, &QPushButton::clicked, this, &PreviewPanel::cancelEvaluations);
    connect(importButton, &QPushButton::clicked, this, [this] {
        const QString path =
            QFileDialog::getOpenFileName(this, tr("Import scores"), {}, tr("CSV (*.csv)"));
        QString error;
        if (!path.isEmpty() && !importScores(path, &error))
            m_status->setText(error);
    });
    connect(exportButton, &QPushButton::clicked, this, [this] {
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Export scores"), {}, tr("CSV (*.csv)"));
        QString error;
        if (!path.isEmpty() && !exportScores(path, &error))
            m_status->setText(error);
    });
}

void PreviewPanel::fillSelectors()
{
    m_filling = true;
    const QString scope = m_scope->currentText();
    for (QComboBox *box : {m_modelA, m_modelB, m_model, m_scope})
        box->clear();
    if (m_snapshot) {
        for (std::size_t s = 0; s < m_snapshot->modelNames.size(); ++s) {
            const QString name =
                s == 0 ? tr("base") : QString::fromStdString(m_snapshot->fineTuneLabel(int(s) - 1));
            m_modelA->addItem(name, int(s));
            m_modelB->addItem(name, int(s));
            if (s > 0)
                m_model->addItem(name, int(s));
        }
        m_modelA->setCurrentIndex(m_snapshot->fineTunes() >= 2 ? 1 : 0);
        m_modelB->setCurrentIndex(m_snapshot->fineTunes() >= 2 ? 2 : 1);
        m_scope->addItem(tr("global"));
        for (const analysis::GroupEntry &group : m_snapshot->groups)
            m_scope->addItem(QString::fromStdString(group.label));
        const int keep = m_scope->findText(scope);
        m_scope->setCurrentIndex(keep >= 0 ? keep : 0);
    }
    m_filling = false;
}

void PreviewPanel::setSnapshot(std::shared_ptr<const analysis::AnalysisSnapshot> snapshot)
{
    m_snapshot = std::move(snapshot);
    m_scores.clear();
    fillSelectors();
    scheduleRecompute();
}

void PreviewPanel::setRecipe(std::optional<recipe::Recipe> recipe)
{
    m_recipe = std::move(recipe);
    scheduleRecompute();
}

void PreviewPanel::setVariable(analysis::CurveVariable variable)
{
    m_variable->setCurrentIndex(m_variable->findData(int(variable)));
}

void PreviewPanel::setModels(int a, int b)
{
    m_filling = true;
    m_modelA->setCurrentIndex(m_modelA->findData(a));
    m_filling = false;
    m_modelB->setCurrentIndex(m_modelB->findData(b));
    scheduleRecompute();
}

void PreviewPanel::setModel(int model)
{
    m_model->setCurrentIndex(m_model->findData(model));
}

void PreviewPanel::setScope(const QString &scope)
{
    const int index = m_scope->findText(scope.isEmpty() ? tr("global") : scope);
    if (index >= 0)
        m_scope->setCurrentIndex(index);
}

analysis::CurveRequest PreviewPanel::currentRequest() const
{
    analysis::CurveRequest request;
    request.variable = analysis::CurveVariable(m_variable->currentData().toInt());
    const auto range = analysis::defaultCurveRange(request.variable);
    request.from = range.first;
    request.to = range.second;
    request.steps = 41;
    request.modelA = m_modelA->currentData().toInt();
    request.modelB = m_modelB->currentData().toInt();
    request.model = m_model->currentData().isValid() ? m_model->currentData().toInt() : 1;
    request.scope =
        m_scope->currentIndex() <= 0 ? std::string() : m_scope->currentText().toStdString();
    return request;
}

void PreviewPanel::scheduleRecompute()
{
    if (!m_runner || m_filling)
        return;
    if (!m_snapshot) {
        m_runner->cancel(kChannel);
        m_preview.reset();
        m_curves.reset();
        m_plot->setData({});
        m_heatmap->setData({});
        m_status->setText(tr("Analyse models to see the preview."));
        return;
    }
    auto snapshot = m_snapshot;
    auto recipe = m_recipe;
    const analysis::CurveRequest request = currentRequest();
    m_runner->submit<PreviewOutput>(
        kChannel,
        [snapshot, recipe, request](const ProgressSink &,
                                    const CancelFlag &cancel) -> Result<PreviewOutput> {
            PreviewOutput out;
            if (recipe) {
                auto preview = analysis::computePreview(*snapshot, *recipe);
                if (preview)
                    out.preview = std::move(*preview);
                else
                    out.previewError = QString::fromStdString(preview.error().message);
            }
            if (cancel)
                return makeError(ErrorCode::Cancelled, "superseded");
            auto curves = analysis::computeCurves(*snapshot, recipe ? &*recipe : nullptr, request);
            if (curves)
                out.curves = std::move(*curves);
            else
                out.curveError = QString::fromStdString(curves.error().message);
            return out;
        },
        [self = QPointer<PreviewPanel>(this), this](const JobOutcome<PreviewOutput> &outcome) {
            if (!self || !outcome.ok())
                return;
            const PreviewOutput &out = *outcome.value;
            m_preview = out.preview;
            m_curves = out.curves;
            QStringList status;
            if (m_preview) {
                m_heatmap->setData(retentionHeatmap(*m_preview));
                if (!m_preview->exact)
                    status << tr("Preview %1").arg(QString::fromStdString(m_preview->marker()));
            } else {
                m_heatmap->setData({});
                status << (out.previewError.isEmpty() ? tr("No recipe: retention needs a recipe.")
                                                      : tr("Preview: %1").arg(out.previewError));
            }
            if (m_curves) {
                m_plot->setData(curveDataFrom(*m_curves));
                if (m_curves->current)
                    m_plot->setCurrentValue(*m_curves->current);
                else
                    m_plot->clearCurrentValue();
                for (const std::string &w : m_curves->warnings)
                    status << QString::fromStdString(w);
                applyScores();
            } else {
                m_plot->setData({});
                status << tr("Curves: %1").arg(out.curveError);
            }
            m_status->setText(status.join(QLatin1Char('\n')));
            ++m_updates;
            emit updated();
        });
}

void PreviewPanel::applyScores()
{
    if (!m_curves)
        return;
    CurveData data = m_plot->data();
    data.measured.clear();
    if (!m_scores.empty()) {
        MeasuredSeries series;
        series.name = tr("evaluator score");
        for (const auto &[x, y] : m_scores) {
            series.x.push_back(x);
            series.y.push_back(y);
        }
        data.measured.push_back(std::move(series));
        data.y2Label = tr("evaluator score");
    }
    const auto current = m_plot->currentValue();
    m_plot->setData(std::move(data));
    if (current)
        m_plot->setCurrentValue(*current);
}

void PreviewPanel::setEvaluatorCommand(const QString &command)
{
    m_command->setText(command);
}

void PreviewPanel::setEvaluationPoints(const QString &commaSeparated)
{
    m_points->setText(commaSeparated);
}

void PreviewPanel::evaluatePoints()
{
    if (!m_snapshot) {
        m_status->setText(tr("Analyse models before evaluating."));
        return;
    }
    m_evaluator->setCommand(m_command->text());
    const analysis::CurveRequest request = currentRequest();
    int queued = 0;
    for (const QString &cell : m_points->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const double x = cell.trimmed().toDouble(&ok);
        if (!ok) {
            m_status->setText(tr("'%1' is not a number").arg(cell.trimmed()));
            return;
        }
        auto candidate =
            analysis::recipeAt(*m_snapshot, m_recipe ? &*m_recipe : nullptr, request, x);
        if (!candidate) {
            m_status->setText(QString::fromStdString(candidate.error().message));
            return;
        }
        m_evaluator->enqueue(x, *candidate);
        ++queued;
    }
    if (queued > 0 && m_evaluator->busy()) {
        m_evaluate->setEnabled(false);
        m_cancel->setEnabled(true);
    }
}

void PreviewPanel::cancelEvaluations()
{
    m_evaluator->cancel();
}

bool PreviewPanel::importScores(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = path + QStringLiteral(": ") + file.errorString();
        return false;
    }
    QString parseError;
    auto points = scoresFromCsv(QString::fromUtf8(file.readAll()), &parseError);
    if (!points) {
        if (error)
            *error = path + QStringLiteral(": ") + parseError;
        return false;
    }
    for (const auto &[x, y] : *points)
        m_scores[x] = y;
    applyScores();
    return true;
}

bool PreviewPanel::exportScores(const QString &path, QString *error) const
{
    QSaveFile file(path);
    const QByteArray bytes = scoresToCsv({m_scores.begin(), m_scores.end()}).toUtf8();
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        if (error)
            *error = path + QStringLiteral(": ") + file.errorString();
        return false;
    }
    return true;
}

QString PreviewPanel::statusText() const
{
    return m_status->text();
}

} // namespace basin::ui
