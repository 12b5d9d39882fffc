// SPDX-License-Identifier: GPL-3.0-or-later
// mergekit YAML: strict validation (code + line + column per error class), path resolution,
// accepted spellings, and writing back.
#include "recipe/yamlreader.h"
#include "recipe/yamlwriter.h"

#include <QtTest>

#include <filesystem>
#include <fstream>
#include <regex>

using namespace basin;
using namespace basin::recipe;
namespace fs = std::filesystem;

Q_DECLARE_METATYPE(basin::ErrorCode)

namespace {

// Recipes in these tests name models that do not exist: only the recipe logic is under test.
ReadOptions noDisk()
{
    ReadOptions options;
    options.checkPaths = false;
    return options;
}

Result<Recipe> parse(const QByteArray &text, const ReadOptions &options = noDisk())
{
    return readRecipeString(std::string_view(text.constData(), std::size_t(text.size())),
                            "/fake/recipes", options);
}

void touchFolder(const fs::path &folder)
{
    fs::create_directories(folder);
    std::ofstream(folder / "config.json") << "{}";
}

} // namespace

class TestRecipeYaml : public QObject {
    Q_OBJECT

private slots:
    void errors_data()
    {
        QTest::addColumn<QByteArray>("yaml");
        QTest::addColumn<basin::ErrorCode>("code");
        QTest::addColumn<int>("line");
        QTest::addColumn<int>("column");
        QTest::addColumn<QString>("mentions");

        const QByteArray linearAB = "merge_method: linear\n"
                                    "models:\n"
                                    "  - model: a\n"
                                    "    parameters: {weight: 1}\n";

        QTest::newRow("syntax-unclosed-flow")
            << QByteArray("merge_method: linear\nmodels: [a, b\nbase_model: c\n")
            << ErrorCode::RecipeSyntax << 3 << 11 << "not valid YAML";
        QTest::newRow("syntax-duplicate-key")
            << QByteArray(linearAB + "merge_method: ties\n") << ErrorCode::RecipeSyntax << 5 << 1
            << "duplicate key merge_method";
        QTest::newRow("syntax-duplicate-parameter")
            << QByteArray("merge_method: linear\nmodels:\n  - model: a\n"
                          "    parameters: {weight: 1, weight: 2}\n")
            << ErrorCode::RecipeSyntax << 4 << 29 << "duplicate parameter weight";
        QTest::newRow("unknown-key-suggests")
            << QByteArray("merge_method: linear\nmodles:\n  - model: a\n") << ErrorCode::UnknownKey
            << 2 << 1 << "did you mean models?";
        QTest::newRow("unknown-key-in-model")
            << QByteArray("merge_method: linear\nmodels:\n  - model: a\n    paramters: {}\n")
            << ErrorCode::UnknownKey << 4 << 5 << "did you mean parameters?";
        QTest::newRow("unknown-key-in-filter")
            << QByteArray("merge_method: linear\nmodels:\n  - model: a\n    parameters:\n"
                          "      weight:\n        - filtre: mlp\n          value: 1\n")
            << ErrorCode::UnknownKey << 6 << 11 << "did you mean filter?";
        QTest::newRow("unknown-method-suggests")
            << QByteArray("merge_method: tie\nbase_model: b\nmodels:\n  - model: a\n")
            << ErrorCode::UnknownMethod << 1 << 15 << "did you mean ties?";
        QTest::newRow("unknown-parameter-suggests")
            << QByteArray("merge_method: ties\nbase_model: base\nmodels:\n  - model: a\n"
                          "    parameters: {weight: 1, densty: 0.5}\n")
            << ErrorCode::UnknownParameter << 5 << 29 << "densty \u2014 did you mean density?";
        QTest::newRow("unknown-top-level-parameter")
            << QByteArray(linearAB + "parameters:\n  lamda: 1\n") << ErrorCode::UnknownParameter
            << 6 << 3 << "lamda";
        QTest::newRow("global-parameter-on-a-model")
            << QByteArray("merge_method: linear\nmodels:\n  - model: a\n"
                          "    parameters: {weight: 1, normalize: false}\n")
            << ErrorCode::UnknownParameter << 4 << 29 << "global parameter";
        QTest::newRow("global-parameter-on-a-slice")
            << QByteArray("merge_method: slerp\nbase_model: b\nslices:\n  - sources:\n"
                          "      - model: b\n        layer_range: [0, 2]\n"
                          "      - model: a\n        layer_range: [0, 2]\n"
                          "    parameters: {t: 0.5}\n")
            << ErrorCode::UnknownParameter << 9 << 18 << "global parameter";
        QTest::newRow("missing-weight")
            << QByteArray(linearAB + "  - model: b\n") << ErrorCode::MissingParameter << 5 << 5
            << "needs parameter weight for model b";
        QTest::newRow("linear-unlisted-base-needs-weight")
            << QByteArray(linearAB + "base_model: base\n") << ErrorCode::MissingParameter << 5 << 13
            << "base_model base is not listed";
        QTest::newRow("slerp-missing-t")
            << QByteArray("merge_method: slerp\nbase_model: b\nmodels:\n  - model: b\n"
                          "  - model: a\n")
            << ErrorCode::MissingParameter << 1 << 15 << "needs parameter t";
        QTest::newRow("wrong-type-text")
            << QByteArray("merge_method: linear\nmodels:\n  - model: a\n"
                          "    parameters: {weight: heavy}\n")
            << ErrorCode::WrongType << 4 << 26 << "not the text";
        QTest::newRow("wrong-type-bool-for-number")
            << QByteArray("merge_method: linear\nmodels:\n  - model: a\n"
                          "    parameters: {weight: true}\n")
            << ErrorCode::WrongType << 4 << 26 << "weight expects a number";
        QTest::newRow("wrong-type-number-for-bool")
            << QByteArray(linearAB + "parameters:\n  normalize: 0.5\n") << ErrorCode::WrongType << 6
            << 14 << "true or false";
        QTest::newRow("wrong-type-gradient-for-bool")
            << QByteArray(linearAB + "parameters:\n  normalize: [0, 1]\n") << ErrorCode::WrongType
            << 6 << 14 << "true or false";
        QTest::newRow("wrong-type-fractional-integer")
            << QByteArray("merge_method: karcher\nmodels:\n  - model: a\n  - model: b\n"
                          "parameters: {max_iter: 2.5}\n")
            << ErrorCode::WrongType << 5 << 24 << "whole number";
        QTest::newRow("wrong-type-nested-filter")
            << QByteArray("merge_method: linear\nmodels:\n  - model: a\n    parameters:\n"
                          "      weight:\n        - value:\n            - value: 1\n")
            << ErrorCode::WrongType << 7 << 13 << "not a filtered list";
        QTest::newRow("wrong-type-dtype")
            << QByteArray(linearAB + "dtype: float33\n") << ErrorCode::WrongType << 5 << 8
            << "did you mean float32?";
        QTest::newRow("wrong-type-seed")
            << QByteArray(linearAB + "seed: lucky\n") << ErrorCode::WrongType << 5 << 7 << "seed";
        QTest::newRow("out-of-range-density")
            << QByteArray("merge_method: ties\nbase_model: base\nmodels:\n  - model: a\n"
                          "    parameters: {weight: 1, density: 1.5}\n")
            << ErrorCode::OutOfRange << 5 << 38 << "outside its range [0, 1]";
        QTest::newRow("out-of-range-gradient-anchor")
            << QByteArray("merge_method: ties\nbase_model: base\nmodels:\n  - model: a\n"
                          "    parameters:\n      weight: 1\n      density: [0.5, 1.2, 0.3]\n")
            << ErrorCode::OutOfRange << 7 << 22 << "1.2";
        QTest::newRow("out-of-range-nan")
            << QByteArray("merge_method: linear\nmodels:\n  - model: a\n"
                          "    parameters: {weight: .nan}\n")
            << ErrorCode::OutOfRange << 4 << 26 << "weight";
        QTest::newRow("out-of-range-layer-range")
            << QByteArray("merge_method: passthrough\nslices:\n  - sources:\n"
                          "      - model: a\n        layer_range: [3, 1]\n")
            << ErrorCode::OutOfRange << 5 << 22 << "[start, end)";
        QTest::newRow("out-of-range-seed")
            << QByteArray(linearAB + "seed: -3\n") << ErrorCode::OutOfRange << 5 << 7 << "seed";
        QTest::newRow("missing-base")
            << QByteArray(
                   "merge_method: ties\nmodels:\n  - model: a\n    parameters: {weight: 1}\n")
            << ErrorCode::MissingBase << 1 << 15 << "ties needs a base_model";
        QTest::newRow("missing-base-in-slice")
            << QByteArray("merge_method: slerp\nbase_model: b\nparameters: {t: 0.5}\nslices:\n"
                          "  - sources:\n      - model: a\n        layer_range: [0, 2]\n")
            << ErrorCode::MissingBase << 5 << 5 << "slice 1 has no source from base_model b";
        QTest::newRow("missing-base-for-tokenizer")
            << QByteArray(linearAB + "tokenizer_source: base\n") << ErrorCode::MissingBase << 5
            << 19 << "no base_model";
        QTest::newRow("count-slerp-two-others")
            << QByteArray("merge_method: slerp\nbase_model: b\nparameters: {t: 0.5}\nmodels:\n"
                          "  - model: a\n  - model: c\n")
            << ErrorCode::InvalidRecipe << 5 << 5 << "exactly 1 model besides the base";
        QTest::newRow("count-passthrough-two")
            << QByteArray("merge_method: passthrough\nmodels:\n  - model: a\n  - model: c\n")
            << ErrorCode::InvalidRecipe << 3 << 5 << "exactly 1 model";
        QTest::newRow("count-model-stock-one")
            << QByteArray("merge_method: model_stock\nbase_model: b\nmodels:\n  - model: a\n")
            << ErrorCode::InvalidRecipe << 4 << 5 << "at least 2 models";
        QTest::newRow("models-and-slices")
            << QByteArray(linearAB + "slices:\n  - sources:\n      - model: a\n"
                                     "        layer_range: [0, 1]\n")
            << ErrorCode::InvalidRecipe << 1 << 15 << "both models: and slices:";
        QTest::newRow("no-merge-method") << QByteArray("models:\n  - model: a\n")
                                         << ErrorCode::InvalidRecipe << 1 << 1 << "no merge_method";
        QTest::newRow("model-entry-without-model")
            << QByteArray("merge_method: linear\nmodels:\n  - parameters: {weight: 1}\n")
            << ErrorCode::InvalidRecipe << 3 << 5 << "without a model";
        QTest::newRow("slice-ranges-differ")
            << QByteArray("merge_method: linear\nslices:\n  - sources:\n"
                          "      - model: a\n        layer_range: [0, 2]\n"
                          "        parameters: {weight: 1}\n"
                          "      - model: c\n        layer_range: [0, 3]\n"
                          "        parameters: {weight: 1}\n")
            << ErrorCode::InvalidRecipe << 8 << 22 << "same number of layers";
        QTest::newRow("model-listed-twice")
            << QByteArray(linearAB + "  - model: ./a\n    parameters: {weight: 1}\n")
            << ErrorCode::InvalidRecipe << 5 << 12 << "listed twice";
        QTest::newRow("unsupported-union-tokenizer")
            << QByteArray(linearAB + "tokenizer_source: union\n") << ErrorCode::Unsupported << 5
            << 19 << "union";
        QTest::newRow("unsupported-token-surgery")
            << QByteArray(linearAB + "tokenizer:\n  source: base\n  tokens:\n    x: {source: a}\n")
            << ErrorCode::Unsupported << 7 << 3 << "not supported yet";
        QTest::newRow("unsupported-modules") << QByteArray("modules:\n  text: {}\n" + linearAB)
                                             << ErrorCode::Unsupported << 1 << 1 << "modules";
        QTest::newRow("unsupported-chat-template")
            << QByteArray(linearAB + "chat_template: chatml\n") << ErrorCode::Unsupported << 5 << 1
            << "chat_template";
        QTest::newRow("unsupported-dtype") << QByteArray(linearAB + "out_dtype: float64\n")
                                           << ErrorCode::Unsupported << 5 << 12 << "float64";
    }

    void errors()
    {
        QFETCH(QByteArray, yaml);
        QFETCH(basin::ErrorCode, code);
        QFETCH(int, line);
        QFETCH(int, column);
        QFETCH(QString, mentions);

        const auto result = parse(yaml);
        QVERIFY2(!result.ok(), "the recipe must be rejected");
        const std::string &message = result.error().message;
        QVERIFY2(result.error().code == code,
                 (std::string(codeName(result.error().code)) + ": " + message).c_str());
        std::smatch match;
        QVERIFY2(std::regex_search(message, match, std::regex("^recipe:(\\d+):(\\d+): ")),
                 message.c_str());
        QCOMPARE(std::stoi(match[1].str()), line);
        QCOMPARE(std::stoi(match[2].str()), column);
        QVERIFY2(message.find(mentions.toStdString()) != std::string::npos, message.c_str());
    }

    void fileErrorsNameTheFile()
    {
        QTemporaryDir dir;
        const fs::path file = fs::path(dir.path().toStdString()) / "bad.yml";
        std::ofstream(file) << "merge_method: linear\nmodels:\n  - model: nowhere\n"
                               "    parameters: {weight: 1}\n";
        const auto result = readRecipeFile(file);
        QVERIFY(!result.ok());
        QCOMPARE(result.error().code, ErrorCode::NotFound);
        const std::string &message = result.error().message;
        QVERIFY2(message.starts_with(file.string() + ":3:12: "), message.c_str());
        // Both attempts are named: next to the recipe, then the current directory.
        QVERIFY2(message.find((file.parent_path() / "nowhere").string()) != std::string::npos,
                 message.c_str());
        QVERIFY2(message.find((fs::current_path() / "nowhere").string()) != std::string::npos,
                 message.c_str());

        const auto missing = readRecipeFile(file.parent_path() / "absent.yml");
        QVERIFY(!missing.ok());
        QCOMPARE(missing.error().code, ErrorCode::NotFound);
    }

    void hubIdsAreUnsupported()
    {
        const auto result = parse("merge_method: linear\nmodels:\n  - model: mistralai/Mistral-7B\n"
                                  "    parameters: {weight: 1}\n",
                                  ReadOptions{});
        QVERIFY(!result.ok());
        QCOMPARE(result.error().code, ErrorCode::Unsupported);
        QVERIFY(result.error().message.find("Hub") != std::string::npos);
    }

    void pathsResolveAgainstTheRecipeFolderFirst()
    {
        QTemporaryDir dir;
        const fs::path root = dir.path().toStdString();
        touchFolder(root / "recipes" / "m1"); // next to the recipe
        touchFolder(root / "work" / "m1");    // in the current directory
        touchFolder(root / "work" / "m2");    // only in the current directory
        const fs::path previous = fs::current_path();
        fs::current_path(root / "work");
        const auto result = readRecipeString("merge_method: linear\nmodels:\n  - model: m1\n"
                                             "    parameters: {weight: 1}\n  - model: m2\n"
                                             "    parameters: {weight: 1}\n",
                                             root / "recipes");
        fs::current_path(previous);
        QVERIFY2(result.ok(), result.ok() ? "" : result.error().message.c_str());
        QCOMPARE(result->models[0].model.resolved, fs::canonical(root / "recipes" / "m1"));
        QCOMPARE(result->models[1].model.resolved, fs::canonical(root / "work" / "m2"));
        QCOMPARE(result->models[0].model.path, std::string("m1")); // kept as written
    }

    void acceptedSpellings()
    {
        const auto result = parse("merge_method: ties\n"
                                  "base_model: base\n"
                                  "models:\n"
                                  "  - model: a\n"
                                  "    parameters: {weight: 1e-1, density: .5}\n"
                                  "  - model: base\n" // the base may be listed
                                  "parameters:\n"
                                  "  normalize: yes\n"
                                  "  int8_mask: true\n"
                                  "  lambda: +1.5\n"
                                  "dtype: torch.bfloat16\n"
                                  "out_dtype: fp16\n"
                                  "tokenizer:\n"
                                  "  source: base\n"
                                  "seed: 18446744073709551615\n");
        QVERIFY2(result.ok(), result.ok() ? "" : result.error().message.c_str());
        const Recipe &recipe = *result;
        QCOMPARE(recipe.dtype, std::optional<Dtype>(Dtype::BF16));
        QCOMPARE(recipe.outDtype, std::optional<Dtype>(Dtype::F16));
        QCOMPARE(recipe.seed, std::optional<std::uint64_t>(18446744073709551615ull));
        QCOMPARE(recipe.tokenizer.kind, TokenizerSource::Kind::Base);
        QVERIFY(recipe.tokenizer.nested);
        QCOMPARE(findParameter(recipe.models[0].parameters, "weight")->setting.value().number, 0.1);
        QCOMPARE(findParameter(recipe.models[0].parameters, "density")->setting.value().number,
                 0.5);
        QVERIFY(findParameter(recipe.parameters, "normalize")->setting.value().boolean);
        QCOMPARE(findParameter(recipe.parameters, "lambda")->setting.value().number, 1.5);

        const std::string written = writeRecipeString(recipe);
        QVERIFY2(written.find("dtype: bfloat16\n") != std::string::npos, written.c_str());
        QVERIFY2(written.find("out_dtype: float16\n") != std::string::npos, written.c_str());
        QVERIFY2(written.find("normalize: true\n") != std::string::npos, written.c_str());
        QVERIFY2(written.find("tokenizer:\n  source: base\n") != std::string::npos,
                 written.c_str());
        QVERIFY2(written.find("seed: 18446744073709551615\n") != std::string::npos,
                 written.c_str());
        const auto again = parse(QByteArray::fromStdString(written));
        QVERIFY2(again.ok(), again.ok() ? "" : again.error().message.c_str());
        QVERIFY(*again == recipe);
    }

    void int8MaskAcceptedForEveryMethod()
    {
        const auto result = parse("merge_method: linear\nmodels:\n  - model: a\n"
                                  "    parameters: {weight: 1}\nparameters: {int8_mask: true}\n");
        QVERIFY2(result.ok(), result.ok() ? "" : result.error().message.c_str());
        QVERIFY(writeRecipeString(*result).find("int8_mask: true") != std::string::npos);
    }

    void writerFormats()
    {
        Recipe recipe;
        recipe.mergeMethod = "karcher";
        ModelEntry odd;
        odd.model.path = "models/with space: and #hash";
        ModelEntry looksLikeBool;
        looksLikeBool.model.path = "yes";
        ModelEntry looksLikeNumber;
        looksLikeNumber.model.path = "1.5";
        recipe.models = {odd, looksLikeBool, looksLikeNumber};
        setParameter(recipe.parameters, "max_iter", Setting(Value::makeNumber(20)));
        setParameter(recipe.parameters, "tol", Setting(Value::makeNumber(1e-5)));
        const std::string text = writeRecipeString(recipe);
        // PyYAML (mergekit) reads "1e-05" as text and "20.0" as a float: neither may appear.
        QVERIFY2(text.find("tol: 1.0e-05\n") != std::string::npos, text.c_str());
        QVERIFY2(text.find("max_iter: 20\n") != std::string::npos, text.c_str());
        QVERIFY2(text.find("- model: \"yes\"\n") != std::string::npos, text.c_str());
        QVERIFY2(text.find("- model: \"1.5\"\n") != std::string::npos, text.c_str());
        const auto back = parse(QByteArray::fromStdString(text));
        QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
        QCOMPARE(back->models[0].model.path, odd.model.path);
        QCOMPARE(back->models[1].model.path, std::string("yes"));
        QCOMPARE(back->models[2].model.path, std::string("1.5"));
        QCOMPARE(findParameter(back->parameters, "tol")->setting.value().number, 1e-5);
    }

    void numbersRoundTripExactly()
    {
        const double awkward[] = {0.1, 1.0 / 3.0, -2.5e-12, 98.765625, 1e-300, -0.0, 7.0};
        Recipe recipe;
        recipe.mergeMethod = "linear";
        for (const double value : awkward) {
            ModelEntry entry;
            entry.model.path = "m" + std::to_string(recipe.models.size());
            setParameter(entry.parameters, "weight",
                         Setting(Value::makeGradient({value, -value, 0.5})));
            recipe.models.push_back(entry);
        }
        const auto back = parse(QByteArray::fromStdString(writeRecipeString(recipe)));
        QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
        for (std::size_t i = 0; i < recipe.models.size(); ++i) {
            QCOMPARE(back->models[i].parameters, recipe.models[i].parameters);
            QCOMPARE(back->models[i].parameters[0].setting.value().anchors[0], awkward[i]);
        }
    }

    void pathsRewrittenForANewFolder()
    {
        QTemporaryDir dir;
        const fs::path root = dir.path().toStdString();
        touchFolder(root / "models" / "ft1");
        touchFolder(root / "models" / "base");
        fs::create_directories(root / "recipes");
        fs::create_directories(root / "out" / "merged");
        const fs::path source = root / "recipes" / "r.yml";
        std::ofstream(source) << "merge_method: task_arithmetic\n"
                                 "base_model: ../models/base\n"
                                 "models:\n  - model: ../models/ft1\n"
                                 "    parameters: {weight: 0.5}\n";
        const auto original = readRecipeFile(source);
        QVERIFY2(original.ok(), original.ok() ? "" : original.error().message.c_str());

        // As given: relative stays relative (to the old folder).
        QVERIFY(writeRecipeString(*original).find("base_model: ../models/base\n") !=
                std::string::npos);

        const fs::path target = root / "out" / "merged" / "basin_recipe.yml";
        WriteOptions options;
        options.relativeTo = target.parent_path();
        QVERIFY(writeRecipeFile(*original, target, options).ok());
        const auto moved = readRecipeFile(target);
        QVERIFY2(moved.ok(), moved.ok() ? "" : moved.error().message.c_str());
        QCOMPARE(moved->baseModel.path, std::string("../../models/base"));
        QCOMPARE(moved->baseModel.resolved, original->baseModel.resolved);
        QCOMPARE(moved->models[0].model.resolved, original->models[0].model.resolved);
        // No temporary file is left behind.
        int files = 0;
        for ([[maybe_unused]] const auto &entry : fs::directory_iterator(target.parent_path()))
            ++files;
        QCOMPARE(files, 1);

        const auto failed = writeRecipeFile(*original, root / "no" / "such" / "r.yml");
        QVERIFY(!failed.ok());
        QCOMPARE(failed.error().code, ErrorCode::NotFound);
    }

    void hostileInputStaysBounded()
    {
        // yaml-cpp shares aliased nodes; a recipe that aliases a big list many times must be
        // refused by the value budget rather than expanded without bound.
        QByteArray yaml = "merge_method: linear\nmodels:\n  - model: m\n"
                          "    parameters: {weight: &big [";
        for (int i = 0; i < 2000; ++i)
            yaml += "1, ";
        yaml += "1]}\n";
        for (int i = 0; i < 1000; ++i)
            yaml += "  - model: m" + QByteArray::number(i) + "\n    parameters: {weight: *big}\n";
        QElapsedTimer timer;
        timer.start();
        const auto result = parse(yaml);
        QVERIFY(!result.ok());
        QCOMPARE(result.error().code, ErrorCode::InvalidRecipe);
        QVERIFY2(result.error().message.find("too many values") != std::string::npos,
                 result.error().message.c_str());

        QByteArray deep = "merge_method: linear\nmodels: ";
        deep += QByteArray(100000, '[');
        const auto nested = parse(deep);
        QVERIFY(!nested.ok());
        QCOMPARE(nested.error().code, ErrorCode::RecipeSyntax);
        QVERIFY(timer.elapsed() < 10000);
    }
};

QTEST_GUILESS_MAIN(TestRecipeYaml)
#include "tst_recipeyaml.moc"
