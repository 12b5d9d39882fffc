// SPDX-License-Identifier: GPL-3.0-or-later
// The Recipe dock and document: forms generated from the registry, slider drags as one undo
// step, save/re-open round trips that the CLI accepts, and YAML errors that change nothing.
#include "mainwindow.h"
#include "merge/method.h"
#include "recipe/parameditor.h"
#include "recipe/recipecontroller.h"
#include "recipe/recipedock.h"
#include "recipe/recipedocument.h"
#include "recipe/recipeedits.h"
#include "recipe/yamlreader.h"
#include "workbench/session.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QLabel>
#include <QProcess>
#include <QSlider>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QUndoStack>

#include <cmath>
#include <filesystem>

using namespace basin;
using namespace basin::ui;

namespace {

QString dataPath(const QString &relative)
{
    return QStringLiteral(BASIN_TEST_DATA_DIR "/") + relative;
}

QString qs(std::string_view s)
{
    return QString::fromUtf8(s.data(), qsizetype(s.size()));
}

// Paths as written differ between a recipe and its copy saved elsewhere; what they name
// does not.
void normalizePaths(recipe::Recipe &r)
{
    auto fix = [](recipe::ModelRef &m) {
        if (m.empty())
            return;
        m.resolved = std::filesystem::weakly_canonical(m.resolved);
        m.path = m.resolved.string();
    };
    fix(r.baseModel);
    for (auto &m : r.models)
        fix(m.model);
    for (auto &s : r.slices) {
        for (auto &src : s.sources)
            fix(src.model);
    }
}

} // namespace

class TestRecipeDock : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void formFollowsRegistry_data();
    void formFollowsRegistry();
    void sliderDragIsOneUndoStep();
    void validationShownInline();
    void saveAndReopen();
    void unknownParameterChangesNothing();
    void loadedModelsStartARecipe();
};

void TestRecipeDock::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("BasinTests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_recipedock"));
}

void TestRecipeDock::formFollowsRegistry_data()
{
    QTest::addColumn<QString>("method");
    for (const merge::MethodDecl &m : merge::methods())
        QTest::newRow(std::string(m.name).c_str()) << qs(m.name);
}

void TestRecipeDock::formFollowsRegistry()
{
    QFETCH(QString, method);
    QUndoStack stack;
    RecipeDocument doc(&stack);
    Result<void> opened = doc.open(dataPath(QStringLiteral("cases/ties/recipe.yml")));
    QVERIFY2(opened.ok(), opened.ok() ? "" : opened.error().message.c_str());
    RecipeDock dock(&doc);

    QComboBox *combo = dock.methodCombo();
    QCOMPARE(combo->count(), int(merge::methods().size()));
    const int index = combo->findData(method);
    QVERIFY(index >= 0);
    combo->setCurrentIndex(index);
    emit combo->activated(index);
    QCOMPARE(qs(doc.recipe().mergeMethod), method);
    QCOMPARE(combo->currentData().toString(), method);

    const merge::MethodDecl *decl = merge::findMethod(method.toStdString());
    QVERIFY(decl);
    QCOMPARE(dock.methodHelp()->text(), qs(decl->help));
    QCOMPARE(combo->itemData(index, Qt::ToolTipRole).toString(), qs(decl->help));

    auto check = [&](ParamEditor *editor, const merge::ParamDecl &p,
                     const recipe::Parameters &own) {
        QCOMPARE(editor->objectName(), qs(p.name));
        QCOMPARE(editor->decl().scope, p.scope);
        switch (p.kind) {
        case merge::ParamKind::Number:
            QVERIFY(editor->doubleSpinBox() && editor->slider());
            QVERIFY(!editor->intSpinBox() && !editor->checkBox());
            QCOMPARE(editor->doubleSpinBox()->minimum(), std::max(p.minValue, -1e9));
            QCOMPARE(editor->doubleSpinBox()->maximum(), std::min(p.maxValue, 1e9));
            break;
        case merge::ParamKind::Integer:
            QVERIFY(editor->intSpinBox() && !editor->doubleSpinBox() && !editor->checkBox());
            QCOMPARE(double(editor->intSpinBox()->minimum()), std::max(p.minValue, -2147483648.0));
            QCOMPARE(double(editor->intSpinBox()->maximum()), std::min(p.maxValue, 2147483647.0));
            break;
        case merge::ParamKind::Boolean:
            QVERIFY(editor->checkBox() && !editor->doubleSpinBox() && !editor->intSpinBox());
            break;
        }
        // An unset parameter shows its default.
        if (p.defaultValue && !recipe::findParameter(own, p.name))
            QCOMPARE(editor->value(), *p.defaultValue);
    };

    QStringList expectedGlobal, shownGlobal;
    for (const merge::ParamDecl &p : decl->params) {
        if (p.scope == merge::ParamScope::Global)
            expectedGlobal << qs(p.name);
    }
    for (ParamEditor *e : dock.globalEditors())
        shownGlobal << e->objectName();
    QCOMPARE(shownGlobal, expectedGlobal);
    for (ParamEditor *e : dock.globalEditors())
        check(e, *decl->findParam(e->objectName().toStdString()), doc.recipe().parameters);

    QCOMPARE(int(doc.recipe().models.size()), 3);
    for (int row = 0; row < 3; ++row) {
        QStringList expected, shown;
        for (const merge::ParamDecl &p : decl->params) {
            if (p.scope == merge::ParamScope::PerModel)
                expected << qs(p.name);
        }
        for (ParamEditor *e : dock.modelEditors(row))
            shown << e->objectName();
        QCOMPARE(shown, expected);
        for (ParamEditor *e : dock.modelEditors(row))
            check(e, *decl->findParam(e->objectName().toStdString()),
                  doc.recipe().models[row].parameters);
    }
    // Switching methods never leaves parameters the method does not declare.
    for (const auto &p : doc.recipe().parameters)
        QVERIFY2(decl->findParam(p.name), p.name.c_str());
    // One undo step, which restores the ties recipe.
    QCOMPARE(stack.count(), method == QStringLiteral("ties") ? 0 : 1);
}

void TestRecipeDock::sliderDragIsOneUndoStep()
{
    QUndoStack stack;
    RecipeDocument doc(&stack);
    QVERIFY(doc.open(dataPath(QStringLiteral("cases/ties/recipe.yml"))).ok());
    const recipe::Recipe original = doc.recipe();
    RecipeDock dock(&doc);
    ParamEditor *weight = dock.modelEditor(1, QStringLiteral("weight"));
    QVERIFY(weight);
    QCOMPARE(weight->value(), 0.8);
    QSlider *slider = weight->slider();
    QVERIFY(slider);
    QVERIFY(!doc.isModified());

    slider->setSliderDown(true); // sliderPressed
    const int start = slider->value();
    for (int step = 1; step <= 5; ++step)
        slider->setValue(start + 37 * step);
    slider->setSliderDown(false); // sliderReleased

    QCOMPARE(stack.count(), 1);
    QVERIFY(doc.isModified());
    const auto *w = recipe::findParameter(doc.recipe().models[1].parameters, "weight");
    QVERIFY(w);
    QCOMPARE(*recipeedits::plainNumber(w), weight->value());
    QVERIFY(std::abs(weight->value() - 0.8) > 0.05);

    // A second drag is a second step.
    slider->setSliderDown(true);
    slider->setValue(slider->value() - 100);
    slider->setValue(slider->value() - 100);
    slider->setSliderDown(false);
    QCOMPARE(stack.count(), 2);

    stack.undo();
    stack.undo();
    QVERIFY(doc.recipe() == original);
    QCOMPARE(weight->value(), 0.8);
    QVERIFY(!doc.isModified());
    stack.redo();
    QCOMPARE(stack.index(), 1);
}

void TestRecipeDock::validationShownInline()
{
    QUndoStack stack;
    RecipeDocument doc(&stack);
    QVERIFY(doc.open(dataPath(QStringLiteral("cases/ties/recipe.yml"))).ok());
    RecipeDock dock(&doc);
    QVERIFY(doc.validationMessage().isEmpty());
    // slerp takes exactly two models besides the base: the ties recipe has three.
    const int index = dock.methodCombo()->findData(QStringLiteral("slerp"));
    emit dock.methodCombo()->activated(index);
    const QString problem = doc.validationMessage();
    QVERIFY(!problem.isEmpty());
    QCOMPARE(dock.validationLabel()->text(), problem);
    stack.undo();
    QVERIFY(doc.validationMessage().isEmpty());
    QVERIFY(dock.validationLabel()->text() != problem);
}

void TestRecipeDock::saveAndReopen()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    QUndoStack stack;
    RecipeDocument doc(&stack);
    QVERIFY(doc.open(dataPath(QStringLiteral("cases/ties/recipe.yml"))).ok());
    // Edits of every kind the GUI makes: a number, a per-layer curve, a scoped curve.
    doc.edit(QStringLiteral("lambda"),
             [](recipe::Recipe &r) { recipeedits::setNumber(r.parameters, "lambda", 0.9); });
    doc.edit(QStringLiteral("curve"), [](recipe::Recipe &r) {
        recipeedits::setLayerValues(r, 0, "weight", LayerScope::All, {0.1, 0.35, 0.6, 0.85}, 1);
        recipeedits::setLayerValues(r, 2, "density", LayerScope::Mlp, {0.9, 0.7, 0.5, 0.3}, 1);
    });
    QVERIFY(doc.isModified());
    const QString path = tmp.filePath(QStringLiteral("sub/recipe.yml"));
    QVERIFY(QDir().mkpath(tmp.filePath(QStringLiteral("sub"))));
    Result<void> saved = doc.save(path);
    QVERIFY2(saved.ok(), saved.ok() ? "" : saved.error().message.c_str());
    QVERIFY(!doc.isModified());
    QCOMPARE(doc.filePath(), path);

    QUndoStack stack2;
    RecipeDocument reopened(&stack2);
    Result<void> read = reopened.open(path);
    QVERIFY2(read.ok(), read.ok() ? "" : read.error().message.c_str());
    recipe::Recipe a = doc.recipe(), b = reopened.recipe();
    normalizePaths(a);
    normalizePaths(b);
    QVERIFY(a == b);
    QVERIFY(reopened.validationMessage().isEmpty());

    QProcess basinCli;
    basinCli.start(QStringLiteral(BASIN_BINARY),
                   {QStringLiteral("merge"), QStringLiteral("--dry-run"), path,
                    tmp.filePath(QStringLiteral("out"))});
    QVERIFY(basinCli.waitForFinished(60000));
    QVERIFY2(basinCli.exitCode() == 0, basinCli.readAllStandardError().constData());
    QCOMPARE(basinCli.exitStatus(), QProcess::NormalExit);
}

void TestRecipeDock::unknownParameterChangesNothing()
{
    QTemporaryDir tmp;
    MainWindow window;
    auto *controller = window.findChild<RecipeController *>();
    QVERIFY(controller);
    QVERIFY(controller->openFile(dataPath(QStringLiteral("cases/ties/recipe.yml"))));
    Session *session = window.session();
    QTRY_COMPARE_WITH_TIMEOUT(session->fineTuneCount(), 3, 30000);
    QVERIFY(session->base());
    const QStringList models = session->modelPaths();
    const recipe::Recipe before = controller->document()->recipe();
    const QString beforePath = controller->document()->filePath();

    // Line 8 holds the unknown name (1-based), column 3.
    const QByteArray yaml = "models:\n"
                            "  - model: ft1\n"
                            "    parameters: {weight: 1.0}\n"
                            "merge_method: task_arithmetic\n"
                            "base_model: base\n"
                            "parameters:\n"
                            "  normalize: true\n"
                            "  bogus_knob: 3\n";
    QDir(tmp.path()).mkpath(QStringLiteral("base"));
    QDir(tmp.path()).mkpath(QStringLiteral("ft1"));
    const QString bad = tmp.filePath(QStringLiteral("bad.yml"));
    QFile file(bad);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(yaml);
    file.close();

    QVERIFY(!controller->openFile(bad));
    const QString shown = controller->dock()->fileError();
    QVERIFY2(shown.contains(QStringLiteral("bad.yml:8:")), qPrintable(shown));
    QVERIFY2(shown.contains(QStringLiteral("bogus_knob")), qPrintable(shown));
    QVERIFY(controller->document()->recipe() == before);
    QCOMPARE(controller->document()->filePath(), beforePath);
    QCOMPARE(session->modelPaths(), models);
    QCOMPARE(session->pendingOpenCount(), 0);
    QVERIFY(window.windowTitle().startsWith(QStringLiteral("recipe.yml[*]")));
}

void TestRecipeDock::loadedModelsStartARecipe()
{
    // Models loaded into a fresh window start a TIES recipe (density 0.5) over them, once, untitled
    // and unmodified; a recipe the user touched is never replaced.
    MainWindow window;
    auto *controller = window.findChild<RecipeController *>();
    QVERIFY(controller);
    RecipeDocument *doc = controller->document();
    Session *session = window.session();
    const QString base = dataPath(QStringLiteral("families/f32/base"));
    const QStringList fineTunes = {dataPath(QStringLiteral("families/f32/ft1")),
                                   dataPath(QStringLiteral("families/f32/ft2"))};
    session->setBase(base);
    session->addFineTunes(fineTunes);
    QTRY_COMPARE_WITH_TIMEOUT(int(doc->recipe().models.size()), 2, 30000);
    QCOMPARE(session->pendingOpenCount(), 0);
    const recipe::Recipe &started = doc->recipe();
    QCOMPARE(qs(started.mergeMethod), QStringLiteral("ties"));
    QVERIFY(started.hasBase());
    QCOMPARE(QFileInfo(qs(started.baseModel.path)).canonicalFilePath(),
             QFileInfo(base).canonicalFilePath());
    for (int m = 0; m < 2; ++m) {
        QCOMPARE(QFileInfo(qs(started.models[std::size_t(m)].model.path)).canonicalFilePath(),
                 QFileInfo(fineTunes[m]).canonicalFilePath());
        for (const char *name : {"weight", "density"}) {
            const recipe::Parameter *p =
                recipe::findParameter(started.models[std::size_t(m)].parameters, name);
            QVERIFY2(p != nullptr, name);
        }
        QCOMPARE(recipeedits::plainNumber(
                     recipe::findParameter(started.models[std::size_t(m)].parameters, "density")),
                 std::optional<double>(0.5));
    }
    QVERIFY(doc->validationMessage().isEmpty());
    QVERIFY(!doc->isModified());
    QVERIFY(doc->filePath().isEmpty());
    QCOMPARE(doc->undoStack()->count(), 0);

    // A third fine-tune does not replace the recipe: it is no longer empty.
    const recipe::Recipe before = doc->recipe();
    session->addFineTunes({dataPath(QStringLiteral("families/f32/ft3"))});
    QTRY_COMPARE_WITH_TIMEOUT(session->fineTuneCount(), 3, 30000);
    QVERIFY(doc->recipe() == before);

    // An emptied but edited recipe is not replaced either.
    doc->edit(QStringLiteral("clear"), [](recipe::Recipe &r) {
        r.models.clear();
        r.baseModel = recipe::ModelRef{};
    });
    QVERIFY(doc->isModified());
    session->clear();
    session->setBase(base);
    session->addFineTunes(fineTunes);
    QTRY_COMPARE_WITH_TIMEOUT(session->fineTuneCount(), 2, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(session->pendingOpenCount(), 0, 30000);
    QVERIFY(doc->recipe().models.empty());
}

QTEST_MAIN(TestRecipeDock)
#include "tst_recipedock.moc"
