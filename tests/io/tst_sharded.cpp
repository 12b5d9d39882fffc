// SPDX-License-Identifier: GPL-3.0-or-later
// Sharded folders: round trip through our writer, and one row per hostile index/folder.
#include "io/safetensorsfilewriter.h"
#include "io/safetensorsmodelwriter.h"
#include "io/sha256.h"
#include "io/shardindex.h"
#include "model/checkpoint.h"
#include "testfiles.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <filesystem>

using namespace basin;
using namespace basin::test;
namespace fs = std::filesystem;

Q_DECLARE_METATYPE(basin::ErrorCode)

namespace {

// Tensor i holds the values i*100 + k.
std::vector<float> valuesOf(int tensor, std::size_t count)
{
    std::vector<float> v(count);
    for (std::size_t k = 0; k < count; ++k)
        v[k] = static_cast<float>(tensor * 100 + static_cast<int>(k));
    return v;
}

// Four F32 tensors of 16 values (64 bytes each) split two per shard.
bool writeShardedModel(const fs::path &folder)
{
    std::vector<PlannedTensor> tensors;
    for (const char *name : {"model.a", "model.b", "model.c", "model.d"})
        tensors.push_back(PlannedTensor{name, Dtype::F32, {4, 4}});
    Result<ShardPlan> plan = planShards(tensors, 128);
    if (!plan || plan->shards.size() != 2)
        return false;
    auto writer = SafetensorsModelWriter::create(folder, *plan);
    if (!writer)
        return false;
    for (int i = 0; i < 4; ++i) {
        const std::vector<float> v = valuesOf(i, 16);
        if (!(*writer)->append(std::as_bytes(std::span<const float>(v))))
            return false;
    }
    return (*writer)->finish().ok();
}

// A shard with the given F32 tensors (4 values each).
bool writeShard(const fs::path &path, const std::vector<std::string> &names)
{
    std::vector<HeaderEntry> entries;
    std::uint64_t offset = 0;
    for (const std::string &name : names) {
        HeaderEntry e;
        e.name = name;
        e.dtype = Dtype::F32;
        e.shape = {4};
        e.numel = 4;
        e.byteSize = 16;
        e.begin = offset;
        e.end = offset + 16;
        offset += 16;
        entries.push_back(e);
    }
    const std::map<std::string, std::string> meta{{"format", "pt"}};
    auto writer = SafetensorsFileWriter::create(path, entries, &meta);
    if (!writer || !(*writer)->append(std::vector<std::byte>(offset)))
        return false;
    return (*writer)->finish().ok();
}

bool writeText(const fs::path &path, const std::string &text)
{
    return writeBytes(path, QByteArray::fromStdString(text));
}

std::string indexJson(const std::vector<std::pair<std::string, std::string>> &map,
                      std::uint64_t total = 0)
{
    nlohmann::json doc;
    doc["metadata"]["total_size"] = total;
    doc["weight_map"] = nlohmann::json::object();
    for (const auto &[k, v] : map)
        doc["weight_map"][k] = v;
    return doc.dump();
}

} // namespace

class TestSharded : public QObject {
    Q_OBJECT

private slots:
    void roundTrip()
    {
        QTemporaryDir dir;
        const fs::path folder = toPath(dir.path());
        QVERIFY(writeShardedModel(folder));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files, QDir::Name),
                 (QStringList{QStringLiteral("model-00001-of-00002.safetensors"),
                              QStringLiteral("model-00002-of-00002.safetensors"),
                              QStringLiteral("model.safetensors.index.json")}));
        const auto index =
            nlohmann::json::parse(readBytes(folder / "model.safetensors.index.json").toStdString());
        QCOMPARE(index["metadata"]["total_size"].get<std::uint64_t>(), std::uint64_t(256));
        QCOMPARE(index["weight_map"]["model.c"].get<std::string>(),
                 std::string("model-00002-of-00002.safetensors"));

        auto opened = Checkpoint::open(folder);
        QVERIFY2(opened.ok(), opened.ok() ? "" : opened.error().message.c_str());
        const Checkpoint &c = **opened;
        QCOMPARE(c.files().size(), std::size_t(2));
        QCOMPARE(c.tensors().size(), std::size_t(4));
        QVERIFY(c.warnings().empty());
        QCOMPARE(c.totalBytes(), std::uint64_t(256));
        QCOMPARE(c.metadata().at("format"), std::string("pt"));
        int i = 0;
        for (const TensorInfo &t : c.tensors()) { // file order = write order here
            std::vector<float> v(t.numel);
            QVERIFY(c.readF32(t, v).ok());
            QCOMPARE(v, valuesOf(i, 16));
            QCOMPARE(t.fileIndex, i / 2);
            ++i;
        }
    }

    // Round trip of a real family: every model of the bf16 fixture family, rewritten by our
    // writer as one file and as shards, reopens with byte-identical tensors (checked
    // against checksums.json) and the same catalog.
    void rewriteFixtureFamily_data()
    {
        QTest::addColumn<quint64>("shardLimit");
        QTest::addColumn<int>("files");
        QTest::newRow("single") << quint64(0) << 1;
        QTest::newRow("sharded-30k") << quint64(30000) << 4;
    }

    void rewriteFixtureFamily()
    {
        QFETCH(quint64, shardLimit);
        QFETCH(int, files);
        const QString family = QFINDTESTDATA(QStringLiteral("../data/families/bf16"));
        QVERIFY(!family.isEmpty());
        const nlohmann::json checksums = nlohmann::json::parse(
            readBytes(toPath(family + QStringLiteral("/checksums.json"))).toStdString());
        QTemporaryDir dir;
        for (const char *model : {"base", "ft1", "ft2", "ft3"}) {
            auto source =
                Checkpoint::open(toPath(family + QLatin1Char('/') + QLatin1String(model)));
            QVERIFY(source.ok());
            std::vector<PlannedTensor> planned;
            for (const TensorInfo &t : (*source)->tensors())
                planned.push_back(PlannedTensor{t.name, t.dtype, t.shape});
            Result<ShardPlan> plan = planShards(planned, shardLimit);
            QVERIFY(plan.ok());
            const fs::path out = toPath(dir.filePath(QLatin1String(model)));
            fs::create_directory(out);
            auto writer = SafetensorsModelWriter::create(out, *plan);
            QVERIFY(writer.ok());
            for (const TensorInfo &t : (*source)->tensors()) {
                std::vector<std::byte> raw(t.byteSize);
                QVERIFY((*source)->readRaw(t, raw).ok());
                QVERIFY((*writer)->append(raw).ok());
            }
            QVERIFY((*writer)->finish().ok());

            auto back = Checkpoint::open(out);
            QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
            QCOMPARE(static_cast<int>((*back)->files().size()), files);
            QVERIFY((*back)->warnings().empty());
            QCOMPARE((*back)->tensors().size(), (*source)->tensors().size());
            for (const auto &[name, expected] : checksums[model].items()) {
                const TensorInfo *t = (*back)->find(name);
                QVERIFY2(t, name.c_str());
                std::vector<std::byte> raw(t->byteSize);
                QVERIFY((*back)->readRaw(*t, raw).ok());
                QCOMPARE(Sha256::hexOf(raw), expected["sha256"].get<std::string>());
                QCOMPARE(t->shape, expected["shape"].get<std::vector<std::uint64_t>>());
            }
        }
    }

    void hostile_data()
    {
        QTest::addColumn<QString>("scenario");
        QTest::addColumn<basin::ErrorCode>("code");
        QTest::addColumn<QString>("names");
        QTest::newRow("dotdot-path") << QStringLiteral("value:../../etc/passwd")
                                     << ErrorCode::UnsafePath << QStringLiteral("../../etc/passwd");
        QTest::newRow("absolute-path") << QStringLiteral("value:/etc/shadow")
                                       << ErrorCode::UnsafePath << QStringLiteral("/etc/shadow");
        QTest::newRow("subfolder-path")
            << QStringLiteral("value:a/b.safetensors") << ErrorCode::UnsafePath
            << QStringLiteral("a/b.safetensors");
        QTest::newRow("backslash-path") << QStringLiteral("value:a\\b.safetensors")
                                        << ErrorCode::UnsafePath << QStringLiteral("'model.a'");
        QTest::newRow("not-safetensors") << QStringLiteral("value:model.bin")
                                         << ErrorCode::UnsafePath << QStringLiteral("model.bin");
        QTest::newRow("hidden-dotdot-name") << QStringLiteral("value:..safetensors")
                                            << ErrorCode::UnsafePath << QStringLiteral("'model.a'");
        QTest::newRow("missing-shards")
            << QStringLiteral("missing") << ErrorCode::MissingShard
            << QStringLiteral("model-00008-of-00009.safetensors, model-00009-of-00009.safetensors");
        QTest::newRow("tensor-in-two-shards")
            << QStringLiteral("two") << ErrorCode::TensorInTwoShards << QStringLiteral("'model.b'");
        QTest::newRow("tensor-missing-from-shard")
            << QStringLiteral("ghost") << ErrorCode::TensorMissingFromShard
            << QStringLiteral("'model.ghost'");
        QTest::newRow("tensor-in-other-shard")
            << QStringLiteral("misplaced") << ErrorCode::TensorMissingFromShard
            << QStringLiteral("'model.a'");
        QTest::newRow("symlink-outside") << QStringLiteral("symlink-out") << ErrorCode::UnsafePath
                                         << QStringLiteral("outside the model folder");
        QTest::newRow("index-not-json")
            << QStringLiteral("index:{\"weight_map\":") << ErrorCode::InvalidIndex
            << QStringLiteral("not valid JSON");
        QTest::newRow("index-root-array") << QStringLiteral("index:[]") << ErrorCode::InvalidIndex
                                          << QStringLiteral("not a JSON object");
        QTest::newRow("index-no-weight-map")
            << QStringLiteral("index:{\"metadata\":{}}") << ErrorCode::InvalidIndex
            << QStringLiteral("weight_map");
        QTest::newRow("index-empty-weight-map")
            << QStringLiteral("index:{\"weight_map\":{}}") << ErrorCode::InvalidIndex
            << QStringLiteral("no tensors");
        QTest::newRow("index-value-not-string")
            << QStringLiteral("index:{\"weight_map\":{\"model.a\":1}}") << ErrorCode::InvalidIndex
            << QStringLiteral("'model.a'");
        QTest::newRow("index-duplicate-tensor")
            << QStringLiteral("index:{\"weight_map\":{\"model.a\":\"model-00001-of-00002."
                              "safetensors\",\"model.a\":\"model-00001-of-00002.safetensors\"}}")
            << ErrorCode::DuplicateKey << QStringLiteral("'model.a'");
        QTest::newRow("index-bad-total-size")
            << QStringLiteral("index:{\"metadata\":{\"total_size\":\"big\"},\"weight_map\":{"
                              "\"model.a\":\"model-00001-of-00002.safetensors\"}}")
            << ErrorCode::InvalidIndex << QStringLiteral("total_size");
        QTest::newRow("index-deep")
            << QStringLiteral("index:{\"x\":") + QString(200000, QLatin1Char('['))
            << ErrorCode::InvalidIndex << QStringLiteral("nested deeper");
        QTest::newRow("corrupt-shard") << QStringLiteral("corrupt") << ErrorCode::IncompleteBuffer
                                       << QStringLiteral("model-00002-of-00002.safetensors");
    }

    void hostile()
    {
        QFETCH(QString, scenario);
        QFETCH(basin::ErrorCode, code);
        QFETCH(QString, names);

        QTemporaryDir dir;
        const fs::path folder = toPath(dir.filePath(QStringLiteral("model")));
        fs::create_directory(folder);
        QVERIFY(writeShardedModel(folder));
        const fs::path index = folder / "model.safetensors.index.json";
        const std::string shard1 = "model-00001-of-00002.safetensors";
        const std::string shard2 = "model-00002-of-00002.safetensors";

        if (scenario.startsWith(QStringLiteral("value:"))) {
            QVERIFY(writeText(index, indexJson({{"model.a", scenario.mid(6).toStdString()},
                                                {"model.b", shard1}})));
        } else if (scenario.startsWith(QStringLiteral("index:"))) {
            QVERIFY(writeText(index, scenario.mid(6).toStdString()));
        } else if (scenario == QLatin1String("missing")) {
            QVERIFY(writeText(index, indexJson({{"model.a", shard1},
                                                {"model.b", "model-00009-of-00009.safetensors"},
                                                {"model.c", "model-00008-of-00009.safetensors"}})));
        } else if (scenario == QLatin1String("two")) {
            QVERIFY(writeShard(folder / shard1, {"model.a", "model.b"}));
            QVERIFY(writeShard(folder / shard2, {"model.b", "model.c"}));
            QVERIFY(writeText(
                index, indexJson({{"model.a", shard1}, {"model.b", shard1}, {"model.c", shard2}})));
        } else if (scenario == QLatin1String("ghost")) {
            QVERIFY(writeText(index, indexJson({{"model.a", shard1}, {"model.ghost", shard1}})));
        } else if (scenario == QLatin1String("misplaced")) {
            QVERIFY(writeText(index, indexJson({{"model.a", shard2}, {"model.c", shard2}})));
        } else if (scenario == QLatin1String("symlink-out")) {
            const fs::path outside = toPath(dir.filePath(QStringLiteral("elsewhere.safetensors")));
            fs::rename(folder / shard2, outside);
            fs::create_symlink(outside, folder / shard2);
        } else if (scenario == QLatin1String("corrupt")) {
            QByteArray bytes = readBytes(folder / shard2);
            bytes.chop(3);
            QVERIFY(writeBytes(folder / shard2, bytes));
        } else {
            QFAIL("unknown scenario");
        }

        auto opened = Checkpoint::open(folder);
        QVERIFY(!opened);
        QCOMPARE(codeName(opened.error().code), codeName(code));
        const QString message = QString::fromStdString(opened.error().message);
        QVERIFY2(message.contains(names), qPrintable(message));
        QVERIFY2(message.contains(QString::fromStdString(folder.string())), qPrintable(message));
    }

    void warnings()
    {
        QTemporaryDir dir;
        const fs::path folder = toPath(dir.path());
        QVERIFY(writeShardedModel(folder));
        const std::string shard1 = "model-00001-of-00002.safetensors";
        const std::string shard2 = "model-00002-of-00002.safetensors";
        // total_size wrong, an extra shard, a model.safetensors beside the index, and a
        // tensor the index does not list: all open, each reported.
        QVERIFY(writeText(
            folder / "model.safetensors.index.json",
            indexJson({{"model.a", shard1}, {"model.b", shard1}, {"model.c", shard2}}, 999)));
        QVERIFY(writeShard(folder / "model-00003-of-00003.safetensors", {"model.z"}));
        QVERIFY(writeShard(folder / "model.safetensors", {"model.single"}));
        auto opened = Checkpoint::open(folder);
        QVERIFY2(opened.ok(), opened.ok() ? "" : opened.error().message.c_str());
        const Checkpoint &c = **opened;
        QCOMPARE(c.tensors().size(), std::size_t(3));
        QVERIFY(c.find("model.d") == nullptr);
        QVERIFY(c.find("model.single") == nullptr);
        const QString all = [&] {
            QString text;
            for (const std::string &w : c.warnings())
                text += QString::fromStdString(w) + QLatin1Char('\n');
            return text;
        }();
        QCOMPARE(c.warnings().size(), std::size_t(4));
        QVERIFY2(all.contains(QStringLiteral("total_size is 999")), qPrintable(all));
        QVERIFY2(all.contains(QStringLiteral("model-00003-of-00003.safetensors")), qPrintable(all));
        QVERIFY2(all.contains(QStringLiteral("the index wins")), qPrintable(all));
        QVERIFY2(all.contains(QStringLiteral("'model.d'")), qPrintable(all));
    }

    // Hugging Face cache: snapshots/REV/shard -> ../../blobs/HASH stays inside the repo root.
    void huggingFaceCacheLinks()
    {
        QTemporaryDir dir;
        const fs::path repo = toPath(dir.filePath(QStringLiteral("models--org--name")));
        const fs::path snapshot = repo / "snapshots" / "0123abcd";
        fs::create_directories(repo / "blobs");
        fs::create_directories(snapshot);
        const fs::path staging = toPath(dir.filePath(QStringLiteral("staging")));
        fs::create_directory(staging);
        QVERIFY(writeShardedModel(staging));
        int blob = 0;
        for (const auto &entry : fs::directory_iterator(staging)) {
            const std::string hash = "blob" + std::to_string(blob++);
            fs::rename(entry.path(), repo / "blobs" / hash);
            fs::create_symlink(fs::path("../../blobs") / hash, snapshot / entry.path().filename());
        }
        auto opened = Checkpoint::open(snapshot);
        QVERIFY2(opened.ok(), opened.ok() ? "" : opened.error().message.c_str());
        QCOMPARE((*opened)->tensors().size(), std::size_t(4));
        std::vector<float> v(16);
        QVERIFY((*opened)->readF32(*(*opened)->find("model.d"), v).ok());
        QCOMPARE(v, valuesOf(3, 16));

        // A link that leaves the repository root is still refused.
        const fs::path victim = snapshot / "model-00001-of-00002.safetensors";
        const fs::path outside = toPath(dir.filePath(QStringLiteral("outside.safetensors")));
        fs::copy_file(fs::canonical(victim), outside);
        fs::remove(victim);
        fs::create_symlink(outside, victim);
        auto refused = Checkpoint::open(snapshot);
        QVERIFY(!refused);
        QCOMPARE(refused.error().code, ErrorCode::UnsafePath);
    }

    void plainNames_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("plain");
        QTest::newRow("hf-shard") << QStringLiteral("model-00001-of-00002.safetensors") << true;
        QTest::newRow("custom") << QStringLiteral("weights_part.safetensors") << true;
        QTest::newRow("dotdot") << QStringLiteral("../x.safetensors") << false;
        QTest::newRow("absolute") << QStringLiteral("/x.safetensors") << false;
        QTest::newRow("slash") << QStringLiteral("a/x.safetensors") << false;
        QTest::newRow("backslash") << QStringLiteral("a\\x.safetensors") << false;
        QTest::newRow("drive") << QStringLiteral("C:x.safetensors") << false;
        QTest::newRow("hidden") << QStringLiteral(".x.safetensors") << false;
        QTest::newRow("suffix-only") << QStringLiteral(".safetensors") << false;
        QTest::newRow("wrong-suffix") << QStringLiteral("x.bin") << false;
        QTest::newRow("newline") << QStringLiteral("x\n.safetensors") << false;
        QTest::newRow("empty") << QString() << false;
    }

    void plainNames()
    {
        QFETCH(QString, name);
        QFETCH(bool, plain);
        QCOMPARE(isPlainShardName(name.toStdString()), plain);
        QVERIFY(!isPlainShardName(std::string("x\0y.safetensors", 15)));
    }
};

QTEST_GUILESS_MAIN(TestSharded)
#include "tst_sharded.moc"
