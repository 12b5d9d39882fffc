// SPDX-License-Identifier: GPL-3.0-or-later
// Parameter resolution: gradients, filters, lookup order, registry defaults.
#include "merge/method.h"
#include "recipe/layername.h"
#include "recipe/resolve.h"
#include "recipe/setting.h"
#include "recipe/suggest.h"

#include <QtTest>

#include <vector>

using namespace basin;
using namespace basin::recipe;

Q_DECLARE_METATYPE(std::vector<double>)

namespace {

Setting number(double value)
{
    return Setting(Value::makeNumber(value));
}

Setting gradientSetting(std::vector<double> anchors)
{
    return Setting(Value::makeGradient(std::move(anchors)));
}

FilterRule rule(const char *filter, Value value)
{
    FilterRule result;
    if (filter)
        result.filter = filter;
    result.value = std::move(value);
    return result;
}

} // namespace

class TestResolve : public QObject {
    Q_OBJECT

private slots:
    void gradient_data()
    {
        QTest::addColumn<std::vector<double>>("anchors");
        QTest::addColumn<int>("layer");
        QTest::addColumn<int>("layers");
        QTest::addColumn<double>("expected");

        const std::vector<double> worked{0, 0.5, 0.3, 0.7, 1};
        // METHODS.md: t = 10/39, s = 40/39, j = 1, f = 1/39.
        QTest::newRow("methods-worked-example") << worked << 10 << 40 << (38.0 * 0.5 + 0.3) / 39.0;
        QTest::newRow("first-layer-is-first-anchor") << worked << 0 << 40 << 0.0;
        QTest::newRow("last-layer-is-last-anchor") << worked << 39 << 40 << 1.0;
        QTest::newRow("exact-anchor-midway") << worked << 2 << 5 << 0.3;
        QTest::newRow("one-value-per-layer") << std::vector<double>{4, 3, 2, 1} << 2 << 4 << 2.0;
        QTest::newRow("two-anchors-third")
            << std::vector<double>{0.1, 0.9} << 1 << 4 << 0.1 + 0.8 / 3.0;
        QTest::newRow("single-layer-uses-t-1")
            << std::vector<double>{0.2, 0.4, 0.8} << 0 << 1 << 0.8;
        QTest::newRow("single-anchor") << std::vector<double>{0.7} << 3 << 8 << 0.7;
        QTest::newRow("negative-anchors") << std::vector<double>{-1, 1} << 1 << 3 << 0.0;
        QTest::newRow("more-anchors-than-layers")
            << std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7, 8} << 1 << 3 << 4.0;
    }

    void gradient()
    {
        QFETCH(std::vector<double>, anchors);
        QFETCH(int, layer);
        QFETCH(int, layers);
        QFETCH(double, expected);
        const double t = layerPosition(layer, layers);
        QVERIFY(qAbs(interpolateGradient(anchors, t) - expected) < 1e-12);
        // The same through a Setting.
        const auto value =
            gradientSetting(anchors).evaluate("model.layers.0.mlp.up_proj.weight", t);
        QVERIFY(value.has_value());
        QVERIFY(qAbs(*value - expected) < 1e-12);
    }

    void workedExampleDigits()
    {
        // The value METHODS.md prints, to its five digits.
        QCOMPARE(qRound(interpolateGradient(std::vector<double>{0, 0.5, 0.3, 0.7, 1},
                                            layerPosition(10, 40)) *
                        1e5),
                 49487);
    }

    void layerPositions()
    {
        QCOMPARE(layerPosition(0, 1), 1.0);
        QCOMPARE(layerPosition(0, 4), 0.0);
        QCOMPARE(layerPosition(3, 4), 1.0);
        QCOMPARE(layerPosition(1, 3), 0.5);
    }

    void filtersFirstMatchWins()
    {
        const Setting setting(std::vector<FilterRule>{
            rule("self_attn", Value::makeGradient({0.1, 0.9})), rule("mlp", Value::makeNumber(0.8)),
            rule("proj", Value::makeNumber(0.3)), // never reached for mlp/self_attn projections
            rule(nullptr, Value::makeNumber(0.5)),
            rule("norm", Value::makeNumber(0.0)), // after the catch-all: dead
        });
        QCOMPARE(*setting.evaluate("model.layers.1.self_attn.q_proj.weight", 1.0), 0.9);
        QCOMPARE(*setting.evaluate("model.layers.1.mlp.up_proj.weight", 0.0), 0.8);
        QCOMPARE(*setting.evaluate("model.layers.1.post_attention_layernorm.weight", 0.0), 0.5);
        QCOMPARE(*setting.evaluate("model.norm.weight", 0.0), 0.5);

        const Setting onlyFilters(std::vector<FilterRule>{rule("mlp", Value::makeNumber(1.0))});
        QVERIFY(!onlyFilters.evaluate("lm_head.weight", 0.0).has_value());
        QCOMPARE(*Setting(Value::makeBoolean(true)).evaluate("x", 0.0), 1.0);
        const Setting star(std::vector<FilterRule>{rule("*", Value::makeNumber(0.25)),
                                                   rule(nullptr, Value::makeNumber(1.0))});
        QCOMPARE(*star.evaluate("lm_head.weight", 0.0), 0.25);
    }

    void lookupOrderFallsThrough()
    {
        Parameters own, slice, top;
        setParameter(own, "weight",
                     Setting(std::vector<FilterRule>{rule("mlp", Value::makeNumber(0.9))}));
        setParameter(slice, "weight", number(0.4));
        setParameter(top, "weight", number(0.1));
        setParameter(top, "density", gradientSetting({0.2, 0.6}));

        const ParameterScopes all{&own, &slice, &top};
        QCOMPARE(*lookupParameter("weight", all, "model.layers.0.mlp.up_proj.weight", 0.0), 0.9);
        // The model's filter matches nothing here: mergekit moves on to the slice's value.
        QCOMPARE(*lookupParameter("weight", all, "model.layers.0.self_attn.q_proj.weight", 0.0),
                 0.4);
        QCOMPARE(*lookupParameter("weight", ParameterScopes{&own, nullptr, &top},
                                  "model.norm.weight", 0.0),
                 0.1);
        QCOMPARE(*lookupParameter("density", all, "model.norm.weight", 1.0), 0.6);
        QVERIFY(!lookupParameter("gamma", all, "model.norm.weight", 0.0).has_value());
    }

    void defaultsComeFromTheRegistry()
    {
        const merge::MethodDecl *ties = merge::findMethod("ties");
        QVERIFY(ties);
        Parameters top;
        setParameter(top, "lambda", gradientSetting({0.5, 1.5}));
        const auto global =
            resolveGlobalParameters(*ties, top, "model.layers.3.mlp.up_proj.weight", 0.5);
        QVERIFY2(global.ok(), global.ok() ? "" : global.error().message.c_str());
        // Every global parameter the registry declares with a default is filled in.
        for (const auto &decl : ties->params) {
            if (decl.scope == merge::ParamScope::Global && decl.defaultValue)
                QVERIFY2(global->has(decl.name), std::string(decl.name).c_str());
        }
        QCOMPARE(global->get("lambda", -1.0), 1.0);
        QCOMPARE(global->get("normalize", -1.0), *ties->findParam("normalize")->defaultValue);

        Parameters own;
        setParameter(own, "weight", number(0.7));
        const auto perModel = resolveModelParameters(*ties, ParameterScopes{&own, nullptr, &top},
                                                     "model.norm.weight", 0.0, "ft1");
        QVERIFY(perModel.ok());
        QCOMPARE(perModel->get("weight", -1.0), 0.7);
        QCOMPARE(perModel->get("density", -1.0), *ties->findParam("density")->defaultValue);
        QVERIFY(!perModel->has("lambda")); // global names never land in per-model values
    }

    void requiredWithoutValueFails()
    {
        const merge::MethodDecl *linear = merge::findMethod("linear");
        QVERIFY(linear);
        Parameters own;
        setParameter(own, "weight",
                     Setting(std::vector<FilterRule>{rule("mlp", Value::makeNumber(1.0))}));
        const Parameters top;
        const auto missing = resolveModelParameters(*linear, ParameterScopes{&own, nullptr, &top},
                                                    "lm_head.weight", 0.0, "ft2");
        QVERIFY(!missing.ok());
        QCOMPARE(missing.error().code, ErrorCode::MissingParameter);
        QVERIFY(missing.error().message.find("lm_head.weight") != std::string::npos);
        QVERIFY(missing.error().message.find("ft2") != std::string::npos);

        const merge::MethodDecl *passthrough = merge::findMethod("passthrough");
        QVERIFY(passthrough);
        // Optional without default: simply absent.
        const auto scaled = resolveModelParameters(
            *passthrough, ParameterScopes{nullptr, nullptr, &top}, "lm_head.weight", 0.0, "ft1");
        QVERIFY(scaled.ok());
        QVERIFY(!scaled->has("scale"));
    }

    void equalityIgnoresLocations()
    {
        Value a = Value::makeGradient({0, 1}, SourceLoc{3, 7});
        a.anchorLocs = {SourceLoc{3, 8}, SourceLoc{3, 11}};
        const Value b = Value::makeGradient({0, 1});
        QVERIFY(a == b);
        QVERIFY(!(a == Value::makeGradient({0, 0.5})));
        QVERIFY(!(Value::makeNumber(1) == Value::makeBoolean(true)));
    }

    void layerNames()
    {
        const auto span = findLayer("model.layers.12.mlp.up_proj.weight");
        QVERIFY(span);
        QCOMPARE(span->index, 12);
        QCOMPARE(withLayer("model.layers.12.mlp.up_proj.weight", *span, 3),
                 std::string("model.layers.3.mlp.up_proj.weight"));
        QVERIFY(!findLayer("model.embed_tokens.weight"));
        QVERIFY(!findLayer("lm_head.weight"));
        QVERIFY(!findLayer("model.sublayers.3.weight"));
        QVERIFY(!findLayer("model.layers.x.weight"));
        QCOMPARE(findLayer("layers.0.attention.wq.weight")->index, 0);
    }

    void suggestions()
    {
        const std::vector<std::string_view> names{"weight", "density", "gamma", "epsilon"};
        QCOMPARE(closestMatch("densty", names), std::string("density"));
        QCOMPARE(closestMatch("desnity", names), std::string("density"));
        QCOMPARE(closestMatch("wieght", names), std::string("weight"));
        QCOMPARE(closestMatch("lambda", names), std::string());
        QCOMPARE(closestMatch("x", names), std::string());
        QCOMPARE(editDistance("kitten", "sitting"), std::size_t(3));
    }
};

QTEST_GUILESS_MAIN(TestResolve)
#include "tst_resolve.moc"
