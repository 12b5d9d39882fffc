// SPDX-License-Identifier: GPL-3.0-or-later
#include "recipe/layereditor.h"

#include "merge/method.h"
#include "plots/plotcolors.h"
#include "recipe/layerpointplot.h"
#include "recipe/layerpresets.h"
#include "recipe/parameditor.h"
#include "recipe/recipedocument.h"

#include <QComboBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSignalBlocker>
#include <QTabBar>
#include <QVBoxLayout>

#include <algorithm>
#include <numeric>

namespace basin::ui {

namespace {

QString modelLabel(const recipe::ModelEntry &entry, int row)
{
    const QString path = QString::fromStdString(entry.model.path);
    const QString name = QFileInfo(path).fileName();
    return name.isEmpty() ? QStringLiteral("model %1").arg(row + 1) : name;
}

const merge::MethodDecl *methodOf(const RecipeDocument *doc)
{
    return merge::findMethod(doc->recipe().mergeMethod);
}

} // namespace

LayerEditor::LayerEditor(RecipeDocument *document, QWidget *parent)
    : QWidget(parent), m_document(document)
{
    auto *layout = new QVBoxLayout(this);
    auto *top = new QHBoxLayout;
    m_modelCombo = new QComboBox(this);
    m_modelCombo->setObjectName(QStringLiteral("layerModelCombo"));
    m_paramCombo = new QComboBox(this);
    m_paramCombo->setObjectName(QStringLiteral("layerParameterCombo"));
    top->addWidget(new QLabel(tr("Model"), this));
    top->addWidget(m_modelCombo, 1);
    top->addWidget(new QLabel(tr("Parameter"), this));
    top->addWidget(m_paramCombo);
    layout->addLayout(top);

    m_scopeTabs = new QTabBar(this);
    m_scopeTabs->setObjectName(QStringLiteral("scopeTabs"));
    m_scopeTabs->addTab(tr("All tensors"));
    m_scopeTabs->addTab(tr("Attention"));
    m_scopeTabs->addTab(tr("MLP"));
    m_scopeTabs->setTabToolTip(1, tr("Saved as a `filter: self_attn` rule"));
    m_scopeTabs->setTabToolTip(2, tr("Saved as a `filter: mlp` rule"));
    layout->addWidget(m_scopeTabs);

    m_plot = new LayerPointPlot(this);
    m_plot->setObjectName(QStringLiteral("layerPlot"));
    m_plot->setMinimumHeight(180);
    layout->addWidget(m_plot, 1);

    auto *bottom = new QHBoxLayout;
    m_presetCombo = new QComboBox(this);
    m_presetCombo->setObjectName(QStringLiteral("presetCombo"));
    m_presetCombo->addItem(tr("Flat"), int(Preset::Flat));
    m_presetCombo->addItem(tr("Ramp up"), int(Preset::RampUp));
    m_presetCombo->addItem(tr("Ramp down"), int(Preset::RampDown));
    m_presetCombo->addItem(tr("Bell"), int(Preset::Bell));
    m_presetCombo->addItem(tr("LiNeS ramp"), int(Preset::Lines));
    m_presetCombo->addItem(tr("Model Stock t (analysis)"), int(Preset::ModelStock));
    m_applyPreset = new QPushButton(tr("Apply preset"), this);
    m_applyPreset->setObjectName(QStringLiteral("applyPreset"));
    m_hint = new QLabel(this);
    m_hint->setWordWrap(true);
    bottom->addWidget(m_presetCombo);
    bottom->addWidget(m_applyPreset);
    bottom->addWidget(m_hint, 1);
    layout->addLayout(bottom);

    connect(m_applyPreset, &QPushButton::clicked, this,
            [this] { applyPreset(Preset(m_presetCombo->currentData().toInt())); });
    connect(m_modelCombo, &QComboBox::currentIndexChanged, this, &LayerEditor::refreshCurves);
    connect(m_paramCombo, &QComboBox::currentIndexChanged, this, &LayerEditor::refreshCurves);
    connect(m_scopeTabs, &QTabBar::currentChanged, this, &LayerEditor::refreshCurves);
    connect(m_document, &RecipeDocument::recipeChanged, this, &LayerEditor::rebuildChoices);

    connect(m_plot, &LayerPointPlot::editStarted, m_document, &RecipeDocument::beginContinuousEdit);
    connect(m_plot, &LayerPointPlot::editFinished, m_document, &RecipeDocument::endContinuousEdit);
    connect(m_plot, &LayerPointPlot::valuesEdited, this, [this](const std::vector<double> &values) {
        pushValues(values, tr("Edit %1 per layer").arg(currentParameter()), true);
    });
    rebuildChoices();
}

LayerEditor::~LayerEditor() = default;

void LayerEditor::setLayerCount(int layers)
{
    m_layers = std::max(layers, 0);
    refreshCurves();
}

void LayerEditor::setSnapshotProvider(
    std::function<std::shared_ptr<const analysis::AnalysisSnapshot>()> provider)
{
    m_snapshot = std::move(provider);
}

void LayerEditor::setCurrent(int row, const QString &parameter, LayerScope scope)
{
    m_rebuilding = true;
    m_modelCombo->setCurrentIndex(row);
    const int p = m_paramCombo->findText(parameter);
    if (p >= 0)
        m_paramCombo->setCurrentIndex(p);
    m_scopeTabs->setCurrentIndex(int(scope));
    m_rebuilding = false;
    refreshCurves();
}

int LayerEditor::currentRow() const
{
    return m_modelCombo->currentIndex();
}

QString LayerEditor::currentParameter() const
{
    return m_paramCombo->currentText();
}

LayerScope LayerEditor::currentScope() const
{
    return LayerScope(std::max(m_scopeTabs->currentIndex(), 0));
}

void LayerEditor::rebuildChoices()
{
    const recipe::Recipe &r = m_document->recipe();
    const merge::MethodDecl *method = methodOf(m_document);
    QStringList models;
    if (!r.usesSlices()) {
        for (int i = 0; i < int(r.models.size()); ++i)
            models << modelLabel(r.models[i], i);
    }
    QStringList params;
    if (method) {
        for (const merge::ParamDecl &p : method->params) {
            if (p.scope == merge::ParamScope::PerModel && p.kind == merge::ParamKind::Number)
                params << QString::fromUtf8(p.name.data(), qsizetype(p.name.size()));
        }
    }
    m_rebuilding = true;
    auto refill = [](QComboBox *combo, const QStringList &items) {
        QStringList now;
        for (int i = 0; i < combo->count(); ++i)
            now << combo->itemText(i);
        if (now == items)
            return;
        const QString keep = combo->currentText();
        combo->clear();
        combo->addItems(items);
        const int again = combo->findText(keep);
        combo->setCurrentIndex(again >= 0 ? again : (items.isEmpty() ? -1 : 0));
    };
    refill(m_modelCombo, models);
    refill(m_paramCombo, params);
    m_rebuilding = false;
    refreshCurves();
}

double LayerEditor::parameterDefault() const
{
    const merge::MethodDecl *method = methodOf(m_document);
    const merge::ParamDecl *decl =
        method ? method->findParam(currentParameter().toStdString()) : nullptr;
    return decl ? recipeedits::startingValue(*decl) : 0.0;
}

double LayerEditor::parameterMinimum() const
{
    const merge::MethodDecl *method = methodOf(m_document);
    const merge::ParamDecl *decl =
        method ? method->findParam(currentParameter().toStdString()) : nullptr;
    return decl ? ParamEditor::sliderMinimum(*decl) : 0.0;
}

double LayerEditor::parameterMaximum() const
{
    const merge::MethodDecl *method = methodOf(m_document);
    const merge::ParamDecl *decl =
        method ? method->findParam(currentParameter().toStdString()) : nullptr;
    return decl ? ParamEditor::sliderMaximum(*decl) : 1.0;
}

void LayerEditor::refreshCurves()
{
    if (m_rebuilding)
        return;
    const recipe::Recipe &r = m_document->recipe();
    const int row = currentRow();
    const std::string name = currentParameter().toStdString();
    const bool usable = m_layers > 0 && row >= 0 && !name.empty();
    m_plot->setEnabled(usable);
    m_applyPreset->setEnabled(usable);
    if (r.usesSlices())
        m_hint->setText(tr("Per-layer editing covers `models:` recipes; edit slices in YAML."));
    else if (m_layers <= 0)
        m_hint->setText(tr("Load the base model to edit values per layer."));
    else
        m_hint->setText(tr("Drag a point; Shift-drag sweeps a range; double-click types a value."));
    if (!usable) {
        m_plot->setCurves({}, QColor(), {}, 0.0, 1.0);
        return;
    }
    const double fallback = parameterDefault();
    std::vector<LayerPointPlot::Background> others;
    for (int i = 0; i < int(r.models.size()); ++i) {
        if (i == row)
            continue;
        others.push_back({modelLabel(r.models[i], i),
                          recipeedits::layerValues(r, i, name, currentScope(), m_layers, fallback),
                          plotcolors::seriesColor(i)});
    }
    m_plot->setCurves(recipeedits::layerValues(r, row, name, currentScope(), m_layers, fallback),
                      plotcolors::seriesColor(row), others, parameterMinimum(), parameterMaximum());
}

void LayerEditor::pushValues(const std::vector<double> &values, const QString &text,
                             bool continuous)
{
    const int row = currentRow();
    const std::string name = currentParameter().toStdString();
    const LayerScope scope = currentScope();
    const double fallback = parameterDefault();
    const QString key =
        continuous
            ? QStringLiteral("layers/%1/%2/%3").arg(row).arg(currentParameter()).arg(int(scope))
            : QString();
    m_document->edit(
        text,
        [&](recipe::Recipe &r) {
            recipeedits::setLayerValues(r, row, name, scope, values, fallback);
        },
        key);
}

bool LayerEditor::applyPreset(Preset preset)
{
    if (m_layers <= 0 || currentRow() < 0 || currentParameter().isEmpty())
        return false;
    const std::vector<double> &now = m_plot->values();
    const double mean = now.empty()
                            ? parameterDefault()
                            : std::accumulate(now.begin(), now.end(), 0.0) / double(now.size());
    const double peak =
        now.empty() ? parameterDefault() : *std::max_element(now.begin(), now.end());
    const double lo = std::max(parameterMinimum(), 0.0);
    std::vector<double> values;
    switch (preset) {
    case Preset::Flat:
        values = layerpresets::flat(m_layers, mean);
        break;
    case Preset::RampUp:
        values = layerpresets::ramp(m_layers, lo, peak);
        break;
    case Preset::RampDown:
        values = layerpresets::ramp(m_layers, peak, lo);
        break;
    case Preset::Bell:
        values = layerpresets::bell(m_layers, lo, peak);
        break;
    case Preset::Lines:
        values = layerpresets::lines(m_layers, peak);
        break;
    case Preset::ModelStock: {
        auto snapshot = m_snapshot ? m_snapshot() : nullptr;
        auto t = snapshot ? layerpresets::modelStock(*snapshot, m_layers) : std::nullopt;
        if (!t) {
            m_hint->setText(tr("Model Stock t needs a finished analysis of these models."));
            return false;
        }
        values = std::move(*t);
        break;
    }
    }
    for (double &v : values)
        v = std::clamp(v, parameterMinimum(), parameterMaximum());
    pushValues(values,
               tr("Preset %1 for %2").arg(m_presetCombo->itemText(int(preset)), currentParameter()),
               false);
    return true;
}

} // namespace basin::ui
