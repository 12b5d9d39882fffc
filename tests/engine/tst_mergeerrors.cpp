// SPDX-License-Identifier: GPL-3.0-or-later
// Merges that must fail say why (code and message naming file, tensor, model or rule) and
// leave nothing at the destination; the shape rules (crop embeddings, skip other
// mismatches, never broadcast) and the NaN rule.
#include "enginetest.h"

#include "engine/preparedmerge.h"

#include <QTemporaryDir>

#include <limits>

#include <sys/stat.h>
#include <unistd.h>

using namespace basin;
using namespace basin::test;

namespace {

bool contains(const std::string &text, const std::string &part)
{
    return text.find(part) != std::string::npos;
}

#define VERIFY_CONTAINS(text, part)                                                                \
    QVERIFY2(contains((text), (part)), (std::string("'") + (part) + "' not in: " + (text)).c_str())

std::string family(const fs::path &root)
{
    return (root / "").string();
}

// ties over ft1 and ft2 (and the base) of a family folder.
std::string tiesRecipe(const fs::path &root)
{
    const std::string f = family(root);
    return "models:\n  - model: " + f + "ft1\n    parameters: {weight: 0.7, density: 0.6}\n" +
           "  - model: " + f + "ft2\n    parameters: {weight: 0.5, density: 0.8}\n" +
           "merge_method: ties\nbase_model: " + f + "base\n";
}

std::string linearRecipe(const fs::path &root)
{
    const std::string f = family(root);
    return "models:\n  - model: " + f + "ft1\n    parameters: {weight: 0.7}\n" + "  - model: " + f +
           "ft2\n    parameters: {weight: 0.3}\nmerge_method: linear\n";
}

// Grows the first dimension of a tensor by `extra` rows of 0.25 (or shrinks it when negative).
TensorEdit resize(const std::string &target, int extra)
{
    return [target, extra](const std::string &name, std::vector<std::uint64_t> &shape,
                           std::vector<float> &values) {
        if (name != target)
            return;
        const std::uint64_t row = shape[1];
        const auto rows = static_cast<std::uint64_t>(static_cast<std::int64_t>(shape[0]) + extra);
        values.resize(rows * row, 0.25f);
        shape[0] = rows;
    };
}

TensorEdit poison(const std::string &target, std::size_t index)
{
    return [target, index](const std::string &name, std::vector<std::uint64_t> &,
                           std::vector<float> &values) {
        if (name == target)
            values[index] = std::numeric_limits<float>::quiet_NaN();
    };
}

const std::string kMlp = "model.layers.1.mlp.up_proj.weight";
const std::string kEmbed = "model.embed_tokens.weight";

} // namespace

class TestMergeErrors : public QObject {
    Q_OBJECT

private slots:
    void destinationProblems();
    void readOnlyParent();
    void missingModel();
    void shapeMismatchSkipsModel();
    void shapeMismatchLeavesTooFew();
    void embeddingCropped_data();
    void embeddingCropped();
    void smallerEmbeddingSkipped();
    void nanRefused_data();
    void nanRefused();
    void nanAllowed();
    void kernelErrorReported();
};

void TestMergeErrors::destinationProblems()
{
    auto recipe = readCase("linear");
    QVERIFY(recipe.ok());
    QTemporaryDir temp;
    const fs::path root = toPath(temp.path());
    writeText(root / "file", "a regular file");

    struct Row {
        fs::path out;
        ErrorCode code;
        std::string message;
    };
    fs::create_directory(root / "full");
    writeText(root / "full" / "keep.txt", "keep");
    const Row rows[] = {
        {root / "file" / "out", ErrorCode::IoError, "is not a folder"},
        {root / "missing" / "out", ErrorCode::NotFound, "does not exist"},
        {root / "file", ErrorCode::DestinationExists, "not a folder"},
        {root / "full", ErrorCode::DestinationExists, "not empty"},
    };
    for (const Row &row : rows) {
        auto report = runRecipe(*recipe, row.out);
        QVERIFY2(!report.ok(), row.out.c_str());
        QCOMPARE(report.error().code, row.code);
        VERIFY_CONTAINS(report.error().message, row.message);
        VERIFY_CONTAINS(report.error().message, row.out.string());
    }
    QCOMPARE(readText(root / "file"), std::string("a regular file"));
    QCOMPARE(readText(root / "full" / "keep.txt"), std::string("keep"));
    QVERIFY(!fs::exists(root / "missing"));
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto &entry : fs::directory_iterator(root))
        ++entries;
    QCOMPARE(entries, std::size_t(2));
}

void TestMergeErrors::readOnlyParent()
{
    if (::geteuid() == 0)
        QSKIP("root ignores folder permissions; destinationProblems covers an unusable parent");
    auto recipe = readCase("linear");
    QVERIFY(recipe.ok());
    QTemporaryDir temp;
    const fs::path parent = toPath(temp.path()) / "locked";
    fs::create_directory(parent);
    QCOMPARE(::chmod(parent.c_str(), 0555), 0);
    auto report = runRecipe(*recipe, parent / "out");
    ::chmod(parent.c_str(), 0755);
    QVERIFY(!report.ok());
    QCOMPARE(report.error().code, ErrorCode::PermissionDenied);
    VERIFY_CONTAINS(report.error().message, parent.string());
    QVERIFY(fs::is_empty(parent));
}

void TestMergeErrors::missingModel()
{
    QTemporaryDir temp;
    const fs::path root = toPath(temp.path());
    fs::create_directories(root / "family");
    fs::copy(familyDir("f32", "ft1"), root / "family" / "ft1");
    fs::copy(familyDir("f32", "ft2"), root / "family" / "ft2");
    const std::string text = linearRecipe(root / "family");
    writeText(root / "recipe.yml", text);
    fs::remove_all(root / "family" / "ft2");

    // The recipe reader checks paths.
    auto checked = recipe::readRecipeFile(root / "recipe.yml");
    QVERIFY(!checked.ok());
    QCOMPARE(checked.error().code, ErrorCode::NotFound);

    // A recipe that skipped the check (the GUI's) fails when the engine opens the model.
    recipe::ReadOptions unchecked;
    unchecked.checkPaths = false;
    auto recipe = recipe::readRecipeFile(root / "recipe.yml", unchecked);
    QVERIFY(recipe.ok());
    auto report = runRecipe(*recipe, root / "out");
    QVERIFY(!report.ok());
    QCOMPARE(report.error().code, ErrorCode::NotFound);
    VERIFY_CONTAINS(report.error().message, (root / "family" / "ft2").string());
    VERIFY_CONTAINS(report.error().message, "recipe.yml:");
    QVERIFY(!fs::exists(root / "out"));
}

void TestMergeErrors::shapeMismatchSkipsModel()
{
    QTemporaryDir temp;
    const fs::path root = toPath(temp.path());
    QVERIFY(makeFamily(root / "family", "f32", "ft2", resize(kMlp, -4)));
    auto recipe = recipeIn(root, tiesRecipe(root / "family"));
    QVERIFY2(recipe.ok(), recipe.ok() ? "" : recipe.error().message.c_str());
    auto report = runRecipe(*recipe, root / "out");
    QVERIFY2(report.ok(), report.ok() ? "" : report.error().message.c_str());
    QCOMPARE(report->modelsSkipped, 1);
    QCOMPARE(report->embeddingsCropped, 0);
    bool warned = false;
    for (const std::string &warning : report->warnings)
        warned = warned || (contains(warning, kMlp) && contains(warning, "left out") &&
                            contains(warning, "[60, 32]"));
    QVERIFY(warned);

    // That tensor is ft1's contribution alone: the same as a merge of ft1 only.
    const std::string f = family(root / "family");
    auto alone = recipeIn(root, "models:\n  - model: " + f +
                                    "ft1\n    parameters: {weight: 0.7, "
                                    "density: 0.6}\nmerge_method: ties\nbase_model: " +
                                    f + "base\n");
    QVERIFY(alone.ok());
    QVERIFY(runRecipe(*alone, root / "alone").ok());
    auto merged = Checkpoint::open(root / "out");
    auto reference = Checkpoint::open(root / "alone");
    QVERIFY(merged.ok() && reference.ok());
    const auto ours = readAll(**merged);
    const auto theirs = readAll(**reference);
    QVERIFY(ours.at(kMlp).bytes == theirs.at(kMlp).bytes);
    QCOMPARE(ours.at(kMlp).shape, (std::vector<std::uint64_t>{64, 32}));
    // Other tensors do use ft2.
    QVERIFY(ours.at("model.layers.1.mlp.down_proj.weight").bytes !=
            theirs.at("model.layers.1.mlp.down_proj.weight").bytes);
}

void TestMergeErrors::shapeMismatchLeavesTooFew()
{
    QTemporaryDir temp;
    const fs::path root = toPath(temp.path());
    QVERIFY(makeFamily(root / "family", "f32", "ft2", resize(kMlp, -4)));
    const std::string f = family(root / "family");
    auto recipe = recipeIn(root, "models:\n  - model: " + f + "base\n  - model: " + f +
                                     "ft2\nmerge_method: slerp\nbase_model: " + f +
                                     "base\nparameters: {t: 0.5}\n");
    QVERIFY2(recipe.ok(), recipe.ok() ? "" : recipe.error().message.c_str());
    auto report = runRecipe(*recipe, root / "out");
    QVERIFY(!report.ok());
    QCOMPARE(report.error().code, ErrorCode::ShapeMismatch);
    VERIFY_CONTAINS(report.error().message, kMlp);
    VERIFY_CONTAINS(report.error().message, "slerp");
    VERIFY_CONTAINS(report.error().message, "[60, 32]");
    QVERIFY(!fs::exists(root / "out"));
}

void TestMergeErrors::embeddingCropped_data()
{
    QTest::addColumn<QString>("method");
    QTest::newRow("ties (whole tensors)") << "ties";
    QTest::newRow("linear (streamed)") << "linear";
}

void TestMergeErrors::embeddingCropped()
{
    QFETCH(QString, method);
    // ft2 with 6 more vocabulary rows in embed_tokens and lm_head: cropped to the base's 128,
    // the merge is the one of the original ft2.
    QTemporaryDir temp;
    const fs::path root = toPath(temp.path());
    const TensorEdit embed = resize(kEmbed, 6);
    const TensorEdit head = resize("lm_head.weight", 6);
    QVERIFY(
        makeFamily(root / "grown", "f32", "ft2",
                   [&](const std::string &n, std::vector<std::uint64_t> &s, std::vector<float> &v) {
                       embed(n, s, v);
                       head(n, s, v);
                   }));
    QVERIFY(makeFamily(root / "plain", "f32", "", [](auto &, auto &, auto &) {}));
    const bool ties = method == QLatin1String("ties");
    auto grown = recipeIn(root, ties ? tiesRecipe(root / "grown") : linearRecipe(root / "grown"));
    auto plain = recipeIn(root, ties ? tiesRecipe(root / "plain") : linearRecipe(root / "plain"));
    QVERIFY(grown.ok() && plain.ok());
    auto report = runRecipe(*grown, root / "out-grown");
    QVERIFY2(report.ok(), report.ok() ? "" : report.error().message.c_str());
    QCOMPARE(report->embeddingsCropped, 2);
    QCOMPARE(report->modelsSkipped, 0);
    QVERIFY(runRecipe(*plain, root / "out-plain").ok());
    QVERIFY(tensorBytes(root / "out-grown") == tensorBytes(root / "out-plain"));
}

void TestMergeErrors::smallerEmbeddingSkipped()
{
    QTemporaryDir temp;
    const fs::path root = toPath(temp.path());
    QVERIFY(makeFamily(root / "family", "f32", "ft2", resize(kEmbed, -8)));
    auto recipe = recipeIn(root, tiesRecipe(root / "family"));
    QVERIFY(recipe.ok());
    auto report = runRecipe(*recipe, root / "out");
    QVERIFY2(report.ok(), report.ok() ? "" : report.error().message.c_str());
    QCOMPARE(report->modelsSkipped, 1);
    QCOMPARE(report->embeddingsCropped, 0);
    const auto tensors = readAll(**Checkpoint::open(root / "out"));
    QCOMPARE(tensors.at(kEmbed).shape, (std::vector<std::uint64_t>{128, 32}));
}

void TestMergeErrors::nanRefused_data()
{
    QTest::addColumn<QString>("method");
    QTest::addColumn<QString>("model");
    QTest::newRow("ties, NaN in a fine-tune") << "ties"
                                              << "ft2";
    QTest::newRow("ties, NaN in the base") << "ties"
                                           << "base";
    QTest::newRow("linear (streamed), NaN in a fine-tune") << "linear"
                                                           << "ft2";
}

void TestMergeErrors::nanRefused()
{
    QFETCH(QString, method);
    QFETCH(QString, model);
    QTemporaryDir temp;
    const fs::path root = toPath(temp.path());
    QVERIFY(makeFamily(root / "family", "f32", model.toStdString(), poison(kMlp, 77)));
    auto recipe = recipeIn(root, method == QLatin1String("ties") ? tiesRecipe(root / "family")
                                                                 : linearRecipe(root / "family"));
    QVERIFY(recipe.ok());
    auto report = runRecipe(*recipe, root / "out");
    QVERIFY(!report.ok());
    QCOMPARE(report.error().code, ErrorCode::NonFinite);
    VERIFY_CONTAINS(report.error().message, kMlp);
    VERIFY_CONTAINS(report.error().message, (root / "family" / model.toStdString()).string());
    VERIFY_CONTAINS(report.error().message, "1 NaN value");
    VERIFY_CONTAINS(report.error().message, "allow NaN");
    QVERIFY(!fs::exists(root / "out"));
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto &entry : fs::directory_iterator(root))
        ++entries;
    QCOMPARE(entries, std::size_t(2)); // family, recipe.yml
}

void TestMergeErrors::nanAllowed()
{
    QTemporaryDir temp;
    const fs::path root = toPath(temp.path());
    QVERIFY(makeFamily(root / "family", "f32", "ft2", poison(kMlp, 77)));
    auto recipe = recipeIn(root, linearRecipe(root / "family"));
    QVERIFY(recipe.ok());
    engine::MergeOptions options;
    options.allowNan = true;
    auto report = runRecipe(*recipe, root / "out", options);
    QVERIFY2(report.ok(), report.ok() ? "" : report.error().message.c_str());
    QCOMPARE(report->nanValues, std::uint64_t(1));
    bool warned = false;
    for (const std::string &warning : report->warnings)
        warned = warned || contains(warning, "NaN value in the inputs were merged");
    QVERIFY(warned);
    const auto tensors = readAll(**Checkpoint::open(root / "out"));
    const std::vector<float> values = toFloats(tensors.at(kMlp));
    QVERIFY(std::isnan(values[77]));
    QVERIFY(!std::isnan(values[76]));
}

void TestMergeErrors::kernelErrorReported()
{
    // density 0.0001 keeps floor(0.0001·n) = 0 elements of the smaller tensors: a ties rule.
    QTemporaryDir temp;
    const fs::path root = toPath(temp.path());
    const std::string f = familyDir("f32", "").string();
    auto recipe = recipeIn(root, "models:\n  - model: " + f +
                                     "ft1\n    parameters: {weight: 1.0, "
                                     "density: 0.0001}\nmerge_method: ties\nbase_model: " +
                                     f + "base\n");
    QVERIFY2(recipe.ok(), recipe.ok() ? "" : recipe.error().message.c_str());
    auto report = runRecipe(*recipe, root / "out");
    QVERIFY(!report.ok());
    QCOMPARE(report.error().code, ErrorCode::OutOfRange);
    VERIFY_CONTAINS(report.error().message, "ties");
    VERIFY_CONTAINS(report.error().message, "density");
    QVERIFY(!fs::exists(root / "out"));
}

QTEST_GUILESS_MAIN(TestMergeErrors)
#include "tst_mergeerrors.moc"
