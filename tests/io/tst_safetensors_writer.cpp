// SPDX-License-Identifier: GPL-3.0-or-later
#include "io/atomicfile.h"
#include "io/codecs.h"
#include "io/safetensorsfilewriter.h"
#include "io/safetensorsheader.h"
#include "io/safetensorsmodelwriter.h"
#include "io/shardplanner.h"
#include "model/checkpoint.h"
#include "testfiles.h"

#include <QDir>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

#include <sys/resource.h>
#include <unistd.h>

using namespace basin;
using namespace basin::test;

namespace {

HeaderEntry makeEntry(std::string name, Dtype dtype, std::vector<std::uint64_t> shape,
                      std::uint64_t begin, std::uint64_t end)
{
    HeaderEntry e;
    e.name = std::move(name);
    e.dtype = dtype;
    e.shape = std::move(shape);
    e.begin = begin;
    e.end = end;
    e.numel = 1;
    for (auto d : e.shape)
        e.numel *= d;
    e.byteSize = end - begin;
    return e;
}

QStringList folderEntries(const QString &path)
{
    return QDir(path).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot, QDir::Name);
}

} // namespace

class TestSafetensorsWriter : public QObject {
    Q_OBJECT

private slots:
    // Byte-exact header vectors (the compact form the Hugging Face serializer produces).
    void headerVectors_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QVector<quint64>>("shape");
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<int>("spaces");
        QTest::newRow("attn.0-no-padding")
            << QStringLiteral("attn.0") << QVector<quint64>{1, 2, 3}
            << QByteArray(
                   "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}")
            << 0;
        // One byte shorter: 63 bytes, one space to reach 64.
        QTest::newRow("attn0-one-space")
            << QStringLiteral("attn0") << QVector<quint64>{1, 2, 3}
            << QByteArray(
                   "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}")
            << 1;
        // 65 bytes: seven spaces to reach N = 72.
        QTest::newRow("attn0-seven-spaces")
            << QStringLiteral("attn0") << QVector<quint64>{1, 1, 2, 3}
            << QByteArray(
                   "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}")
            << 7;
    }

    void headerVectors()
    {
        QFETCH(QString, name);
        QFETCH(QVector<quint64>, shape);
        QFETCH(QByteArray, json);
        QFETCH(int, spaces);
        const std::vector<std::uint64_t> dims(shape.begin(), shape.end());
        const std::string header = serializeSafetensorsHeader(
            {makeEntry(name.toStdString(), Dtype::F32, dims, 0, 24)}, nullptr);
        QCOMPARE(QByteArray::fromStdString(header), json + QByteArray(spaces, ' '));
        QCOMPARE(header.size() % 8, std::size_t(0));

        // The whole file as SafetensorsFileWriter writes it, byte for byte.
        QTemporaryDir dir;
        const auto path = toPath(dir.filePath(QStringLiteral("v.safetensors")));
        auto writer = SafetensorsFileWriter::create(
            path, {makeEntry(name.toStdString(), Dtype::F32, dims, 0, 24)}, nullptr);
        QVERIFY(writer.ok());
        const QByteArray data(24, '\0');
        QVERIFY((*writer)->append(asBytes(data)).ok());
        QVERIFY((*writer)->finish().ok());
        const QByteArray expected = safetensorsBytes(json + QByteArray(spaces, ' '), 0) + data;
        QCOMPARE(readBytes(path), expected);
        QCOMPARE(static_cast<unsigned char>(expected[0]),
                 static_cast<unsigned char>(json.size() + spaces));
    }

    void metadataFirstAndEscaping()
    {
        const std::map<std::string, std::string> meta{{"format", "pt"}};
        const std::string header =
            serializeSafetensorsHeader({makeEntry("a\"b\\c\n", Dtype::BF16, {2}, 0, 4)}, &meta);
        QVERIFY(header.starts_with(
            "{\"__metadata__\":{\"format\":\"pt\"},\"a\\\"b\\\\c\\n\":{\"dtype\":\"BF16\""));
        // What we write, we read back.
        const std::string data(4, '\0');
        const std::string file = headerLengthPrefix(header.size()) + header + data;
        Result<SafetensorsHeader> parsed = parseSafetensorsBuffer(
            std::as_bytes(std::span<const char>(file.data(), file.size())), "x");
        QVERIFY(parsed.ok());
        QCOMPARE(parsed->tensors.front().name, std::string("a\"b\\c\n"));
        QCOMPARE(parsed->metadata.at("format"), std::string("pt"));
    }

    void plannerSplits()
    {
        std::vector<PlannedTensor> tensors;
        for (const char *name : {"t0", "t1", "t2", "t3", "t4"})
            tensors.push_back(PlannedTensor{name, Dtype::F32, {25}}); // 100 bytes each
        tensors.push_back(PlannedTensor{"huge", Dtype::BF16, {500}}); // 1000 bytes
        tensors.push_back(PlannedTensor{"tail", Dtype::F16, {0}});

        Result<ShardPlan> single = planShards(tensors, 0);
        QVERIFY(single.ok());
        QCOMPARE(single->shards.size(), std::size_t(1));
        QCOMPARE(single->shards[0].fileName, std::string("model.safetensors"));
        QCOMPARE(single->totalBytes, std::uint64_t(1500));
        QVERIFY(!single->sharded());

        Result<ShardPlan> plan = planShards(tensors, 250);
        QVERIFY(plan.ok());
        // [t0 t1] [t2 t3] [t4] [huge tail]: a tensor above the limit gets its own shard,
        // and an empty tensor never opens one.
        QCOMPARE(plan->shards.size(), std::size_t(4));
        QCOMPARE(plan->shards[0].fileName, std::string("model-00001-of-00004.safetensors"));
        QCOMPARE(plan->shards[3].fileName, std::string("model-00004-of-00004.safetensors"));
        QCOMPARE(plan->shards[0].entries.size(), std::size_t(2));
        QCOMPARE(plan->shards[2].entries.size(), std::size_t(1));
        QCOMPARE(plan->shards[3].entries[0].name, std::string("huge"));
        QCOMPARE(plan->shards[3].entries[1].begin, std::uint64_t(1000));
        QCOMPARE(plan->shards[1].entries[1].begin, std::uint64_t(100));
        QCOMPARE(plan->location[3], (std::pair<std::size_t, std::size_t>(1, 1)));
        const auto map = plan->weightMap();
        QCOMPARE(map.size(), tensors.size());
        QCOMPARE(map.front().first, std::string("huge"));

        tensors.push_back(PlannedTensor{"t1", Dtype::F32, {1}});
        QCOMPARE(planShards(tensors, 0).error().code, ErrorCode::InvalidArgument);
        QCOMPARE(planShards({PlannedTensor{"x", Dtype::F32, {1ull << 62, 8}}}, 0).error().code,
                 ErrorCode::Overflow);
    }

    void writerStreamsAndRenames()
    {
        QTemporaryDir dir;
        const auto path = toPath(dir.filePath(QStringLiteral("out.safetensors")));
        const std::map<std::string, std::string> meta{{"format", "pt"}};
        std::vector<HeaderEntry> entries{makeEntry("a", Dtype::F32, {3}, 0, 12),
                                         makeEntry("b", Dtype::BF16, {2, 2}, 12, 20)};
        auto writer = SafetensorsFileWriter::create(path, entries, &meta);
        QVERIFY(writer.ok());
        // Nothing at the destination until finish(); only the temporary exists.
        QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("out.safetensors"))));
        QCOMPARE(folderEntries(dir.path()).size(), 1);
        const float a[3] = {1.0f, -2.0f, 0.5f};
        QVERIFY((*writer)->append(std::as_bytes(std::span<const float>(a, 1))).ok()); // chunked
        QVERIFY((*writer)->append(std::as_bytes(std::span<const float>(a + 1, 2))).ok());
        std::vector<std::byte> b(8);
        const float bValues[4] = {3.0f, 0.25f, -1.0f, 65536.0f};
        QCOMPARE(encodeBf16(bValues, b), std::uint64_t(0));
        QCOMPARE((*writer)->append(std::vector<std::byte>(9)).error().code,
                 ErrorCode::InvalidArgument);
    }

    void writerRoundTrip()
    {
        QTemporaryDir dir;
        const auto path = toPath(dir.filePath(QStringLiteral("out.safetensors")));
        const std::map<std::string, std::string> meta{{"format", "pt"}};
        std::vector<HeaderEntry> entries{makeEntry("a", Dtype::F32, {3}, 0, 12),
                                         makeEntry("b", Dtype::BF16, {2, 2}, 12, 20)};
        auto writer = SafetensorsFileWriter::create(path, entries, &meta);
        QVERIFY(writer.ok());
        const float a[3] = {1.0f, -2.0f, 0.5f};
        QVERIFY((*writer)->append(std::as_bytes(std::span<const float>(a, 3))).ok());
        std::vector<std::byte> b(8);
        const float bValues[4] = {3.0f, 0.25f, -1.0f, 65536.0f};
        QCOMPARE(encodeBf16(bValues, b), std::uint64_t(0));
        QVERIFY((*writer)->append(b).ok());
        QVERIFY((*writer)->finish().ok());
        QCOMPARE(folderEntries(dir.path()), QStringList{QStringLiteral("out.safetensors")});

        const QByteArray bytes = readBytes(path);
        std::uint64_t n = 0;
        std::memcpy(&n, bytes.constData(), 8);
        QCOMPARE(n % 8, std::uint64_t(0));
        QVERIFY(bytes.mid(8).startsWith("{\"__metadata__\":{\"format\":\"pt\"},\"a\":"));

        auto opened = Checkpoint::open(path);
        QVERIFY(opened.ok());
        std::vector<float> back(3);
        QVERIFY((*opened)->readF32(*(*opened)->find("a"), back).ok());
        QCOMPARE(back, std::vector<float>(a, a + 3));
        back.resize(4);
        QVERIFY((*opened)->readF32(*(*opened)->find("b"), back).ok());
        QCOMPARE(back, std::vector<float>(bValues, bValues + 4));
        QCOMPARE((*opened)->metadata().at("format"), std::string("pt"));
    }

    void incompleteWriteLeavesNothing()
    {
        QTemporaryDir dir;
        const auto path = toPath(dir.filePath(QStringLiteral("x.safetensors")));
        {
            auto writer = SafetensorsFileWriter::create(
                path, {makeEntry("a", Dtype::F32, {4}, 0, 16)}, nullptr);
            QVERIFY(writer.ok());
            QVERIFY((*writer)->append(std::vector<std::byte>(8)).ok());
            Result<void> finished = (*writer)->finish();
            QVERIFY(!finished);
            QCOMPARE(finished.error().code, ErrorCode::IncompleteBuffer);
        }
        QVERIFY(folderEntries(dir.path()).isEmpty());
        {
            // Destroyed without finish(): the temporary goes away, the destination is untouched.
            QVERIFY(writeBytes(path, "old"));
            auto writer = SafetensorsFileWriter::create(
                path, {makeEntry("a", Dtype::F32, {4}, 0, 16)}, nullptr);
            QVERIFY((*writer)->append(std::vector<std::byte>(16)).ok());
        }
        QCOMPARE(folderEntries(dir.path()), QStringList{QStringLiteral("x.safetensors")});
        QCOMPARE(readBytes(path), QByteArray("old"));
        // Entries that are not contiguous are refused up front.
        QCOMPARE(
            SafetensorsFileWriter::create(path, {makeEntry("a", Dtype::F32, {1}, 4, 8)}, nullptr)
                .error()
                .code,
            ErrorCode::InvalidArgument);
    }

    void unwritableDestination()
    {
        QTemporaryDir dir;
        // A regular file where the folder should be: ENOTDIR, whoever runs the test.
        QVERIFY(writeBytes(toPath(dir.filePath(QStringLiteral("file"))), "x"));
        const auto inside = toPath(dir.filePath(QStringLiteral("file/model.safetensors")));
        auto writer = SafetensorsFileWriter::create(inside, {}, nullptr);
        QVERIFY(!writer);
        QVERIFY(writer.error().message.find("model.safetensors") != std::string::npos);
        QVERIFY(!writeFileAtomic(inside, "{}").ok());

        if (::geteuid() == 0)
            QSKIP("running as root: permission bits do not stop writes");
        const QString locked = dir.filePath(QStringLiteral("locked"));
        QVERIFY(QDir().mkdir(locked));
        QVERIFY(QFile::setPermissions(locked, QFileDevice::ReadOwner | QFileDevice::ExeOwner));
        auto denied = SafetensorsFileWriter::create(
            toPath(locked + QStringLiteral("/m.safetensors")), {}, nullptr);
        QVERIFY(!denied);
        QCOMPARE(denied.error().code, ErrorCode::PermissionDenied);
        QFile::setPermissions(locked, QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                          QFileDevice::ExeOwner);
    }

    // Never replace something that is not a regular file (a device, a folder).
    void refusesNonRegularDestination()
    {
        QTemporaryDir dir;
        QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("sub")));
        const auto folder = toPath(dir.filePath(QStringLiteral("sub")));
        Result<void> r = writeFileAtomic(folder, "x");
        QVERIFY(!r);
        QCOMPARE(r.error().code, ErrorCode::DestinationExists);
        auto writer = SafetensorsFileWriter::create(folder, {}, nullptr);
        QVERIFY(!writer);
        QCOMPARE(writer.error().code, ErrorCode::DestinationExists);
        QVERIFY(!writeFileAtomic("/dev/null", "x").ok());
        QCOMPARE(folderEntries(dir.path()), QStringList{QStringLiteral("sub")});
    }

    // "Disk full" mid-write, simulated with a file size limit (EFBIG, reported like ENOSPC):
    // a clear error and nothing left in the output folder.
    void fileSizeLimitMidWrite()
    {
        struct rlimit old {};
        QVERIFY(::getrlimit(RLIMIT_FSIZE, &old) == 0);
        auto previous = std::signal(SIGXFSZ, SIG_IGN);
        struct rlimit limited = old;
        limited.rlim_cur = 1 << 20;
        QVERIFY(::setrlimit(RLIMIT_FSIZE, &limited) == 0);

        QTemporaryDir dir;
        std::vector<PlannedTensor> tensors{{"big", Dtype::F32, {1 << 20}}}; // 4 MiB
        Result<ShardPlan> plan = planShards(tensors, 0);
        Result<void> outcome;
        {
            auto writer = SafetensorsModelWriter::create(toPath(dir.path()), *plan);
            QVERIFY(writer.ok());
            const std::vector<std::byte> chunk(1 << 18);
            for (int i = 0; i < 16 && outcome.ok(); ++i)
                outcome = (*writer)->append(chunk);
            if (outcome.ok())
                outcome = (*writer)->finish();
        }
        ::setrlimit(RLIMIT_FSIZE, &old);
        std::signal(SIGXFSZ, previous);
        QVERIFY(!outcome);
        QCOMPARE(outcome.error().code, ErrorCode::NoSpace);
        QVERIFY(outcome.error().message.find("model.safetensors") != std::string::npos);
        QVERIFY(folderEntries(dir.path()).isEmpty());
    }

    void atomicFile()
    {
        QTemporaryDir dir;
        const auto path = toPath(dir.filePath(QStringLiteral("config.json")));
        QVERIFY(writeFileAtomic(path, "{\"a\":1}\n").ok());
        QCOMPARE(readBytes(path), QByteArray("{\"a\":1}\n"));
        QVERIFY(writeFileAtomic(path, "{}").ok());
        QCOMPARE(readBytes(path), QByteArray("{}"));
        QCOMPARE(folderEntries(dir.path()), QStringList{QStringLiteral("config.json")});
    }

    void modelWriterSingle()
    {
        QTemporaryDir dir;
        std::vector<PlannedTensor> tensors{{"x", Dtype::F32, {2}}, {"y", Dtype::F32, {1}}};
        Result<ShardPlan> plan = planShards(tensors, 0);
        auto writer = SafetensorsModelWriter::create(toPath(dir.path()), *plan);
        QVERIFY(writer.ok());
        const float values[3] = {1, 2, 3};
        QVERIFY((*writer)->append(std::as_bytes(std::span<const float>(values, 3))).ok());
        QCOMPARE((*writer)->append(std::vector<std::byte>(1)).error().code,
                 ErrorCode::InvalidArgument);
        QVERIFY((*writer)->finish().ok());
        QCOMPARE(folderEntries(dir.path()), QStringList{QStringLiteral("model.safetensors")});
        auto opened = Checkpoint::open(toPath(dir.path()));
        QVERIFY(opened.ok());
        float y = 0;
        QVERIFY((*opened)->readF32(*(*opened)->find("y"), std::span<float>(&y, 1)).ok());
        QCOMPARE(y, 3.0f);
    }
};

QTEST_GUILESS_MAIN(TestSafetensorsWriter)
#include "tst_safetensors_writer.moc"
