// SPDX-License-Identifier: GPL-3.0-or-later
// The output folder of a merge: what it holds, that it re-opens with our reader (single file
// and sharded with its index), the model card and config as specified, the recipe that runs
// again, atomic replacement, cancellation and stale temporary folders.
#include "enginetest.h"

#include "engine/stagingfolder.h"
#include "io/shardindex.h"

#include <QTemporaryDir>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <csignal>

#include <unistd.h>

using namespace basin;
using namespace basin::test;

namespace {

// Hidden temporary folders a merge to `destination` may leave in its parent.
std::vector<std::string> leftovers(const fs::path &destination)
{
    std::vector<std::string> found;
    std::string prefix(1, '.');
    prefix += destination.filename().string();
    prefix += ".basin-";
    for (const auto &entry : fs::directory_iterator(destination.parent_path())) {
        const std::string name = entry.path().filename().string();
        if (name.starts_with(prefix))
            found.push_back(name);
    }
    return found;
}

std::set<std::string> fileNames(const fs::path &folder)
{
    std::set<std::string> names;
    for (const auto &entry : fs::directory_iterator(folder))
        names.insert(entry.path().filename().string());
    return names;
}

// A pid no process has (for stale folders of "killed" runs).
long deadPid()
{
    for (long pid = 4'000'000; pid > 100'000; pid -= 7919) {
        if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
            return pid;
    }
    return -1;
}

} // namespace

class TestMergeOutput : public QObject {
    Q_OBJECT

private slots:
    void singleFileFolder();
    void shardedFolder_data();
    void shardedFolder();
    void recipeRunsAgain();
    void progressPhases();
    void cancelAfterTensors_data();
    void cancelAfterTensors();
    void cancelAtEveryTensorWithSmallShards_data();
    void cancelAtEveryTensorWithSmallShards();
    void staleTemporaryFoldersRemoved();
    void emptyDestinationIsUsed();
    void overwriteReplacesOnlyWhenComplete();
    void slicesUpdateLayerCount();
};

void TestMergeOutput::singleFileFolder()
{
    auto recipe = readCase("ties-rescale-bf16");
    QVERIFY(recipe.ok());
    QTemporaryDir temp;
    const fs::path out = toPath(temp.path()) / "merged";
    auto report = runRecipe(*recipe, out);
    QVERIFY2(report.ok(), report.ok() ? "" : report.error().message.c_str());

    const std::set<std::string> expectedFiles{
        "model.safetensors", "config.json",           "generation_config.json",
        "tokenizer.json",    "tokenizer_config.json", "basin_recipe.yml",
        "README.md"};
    QCOMPARE(fileNames(out), expectedFiles);
    QVERIFY(leftovers(out).empty());
    QCOMPARE(fileNames(toPath(temp.path())), std::set<std::string>{"merged"});

    // Re-opens with our reader; same tensors, names and shapes as the base, all BF16.
    auto merged = Checkpoint::open(out);
    QVERIFY2(merged.ok(), merged.ok() ? "" : merged.error().message.c_str());
    auto base = Checkpoint::open(familyDir("bf16", "base"));
    QVERIFY(base.ok());
    QVERIFY((*merged)->warnings().empty());
    QCOMPARE((*merged)->tensors().size(), (*base)->tensors().size());
    for (const TensorInfo &tensor : (*base)->tensors()) {
        const TensorInfo *ours = (*merged)->find(tensor.name);
        QVERIFY2(ours, tensor.name.c_str());
        QCOMPARE(ours->shape, tensor.shape);
        QCOMPARE(ours->dtype, Dtype::BF16);
    }
    QCOMPARE((*merged)->metadata().at("format"), std::string("pt"));

    // config.json: the base's with torch_dtype set to the output dtype.
    const auto config = nlohmann::json::parse(readText(out / "config.json"));
    auto baseConfig = nlohmann::json::parse(readText(familyDir("bf16", "base") / "config.json"));
    QCOMPARE(config.at("torch_dtype").get<std::string>(), std::string("bfloat16"));
    baseConfig["torch_dtype"] = "bfloat16";
    QVERIFY(config == baseConfig);
    // Side files are byte copies of the base's.
    for (const char *side : {"generation_config.json", "tokenizer.json", "tokenizer_config.json"})
        QCOMPARE(readText(out / side), readText(familyDir("bf16", "base") / side));

    // Model card: front matter keys, the recipe, the digest of the shard.
    const std::string card = readText(out / "README.md");
    QVERIFY(card.starts_with("---\n"));
    const std::size_t end = card.find("\n---\n", 4);
    QVERIFY(end != std::string::npos);
    const YAML::Node front = YAML::Load(card.substr(4, end - 4));
    QVERIFY(front["base_model"].IsSequence());
    QCOMPARE(front["base_model"].size(), std::size_t(4));
    for (const YAML::Node &model : front["base_model"])
        QVERIFY(fs::exists(out / model.as<std::string>()));
    QCOMPARE(front["library_name"].as<std::string>(), std::string("transformers"));
    QVERIFY(front["tags"].IsSequence());
    QCOMPARE(front["tags"][0].as<std::string>(), std::string("merge"));
    QCOMPARE(front["tags"][1].as<std::string>(), std::string("basin"));
    QVERIFY(card.find("**ties**") != std::string::npos);
    QVERIFY(card.find("```yaml\n" + readText(out / "basin_recipe.yml") + "```") !=
            std::string::npos);
    const std::string digest = fileSha(out / "model.safetensors");
    QVERIFY(card.find("| model.safetensors | " +
                      std::to_string(fs::file_size(out / "model.safetensors")) + " | " + digest +
                      " |") != std::string::npos);
    QCOMPARE(report->shards.size(), std::size_t(1));
    QCOMPARE(report->shards[0].sha256, digest);
    QCOMPARE(report->shards[0].fileBytes, std::uint64_t(fs::file_size(out / "model.safetensors")));
}

void TestMergeOutput::shardedFolder_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<quint64>("limit");
    // A whole-tensor method (ties) and a streamed one (linear); a limit near one layer, and
    // one below the largest tensor (it then gets a shard of its own).
    QTest::newRow("ties 20 kB") << "ties" << quint64(20'000);
    QTest::newRow("linear 20 kB") << "linear" << quint64(20'000);
    QTest::newRow("ties 10 KiB") << "ties" << quint64(10 * 1024);
}

void TestMergeOutput::shardedFolder()
{
    QFETCH(QString, name);
    QFETCH(quint64, limit);
    auto recipe = readCase(name.toStdString());
    QVERIFY(recipe.ok());
    QTemporaryDir temp;
    const fs::path single = toPath(temp.path()) / "single";
    const fs::path sharded = toPath(temp.path()) / "sharded";
    QVERIFY(runRecipe(*recipe, single).ok());
    engine::MergeOptions options;
    options.maxShardBytes = limit;
    auto report = runRecipe(*recipe, sharded, options);
    QVERIFY2(report.ok(), report.ok() ? "" : report.error().message.c_str());

    const std::size_t count = report->shards.size();
    QVERIFY(count > 2);
    QVERIFY(!fs::exists(sharded / "model.safetensors"));
    for (std::size_t i = 0; i < count; ++i) {
        char expected[64];
        std::snprintf(expected, sizeof expected, "model-%05zu-of-%05zu.safetensors", i + 1, count);
        QCOMPARE(report->shards[i].fileName, std::string(expected));
        QVERIFY(fs::exists(sharded / expected));
        QCOMPARE(report->shards[i].sha256, fileSha(sharded / expected));
        QCOMPARE(report->shards[i].fileBytes, std::uint64_t(fs::file_size(sharded / expected)));
    }

    // The index: valid, total_size = tensor bytes, each tensor mapped to the file holding it.
    auto index = parseShardIndex(readText(sharded / "model.safetensors.index.json"), "index");
    QVERIFY2(index.ok(), index.ok() ? "" : index.error().message.c_str());
    auto merged = Checkpoint::open(sharded);
    QVERIFY2(merged.ok(), merged.ok() ? "" : merged.error().message.c_str());
    QVERIFY((*merged)->warnings().empty());
    std::uint64_t total = 0;
    for (const TensorInfo &tensor : (*merged)->tensors())
        total += tensor.byteSize;
    QVERIFY(index->totalSize.has_value());
    QCOMPARE(*index->totalSize, total);
    QCOMPARE(total, report->tensorBytes);
    QCOMPARE(index->weightMap.size(), (*merged)->tensors().size());
    for (const auto &[tensor, file] : index->weightMap) {
        const TensorInfo *info = (*merged)->find(tensor);
        QVERIFY(info);
        QCOMPARE((*merged)->files()[static_cast<std::size_t>(info->fileIndex)].filename().string(),
                 file);
    }
    // Each shard respects the limit unless it holds a single larger tensor.
    std::vector<std::uint64_t> perFile((*merged)->files().size(), 0);
    std::vector<int> tensorsPerFile((*merged)->files().size(), 0);
    for (const TensorInfo &tensor : (*merged)->tensors()) {
        perFile[static_cast<std::size_t>(tensor.fileIndex)] += tensor.byteSize;
        ++tensorsPerFile[static_cast<std::size_t>(tensor.fileIndex)];
    }
    for (std::size_t i = 0; i < perFile.size(); ++i)
        QVERIFY(perFile[i] <= limit || tensorsPerFile[i] == 1);

    // Same tensors, same bytes as the single-file merge; the card lists every shard.
    QVERIFY(tensorBytes(sharded) == tensorBytes(single));
    const std::string card = readText(sharded / "README.md");
    for (const engine::ShardReport &shard : report->shards)
        QVERIFY(card.find("| " + shard.fileName + " | " + std::to_string(shard.fileBytes) + " | " +
                          shard.sha256 + " |") != std::string::npos);
}

void TestMergeOutput::recipeRunsAgain()
{
    // A random method: the written recipe carries the seed, so it gives the same bytes.
    QTemporaryDir temp;
    const fs::path root = toPath(temp.path());
    const std::string family = familyDir("f32", "").string();
    auto recipe = recipeIn(root, "models:\n"
                                 "  - model: " +
                                     family +
                                     "ft1\n    parameters: {weight: 0.6, density: 0.5}\n"
                                     "  - model: " +
                                     family +
                                     "ft2\n    parameters: {weight: 0.4, density: 0.7}\n"
                                     "merge_method: dare_ties\nbase_model: " +
                                     family + "base\n");
    QVERIFY2(recipe.ok(), recipe.ok() ? "" : recipe.error().message.c_str());
    engine::MergeOptions options;
    options.seed = 1234;
    QVERIFY(runRecipe(*recipe, root / "first", options).ok());

    const std::string written = readText(root / "first" / "basin_recipe.yml");
    QVERIFY(written.find("seed: 1234") != std::string::npos);
    // Model paths are relative to the output folder.
    QVERIFY(written.find("model: ../") != std::string::npos);
    auto again = recipe::readRecipeFile(root / "first" / "basin_recipe.yml");
    QVERIFY2(again.ok(), again.ok() ? "" : again.error().message.c_str());
    QVERIFY(runRecipe(*again, root / "second").ok());
    QVERIFY(tensorBytes(root / "first") == tensorBytes(root / "second"));
}

void TestMergeOutput::progressPhases()
{
    auto recipe = readCase("ties");
    QVERIFY(recipe.ok());
    QTemporaryDir temp;
    std::vector<std::string> phases;
    Progress last;
    std::uint64_t previousBytes = 0;
    bool monotonic = true;
    const ProgressSink sink = [&](const Progress &p) {
        if (phases.empty() || phases.back() != p.phase)
            phases.push_back(p.phase);
        if (p.phase == "merging") {
            monotonic = monotonic && p.bytesDone >= previousBytes && p.itemsDone <= p.itemsTotal;
            previousBytes = p.bytesDone;
            last = p;
        }
    };
    auto report = runRecipe(*recipe, toPath(temp.path()) / "out", {}, sink);
    QVERIFY(report.ok());
    QCOMPARE(phases, (std::vector<std::string>{"reading", "merging", "writing", "done"}));
    QVERIFY(monotonic);
    QCOMPARE(last.itemsDone, last.itemsTotal);
    QCOMPARE(last.itemsTotal, std::uint64_t(report->tensors.size()));
    QCOMPARE(last.bytesDone, last.bytesTotal);
    QCOMPARE(last.bytesTotal, report->tensorBytes);
    QVERIFY(last.etaSeconds >= 0.0);
}

void TestMergeOutput::cancelAfterTensors_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("after");
    QTest::newRow("ties (whole tensors), after 5") << "ties" << 5;
    QTest::newRow("linear (streamed), after 5") << "linear" << 5;
    QTest::newRow("ties, after the last tensor") << "ties" << 39;
    QTest::newRow("ties, before the first") << "ties" << 0;
}

void TestMergeOutput::cancelAfterTensors()
{
    QFETCH(QString, name);
    QFETCH(int, after);
    auto recipe = readCase(name.toStdString());
    QVERIFY(recipe.ok());
    QTemporaryDir temp;
    const fs::path out = toPath(temp.path()) / "out";
    CancelFlag cancel{false};
    std::uint64_t doneAtCancel = 0;
    const ProgressSink sink = [&](const Progress &p) {
        if (p.phase == "merging" && p.itemsDone >= std::uint64_t(after) && !cancel.load()) {
            doneAtCancel = p.itemsDone;
            cancel.store(true);
        }
    };
    auto report = runRecipe(*recipe, out, {}, sink, &cancel);
    QVERIFY(!report.ok());
    QCOMPARE(report.error().code, ErrorCode::Cancelled);
    QCOMPARE(doneAtCancel, std::uint64_t(after));
    QVERIFY(!fs::exists(out));
    QVERIFY(leftovers(out).empty());
    QVERIFY(fs::is_empty(toPath(temp.path())));
}

void TestMergeOutput::cancelAtEveryTensorWithSmallShards_data()
{
    QTest::addColumn<QString>("method");
    QTest::newRow("task_arithmetic (streamed)") << "task_arithmetic";
    QTest::newRow("ties (whole tensors)") << "ties";
}

void TestMergeOutput::cancelAtEveryTensorWithSmallShards()
{
    // Issue 5 regression: a cancel while the writer thread still had bytes queued (and was
    // about to open the next shard) could leave the staging folder behind. Small shards and
    // a one-tensor read-ahead put a shard boundary near every cancel point.
    QFETCH(QString, method);
    QTemporaryDir temp;
    const fs::path root = toPath(temp.path());
    const std::string f = familyDir("f32", "").string();
    fs::create_directories(root / "out");
    auto recipe = recipeIn(root, "models:\n  - model: " + f +
                                     "ft1\n    parameters: {weight: 0.6, "
                                     "density: 0.7}\n  - model: " +
                                     f +
                                     "ft2\n    parameters: "
                                     "{weight: 0.4, density: 0.7}\nmerge_method: " +
                                     method.toStdString() + "\nbase_model: " + f + "base\n");
    QVERIFY2(recipe.ok(), recipe.ok() ? "" : recipe.error().message.c_str());
    engine::MergeOptions options;
    options.maxShardBytes = 12 * 1024;
    options.prefetchBytes = 1;
    for (std::uint64_t at = 0; at <= 39; ++at) {
        CancelFlag cancel{false};
        const ProgressSink sink = [&](const Progress &p) {
            if (p.phase == "merging" && p.itemsDone >= at)
                cancel.store(true);
        };
        auto report = runRecipe(*recipe, root / "out" / "merged", options, sink, &cancel);
        QVERIFY(!report.ok());
        QCOMPARE(report.error().code, ErrorCode::Cancelled);
        QVERIFY2(fs::is_empty(root / "out"), ("left behind after " + std::to_string(at)).c_str());
    }
}

void TestMergeOutput::staleTemporaryFoldersRemoved()
{
    QTemporaryDir temp;
    const fs::path root = toPath(temp.path());
    const long dead = deadPid();
    QVERIFY(dead > 0);
    // Left by killed runs: a staging folder with a half-written shard, and an old folder a
    // replacement had moved aside.
    const fs::path staleTemp = root / (".out.basin-tmp-" + std::to_string(dead) + "-abc123");
    const fs::path staleOld = root / (".out.basin-old-" + std::to_string(dead) + "-def456");
    // A run still going (our parent process is alive) and another destination's folder.
    const fs::path live = root / (".out.basin-tmp-" + std::to_string(::getppid()) + "-ghi789");
    const fs::path other = root / (".other.basin-tmp-" + std::to_string(dead) + "-jkl012");
    for (const fs::path &folder : {staleTemp, staleOld, live, other}) {
        fs::create_directory(folder);
        writeText(folder / "model.safetensors", "partial");
    }
    auto recipe = readCase("linear");
    QVERIFY(recipe.ok());
    QVERIFY(runRecipe(*recipe, root / "out").ok());
    QVERIFY(!fs::exists(staleTemp));
    QVERIFY(!fs::exists(staleOld));
    QVERIFY(fs::exists(live));
    QVERIFY(fs::exists(other));
    QVERIFY(fs::exists(root / "out" / "model.safetensors"));
}

void TestMergeOutput::emptyDestinationIsUsed()
{
    auto recipe = readCase("linear");
    QVERIFY(recipe.ok());
    QTemporaryDir temp;
    const fs::path out = toPath(temp.path()) / "out";
    fs::create_directory(out);
    auto report = runRecipe(*recipe, out);
    QVERIFY2(report.ok(), report.ok() ? "" : report.error().message.c_str());
    QVERIFY(fs::exists(out / "model.safetensors"));
    QVERIFY(leftovers(out).empty());
    // "out/" names the same folder.
    engine::MergeOptions options;
    options.overwrite = true;
    QVERIFY(runRecipe(*recipe, fs::path(out.string() + "/"), options).ok());
    QVERIFY(leftovers(out).empty());
}

void TestMergeOutput::overwriteReplacesOnlyWhenComplete()
{
    QTemporaryDir temp;
    const fs::path root = toPath(temp.path());
    const fs::path out = root / "out";
    fs::create_directory(out);
    writeText(out / "marker.txt", "old model");
    auto recipe = readCase("ties");
    QVERIFY(recipe.ok());

    // Without overwrite: refused, the old folder untouched.
    auto refused = runRecipe(*recipe, out);
    QVERIFY(!refused.ok());
    QCOMPARE(refused.error().code, ErrorCode::DestinationExists);
    QCOMPARE(readText(out / "marker.txt"), std::string("old model"));

    // With overwrite but a merge that fails (cancelled midway): the old folder stays.
    engine::MergeOptions options;
    options.overwrite = true;
    CancelFlag cancel{false};
    const ProgressSink cancelAt3 = [&](const Progress &p) {
        if (p.phase == "merging" && p.itemsDone >= 3)
            cancel.store(true);
    };
    auto cancelled = runRecipe(*recipe, out, options, cancelAt3, &cancel);
    QVERIFY(!cancelled.ok());
    QCOMPARE(fileNames(out), std::set<std::string>{"marker.txt"});
    QVERIFY(leftovers(out).empty());

    // With overwrite: replaced by the new model, nothing of the old one left.
    auto replaced = runRecipe(*recipe, out, options);
    QVERIFY2(replaced.ok(), replaced.ok() ? "" : replaced.error().message.c_str());
    QVERIFY(!fs::exists(out / "marker.txt"));
    QVERIFY(fs::exists(out / "model.safetensors"));
    QVERIFY(leftovers(out).empty());
    QCOMPARE(fileNames(root), std::set<std::string>{"out"});

    // Overwriting a folder that holds an input model is refused (it would delete it).
    fs::create_directories(root / "holder");
    fs::copy(familyDir("f32", "ft1"), root / "holder" / "ft1");
    const std::string family = familyDir("f32", "").string();
    auto inside = recipeIn(root, "models:\n  - model: " + (root / "holder" / "ft1").string() +
                                     "\n    parameters: {weight: 1.0}\n  - model: " + family +
                                     "ft2\n    parameters: {weight: 1.0}\nmerge_method: linear\n");
    QVERIFY(inside.ok());
    auto holder = runRecipe(*inside, root / "holder", options);
    QVERIFY(!holder.ok());
    QCOMPARE(holder.error().code, ErrorCode::InvalidArgument);
    QVERIFY(fs::exists(root / "holder" / "ft1" / "model.safetensors"));
}

void TestMergeOutput::slicesUpdateLayerCount()
{
    auto recipe = readCase("passthrough-frankenmerge");
    QVERIFY(recipe.ok());
    QTemporaryDir temp;
    const fs::path out = toPath(temp.path()) / "out";
    auto report = runRecipe(*recipe, out);
    QVERIFY(report.ok());
    const auto config = nlohmann::json::parse(readText(out / "config.json"));
    QCOMPARE(config.at("num_hidden_layers").get<int>(), 6);
    auto merged = Checkpoint::open(out);
    QVERIFY(merged.ok());
    QVERIFY((*merged)->find("model.layers.5.mlp.down_proj.weight"));
    QVERIFY(!(*merged)->find("model.layers.6.mlp.down_proj.weight"));
    QVERIFY(readText(out / "README.md").find("6 layers") != std::string::npos);
}

QTEST_GUILESS_MAIN(TestMergeOutput)
#include "tst_mergeoutput.moc"
