// SPDX-License-Identifier: GPL-3.0-or-later
// --out-shard-size parsing: plain bytes, decimal and binary units, fractions, and refusals.
#include "engine/bytesize.h"

#include <QTest>

using namespace basin;
using namespace basin::engine;

class TestByteSize : public QObject {
    Q_OBJECT

private slots:
    void parses_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<quint64>("bytes");
        QTest::newRow("plain") << "1048576" << quint64(1048576);
        QTest::newRow("one byte") << "1" << quint64(1);
        QTest::newRow("B suffix") << "512B" << quint64(512);
        QTest::newRow("K") << "2K" << quint64(2000);
        QTest::newRow("KB") << "2KB" << quint64(2000);
        QTest::newRow("kb lower") << "2kb" << quint64(2000);
        QTest::newRow("M") << "500M" << quint64(500'000'000);
        QTest::newRow("MB") << "500MB" << quint64(500'000'000);
        QTest::newRow("G default") << "5GB" << quint64(5'000'000'000);
        QTest::newRow("G") << "5G" << quint64(5'000'000'000);
        QTest::newRow("T") << "1T" << quint64(1'000'000'000'000);
        QTest::newRow("KiB") << "20KiB" << quint64(20 * 1024);
        QTest::newRow("MiB") << "3MiB" << quint64(3u << 20);
        QTest::newRow("GiB") << "2GiB" << quint64(2ull << 30);
        QTest::newRow("gib lower") << "2gib" << quint64(2ull << 30);
        QTest::newRow("TiB") << "1TiB" << quint64(1ull << 40);
        QTest::newRow("fraction G") << "1.5G" << quint64(1'500'000'000);
        QTest::newRow("fraction GiB") << "0.5GiB" << quint64(1ull << 29);
        QTest::newRow("fraction rounds down") << "1.0000000001K" << quint64(1000);
        QTest::newRow("space before unit") << "10 MB" << quint64(10'000'000);
        QTest::newRow("surrounding spaces") << " 7 " << quint64(7);
        QTest::newRow("largest") << "18446744073709551615" << quint64(UINT64_MAX);
    }

    void parses()
    {
        QFETCH(QString, text);
        QFETCH(quint64, bytes);
        const Result<std::uint64_t> parsed = parseByteSize(text.toStdString());
        QVERIFY2(parsed.ok(), parsed.ok() ? "" : parsed.error().message.c_str());
        QCOMPARE(quint64(*parsed), bytes);
    }

    void refuses_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("code");
        const int invalid = int(ErrorCode::InvalidArgument);
        const int overflow = int(ErrorCode::Overflow);
        QTest::newRow("empty") << "" << invalid;
        QTest::newRow("spaces") << "   " << invalid;
        QTest::newRow("negative") << "-5G" << invalid;
        QTest::newRow("zero") << "0" << invalid;
        QTest::newRow("zero with unit") << "0GB" << invalid;
        QTest::newRow("unit only") << "GB" << invalid;
        QTest::newRow("unknown unit") << "5XB" << invalid;
        QTest::newRow("bits") << "5Gb?" << invalid;
        QTest::newRow("exponent") << "1e9" << invalid;
        QTest::newRow("hex") << "0x10" << invalid;
        QTest::newRow("fractional bytes") << "1.5" << invalid;
        QTest::newRow("dot without digits") << "5.G" << invalid;
        QTest::newRow("two numbers") << "5 5" << invalid;
        QTest::newRow("too many digits") << "99999999999999999999" << overflow;
        QTest::newRow("unit overflow") << "20000000000GiB" << overflow;
    }

    void refuses()
    {
        QFETCH(QString, text);
        QFETCH(int, code);
        const Result<std::uint64_t> parsed = parseByteSize(text.toStdString());
        QVERIFY(!parsed.ok());
        QCOMPARE(int(parsed.error().code), code);
        // The message quotes what was given.
        const QString quoted = QLatin1Char('\'') + text + QLatin1Char('\'');
        QVERIFY2(QString::fromStdString(parsed.error().message).contains(quoted),
                 parsed.error().message.c_str());
    }

    void formats_data()
    {
        QTest::addColumn<quint64>("bytes");
        QTest::addColumn<QString>("text");
        QTest::newRow("bytes") << quint64(512) << "512 B";
        QTest::newRow("kB") << quint64(90688) << "90.7 kB";
        QTest::newRow("MB") << quint64(179'000'000) << "179 MB";
        QTest::newRow("GB") << quint64(2'190'000'000) << "2.19 GB";
        QTest::newRow("rounds up a unit") << quint64(999'999) << "1.00 MB";
    }

    void formats()
    {
        QFETCH(quint64, bytes);
        QFETCH(QString, text);
        QCOMPARE(QString::fromStdString(formatByteSize(bytes)), text);
    }
};

QTEST_GUILESS_MAIN(TestByteSize)
#include "tst_bytesize.moc"
