// SPDX-License-Identifier: GPL-3.0-or-later
#include "recipe/recipedock.h"

#include "merge/method.h"
#include "recipe/layereditor.h"
#include "recipe/parameditor.h"
#include "recipe/recipedocument.h"
#include "recipe/recipeedits.h"
#include "workbench/session.h"

#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSplitter>
#include <QVBoxLayout>

#include <nlohmann/json.hpp>

namespace basin::ui {

namespace {

QString qs(std::string_view s)
{
    return QString::fromUtf8(s.data(), qsizetype(s.size()));
}

// Value shown by an editor: plain number, or per-layer when a gradient/filter list applies.
struct Shown {
    std::optional<double> value;
    bool perLayer = false;
};

Shown shownValue(const recipe::Parameter *own, const recipe::Parameter *fallback)
{
    const recipe::Parameter *p = own ? own : fallback;
    if (!p)
        return {};
    if (auto v = recipeedits::plainNumber(p))
        return {v, false};
    return {std::nullopt, true};
}

void clearLayout(QLayout *layout)
{
    // QFormLayout warns on takeAt() of an empty layout, so count first.
    while (layout->count() > 0) {
        QLayoutItem *item = layout->takeAt(0);
        if (QWidget *w = item->widget())
            delete w;
        else if (QLayout *l = item->layout())
            clearLayout(l);
        delete item;
    }
}

} // namespace

RecipeDock::RecipeDock(RecipeDocument *document, QWidget *parent)
    : QWidget(parent), m_document(document)
{
    setObjectName(QStringLiteral("recipeDock"));
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(2, 2, 2, 2);
    auto *splitter = new QSplitter(Qt::Vertical, this);
    outer->addWidget(splitter);

    auto *formArea = new QScrollArea(splitter);
    formArea->setWidgetResizable(true);
    auto *form = new QWidget(formArea);
    auto *layout = new QVBoxLayout(form);

    m_fileError = new QLabel(form);
    m_fileError->setObjectName(QStringLiteral("fileErrorLabel"));
    m_fileError->setWordWrap(true);
    m_fileError->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_fileError->setStyleSheet(QStringLiteral("color: #c62828; font-weight: bold;"));
    m_fileError->hide();
    layout->addWidget(m_fileError);

    auto *methodRow = new QFormLayout;
    m_methodCombo = new QComboBox(form);
    m_methodCombo->setObjectName(QStringLiteral("methodCombo"));
    for (const merge::MethodDecl &m : merge::methods()) {
        m_methodCombo->addItem(qs(m.label), qs(m.name));
        m_methodCombo->setItemData(m_methodCombo->count() - 1, qs(m.help), Qt::ToolTipRole);
    }
    methodRow->addRow(tr("Method"), m_methodCombo);
    m_baseLabel = new QLabel(form);
    m_baseLabel->setObjectName(QStringLiteral("baseLabel"));
    m_baseLabel->setWordWrap(true);
    methodRow->addRow(tr("Base"), m_baseLabel);
    layout->addLayout(methodRow);
    m_methodHelp = new QLabel(form);
    m_methodHelp->setObjectName(QStringLiteral("methodHelp"));
    m_methodHelp->setWordWrap(true);
    layout->addWidget(m_methodHelp);

    m_useModels = new QPushButton(tr("Use the loaded models"), form);
    m_useModels->setObjectName(QStringLiteral("useModelsButton"));
    m_useModels->setToolTip(tr("Make the Models dock's base and fine-tunes the recipe's models"));
    m_useModels->setEnabled(false);
    layout->addWidget(m_useModels);

    m_globalGroup = new QGroupBox(tr("Parameters"), form);
    m_globalGroup->setObjectName(QStringLiteral("globalGroup"));
    m_globalForm = new QFormLayout(m_globalGroup);
    layout->addWidget(m_globalGroup);
    m_modelsGroup = new QGroupBox(tr("Models"), form);
    m_modelsGroup->setObjectName(QStringLiteral("modelsGroup"));
    m_modelsLayout = new QVBoxLayout(m_modelsGroup);
    layout->addWidget(m_modelsGroup);

    m_validation = new QLabel(form);
    m_validation->setObjectName(QStringLiteral("validationLabel"));
    m_validation->setWordWrap(true);
    m_validation->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_validation);
    layout->addStretch(1);
    formArea->setWidget(form);

    m_layerEditor = new LayerEditor(document, splitter);
    m_layerEditor->setObjectName(QStringLiteral("layerEditor"));

    connect(m_methodCombo, &QComboBox::activated, this, [this](int index) {
        const QString name = m_methodCombo->itemData(index).toString();
        m_document->edit(tr("Method %1").arg(name),
                         [&](recipe::Recipe &r) { recipeedits::setMethod(r, name.toStdString()); });
    });
    connect(m_useModels, &QPushButton::clicked, this, &RecipeDock::takeSessionModels);
    connect(m_document, &RecipeDocument::recipeChanged, this, &RecipeDock::onRecipeChanged);
    onRecipeChanged();
}

RecipeDock::~RecipeDock() = default;

void RecipeDock::setSession(Session *session)
{
    m_session = session;
    m_useModels->setEnabled(session != nullptr);
    m_layerEditor->setSnapshotProvider(
        [this] { return m_session ? m_session->snapshot() : nullptr; });
    connect(session, &Session::modelsChanged, this, &RecipeDock::updateLayerCount);
    connect(session, &Session::analysisChanged, this, &RecipeDock::updateLayerCount);
    updateLayerCount();
}

void RecipeDock::showFileError(const QString &message)
{
    m_fileError->setText(message);
    m_fileError->setVisible(!message.isEmpty());
}

QString RecipeDock::fileError() const
{
    return m_fileError->text();
}

QList<ParamEditor *> RecipeDock::modelEditors(int row) const
{
    return row >= 0 && row < m_modelEditors.size() ? m_modelEditors[row] : QList<ParamEditor *>{};
}

ParamEditor *RecipeDock::modelEditor(int row, const QString &name) const
{
    for (ParamEditor *e : modelEditors(row)) {
        if (e->objectName() == name)
            return e;
    }
    return nullptr;
}

ParamEditor *RecipeDock::globalEditor(const QString &name) const
{
    for (ParamEditor *e : m_globalEditors) {
        if (e->objectName() == name)
            return e;
    }
    return nullptr;
}

QString RecipeDock::structureKey() const
{
    const recipe::Recipe &r = m_document->recipe();
    QString key = QString::fromStdString(r.mergeMethod);
    key += QLatin1Char('|') + QString::number(r.usesSlices() ? -1 : int(r.models.size()));
    for (const auto &m : r.models)
        key += QLatin1Char('|') + QString::fromStdString(m.model.path);
    return key;
}

void RecipeDock::onRecipeChanged()
{
    const QString key = structureKey();
    if (key != m_structure) {
        m_structure = key;
        rebuildForms();
    }
    updateValues();
}

void RecipeDock::connectEditor(ParamEditor *editor, int row)
{
    const std::string name(editor->decl().name);
    const bool boolean = editor->decl().kind == merge::ParamKind::Boolean;
    const QString key = row < 0 ? QStringLiteral("global/%1").arg(qs(name))
                                : QStringLiteral("model/%1/%2").arg(row).arg(qs(name));
    connect(editor, &ParamEditor::dragStarted, m_document, &RecipeDocument::beginContinuousEdit);
    connect(editor, &ParamEditor::dragFinished, m_document, &RecipeDocument::endContinuousEdit);
    connect(editor, &ParamEditor::valueEdited, this, [this, name, row, boolean, key](double v) {
        m_document->edit(
            tr("Set %1").arg(qs(name)),
            [&](recipe::Recipe &r) {
                recipe::Parameters *target = &r.parameters;
                if (row >= 0) {
                    if (row >= int(r.models.size()))
                        return;
                    target = &r.models[row].parameters;
                }
                const recipe::Value value =
                    boolean ? recipe::Value::makeBoolean(v != 0.0) : recipe::Value::makeNumber(v);
                recipe::setParameter(*target, name, recipe::Setting(value));
            },
            key);
    });
    connect(editor, &ParamEditor::resetRequested, this, [this, name, row] {
        m_document->edit(tr("Reset %1").arg(qs(name)), [&](recipe::Recipe &r) {
            if (row < 0)
                recipeedits::removeParameter(r.parameters, name);
            else if (row < int(r.models.size()))
                recipeedits::removeParameter(r.models[row].parameters, name);
        });
    });
}

void RecipeDock::rebuildForms()
{
    clearLayout(m_globalForm);
    clearLayout(m_modelsLayout);
    m_globalEditors.clear();
    m_modelEditors.clear();
    const recipe::Recipe &r = m_document->recipe();
    const merge::MethodDecl *method = merge::findMethod(r.mergeMethod);
    if (!method) {
        m_globalGroup->hide();
        m_modelsGroup->hide();
        return;
    }
    for (const merge::ParamDecl &p : method->params) {
        if (p.scope != merge::ParamScope::Global)
            continue;
        auto *editor = new ParamEditor(p, m_globalGroup);
        auto *label = new QLabel(qs(p.name), m_globalGroup);
        label->setToolTip(qs(p.help));
        m_globalForm->addRow(label, editor);
        connectEditor(editor, -1);
        m_globalEditors << editor;
    }
    m_globalGroup->setVisible(!m_globalEditors.isEmpty());

    if (r.usesSlices()) {
        auto *note =
            new QLabel(tr("This recipe uses slices: per-model values are edited in the YAML file."),
                       m_modelsGroup);
        note->setWordWrap(true);
        m_modelsLayout->addWidget(note);
        m_modelsGroup->show();
        return;
    }
    for (int row = 0; row < int(r.models.size()); ++row) {
        const QString path = QString::fromStdString(r.models[row].model.path);
        auto *box = new QGroupBox(QFileInfo(path).fileName(), m_modelsGroup);
        box->setObjectName(QStringLiteral("model%1").arg(row));
        box->setToolTip(path);
        auto *rowForm = new QFormLayout(box);
        QList<ParamEditor *> editors;
        for (const merge::ParamDecl &p : method->params) {
            if (p.scope != merge::ParamScope::PerModel)
                continue;
            auto *editor = new ParamEditor(p, box);
            auto *label = new QLabel(qs(p.name), box);
            label->setToolTip(qs(p.help));
            rowForm->addRow(label, editor);
            connectEditor(editor, row);
            editors << editor;
        }
        m_modelEditors << editors;
        m_modelsLayout->addWidget(box);
    }
    m_modelsGroup->setVisible(!r.models.empty());
}

void RecipeDock::updateValues()
{
    const recipe::Recipe &r = m_document->recipe();
    const merge::MethodDecl *method = merge::findMethod(r.mergeMethod);
    {
        const QSignalBlocker block(m_methodCombo);
        m_methodCombo->setCurrentIndex(m_methodCombo->findData(qs(r.mergeMethod)));
    }
    m_methodHelp->setText(method ? qs(method->help) : QString());
    // The folder name only (a full path cannot wrap and would set the dock's minimum width);
    // the path is in the tooltip.
    const QString basePath = QString::fromStdString(r.baseModel.path);
    m_baseLabel->setText(r.hasBase() ? QFileInfo(QDir::cleanPath(basePath)).fileName()
                                     : tr("none"));
    m_baseLabel->setToolTip(r.hasBase() ? basePath : tr("The recipe has no base_model"));
    for (ParamEditor *e : m_globalEditors) {
        const Shown s = shownValue(recipe::findParameter(r.parameters, e->decl().name), nullptr);
        e->setState(s.value, s.perLayer);
    }
    for (int row = 0; row < m_modelEditors.size() && row < int(r.models.size()); ++row) {
        for (ParamEditor *e : m_modelEditors[row]) {
            const Shown s =
                shownValue(recipe::findParameter(r.models[row].parameters, e->decl().name),
                           recipe::findParameter(r.parameters, e->decl().name));
            e->setState(s.value, s.perLayer);
        }
    }
    const QString problem = m_document->validationMessage();
    m_validation->setText(problem.isEmpty() ? tr("✓ The recipe is valid.") : problem);
    m_validation->setStyleSheet(problem.isEmpty() ? QString() : QStringLiteral("color: #c62828;"));
}

void RecipeDock::updateLayerCount()
{
    int layers = 0;
    if (m_session && m_session->base() && m_session->base()->checkpoint) {
        const nlohmann::json &config = m_session->base()->checkpoint->config();
        if (config.is_object() && config.contains("num_hidden_layers") &&
            config["num_hidden_layers"].is_number_integer())
            layers = config["num_hidden_layers"].get<int>();
    }
    if (layers <= 0 && m_session) {
        if (auto snapshot = m_session->snapshot()) {
            for (const auto &g : snapshot->groups)
                layers += g.kind == analysis::GroupKind::Layer ? 1 : 0;
        }
    }
    if (layers > 0 || m_session)
        m_layerEditor->setLayerCount(layers);
}

void RecipeDock::takeSessionModels()
{
    if (!m_session)
        return;
    const std::string base = m_session->base() ? m_session->base()->path.toStdString() : "";
    std::vector<std::string> fineTunes;
    for (const ModelEntry &m : m_session->fineTunes())
        fineTunes.push_back(m.path.toStdString());
    m_document->edit(tr("Use the loaded models"),
                     [&](recipe::Recipe &r) { recipeedits::setModels(r, base, fineTunes); });
}

} // namespace basin::ui
