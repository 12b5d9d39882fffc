// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QString>
#include <QWidget>

class QComboBox;
class QFormLayout;
class QGroupBox;
class QLabel;
class QPushButton;
class QVBoxLayout;

namespace basin::ui {

class LayerEditor;
class ParamEditor;
class RecipeDocument;
class Session;

// The Recipe dock: the method (from the registry, with its one-line help), a form of the
// method's global parameters and one row of per-model parameters per fine-tune, all
// generated from the registry's declarations (no per-method code), the validation message
// of the current recipe (validateRecipe(), so each rule lives in one place), file errors
// with their YAML position, and the per-layer editor. Every edit goes through the
// RecipeDocument as an undo command.
class RecipeDock : public QWidget {
    Q_OBJECT

public:
    explicit RecipeDock(RecipeDocument *document, QWidget *parent = nullptr);
    ~RecipeDock() override;

    // Reads layer counts, the analysis (Model Stock preset) and the loaded models from it.
    void setSession(Session *session);

    // Shows an error about the recipe file (open or save) above the form, in place;
    // an empty message hides it.
    void showFileError(const QString &message);
    QString fileError() const;

    QComboBox *methodCombo() const { return m_methodCombo; }
    QLabel *methodHelp() const { return m_methodHelp; }
    QLabel *validationLabel() const { return m_validation; }
    LayerEditor *layerEditor() const { return m_layerEditor; }
    // The generated fields, in declaration order.
    QList<ParamEditor *> globalEditors() const { return m_globalEditors; }
    QList<ParamEditor *> modelEditors(int row) const;
    ParamEditor *modelEditor(int row, const QString &name) const;
    ParamEditor *globalEditor(const QString &name) const;

private:
    void onRecipeChanged();
    void rebuildForms();
    void updateValues();
    void updateLayerCount();
    void takeSessionModels();
    void connectEditor(ParamEditor *editor, int row);
    QString structureKey() const;

    RecipeDocument *m_document;
    Session *m_session = nullptr;
    QLabel *m_fileError = nullptr;
    QComboBox *m_methodCombo = nullptr;
    QLabel *m_methodHelp = nullptr;
    QLabel *m_baseLabel = nullptr;
    QPushButton *m_useModels = nullptr;
    QGroupBox *m_globalGroup = nullptr;
    QFormLayout *m_globalForm = nullptr;
    QGroupBox *m_modelsGroup = nullptr;
    QVBoxLayout *m_modelsLayout = nullptr;
    QLabel *m_validation = nullptr;
    LayerEditor *m_layerEditor = nullptr;
    QList<ParamEditor *> m_globalEditors;
    QList<QList<ParamEditor *>> m_modelEditors;
    QString m_structure;
};

} // namespace basin::ui
