// SPDX-License-Identifier: GPL-3.0-or-later
// The method table: what the recipe validator, the CLI and the GUI read.
#include "merge/method.h"

#include <QtTest>

#include <cmath>

using namespace basin::merge;

Q_DECLARE_METATYPE(BaseRule)
Q_DECLARE_METATYPE(ParamScope)

namespace {

void ruleRow(const char *method, BaseRule base, int minModels, int maxModels, bool randomized)
{
    QTest::newRow(method) << QString::fromLatin1(method) << base << minModels << maxModels
                          << randomized;
}

void paramRow(const char *method, const char *param, ParamScope scope, bool required,
              double defaultValue)
{
    QTest::addRow("%s.%s", method, param)
        << QString::fromLatin1(method) << QString::fromLatin1(param) << scope << required
        << defaultValue;
}

} // namespace

class TestRegistry : public QObject {
    Q_OBJECT

private slots:
    void everyMethodIsDeclaredInOrder();
    void methodRules_data();
    void methodRules();
    void parameters_data();
    void parameters();
    void declarationsAreConsistent();
    void unknownNamesAreNotFound();
    void paramValues();
};

void TestRegistry::everyMethodIsDeclaredInOrder()
{
    const QStringList expected = {QStringLiteral("linear"),
                                  QStringLiteral("task_arithmetic"),
                                  QStringLiteral("ties"),
                                  QStringLiteral("dare_linear"),
                                  QStringLiteral("dare_ties"),
                                  QStringLiteral("breadcrumbs"),
                                  QStringLiteral("breadcrumbs_ties"),
                                  QStringLiteral("della"),
                                  QStringLiteral("della_linear"),
                                  QStringLiteral("slerp"),
                                  QStringLiteral("nuslerp"),
                                  QStringLiteral("multislerp"),
                                  QStringLiteral("karcher"),
                                  QStringLiteral("model_stock"),
                                  QStringLiteral("sce"),
                                  QStringLiteral("nearswap"),
                                  QStringLiteral("ram"),
                                  QStringLiteral("ramplus_tl"),
                                  QStringLiteral("arcee_fusion"),
                                  QStringLiteral("passthrough")};
    QStringList actual;
    for (const MethodDecl &method : methods())
        actual << QString::fromLatin1(method.name.data(), static_cast<int>(method.name.size()));
    QCOMPARE(actual, expected);
}

void TestRegistry::methodRules_data()
{
    QTest::addColumn<QString>("method");
    QTest::addColumn<BaseRule>("base");
    QTest::addColumn<int>("minModels");
    QTest::addColumn<int>("maxModels");
    QTest::addColumn<bool>("randomized");
    const int many = 1 << 20;
    ruleRow("linear", BaseRule::AsInput, 1, many, false);
    ruleRow("task_arithmetic", BaseRule::Required, 1, many, false);
    ruleRow("ties", BaseRule::Required, 1, many, false);
    ruleRow("dare_linear", BaseRule::Required, 1, many, true);
    ruleRow("dare_ties", BaseRule::Required, 1, many, true);
    ruleRow("breadcrumbs", BaseRule::Required, 1, many, false);
    ruleRow("della", BaseRule::Required, 1, many, true);
    ruleRow("della_linear", BaseRule::Required, 1, many, true);
    ruleRow("slerp", BaseRule::Required, 1, 1, false);
    ruleRow("nuslerp", BaseRule::Optional, 2, 2, false);
    ruleRow("multislerp", BaseRule::Optional, 1, many, false);
    ruleRow("karcher", BaseRule::AsInput, 1, many, false);
    ruleRow("model_stock", BaseRule::Required, 2, many, false);
    ruleRow("sce", BaseRule::Required, 1, many, false);
    ruleRow("nearswap", BaseRule::Required, 1, 1, false);
    ruleRow("ram", BaseRule::Required, 1, many, false);
    ruleRow("arcee_fusion", BaseRule::Required, 1, 1, false);
    ruleRow("passthrough", BaseRule::AsInput, 1, 1, false);
}

void TestRegistry::methodRules()
{
    QFETCH(QString, method);
    QFETCH(BaseRule, base);
    QFETCH(int, minModels);
    QFETCH(int, maxModels);
    QFETCH(bool, randomized);
    const MethodDecl *decl = findMethod(method.toStdString());
    QVERIFY(decl != nullptr);
    QCOMPARE(decl->base, base);
    QCOMPARE(decl->minModels, minModels);
    QCOMPARE(decl->maxModels, maxModels);
    QCOMPARE(decl->randomized, randomized);
}

void TestRegistry::parameters_data()
{
    QTest::addColumn<QString>("method");
    QTest::addColumn<QString>("param");
    QTest::addColumn<ParamScope>("scope");
    QTest::addColumn<bool>("required");
    QTest::addColumn<double>("defaultValue"); // NaN: no default

    const double none = std::nan("");
    const auto g = ParamScope::Global;
    const auto pm = ParamScope::PerModel;
    paramRow("linear", "weight", pm, true, none);
    paramRow("linear", "normalize", g, false, 1.0);
    paramRow("task_arithmetic", "normalize", g, false, 0.0);
    paramRow("task_arithmetic", "rescale", g, false, 0.0);
    paramRow("task_arithmetic", "lambda", g, false, 1.0);
    paramRow("task_arithmetic", "density", pm, false, 1.0);
    paramRow("task_arithmetic", "weight", pm, true, none);
    paramRow("task_arithmetic", "int8_mask", g, false, 0.0);
    paramRow("ties", "normalize", g, false, 1.0);
    paramRow("ties", "rescale", g, false, 0.0);
    paramRow("ties", "density", pm, false, 1.0);
    paramRow("dare_linear", "normalize", g, false, 0.0);
    paramRow("dare_linear", "rescale", g, false, 1.0);
    paramRow("dare_ties", "rescale", g, false, 1.0);
    paramRow("breadcrumbs", "gamma", pm, false, 0.01);
    paramRow("breadcrumbs", "rescale", g, false, 0.0);
    paramRow("breadcrumbs_ties", "gamma", pm, false, 0.01);
    paramRow("della", "epsilon", pm, false, 0.15);
    paramRow("della", "normalize", g, false, 1.0);
    paramRow("della", "rescale", g, false, 1.0);
    paramRow("della_linear", "normalize", g, false, 0.0);
    paramRow("slerp", "t", g, true, none);
    paramRow("nuslerp", "nuslerp_flatten", g, false, 1.0);
    paramRow("nuslerp", "nuslerp_row_wise", g, false, 0.0);
    paramRow("nuslerp", "weight", pm, true, none);
    paramRow("multislerp", "normalize_weights", g, false, 1.0);
    paramRow("multislerp", "eps", g, false, 1e-8);
    paramRow("karcher", "max_iter", g, false, 10.0);
    paramRow("karcher", "tol", g, false, 1e-5);
    paramRow("model_stock", "filter_wise", g, false, 0.0);
    paramRow("sce", "select_topk", g, false, 1.0);
    paramRow("nearswap", "t", g, true, none);
    paramRow("ram", "epsilon", g, false, 1e-5);
    paramRow("ramplus_tl", "r", g, false, 0.1);
    paramRow("ramplus_tl", "alpha", g, false, 0.2);
    paramRow("ramplus_tl", "epsilon", g, false, 1e-5);
    paramRow("passthrough", "scale", pm, false, none);
}

void TestRegistry::parameters()
{
    QFETCH(QString, method);
    QFETCH(QString, param);
    QFETCH(ParamScope, scope);
    QFETCH(bool, required);
    QFETCH(double, defaultValue);
    const MethodDecl *decl = findMethod(method.toStdString());
    QVERIFY(decl != nullptr);
    const ParamDecl *p = decl->findParam(param.toStdString());
    QVERIFY(p != nullptr);
    QCOMPARE(p->scope, scope);
    QCOMPARE(p->required, required);
    if (std::isnan(defaultValue)) {
        QVERIFY(!p->defaultValue.has_value());
    } else {
        QVERIFY(p->defaultValue.has_value());
        QCOMPARE(*p->defaultValue, defaultValue);
    }
}

void TestRegistry::declarationsAreConsistent()
{
    for (const MethodDecl &method : methods()) {
        const QByteArray name(method.name.data(), static_cast<int>(method.name.size()));
        QVERIFY2(method.kernel != nullptr, name);
        QVERIFY2(!method.label.empty() && !method.help.empty(), name);
        QVERIFY2(method.minModels >= 1 && method.minModels <= method.maxModels, name);
        for (std::size_t i = 0; i < method.params.size(); ++i) {
            const ParamDecl &p = method.params[i];
            const QByteArray where = name + '.' + QByteArray(p.name.data(), int(p.name.size()));
            QVERIFY2(!p.help.empty(), where);
            QVERIFY2(p.minValue <= p.maxValue, where);
            // A required parameter has no default; a default lies inside its range.
            QVERIFY2(!(p.required && p.defaultValue), where);
            if (p.defaultValue)
                QVERIFY2(*p.defaultValue >= p.minValue && *p.defaultValue <= p.maxValue, where);
            if (p.kind == ParamKind::Boolean)
                QVERIFY2(p.minValue == 0.0 && p.maxValue == 1.0, where);
            for (std::size_t j = i + 1; j < method.params.size(); ++j)
                QVERIFY2(method.params[j].name != p.name, where);
        }
    }
}

void TestRegistry::unknownNamesAreNotFound()
{
    QVERIFY(findMethod("frankenmerge") == nullptr);
    QVERIFY(findMethod("") == nullptr);
    QVERIFY(findMethod("TIES") == nullptr); // names are case-sensitive, as in mergekit
    const MethodDecl *ties = findMethod("ties");
    QVERIFY(ties != nullptr);
    QVERIFY(ties->findParam("gamma") == nullptr);
    QVERIFY(ties->findParam("densities") == nullptr);
    QVERIFY(findMethod("linear")->findParam("density") == nullptr);
}

void TestRegistry::paramValues()
{
    ParamValues values;
    QVERIFY(!values.has("weight"));
    QVERIFY(!values.get("weight").has_value());
    QCOMPARE(values.get("weight", 0.25), 0.25);
    values.set("weight", 0.5);
    values.set("density", 0.7);
    QVERIFY(values.has("weight"));
    QCOMPARE(*values.get("weight"), 0.5);
    QCOMPARE(values.get("density", 1.0), 0.7);
    values.set("weight", -1.5); // overwrites, does not append
    QCOMPARE(*values.get("weight"), -1.5);
    QCOMPARE(values.items().size(), std::size_t{2});
    QCOMPARE(values.items()[0].first, std::string("weight"));
}

QTEST_GUILESS_MAIN(TestRegistry)
#include "tst_registry.moc"
