// SPDX-License-Identifier: GPL-3.0-or-later
#include "io/sha256.h"

#include <QTest>

#include <string>

using namespace basin;

class TestSha256 : public QObject {
    Q_OBJECT

private slots:
    // FIPS 180-4 / NIST example vectors.
    void vectors_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QString>("digest");
        QTest::newRow("empty")
            << QByteArray()
            << QStringLiteral("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        QTest::newRow("abc")
            << QByteArray("abc")
            << QStringLiteral("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        QTest::newRow("448-bit")
            << QByteArray("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            << QStringLiteral("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        QTest::newRow("896-bit")
            << QByteArray("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnop"
                          "jklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")
            << QStringLiteral("cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
        QTest::newRow("million-a")
            << QByteArray(1000000, 'a')
            << QStringLiteral("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        // 55 and 56 bytes straddle the padding boundary (length must spill to a new block).
        // (reference digests from Python's hashlib)
        QTest::newRow("55-bytes")
            << QByteArray(55, 'x')
            << QStringLiteral("d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072");
        QTest::newRow("56-bytes")
            << QByteArray(56, 'x')
            << QStringLiteral("04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e");
        QTest::newRow("64-bytes")
            << QByteArray(64, 'x')
            << QStringLiteral("7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c");
    }

    void vectors()
    {
        QFETCH(QByteArray, input);
        QFETCH(QString, digest);
        const std::span<const std::byte> bytes(
            reinterpret_cast<const std::byte *>(input.constData()),
            static_cast<std::size_t>(input.size()));
        const std::string oneShot = Sha256::hexOf(bytes);
        QCOMPARE(QString::fromStdString(oneShot), digest);
        // Any split of the input gives the same digest.
        for (std::size_t split :
             {std::size_t(1), std::size_t(3), std::size_t(63), std::size_t(64), std::size_t(65)}) {
            Sha256 hasher;
            for (std::size_t at = 0; at < bytes.size(); at += split)
                hasher.update(bytes.subspan(at, std::min(split, bytes.size() - at)));
            QCOMPARE(Sha256::hex(hasher.finish()), oneShot);
        }
    }

    void finishResets()
    {
        Sha256 hasher;
        hasher.update(std::string("abc"));
        const std::string first = Sha256::hex(hasher.finish());
        hasher.update(std::string("abc"));
        QCOMPARE(Sha256::hex(hasher.finish()), first);
    }
};

QTEST_GUILESS_MAIN(TestSha256)
#include "tst_sha256.moc"
