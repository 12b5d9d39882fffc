// SPDX-License-Identifier: GPL-3.0-or-later
// The golden fixture families open, and every tensor matches checksums.json: dtype, shape,
// SHA-256 of the raw little-endian bytes and the f64 sum of the values.
#include "io/sha256.h"
#include "model/checkpoint.h"
#include "testfiles.h"

#include <QTest>

#include <nlohmann/json.hpp>

#include <cmath>

using namespace basin;
using namespace basin::test;

class TestFixtures : public QObject {
    Q_OBJECT

private slots:
    void families_data()
    {
        QTest::addColumn<QString>("family");
        QTest::addColumn<int>("files");
        QTest::newRow("f32") << QStringLiteral("f32") << 1;
        QTest::newRow("far") << QStringLiteral("far") << 1;
        QTest::newRow("bf16") << QStringLiteral("bf16") << 2;
    }

    void families()
    {
        QFETCH(QString, family);
        QFETCH(int, files);
        const QString root = QFINDTESTDATA(QStringLiteral("../data/families/") + family);
        QVERIFY(!root.isEmpty());
        const QByteArray checksumText = readBytes(toPath(root + QStringLiteral("/checksums.json")));
        QVERIFY(!checksumText.isEmpty());
        const nlohmann::json checksums = nlohmann::json::parse(checksumText.toStdString());
        QCOMPARE(checksums.size(), std::size_t(4));

        for (const auto &[model, tensors] : checksums.items()) {
            auto opened =
                Checkpoint::open(toPath(root + QLatin1Char('/') + QString::fromStdString(model)));
            QVERIFY2(opened.ok(), opened.ok() ? "" : opened.error().message.c_str());
            const Checkpoint &c = **opened;
            QCOMPARE(static_cast<int>(c.files().size()), files);
            QCOMPARE(c.tensors().size(), tensors.size());
            QVERIFY(c.warnings().empty());
            QCOMPARE(c.config().value("model_type", std::string()), std::string("llama"));
            QVERIFY(c.sideFiles().size() >= 2);
            for (const auto &[name, expected] : tensors.items()) {
                const TensorInfo *t = c.find(name);
                QVERIFY2(t, name.c_str());
                QCOMPARE(std::string(torchDtypeName(t->dtype)),
                         expected["dtype"].get<std::string>());
                QCOMPARE(t->shape, expected["shape"].get<std::vector<std::uint64_t>>());

                std::vector<std::byte> raw(t->byteSize);
                QVERIFY(c.readRaw(*t, raw).ok());
                QCOMPARE(Sha256::hexOf(raw), expected["sha256"].get<std::string>());

                std::vector<float> values(t->numel);
                QVERIFY(c.readF32(*t, values).ok());
                double sum = 0, magnitude = 0;
                for (const float v : values) {
                    sum += v;
                    magnitude += std::fabs(v);
                }
                // The reference summed in another order; f64 keeps the difference tiny.
                const double want = expected["sum_f64"].get<double>();
                QVERIFY2(
                    std::fabs(sum - want) <= 1e-12 * magnitude + 1e-300,
                    qPrintable(QStringLiteral("%1 %2: %3 vs %4")
                                   .arg(QString::fromStdString(model), QString::fromStdString(name))
                                   .arg(sum, 0, 'g', 17)
                                   .arg(want, 0, 'g', 17)));
            }
        }
    }

    // The merge cases' expected outputs are safetensors too: all of them open.
    void expectedOutputsOpen()
    {
        const QString cases = QFINDTESTDATA(QStringLiteral("../data/cases"));
        QVERIFY(!cases.isEmpty());
        int opened = 0;
        for (const auto &entry : std::filesystem::directory_iterator(toPath(cases))) {
            const auto expected = entry.path() / "expected";
            if (!std::filesystem::exists(expected / "model.safetensors"))
                continue;
            auto c = Checkpoint::open(expected);
            QVERIFY2(c.ok(), c.ok() ? "" : c.error().message.c_str());
            QVERIFY(!(*c)->tensors().empty());
            ++opened;
        }
        QVERIFY(opened >= 20);
    }
};

QTEST_GUILESS_MAIN(TestFixtures)
#include "tst_fixtures.moc"
