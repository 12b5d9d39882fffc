// SPDX-License-Identifier: GPL-3.0-or-later
#include "panels/distributionpanel.h"

#include "jobs/jobrunner.h"
#include "panels/interferencepanel.h"
#include "plots/histogramwidget.h"
#include "workbench/distribution.h"
#include "workbench/session.h"

#include <QAction>
#include <QComboBox>
#include <QHBoxLayout>
#include <QMenu>
#include <QPointer>
#include <QRegularExpression>
#include <QSettings>
#include <QStandardItemModel>
#include <QToolButton>

#include <algorithm>

namespace basin::ui {

namespace {
const QString kModeKey = QStringLiteral("views/distributionMode");
const QString kChannel = QStringLiteral("distribution");
constexpr int kSignedBins = 81;

// "model.layers.3.self_attn.q_proj.weight" → "self_attn.q_proj.weight": the layer is
// already chosen, the rest tells the tensors of a layer apart.
QString shortName(const QString &name)
{
    static const QRegularExpression layerPrefix(QStringLiteral("^.*layers\\.\\d+\\."));
    QString out = name;
    out.remove(layerPrefix);
    if (out == name && out.startsWith(QStringLiteral("model.")))
        out = out.mid(6);
    return out;
}
} // namespace

DistributionPanel::DistributionPanel(Session *session, QWidget *parent)
    : PlotPanel(session, tr("Distribution"), parent)
{
    setObjectName(QStringLiteral("distributionPanel"));
    m_tensorBox = new QComboBox(this);
    m_tensorBox->setObjectName(QStringLiteral("distributionTensor"));
    // Tensor names are long: shown whole when there is room, shrinking when there is not.
    m_tensorBox->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_tensorBox->setMinimumWidth(shrinkableWidth(m_tensorBox, 10));
    m_tensorBox->setToolTip(tr("Tensor whose task vectors are shown (the tensors of the "
                               "selected layer; all tensors when no layer is selected)"));
    m_modeBox = new QComboBox(this);
    m_modeBox->setObjectName(QStringLiteral("distributionMode"));
    m_modeBox->addItem(tr("log |τ|"), int(Mode::LogAbs));
    m_modeBox->setItemData(0,
                           tr("Magnitudes on a log scale, from the exact histograms of the "
                              "analysis (instant)"),
                           Qt::ToolTipRole);
    m_modeBox->addItem(tr("τ (signed)"), int(Mode::Signed));
    m_modeBox->setItemData(1, tr("Signed changes, read from the checkpoints in the background"),
                           Qt::ToolTipRole);
    m_modeBox->addItem(tr("|τ| / ulp(B)"), int(Mode::Ulp));
    m_modeBox->setItemData(2, tr("bf16 models: how many bf16 steps each weight moved"),
                           Qt::ToolTipRole);
    m_modeBox->setToolTip(tr("How the distribution is drawn"));
    m_modeBox->setMinimumWidth(shrinkableWidth(m_modeBox, 6));
    const int savedMode = m_modeBox->findData(QSettings().value(kModeKey, 0).toInt());
    m_modeBox->setCurrentIndex(std::max(savedMode, 0));

    m_modelsMenu = new QMenu(this);
    m_modelsButton = new QToolButton(this);
    m_modelsButton->setObjectName(QStringLiteral("distributionModels"));
    m_modelsButton->setText(tr("Models"));
    m_modelsButton->setMenu(m_modelsMenu);
    m_modelsButton->setPopupMode(QToolButton::InstantPopup);
    m_modelsButton->setToolTip(tr("Fine-tunes drawn in the histogram"));

    controlsLayout()->addWidget(m_tensorBox, 1);
    controlsLayout()->addWidget(m_modeBox);
    controlsLayout()->addWidget(m_modelsButton);

    m_histogram = new HistogramWidget(this);
    m_histogram->setObjectName(QStringLiteral("distributionHistogram"));
    m_histogram->setExportName(QStringLiteral("distribution"));
    setContent(m_histogram);

    connect(m_tensorBox, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_filling) {
            updateModes();
            redraw();
        }
    });
    connect(m_modeBox, &QComboBox::currentIndexChanged, this, [this] {
        QSettings().setValue(kModeKey, int(mode()));
        if (!m_filling)
            redraw();
    });
    connect(session, &Session::selectedGroupChanged, this, [this] {
        fillTensors();
        updateModes();
        redraw();
    });
    reload();
}

DistributionPanel::~DistributionPanel() = default;

DistributionPanel::Mode DistributionPanel::mode() const
{
    return static_cast<Mode>(m_modeBox->currentData().toInt());
}

void DistributionPanel::setMode(Mode mode)
{
    const int index = m_modeBox->findData(int(mode));
    if (index >= 0)
        m_modeBox->setCurrentIndex(index);
}

QString DistributionPanel::tensorName() const
{
    return m_tensorBox->currentData().toString();
}

void DistributionPanel::setTensorName(const QString &name)
{
    const int index = m_tensorBox->findData(name);
    if (index >= 0)
        m_tensorBox->setCurrentIndex(index);
}

std::vector<int> DistributionPanel::chosenModels() const
{
    std::vector<int> models;
    const QList<QAction *> actions = m_modelsMenu->actions();
    for (int t = 0; t < actions.size(); ++t) {
        if (actions.at(t)->isChecked())
            models.push_back(t);
    }
    return models;
}

void DistributionPanel::refresh()
{
    fillModels();
    fillTensors();
    updateModes();
    redraw();
}

void DistributionPanel::fillModels()
{
    const auto snapshot = session()->snapshot();
    const int count = snapshot ? snapshot->fineTunes() : 0;
    const QList<QAction *> old = m_modelsMenu->actions();
    std::vector<bool> checked;
    for (QAction *action : old)
        checked.push_back(action->isChecked());
    m_modelsMenu->clear();
    for (int t = 0; t < count; ++t) {
        QAction *action =
            m_modelsMenu->addAction(QString::fromStdString(snapshot->fineTuneLabel(t)));
        action->setCheckable(true);
        action->setChecked(t < static_cast<int>(checked.size()) ? bool(checked[std::size_t(t)])
                                                                : true);
        connect(action, &QAction::toggled, this, &DistributionPanel::redraw);
    }
    m_modelsButton->setEnabled(count > 0);
}

void DistributionPanel::fillTensors()
{
    const auto snapshot = session()->snapshot();
    const QString previous = tensorName();
    const QString previousKind = shortName(previous); // the same tensor in any layer
    m_filling = true;
    m_tensorBox->clear();
    if (snapshot) {
        const int group = session()->selectedGroup();
        const bool oneGroup = group >= 0 && group < static_cast<int>(snapshot->groups.size());
        const auto add = [this, &snapshot, oneGroup](std::size_t index) {
            const QString name = QString::fromStdString(snapshot->tensors[index].name);
            // Within a layer the layer prefix is noise; across layers it is the point.
            QString text = oneGroup ? shortName(name) : name;
            if (!oneGroup && text.startsWith(QStringLiteral("model.")))
                text = text.mid(6);
            m_tensorBox->addItem(text, name);
            m_tensorBox->setItemData(m_tensorBox->count() - 1, name, Qt::ToolTipRole);
        };
        if (oneGroup) {
            for (const std::size_t index :
                 snapshot->groups[static_cast<std::size_t>(group)].tensors)
                add(index);
        } else {
            for (std::size_t index = 0; index < snapshot->tensors.size(); ++index)
                add(index);
        }
        // Moving between layers keeps the same kind of tensor in view.
        int index = m_tensorBox->findData(previous);
        for (int i = 0; index < 0 && !previous.isEmpty() && i < m_tensorBox->count(); ++i) {
            if (shortName(m_tensorBox->itemData(i).toString()) == previousKind)
                index = i;
        }
        // Without a choice yet, start on the largest tensor inside a layer: its histogram
        // is the smoothest, and the embedding's says more about the vocabulary than the
        // fine-tune.
        if (index < 0) {
            const analysis::TensorEntry *largest = nullptr;
            for (const analysis::TensorEntry &t : snapshot->tensors) {
                if (t.nameInfo.layer && (!largest || t.numel > largest->numel))
                    largest = &t;
            }
            if (largest)
                index = m_tensorBox->findData(QString::fromStdString(largest->name));
        }
        m_tensorBox->setCurrentIndex(std::max(index, 0));
    }
    m_filling = false;
}

void DistributionPanel::updateModes()
{
    const auto snapshot = session()->snapshot();
    const analysis::TensorEntry *tensor =
        snapshot ? snapshot->findTensor(tensorName().toStdString()) : nullptr;
    std::vector<int> all;
    for (int t = 0; snapshot && t < snapshot->fineTunes(); ++t)
        all.push_back(t);
    const bool ulp = tensor && hasUlpHistogram(*tensor, all);
    if (auto *model = qobject_cast<QStandardItemModel *>(m_modeBox->model())) {
        if (QStandardItem *item = model->item(m_modeBox->findData(int(Mode::Ulp))))
            item->setEnabled(ulp);
    }
    if (!ulp && mode() == Mode::Ulp) {
        m_filling = true;
        setMode(Mode::LogAbs);
        m_filling = false;
    }
}

void DistributionPanel::redraw()
{
    if (m_job != 0) {
        session()->jobRunner()->cancelJob(m_job);
        m_job = 0;
    }
    const auto analysis = session()->analysis();
    if (!analysis) {
        m_histogram->setData({});
        return;
    }
    const analysis::AnalysisSnapshot &snapshot = *analysis->snapshot;
    const std::string name = tensorName().toStdString();
    const analysis::TensorEntry *tensor = snapshot.findTensor(name);
    const std::vector<int> models = chosenModels();
    if (!tensor || models.empty()) {
        showPlaceholder(models.empty() ? tr("Choose at least one fine-tune (Models).")
                                       : tr("No tensor to show."));
        m_histogram->setData({});
        return;
    }
    switch (mode()) {
    case Mode::LogAbs: {
        Distribution d = absTauHistogram(snapshot, *tensor, models);
        showContent();
        m_histogram->setData(std::move(d.histogram));
        m_histogram->setLogX(true);
        setNote(d.note);
        emit histogramUpdated();
        return;
    }
    case Mode::Ulp: {
        Distribution d = ulpHistogram(snapshot, *tensor, models);
        showContent();
        m_histogram->setLogX(false);
        m_histogram->setData(std::move(d.histogram));
        setNote(d.note);
        // Bins are numbered; name them by their step ranges, centred under each bar.
        auto ticker = QSharedPointer<QCPAxisTickerText>::create();
        const QStringList labels = ulpBinLabels();
        for (int bin = 0; bin < labels.size(); ++bin)
            ticker->addTick(bin + 0.5, labels.at(bin));
        m_histogram->xAxis->setTicker(ticker);
        m_histogram->replot();
        emit histogramUpdated();
        return;
    }
    case Mode::Signed:
        break;
    }
    // Signed values are not in the snapshot: read the tensor in the background.
    showPlaceholder(tr("Reading %1…").arg(QString::fromStdString(name)));
    m_job = session()->jobRunner()->submit<Distribution>(
        kChannel,
        [analysis, name, models](const ProgressSink &sink, const CancelFlag &cancel) {
            return signedTauHistogram(*analysis->modelSet, *analysis->snapshot, name, models,
                                      kSignedBins, sink, cancel);
        },
        [self = QPointer<DistributionPanel>(this),
         analysis](const JobOutcome<Distribution> &outcome) {
            if (!self)
                return;
            self->onSignedDone(outcome.id, analysis, outcome.ok() ? outcome.value : nullptr,
                               outcome.state, QString::fromStdString(outcome.error.message));
        });
}

void DistributionPanel::onSignedDone(quint64 id,
                                     const std::shared_ptr<const AnalysisResult> &analysis,
                                     const std::shared_ptr<const Distribution> &data,
                                     JobState state, const QString &message)
{
    // A result for another tensor, model choice or analysis than the one on screen.
    if (id != m_job || analysis != session()->analysis())
        return;
    m_job = 0;
    if (!data) {
        if (state != JobState::Cancelled)
            showPlaceholder(tr("Could not read the tensor: %1").arg(message));
        return;
    }
    showContent();
    m_histogram->setLogX(false);
    m_histogram->setData(data->histogram);
    setNote(data->note);
    emit histogramUpdated();
}

} // namespace basin::ui
