// SPDX-License-Identifier: GPL-3.0-or-later
// One row per hostile input of FORMATS.md: each asserts the error code and that the
// message names the offending tensor (or field) and, when read from disk, the file.
#include "io/safetensorsheader.h"
#include "model/checkpoint.h"
#include "testfiles.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <cstring>

#include <unistd.h>

using namespace basin;
using namespace basin::test;

Q_DECLARE_METATYPE(basin::ErrorCode)

namespace {

QByteArray entry(const char *name, const char *dtype, const char *shape, const char *offsets)
{
    return QByteArray("\"") + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
           ",\"data_offsets\":" + offsets + "}";
}

QByteArray object(std::initializer_list<QByteArray> entries)
{
    QByteArray out("{");
    bool first = true;
    for (const QByteArray &e : entries) {
        if (!first)
            out += ',';
        first = false;
        out += e;
    }
    return out + "}";
}

} // namespace

class TestSafetensorsReader : public QObject {
    Q_OBJECT

private slots:
    void hostile_data()
    {
        QTest::addColumn<QByteArray>("file");
        QTest::addColumn<basin::ErrorCode>("code");
        QTest::addColumn<QString>("names");

        const QByteArray good = entry("w", "F32", "[2]", "[0,8]");
        // Rule 1
        QTest::newRow("empty-file")
            << QByteArray() << ErrorCode::FileTooSmall << QStringLiteral("too small");
        QTest::newRow("7-byte-file")
            << QByteArray(7, '\0') << ErrorCode::FileTooSmall << QStringLiteral("7 bytes");
        // Rule 2 (no allocation of N happens before these checks)
        QTest::newRow("n-zero") << safetensorsBytes(QByteArray(), 0) << ErrorCode::InvalidHeader
                                << QStringLiteral("JSON");
        QTest::newRow("n-2^63") << safetensorsBytes("{}", 0, 1ull << 63)
                                << ErrorCode::HeaderTooLarge
                                << QStringLiteral("9223372036854775808");
        QTest::newRow("n-over-100MB") << safetensorsBytes("{}", 0, 100'000'001ull)
                                      << ErrorCode::HeaderTooLarge << QStringLiteral("100000001");
        QTest::newRow("n-past-eof") << safetensorsBytes("{}", 0, 1000) << ErrorCode::BadHeaderLength
                                    << QStringLiteral("1000");
        // Rule 3
        QTest::newRow("not-utf8") << safetensorsBytes("{\"\xff\xfe\":1}", 0)
                                  << ErrorCode::InvalidHeader << QStringLiteral("UTF-8");
        QTest::newRow("overlong-utf8") << safetensorsBytes("{\"\xc0\xaf\":1}", 0)
                                       << ErrorCode::InvalidHeader << QStringLiteral("UTF-8");
        QTest::newRow("open-brace")
            << safetensorsBytes("{", 0) << ErrorCode::InvalidHeader << QStringLiteral("JSON");
        QTest::newRow("trailing-garbage")
            << safetensorsBytes("{}x", 0) << ErrorCode::InvalidHeader << QStringLiteral("JSON");
        QTest::newRow("nul-padding") << safetensorsBytes(QByteArray("{}\0", 3), 0)
                                     << ErrorCode::InvalidHeader << QStringLiteral("NUL");
        QTest::newRow("nul-then-garbage") << safetensorsBytes(QByteArray("{}\0garbage", 10), 0)
                                          << ErrorCode::InvalidHeader << QStringLiteral("NUL");
        QTest::newRow("root-array") << safetensorsBytes("[]", 0) << ErrorCode::InvalidHeader
                                    << QStringLiteral("not a JSON object");
        QTest::newRow("root-string") << safetensorsBytes("\"x\"", 0) << ErrorCode::InvalidHeader
                                     << QStringLiteral("not a JSON object");
        QTest::newRow("nested-10^6")
            << safetensorsBytes(QByteArray(1'000'000, '['), 0) << ErrorCode::InvalidHeader
            << QStringLiteral("not a JSON object");
        QTest::newRow("nested-10^6-in-object")
            << safetensorsBytes("{\"a\":" + QByteArray(1'000'000, '['), 0)
            << ErrorCode::InvalidHeader << QStringLiteral("nested deeper");
        QTest::newRow("byte-order-mark")
            << safetensorsBytes("\xEF\xBB\xBF{}", 0) << ErrorCode::InvalidHeader
            << QStringLiteral("byte order mark");
        QTest::newRow("syntax-beats-schema")
            << safetensorsBytes(object({entry("w", "F128", "[2]", "[0,8]")}) + "x", 8)
            << ErrorCode::InvalidHeader << QStringLiteral("JSON");
        // Rule 4
        QTest::newRow("duplicate-tensor")
            << safetensorsBytes(object({entry("dup.weight", "F32", "[1]", "[0,4]"),
                                        entry("dup.weight", "F32", "[1]", "[4,8]")}),
                                8)
            << ErrorCode::DuplicateKey << QStringLiteral("dup.weight");
        QTest::newRow("duplicate-metadata")
            << safetensorsBytes("{\"__metadata__\":{},\"__metadata__\":{}," + good + "}", 8)
            << ErrorCode::DuplicateKey << QStringLiteral("__metadata__");
        QTest::newRow("duplicate-metadata-key")
            << safetensorsBytes("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}," + good + "}", 8)
            << ErrorCode::DuplicateKey << QStringLiteral("'k'");
        QTest::newRow("duplicate-field")
            << safetensorsBytes("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_"
                                "offsets\":[0,8]}}",
                                8)
            << ErrorCode::DuplicateKey << QStringLiteral("'w'");
        QTest::newRow("duplicate-beats-info")
            << safetensorsBytes(
                   object({entry("a", "F128", "[1]", "[0,4]"), entry("b", "F32", "[1]", "[4,8]"),
                           entry("b", "F32", "[1]", "[8,12]")}),
                   12)
            << ErrorCode::DuplicateKey << QStringLiteral("'b'");
        // Rule 5
        QTest::newRow("missing-dtype")
            << safetensorsBytes("{\"layer.q\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'layer.q' has no dtype");
        QTest::newRow("missing-shape")
            << safetensorsBytes("{\"layer.q\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'layer.q' has no shape");
        QTest::newRow("missing-offsets")
            << safetensorsBytes("{\"layer.q\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'layer.q' has no data_offsets");
        QTest::newRow("three-offsets")
            << safetensorsBytes(object({entry("t3", "F32", "[2]", "[0,8,8]")}), 8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'t3': data_offsets has 3");
        QTest::newRow("one-offset")
            << safetensorsBytes(object({entry("t1", "F32", "[2]", "[0]")}), 8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'t1': data_offsets has 1");
        QTest::newRow("unknown-dtype-F128")
            << safetensorsBytes(object({entry("big", "F128", "[2]", "[0,8]")}), 8)
            << ErrorCode::UnknownDtype << QStringLiteral("'big': unknown dtype 'F128'");
        QTest::newRow("lowercase-dtype")
            << safetensorsBytes(object({entry("low", "f32", "[2]", "[0,8]")}), 8)
            << ErrorCode::UnknownDtype << QStringLiteral("'low': unknown dtype 'f32'");
        QTest::newRow("dtype-not-string")
            << safetensorsBytes("{\"d\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", 8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'d': dtype is not a string");
        QTest::newRow("negative-dim")
            << safetensorsBytes(object({entry("neg", "F32", "[-2]", "[0,8]")}), 8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'neg': shape has a negative");
        QTest::newRow("fractional-dim")
            << safetensorsBytes(object({entry("frac", "F32", "[2.5]", "[0,8]")}), 8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'frac': shape");
        QTest::newRow("exponent-dim")
            << safetensorsBytes(object({entry("expo", "F32", "[2e0]", "[0,8]")}), 8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'expo': shape");
        QTest::newRow("string-dim")
            << safetensorsBytes(object({entry("str", "F32", "[\"2\"]", "[0,8]")}), 8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'str': shape");
        QTest::newRow("dim-over-2^64")
            << safetensorsBytes(object({entry("huge", "F32", "[18446744073709551616]", "[0,8]")}),
                                8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'huge': shape");
        QTest::newRow("nested-dim")
            << safetensorsBytes(object({entry("nest", "F32", "[[2]]", "[0,8]")}), 8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'nest': shape");
        QTest::newRow("shape-not-array")
            << safetensorsBytes(object({entry("sna", "F32", "2", "[0,8]")}), 8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'sna': shape is not an array");
        QTest::newRow("rank-33")
            << safetensorsBytes(
                   object(
                       {entry("deep", "F32",
                              "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,2]",
                              "[0,8]")}),
                   8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'deep': shape has more than 32");
        QTest::newRow("negative-offset")
            << safetensorsBytes(object({entry("no", "F32", "[2]", "[-8,0]")}), 8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'no': data_offsets has a negative");
        QTest::newRow("fractional-offset")
            << safetensorsBytes(object({entry("fo", "F32", "[2]", "[0,8.0]")}), 8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'fo': data_offsets");
        QTest::newRow("string-offset")
            << safetensorsBytes(object({entry("so", "F32", "[2]", "[0,\"8\"]")}), 8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'so': data_offsets");
        QTest::newRow("offset-over-2^64")
            << safetensorsBytes(object({entry("ho", "F32", "[2]", "[0,18446744073709551624]")}), 8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'ho': data_offsets");
        QTest::newRow("entry-not-object")
            << safetensorsBytes("{\"flat\":[1,2]}", 0) << ErrorCode::InvalidTensorInfo
            << QStringLiteral("'flat': entry is not an object");
        QTest::newRow("unknown-field")
            << safetensorsBytes(
                   "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":1}}",
                   8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'x' has an unknown field 'extra'");
        QTest::newRow("metadata-non-string")
            << safetensorsBytes("{\"__metadata__\":{\"format\":1}," + good + "}", 8)
            << ErrorCode::InvalidMetadata << QStringLiteral("'format' is not a string");
        QTest::newRow("metadata-nested")
            << safetensorsBytes("{\"__metadata__\":{\"a\":{\"b\":\"c\"}}," + good + "}", 8)
            << ErrorCode::InvalidMetadata << QStringLiteral("'a' is not a string");
        QTest::newRow("metadata-not-object")
            << safetensorsBytes("{\"__metadata__\":\"pt\"," + good + "}", 8)
            << ErrorCode::InvalidMetadata << QStringLiteral("__metadata__");
        // Rule 6
        QTest::newRow("shape-overflow")
            << safetensorsBytes(object({entry("ovf", "F32", "[2,18446744073709551614]", "[0,8]")}),
                                8)
            << ErrorCode::Overflow << QStringLiteral("'ovf'");
        QTest::newRow("bytes-overflow")
            << safetensorsBytes(object({entry("ovb", "F32", "[4611686018427387904]", "[0,8]")}), 8)
            << ErrorCode::Overflow << QStringLiteral("'ovb'");
        QTest::newRow("f4-half-byte")
            << safetensorsBytes(object({entry("nib", "F4", "[3]", "[0,2]")}), 2)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'nib'");
        // Rule 7
        QTest::newRow("end-before-begin")
            << safetensorsBytes(object({entry("rev", "F32", "[0]", "[8,0]")}), 8)
            << ErrorCode::InvalidOffset << QStringLiteral("'rev'");
        QTest::newRow("not-from-zero")
            << safetensorsBytes(object({entry("late", "F32", "[1]", "[4,8]")}), 8)
            << ErrorCode::InvalidOffset << QStringLiteral("'late'");
        QTest::newRow("gap") << safetensorsBytes(
                                    object({entry("a", "F32", "[1]", "[0,4]"),
                                            entry("after.gap", "F32", "[1]", "[8,12]")}),
                                    12)
                             << ErrorCode::InvalidOffset << QStringLiteral("'after.gap'");
        QTest::newRow("overlap") << safetensorsBytes(
                                        object({entry("a", "F32", "[2]", "[0,8]"),
                                                entry("overlaps", "F32", "[2]", "[4,12]")}),
                                        12)
                                 << ErrorCode::InvalidOffset << QStringLiteral("'overlaps'");
        QByteArray same("{");
        for (int i = 0; i < 10; ++i)
            same += (i ? "," : "") +
                    entry(qPrintable(QStringLiteral("same%1").arg(i)), "F32", "[1]", "[0,4]");
        same += "}";
        QTest::newRow("ten-on-same-bytes")
            << safetensorsBytes(same, 4) << ErrorCode::InvalidOffset << QStringLiteral("'same1'");
        QTest::newRow("size-mismatch")
            << safetensorsBytes(object({entry("short", "F32", "[2]", "[0,4]")}), 4)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'short'");
        QTest::newRow("size-mismatch-bf16")
            << safetensorsBytes(object({entry("wide", "BF16", "[2]", "[0,8]")}), 8)
            << ErrorCode::InvalidTensorInfo << QStringLiteral("'wide'");
        // Rule 8
        QTest::newRow("truncated-by-2")
            << safetensorsBytes(object({good}), 6) << ErrorCode::IncompleteBuffer
            << QStringLiteral("truncated");
        QTest::newRow("bytes-appended")
            << safetensorsBytes(object({good}), 9) << ErrorCode::IncompleteBuffer
            << QStringLiteral("trailing");
        QTest::newRow("data-without-tensors")
            << safetensorsBytes("{}", 4) << ErrorCode::IncompleteBuffer
            << QStringLiteral("trailing");
    }

    void hostile()
    {
        QFETCH(QByteArray, file);
        QFETCH(basin::ErrorCode, code);
        QFETCH(QString, names);

        Result<SafetensorsHeader> parsed = parseSafetensorsBuffer(asBytes(file), "mem.safetensors");
        QVERIFY(!parsed);
        QCOMPARE(codeName(parsed.error().code), codeName(code));
        const QString message = QString::fromStdString(parsed.error().message);
        QVERIFY2(message.contains(names), qPrintable(message));
        QVERIFY2(message.startsWith(QStringLiteral("mem.safetensors: ")), qPrintable(message));

        // Through the file system, the message names the file.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const auto path = toPath(dir.filePath(QStringLiteral("hostile.safetensors")));
        QVERIFY(writeBytes(path, file));
        Result<std::shared_ptr<const Checkpoint>> opened = Checkpoint::open(path);
        QVERIFY(!opened);
        QCOMPARE(codeName(opened.error().code), codeName(code));
        const QString fileMessage = QString::fromStdString(opened.error().message);
        QVERIFY2(fileMessage.contains(QString::fromStdString(path.string())),
                 qPrintable(fileMessage));
        QVERIFY2(fileMessage.contains(names), qPrintable(fileMessage));
    }

    void validEdgeCases()
    {
        // Scalars, zero-size tensors, spaces around the object, metadata, unusual dtypes.
        const QByteArray header = "  {\"__metadata__\":{\"format\":\"pt\",\"note\":\"\\u00e9\"}," +
                                  entry("empty.a", "F32", "[0,3]", "[0,0]") + "," +
                                  entry("scalar", "F32", "[]", "[0,4]") + "," +
                                  entry("empty.b", "BF16", "[0]", "[4,4]") + "," +
                                  entry("ints", "I64", "[1]", "[4,12]") + "," +
                                  entry("half", "F16", "[2]", "[12,16]") + "," +
                                  entry("nibbles", "F4", "[4]", "[16,18]") + "}   ";
        QByteArray file = safetensorsBytes(header, 0);
        const float scalar = 2.5f;
        file.append(reinterpret_cast<const char *>(&scalar), 4);
        const qint64 ints = -7;
        file.append(reinterpret_cast<const char *>(&ints), 8);
        const unsigned char halves[4] = {0x00, 0x3c, 0x00, 0xc0}; // 1.0, -2.0
        file.append(reinterpret_cast<const char *>(halves), 4);
        file.append("\x12\x34", 2);

        QTemporaryDir dir;
        const auto path = toPath(dir.filePath(QStringLiteral("edge.safetensors")));
        QVERIFY(writeBytes(path, file));
        Result<std::shared_ptr<const Checkpoint>> opened = Checkpoint::open(path);
        QVERIFY2(opened.ok(), opened.ok() ? "" : opened.error().message.c_str());
        const Checkpoint &c = **opened;
        QCOMPARE(c.tensors().size(), std::size_t(6));
        QCOMPARE(c.metadata().at("format"), std::string("pt"));
        QCOMPARE(c.metadata().at("note"), std::string("\xc3\xa9"));
        // File order: offset, then name for the two zero-size tensors at 0 and 4.
        QCOMPARE(c.tensors()[0].name, std::string("empty.a"));
        QCOMPARE(c.tensors()[1].name, std::string("scalar"));
        QCOMPARE(c.tensors()[2].name, std::string("empty.b"));

        const TensorInfo *s = c.find("scalar");
        QVERIFY(s);
        QCOMPARE(s->numel, std::uint64_t(1));
        QVERIFY(s->shape.empty());
        float value = 0;
        QVERIFY(c.readF32(*s, std::span<float>(&value, 1)).ok());
        QCOMPARE(value, 2.5f);

        const TensorInfo *e = c.find("empty.a");
        QCOMPARE(e->numel, std::uint64_t(0));
        QVERIFY(c.readF32(*e, std::span<float>()).ok());

        const TensorInfo *h = c.find("half");
        float pair[2] = {0, 0};
        QVERIFY(c.readF32(*h, std::span<float>(pair, 2)).ok());
        QCOMPARE(pair[0], 1.0f);
        QCOMPARE(pair[1], -2.0f);

        // Other dtypes open and are named when a merge asks for f32.
        const TensorInfo *i = c.find("ints");
        QCOMPARE(i->dtype, Dtype::I64);
        float dummy = 0;
        Result<void> r = c.readF32(*i, std::span<float>(&dummy, 1));
        QVERIFY(!r);
        QCOMPARE(r.error().code, ErrorCode::UnsupportedDtype);
        QVERIFY(r.error().message.find("I64") != std::string::npos);
        QVERIFY(r.error().message.find("'ints'") != std::string::npos);
        QVERIFY(r.error().message.find(path.string()) != std::string::npos);
        std::byte raw[8];
        QVERIFY(c.readRaw(*i, raw).ok());
        qint64 back = 0;
        std::memcpy(&back, raw, 8);
        QCOMPARE(back, qint64(-7));
        QCOMPARE(c.find("nibbles")->byteSize, std::uint64_t(2));
        QCOMPARE(c.parameterCount(), std::uint64_t(0 + 1 + 0 + 1 + 2 + 4));
        QVERIFY(c.find("missing") == nullptr);

        // Wrong buffer sizes and foreign ranges are refused, not read.
        float two[2];
        QCOMPARE(c.readF32(*s, std::span<float>(two, 2)).error().code, ErrorCode::InvalidArgument);
        QCOMPARE(c.readF32(*h, 1, std::span<float>(two, 2)).error().code,
                 ErrorCode::InvalidArgument);
        QVERIFY(c.readF32(*h, 1, std::span<float>(two, 1)).ok());
        QCOMPARE(two[0], -2.0f);

        // Gathering single elements (a sample): any order, repeats; bad indices and dtypes
        // are refused.
        const std::uint64_t picks[3] = {1, 0, 1};
        float gathered[3] = {0, 0, 0};
        QVERIFY(c.gatherF32(*h, picks, gathered).ok());
        QCOMPARE(gathered[0], -2.0f);
        QCOMPARE(gathered[1], 1.0f);
        QCOMPARE(gathered[2], -2.0f);
        const std::uint64_t outside[1] = {2};
        const Result<void> gatheredOutside =
            c.gatherF32(*h, outside, std::span<float>(gathered, 1));
        QCOMPARE(gatheredOutside.error().code, ErrorCode::InvalidArgument);
        QVERIFY(gatheredOutside.error().message.find(path.string()) != std::string::npos);
        QCOMPARE(c.gatherF32(*h, picks, std::span<float>(gathered, 2)).error().code,
                 ErrorCode::InvalidArgument);
        QCOMPARE(
            c.gatherF32(*i, std::span<const std::uint64_t>(picks, 1), std::span<float>(gathered, 1))
                .error()
                .code,
            ErrorCode::UnsupportedDtype);
    }

    // 10^6 entries: bounded time (and memory proportional to the 100 MB header cap).
    void millionEntries()
    {
        QByteArray header;
        header.reserve(62'000'000);
        header += '{';
        for (int i = 0; i < 1'000'000; ++i) {
            if (i)
                header += ',';
            header += "\"t";
            header += QByteArray::number(i);
            header += "\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}";
        }
        header += '}';
        QElapsedTimer timer;
        timer.start();
        Result<SafetensorsHeader> parsed = parseSafetensorsHeader(asBytes(header), 0, "million");
        const qint64 ms = timer.elapsed();
        QVERIFY(parsed.ok());
        QCOMPARE(parsed->tensors.size(), std::size_t(1'000'000));
        qInfo("10^6 entries (%lld MB header) parsed in %lld ms",
              static_cast<long long>(header.size() >> 20), static_cast<long long>(ms));
        QVERIFY2(ms < 20000, "parsing 10^6 entries must stay bounded");

        // And a duplicate at the very end is still found.
        header.chop(1);
        header += ",\"t5\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}";
        Result<SafetensorsHeader> dup = parseSafetensorsHeader(asBytes(header), 0, "million");
        QVERIFY(!dup);
        QCOMPARE(dup.error().code, ErrorCode::DuplicateKey);
        QVERIFY(dup.error().message.find("'t5'") != std::string::npos);
    }

    // A file replaced while mapped keeps reading the old bytes.
    void replacedWhileMapped()
    {
        const QByteArray header = object({entry("big", "F32", "[4096]", "[0,16384]")});
        QTemporaryDir dir;
        const auto path = toPath(dir.filePath(QStringLiteral("replaced.safetensors")));
        QVERIFY(writeBytes(path, safetensorsBytes(header, 16384)));
        auto opened = Checkpoint::open(path);
        QVERIFY(opened.ok());
        const TensorInfo &t = (*opened)->tensors().front();
        std::vector<std::byte> before(t.byteSize), after(t.byteSize);
        QVERIFY((*opened)->readRaw(t, before).ok());
        const auto other = toPath(dir.filePath(QStringLiteral("other.safetensors")));
        QVERIFY(writeBytes(other, safetensorsBytes(header, 0) + QByteArray(16384, '\xff')));
        std::filesystem::rename(other, path);
        QVERIFY((*opened)->readRaw(t, after).ok());
        QVERIFY(after == before); // bytes compare (the pattern holds NaNs)
        auto reopened = Checkpoint::open(path);
        QVERIFY(reopened.ok());
        QVERIFY((*reopened)->readRaw((*reopened)->tensors().front(), after).ok());
        QVERIFY(after != before);
        QCOMPARE(after.front(), std::byte{0xff});
    }

    // A file truncated while mapped gives an error, not SIGBUS.
    void truncatedWhileMapped()
    {
        const QByteArray header = object({entry("big", "F32", "[4096]", "[0,16384]")});
        QTemporaryDir dir;
        const auto path = toPath(dir.filePath(QStringLiteral("shrinking.safetensors")));
        QVERIFY(writeBytes(path, safetensorsBytes(header, 16384)));
        Result<std::shared_ptr<const Checkpoint>> opened = Checkpoint::open(path);
        QVERIFY(opened.ok());
        const TensorInfo &t = (*opened)->tensors().front();
        std::vector<float> out(t.numel);
        QVERIFY((*opened)->readF32(t, out).ok());
        QVERIFY(::truncate(path.c_str(), 100) == 0);
        Result<void> r = (*opened)->readF32(t, out);
        QVERIFY(!r);
        QCOMPARE(r.error().code, ErrorCode::IoError);
        QVERIFY(r.error().message.find("truncated") != std::string::npos);
        QVERIFY(r.error().message.find("'big'") != std::string::npos);
        std::vector<std::byte> raw(t.byteSize);
        QCOMPARE((*opened)->readRaw(t, raw).error().code, ErrorCode::IoError);
        // A chunk still inside the shortened file reads fine; one past it fails.
        QVERIFY((*opened)->readF32(t, 0, std::span<float>(out.data(), 2)).ok());
        QCOMPARE((*opened)->readF32(t, 100, std::span<float>(out.data(), 2)).error().code,
                 ErrorCode::IoError);
        (*opened)->release(t); // harmless on a shrunken file
    }

    void openErrors()
    {
        QTemporaryDir dir;
        Result<std::shared_ptr<const Checkpoint>> missing =
            Checkpoint::open(toPath(dir.filePath(QStringLiteral("nope"))));
        QCOMPARE(missing.error().code, ErrorCode::NotFound);
        // A folder without weights.
        Result<std::shared_ptr<const Checkpoint>> empty = Checkpoint::open(toPath(dir.path()));
        QCOMPARE(empty.error().code, ErrorCode::NotFound);
        QVERIFY(empty.error().message.find("model.safetensors") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestSafetensorsReader)
#include "tst_safetensors_reader.moc"
