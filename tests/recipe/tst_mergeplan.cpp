// SPDX-License-Identifier: GPL-3.0-or-later
// Every golden fixture recipe: parses, validates, writes back losslessly, and plans to exactly
// the tensors the reference produced, with the inputs and parameters it used.
#include "fixturemodels.h"
#include "recipe/mergeplan.h"
#include "recipe/yamlreader.h"
#include "recipe/yamlwriter.h"

#include <QtTest>

#include <cmath>
#include <filesystem>
#include <set>

using namespace basin;
using namespace basin::recipe;
namespace fs = std::filesystem;

namespace {

const fs::path kCases = fs::path(BASIN_TEST_DATA_DIR) / "cases";

int configLayers(const fs::path &folder)
{
    std::ifstream in(folder / "config.json");
    return nlohmann::json::parse(in).at("num_hidden_layers").get<int>();
}

PlanInputs planInputsFor(const Recipe &recipe)
{
    PlanInputs inputs;
    const auto models = recipe.referencedModels();
    for (const auto &model : models)
        inputs.tensorNames.push_back(fixture::tensorNames(model.resolved));
    inputs.layerCount = configLayers(models.front().resolved);
    return inputs;
}

struct Loaded {
    Recipe recipe;
    MergePlan plan;
};

// Reads a case and plans it; fails the calling test on any error.
std::optional<Loaded> load(const std::string &name)
{
    auto recipe = readRecipeFile(kCases / name / "recipe.yml");
    if (!recipe) {
        qWarning("%s", recipe.error().message.c_str());
        return std::nullopt;
    }
    auto plan = planMerge(*recipe, planInputsFor(*recipe));
    if (!plan) {
        qWarning("%s", plan.error().message.c_str());
        return std::nullopt;
    }
    return Loaded{std::move(*recipe), std::move(*plan)};
}

const PlannedTensor *find(const MergePlan &plan, const std::string &name)
{
    for (const auto &tensor : plan.tensors) {
        if (tensor.name == name)
            return &tensor;
    }
    return nullptr;
}

std::string modelName(const MergePlan &plan, int index)
{
    return plan.models[index].resolved.filename().string();
}

// "ft1:model.layers.0.mlp.up_proj.weight" for each input, in order.
QStringList describeInputs(const MergePlan &plan, const PlannedTensor &tensor)
{
    QStringList all;
    for (const auto &input : tensor.inputs)
        all << QString::fromStdString(modelName(plan, input.model) + ":" + input.tensorName);
    return all;
}

double param(const PlannedInput &input, const char *name)
{
    return input.params.get(name, std::nan(""));
}

bool near(double a, double b)
{
    return std::fabs(a - b) < 1e-9;
}

} // namespace

class TestMergePlan : public QObject {
    Q_OBJECT

private slots:
    void fixtures_data()
    {
        QTest::addColumn<QString>("name");
        std::set<std::string> names;
        for (const auto &entry : fs::directory_iterator(kCases))
            names.insert(entry.path().filename().string());
        QVERIFY(names.size() >= 22);
        for (const auto &name : names)
            QTest::newRow(name.c_str()) << QString::fromStdString(name);
    }

    // Parse, validate, round trip, and plan exactly the reference's output tensors.
    void fixtures()
    {
        QFETCH(QString, name);
        const fs::path folder = kCases / name.toStdString();
        const auto recipe = readRecipeFile(folder / "recipe.yml");
        QVERIFY2(recipe.ok(), recipe.ok() ? "" : recipe.error().message.c_str());

        const std::string written = writeRecipeString(*recipe);
        const auto again = readRecipeString(written, folder);
        QVERIFY2(again.ok(), again.ok() ? "" : again.error().message.c_str());
        QVERIFY2(*again == *recipe, written.c_str());
        QCOMPARE(writeRecipeString(*again), written); // stable

        const auto plan = planMerge(*recipe, planInputsFor(*recipe));
        QVERIFY2(plan.ok(), plan.ok() ? "" : plan.error().message.c_str());
        QVERIFY(plan->warnings.empty());

        std::set<std::string> planned;
        for (const auto &tensor : plan->tensors)
            planned.insert(tensor.name);
        QCOMPARE(planned.size(), plan->tensors.size()); // no output twice
        std::set<std::string> expected;
        for (const auto &tensorName : fixture::tensorNames(folder / "expected"))
            expected.insert(tensorName);
        QCOMPARE(planned, expected);
        QCOMPARE(plan->outputLayerCount, configLayers(folder / "expected"));
    }

    // For linear and passthrough cases the plan alone determines the output: evaluate it on
    // the fixture data and compare with the reference's tensors.
    void reproducesLinearOutputs_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("linear") << QStringLiteral("linear");
        QTest::newRow("linear-gradient-filter") << QStringLiteral("linear-gradient-filter");
        QTest::newRow("linear-slices") << QStringLiteral("linear-slices");
        QTest::newRow("passthrough-frankenmerge") << QStringLiteral("passthrough-frankenmerge");
    }

    void reproducesLinearOutputs()
    {
        QFETCH(QString, name);
        const auto loaded = load(name.toStdString());
        QVERIFY(loaded);
        const MergePlan &plan = loaded->plan;
        std::vector<std::map<std::string, std::vector<float>>> data;
        for (const auto &model : plan.models)
            data.push_back(fixture::readValues(model.resolved / "model.safetensors"));
        const auto expected =
            fixture::readValues(kCases / name.toStdString() / "expected" / "model.safetensors");
        const bool passthrough = loaded->recipe.mergeMethod == "passthrough";

        for (const auto &tensor : plan.tensors) {
            const auto &reference = expected.at(tensor.name);
            double weightSum = 0.0;
            for (const auto &input : tensor.inputs)
                weightSum += passthrough ? 1.0 : input.params.get("weight", 0.0);
            const bool normalize = !passthrough && tensor.global.get("normalize", 0.0) != 0.0;
            double worst = 0.0, largest = 0.0;
            for (std::size_t i = 0; i < reference.size(); ++i) {
                double sum = 0.0;
                for (const auto &input : tensor.inputs) {
                    const double factor = passthrough ? input.params.get("scale", 1.0)
                                                      : input.params.get("weight", 0.0);
                    sum += factor * data[input.model].at(input.tensorName)[i];
                }
                if (normalize)
                    sum /= weightSum;
                worst = std::max(worst, std::fabs(sum - reference[i]));
                largest = std::max(largest, std::fabs(double(reference[i])));
            }
            QVERIFY2(worst <= 1e-6 * largest, tensor.name.c_str());
        }
    }

    void linearSlices()
    {
        const auto loaded = load("linear-slices");
        QVERIFY(loaded);
        const MergePlan &plan = loaded->plan;
        QCOMPARE(plan.outputLayerCount, 4);
        QCOMPARE(plan.baseIndex, -1);

        // Slice 1, its last layer: t = 1, so ft1's [1, 0] gives 0 and ft2's [0, 1] gives 1.
        const PlannedTensor *q1 = find(plan, "model.layers.1.self_attn.q_proj.weight");
        QVERIFY(q1);
        QCOMPARE(describeInputs(plan, *q1),
                 QStringList({QStringLiteral("ft1:model.layers.1.self_attn.q_proj.weight"),
                              QStringLiteral("ft2:model.layers.1.self_attn.q_proj.weight")}));
        QCOMPARE(q1->t, 1.0);
        QCOMPARE(param(q1->inputs[0], "weight"), 0.0);
        QCOMPARE(param(q1->inputs[1], "weight"), 1.0);

        // Slice 2 restarts t at 0 for its first layer (output layer 2).
        const PlannedTensor *up2 = find(plan, "model.layers.2.mlp.up_proj.weight");
        QVERIFY(up2);
        QCOMPARE(up2->t, 0.0);
        QCOMPARE(describeInputs(plan, *up2),
                 QStringList({QStringLiteral("ft3:model.layers.2.mlp.up_proj.weight"),
                              QStringLiteral("ft1:model.layers.2.mlp.up_proj.weight")}));

        // Embeddings from the first slice's sources at t = 0; final norm and lm_head from the
        // last slice's.
        const PlannedTensor *embed = find(plan, "model.embed_tokens.weight");
        QVERIFY(embed);
        QVERIFY(!embed->layer);
        QCOMPARE(describeInputs(plan, *embed),
                 QStringList({QStringLiteral("ft1:model.embed_tokens.weight"),
                              QStringLiteral("ft2:model.embed_tokens.weight")}));
        QCOMPARE(param(embed->inputs[0], "weight"), 1.0);
        QCOMPARE(param(embed->inputs[1], "weight"), 0.0);
        const PlannedTensor *head = find(plan, "lm_head.weight");
        QVERIFY(head);
        QCOMPARE(describeInputs(plan, *head), QStringList({QStringLiteral("ft3:lm_head.weight"),
                                                           QStringLiteral("ft1:lm_head.weight")}));
        QCOMPARE(plan.tensors.front().name, std::string("model.embed_tokens.weight"));
        QCOMPARE(plan.tensors.back().name, std::string("lm_head.weight"));
    }

    void passthroughFrankenmerge()
    {
        const auto loaded = load("passthrough-frankenmerge");
        QVERIFY(loaded);
        const MergePlan &plan = loaded->plan;
        QCOMPARE(plan.outputLayerCount, 6);
        // Output layers 0–2 are ft1's 0–2; output layers 3–5 are ft2's 1–3.
        const struct {
            const char *output;
            const char *input;
            double scale;
        } rows[] = {
            {"model.layers.2.self_attn.o_proj.weight", "ft1:model.layers.2.self_attn.o_proj.weight",
             std::nan("")},
            {"model.layers.3.self_attn.o_proj.weight", "ft2:model.layers.1.self_attn.o_proj.weight",
             0.5},
            {"model.layers.3.self_attn.q_proj.weight", "ft2:model.layers.1.self_attn.q_proj.weight",
             1.0},
            {"model.layers.5.mlp.down_proj.weight", "ft2:model.layers.3.mlp.down_proj.weight", 1.0},
            {"model.embed_tokens.weight", "ft1:model.embed_tokens.weight", std::nan("")},
            {"model.norm.weight", "ft2:model.norm.weight", 1.0},
        };
        for (const auto &row : rows) {
            const PlannedTensor *tensor = find(plan, row.output);
            QVERIFY2(tensor, row.output);
            QCOMPARE(describeInputs(plan, *tensor), QStringList{QString::fromLatin1(row.input)});
            const double scale = param(tensor->inputs[0], "scale");
            QVERIFY2(std::isnan(row.scale) ? std::isnan(scale) : scale == row.scale, row.output);
        }
        QCOMPARE(find(plan, "model.layers.4.input_layernorm.weight")->layer, std::optional<int>(4));
    }

    void slerpBaseHandling()
    {
        const auto loaded = load("slerp-lerp-fallback");
        QVERIFY(loaded);
        const MergePlan &plan = loaded->plan;
        QCOMPARE(plan.baseIndex, 0);
        QCOMPARE(modelName(plan, 0), std::string("base"));
        for (const auto &tensor : plan.tensors) {
            // The base listed under models: is the base, not a second input.
            QVERIFY(tensor.base);
            QCOMPARE(tensor.base->model, 0);
            QCOMPARE(tensor.inputs.size(), std::size_t(1));
            QCOMPARE(modelName(plan, tensor.inputs[0].model), std::string("ft1"));
            QVERIFY(!tensor.baseIsInput);
            QCOMPARE(tensor.global.get("t", -1.0), 0.4);
        }
    }

    void slerpGradientGlobalFilters()
    {
        const auto loaded = load("slerp-gradient");
        QVERIFY(loaded);
        const MergePlan &plan = loaded->plan;
        const struct {
            const char *tensor;
            double t;
        } rows[] = {
            {"model.layers.0.self_attn.q_proj.weight", 0.0},
            {"model.layers.1.self_attn.k_proj.weight", 0.5 * 2.0 / 3.0 + 0.3 / 3.0},
            {"model.layers.1.mlp.up_proj.weight", 0.5 * 2.0 / 3.0 + 0.7 / 3.0},
            {"model.layers.3.mlp.down_proj.weight", 0.0},
            {"model.layers.2.input_layernorm.weight", 0.5},
            {"lm_head.weight", 0.5},
        };
        for (const auto &row : rows) {
            const PlannedTensor *tensor = find(plan, row.tensor);
            QVERIFY2(tensor, row.tensor);
            QVERIFY2(near(tensor->global.get("t", -1.0), row.t), row.tensor);
            QVERIFY(tensor->base);
            QCOMPARE(tensor->inputs.size(), std::size_t(1));
        }
    }

    void gradientFilterValues()
    {
        const auto loaded = load("linear-gradient-filter");
        QVERIFY(loaded);
        const MergePlan &plan = loaded->plan;
        const struct {
            const char *tensor;
            double ft1;
            double ft2;
        } rows[] = {
            {"model.layers.1.self_attn.q_proj.weight", 0.1 + 0.8 / 3.0, 0.5 * 2 / 3.0 + 0.3 / 3.0},
            {"model.layers.2.mlp.gate_proj.weight", 0.5 * 2 / 3.0 + 0.2 / 3.0,
             0.3 * 1 / 3.0 + 0.7 * 2 / 3.0},
            {"model.layers.3.input_layernorm.weight", 0.5, 1.0},
            // Outside the layers t = 0: ft2's gradient gives its first value.
            {"model.embed_tokens.weight", 0.5, 0.0},
            {"lm_head.weight", 0.5, 0.0},
        };
        for (const auto &row : rows) {
            const PlannedTensor *tensor = find(plan, row.tensor);
            QVERIFY2(tensor, row.tensor);
            QVERIFY2(near(param(tensor->inputs[0], "weight"), row.ft1), row.tensor);
            QVERIFY2(near(param(tensor->inputs[1], "weight"), row.ft2), row.tensor);
            QCOMPARE(tensor->global.get("normalize", -1.0), 1.0);
        }
    }

    void tiesGradientAndDefaults()
    {
        const auto loaded = load("ties-gradient");
        QVERIFY(loaded);
        const PlannedTensor *last = find(loaded->plan, "model.layers.3.self_attn.v_proj.weight");
        QVERIFY(last);
        QVERIFY(last->base);
        QCOMPARE(last->inputs.size(), std::size_t(3));
        QVERIFY(near(param(last->inputs[0], "density"), 0.1));
        QVERIFY(near(param(last->inputs[1], "weight"), 1.0));
        QVERIFY(near(param(last->inputs[2], "weight"), 0.0)); // not mlp: the catch-all
        QVERIFY(near(last->global.get("lambda", -1.0), 1.2));
        QCOMPARE(last->global.get("rescale", -1.0), 0.0); // registry default
        const PlannedTensor *mlp = find(loaded->plan, "model.layers.2.mlp.up_proj.weight");
        QVERIFY(near(param(mlp->inputs[2], "weight"), 0.5));
        QVERIFY(near(param(mlp->inputs[0], "density"), 0.7 * 2.0 / 3.0 + 0.1 / 3.0));
    }

    void baseRules()
    {
        // nearswap lists the base among its models: it stays the base.
        const auto nearswap = load("nearswap");
        QVERIFY(nearswap);
        QCOMPARE(nearswap->plan.tensors.front().inputs.size(), std::size_t(1));
        QCOMPARE(modelName(nearswap->plan, nearswap->plan.tensors.front().inputs[0].model),
                 std::string("ft2"));
        // karcher without a base: three points, no base.
        const auto karcher = load("karcher");
        QVERIFY(karcher);
        QCOMPARE(karcher->plan.baseIndex, -1);
        QVERIFY(!karcher->plan.tensors.front().base);
        QCOMPARE(karcher->plan.tensors.front().inputs.size(), std::size_t(3));
        // nuslerp: optional base.
        const auto plain = load("nuslerp");
        QVERIFY(plain);
        QVERIFY(!plain->plan.tensors.front().base);
        const auto withBase = load("nuslerp-base-rowwise");
        QVERIFY(withBase);
        QVERIFY(withBase->plan.tensors.front().base);
        QCOMPARE(withBase->plan.tensors.front().inputs.size(), std::size_t(2));
        QCOMPARE(withBase->plan.tensors.front().global.get("nuslerp_row_wise", -1.0), 1.0);
    }

    void unlistedBaseJoinsAsInput()
    {
        // linear: the unlisted base becomes the last input and takes the top-level weight.
        const auto linear = readRecipeString("merge_method: linear\n"
                                             "base_model: base\n"
                                             "models:\n"
                                             "  - model: a\n"
                                             "    parameters: {weight: 3}\n"
                                             "parameters: {weight: 1}\n",
                                             "/fake", ReadOptions{false, {}});
        QVERIFY2(linear.ok(), linear.ok() ? "" : linear.error().message.c_str());
        PlanInputs inputs;
        const std::vector<std::string> names{"model.embed_tokens.weight",
                                             "model.layers.0.mlp.up_proj.weight",
                                             "model.layers.1.mlp.up_proj.weight", "lm_head.weight"};
        inputs.tensorNames = {names, names};
        const auto plan = planMerge(*linear, inputs);
        QVERIFY2(plan.ok(), plan.ok() ? "" : plan.error().message.c_str());
        QCOMPARE(plan->outputLayerCount, 2); // counted from the names
        const PlannedTensor &tensor = plan->tensors[1];
        QVERIFY(!tensor.base);
        QVERIFY(tensor.baseIsInput);
        QCOMPARE(tensor.inputs.size(), std::size_t(2));
        QCOMPARE(tensor.inputs[0].model, 1);
        QCOMPARE(param(tensor.inputs[0], "weight"), 3.0);
        QCOMPARE(tensor.inputs[1].model, 0);
        QCOMPARE(param(tensor.inputs[1], "weight"), 1.0);

        // karcher: the base is one more point, no weight needed.
        const auto karcher = readRecipeString("merge_method: karcher\nbase_model: base\n"
                                              "models:\n  - model: a\n  - model: b\n",
                                              "/fake", ReadOptions{false, {}});
        QVERIFY2(karcher.ok(), karcher.ok() ? "" : karcher.error().message.c_str());
        inputs.tensorNames = {names, names, names};
        const auto points = planMerge(*karcher, inputs);
        QVERIFY(points.ok());
        QCOMPARE(points->tensors[0].inputs.size(), std::size_t(3));
        QVERIFY(points->tensors[0].baseIsInput);
    }

    void planErrors()
    {
        const auto recipe = readRecipeString("merge_method: passthrough\nslices:\n"
                                             "  - sources:\n      - model: a\n"
                                             "        layer_range: [0, 3]\n",
                                             "/fake", ReadOptions{false, {}});
        QVERIFY(recipe.ok());
        PlanInputs inputs;
        inputs.tensorNames = {
            {"model.layers.0.mlp.up_proj.weight", "model.layers.1.mlp.up_proj.weight"}};
        auto plan = planMerge(*recipe, inputs);
        QVERIFY(!plan.ok());
        QCOMPARE(plan.error().code, ErrorCode::InvalidArgument);
        QVERIFY2(plan.error().message.starts_with("recipe:5:22: "), plan.error().message.c_str());
        QVERIFY(plan.error().message.find("goes past its last layer") != std::string::npos);

        inputs.tensorNames.clear();
        QCOMPARE(planMerge(*recipe, inputs).error().code, ErrorCode::InvalidArgument);

        // A model lacking a tensor the output needs.
        const auto linear = readRecipeString(
            "merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: 1}\n"
            "  - model: b\n    parameters: {weight: 1}\n",
            "/fake", ReadOptions{false, {}});
        QVERIFY(linear.ok());
        inputs.tensorNames = {{"model.norm.weight", "lm_head.weight"}, {"model.norm.weight"}};
        plan = planMerge(*linear, inputs);
        QVERIFY(!plan.ok());
        QVERIFY2(plan.error().message.find("model b has no tensor lm_head.weight") !=
                     std::string::npos,
                 plan.error().message.c_str());

        // A required weight whose filters leave one tensor without a value.
        const auto filtered =
            readRecipeString("merge_method: linear\nmodels:\n  - model: a\n    parameters:\n"
                             "      weight:\n        - filter: mlp\n          value: 1\n",
                             "/fake", ReadOptions{false, {}});
        QVERIFY(filtered.ok());
        inputs.tensorNames = {{"model.layers.0.mlp.up_proj.weight", "lm_head.weight"}};
        plan = planMerge(*filtered, inputs);
        QVERIFY(!plan.ok());
        QCOMPARE(plan.error().code, ErrorCode::MissingParameter);
        QVERIFY(plan.error().message.find("lm_head.weight") != std::string::npos);

        // Extra tensors some model has are reported, not silently dropped.
        const std::vector<std::string> names{"model.norm.weight"};
        inputs.tensorNames = {names, {"model.norm.weight", "score.weight"}};
        const auto warned = planMerge(*linear, inputs);
        QVERIFY(warned.ok());
        QCOMPARE(warned->warnings.size(), std::size_t(1));
        QVERIFY(warned->warnings[0].find("score.weight") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestMergePlan)
#include "tst_mergeplan.moc"
