// SPDX-License-Identifier: GPL-3.0-or-later
// The per-layer editor: dragging a point with the mouse edits one layer's value as one undo
// step, scopes become mergekit filter rules, presets and the saved gradient are exact.
#include "recipe/layereditor.h"
#include "recipe/layerpointplot.h"
#include "recipe/layerpresets.h"
#include "recipe/recipedocument.h"
#include "recipe/recipeedits.h"

#include <QComboBox>
#include <QStandardPaths>
#include <QTabBar>
#include <QTest>
#include <QUndoStack>

using namespace basin;
using namespace basin::ui;

namespace {

QString dataPath(const QString &relative)
{
    return QStringLiteral(BASIN_TEST_DATA_DIR "/") + relative;
}

} // namespace

class TestLayerEditor : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();
    void dragPointIsOneUndoStep();
    void shiftDragSweepsRange();
    void scopeSavedAsFilterRule();
    void presets_data();
    void presets();
    void typedValue();

private:
    void drag(const QPoint &from, const QPoint &to, Qt::KeyboardModifiers modifiers = {});

    QUndoStack *m_stack = nullptr;
    RecipeDocument *m_doc = nullptr;
    LayerEditor *m_editor = nullptr;
};

void TestLayerEditor::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
}

void TestLayerEditor::init()
{
    m_stack = new QUndoStack;
    m_doc = new RecipeDocument(m_stack);
    QVERIFY(m_doc->open(dataPath(QStringLiteral("cases/ties/recipe.yml"))).ok());
    m_editor = new LayerEditor(m_doc);
    m_editor->resize(640, 420);
    m_editor->setLayerCount(4);
    m_editor->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_editor));
}

void TestLayerEditor::cleanup()
{
    delete m_editor;
    delete m_doc;
    delete m_stack;
}

void TestLayerEditor::drag(const QPoint &from, const QPoint &to, Qt::KeyboardModifiers modifiers)
{
    QWidget *plot = m_editor->plot();
    QTest::mousePress(plot, Qt::LeftButton, modifiers, from);
    const QPoint mid = (from + to) / 2;
    QTest::mouseMove(plot, mid);
    QTest::mouseMove(plot, to);
    QTest::mouseRelease(plot, Qt::LeftButton, modifiers, to);
}

void TestLayerEditor::dragPointIsOneUndoStep()
{
    m_editor->setCurrent(0, QStringLiteral("weight"), LayerScope::All);
    const recipe::Recipe original = m_doc->recipe();
    const std::vector<double> before =
        recipeedits::layerValues(original, 0, "weight", LayerScope::All, 4, 1.0);
    QCOMPARE(before, std::vector<double>(4, 1.0));

    LayerPointPlot *plot = m_editor->plot();
    const QPoint p = plot->pointPosition(2);
    QVERIFY(plot->rect().contains(p));
    const QPoint target = p + QPoint(0, 60); // down: a smaller weight
    const double expected = plot->valueAt(target.y());
    drag(p, target);

    const std::vector<double> after =
        recipeedits::layerValues(m_doc->recipe(), 0, "weight", LayerScope::All, 4, 1.0);
    QCOMPARE(after[2], expected);
    QVERIFY(after[2] < 0.9);
    QCOMPARE(after[0], 1.0);
    QCOMPARE(after[1], 1.0);
    QCOMPARE(after[3], 1.0);
    // Saved as one anchor per layer.
    const auto *w = recipe::findParameter(m_doc->recipe().models[0].parameters, "weight");
    QVERIFY(w && !w->setting.isFiltered());
    QCOMPARE(w->setting.value().kind, recipe::Value::Kind::Gradient);
    QCOMPARE(w->setting.value().anchors.size(), std::size_t(4));
    // The other models are untouched.
    QVERIFY(m_doc->recipe().models[1] == original.models[1]);

    QCOMPARE(m_stack->count(), 1);
    m_stack->undo();
    QVERIFY(m_doc->recipe() == original);
    QCOMPARE(plot->values(), before);
}

void TestLayerEditor::shiftDragSweepsRange()
{
    m_editor->setCurrent(1, QStringLiteral("density"), LayerScope::All);
    LayerPointPlot *plot = m_editor->plot();
    const QPoint from = plot->pointPosition(0);
    const QPoint to(plot->pointPosition(2).x(), from.y() - 40);
    const double expected = plot->valueAt(to.y());
    drag(from, to, Qt::ShiftModifier);
    const std::vector<double> v =
        recipeedits::layerValues(m_doc->recipe(), 1, "density", LayerScope::All, 4, 1.0);
    QCOMPARE(v[0], expected);
    QCOMPARE(v[1], expected);
    QCOMPARE(v[2], expected);
    QCOMPARE(v[3], 0.3);
    QCOMPARE(m_stack->count(), 1);
}

void TestLayerEditor::scopeSavedAsFilterRule()
{
    m_editor->setCurrent(1, QStringLiteral("weight"), LayerScope::Attention);
    QCOMPARE(m_editor->scopeTabs()->currentIndex(), 1);
    LayerPointPlot *plot = m_editor->plot();
    const QPoint p = plot->pointPosition(1);
    drag(p, p + QPoint(0, 50));
    const auto *w = recipe::findParameter(m_doc->recipe().models[1].parameters, "weight");
    QVERIFY(w && w->setting.isFiltered());
    const auto &rules = w->setting.rules();
    QCOMPARE(rules.size(), std::size_t(2));
    QCOMPARE(*rules[0].filter, std::string("self_attn"));
    QVERIFY(!rules[1].filter);
    QCOMPARE(rules[1].value.kind, recipe::Value::Kind::Number);
    QCOMPARE(rules[1].value.number, 0.8); // the previous plain value keeps the rest
    // MLP tensors still read 0.8; attention layer 1 reads the dragged value.
    QCOMPARE(*w->setting.evaluate("model.layers.1.mlp.up_proj.weight", 1.0 / 3), 0.8);
    QVERIFY(*w->setting.evaluate("model.layers.1.self_attn.q_proj.weight", 1.0 / 3) < 0.75);
    QVERIFY(m_doc->validationMessage().isEmpty());
}

void TestLayerEditor::presets_data()
{
    QTest::addColumn<int>("preset");
    QTest::addColumn<std::vector<double>>("expected");
    // Row 2 (ft3) has weight 0.5 in the ties recipe.
    QTest::newRow("flat") << int(LayerEditor::Preset::Flat) << std::vector<double>(4, 0.5);
    QTest::newRow("ramp up") << int(LayerEditor::Preset::RampUp) << layerpresets::ramp(4, 0.0, 0.5);
    QTest::newRow("ramp down") << int(LayerEditor::Preset::RampDown)
                               << layerpresets::ramp(4, 0.5, 0.0);
    QTest::newRow("bell") << int(LayerEditor::Preset::Bell) << layerpresets::bell(4, 0.0, 0.5);
    QTest::newRow("lines") << int(LayerEditor::Preset::Lines)
                           << std::vector<double>{0.1, 0.1 + 0.4 / 3, 0.1 + 0.8 / 3, 0.5};
}

void TestLayerEditor::presets()
{
    QFETCH(int, preset);
    QFETCH(std::vector<double>, expected);
    m_editor->setCurrent(2, QStringLiteral("weight"), LayerScope::All);
    const recipe::Recipe original = m_doc->recipe();
    QVERIFY(m_editor->applyPreset(LayerEditor::Preset(preset)));
    const std::vector<double> v =
        recipeedits::layerValues(m_doc->recipe(), 2, "weight", LayerScope::All, 4, 1.0);
    QCOMPARE(v.size(), expected.size());
    for (std::size_t i = 0; i < v.size(); ++i)
        QVERIFY2(std::abs(v[i] - expected[i]) < 1e-12, qPrintable(QString::number(i)));
    QCOMPARE(m_stack->count(), 1);
    m_stack->undo();
    QVERIFY(m_doc->recipe() == original);
    // Model Stock needs an analysis; without one nothing changes.
    QVERIFY(!m_editor->applyPreset(LayerEditor::Preset::ModelStock));
    QVERIFY(m_doc->recipe() == original);
}

void TestLayerEditor::typedValue()
{
    m_editor->setCurrent(0, QStringLiteral("density"), LayerScope::Mlp);
    LayerPointPlot *plot = m_editor->plot();
    plot->setValuePrompt([](int layer, double) -> std::optional<double> {
        return layer == 3 ? std::optional<double>(0.25) : std::nullopt;
    });
    QTest::mouseDClick(plot, Qt::LeftButton, {}, plot->pointPosition(3));
    const std::vector<double> v =
        recipeedits::layerValues(m_doc->recipe(), 0, "density", LayerScope::Mlp, 4, 1.0);
    QCOMPARE(v[3], 0.25);
    QCOMPARE(v[0], 0.5);
    QCOMPARE(m_stack->count(), 1);
}

QTEST_MAIN(TestLayerEditor)
#include "tst_layereditor.moc"
