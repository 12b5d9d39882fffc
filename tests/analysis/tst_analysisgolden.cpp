// SPDX-License-Identifier: GPL-3.0-or-later
// The analysis pass over the fixture families against tests/data/stats/*.json: every
// figure present in the reference, per tensor, per layer and total, within 1e-9 relative.
#include "analysis/analysispass.h"
#include "analysis/snapshotjson.h"
#include "model/checkpoint.h"
#include "model/modelset.h"

#include <QtTest>

#include <cmath>
#include <fstream>

using namespace basin;
using namespace basin::analysis;

namespace {

std::shared_ptr<const ModelSet> openFamily(const QString &family)
{
    const QString root = QStringLiteral(BASIN_TEST_DATA_DIR "/families/") + family;
    std::vector<std::shared_ptr<const Checkpoint>> models;
    for (const char *name : {"base", "ft1", "ft2", "ft3"}) {
        auto checkpoint =
            Checkpoint::open((root + QLatin1Char('/') + QLatin1String(name)).toStdString());
        if (!checkpoint) {
            qWarning("%s", checkpoint.error().message.c_str());
            return nullptr;
        }
        models.push_back(*checkpoint);
    }
    auto set = ModelSet::create(models);
    return set ? *set : nullptr;
}

nlohmann::json readJson(const QString &path)
{
    std::ifstream in(path.toStdString());
    return nlohmann::json::parse(in, nullptr, false);
}

// Walks the reference and checks every value it holds is in `ours` and equal (numbers
// within rel·max(|a|,|b|) + floor). Returns the first difference, or an empty string.
std::string compare(const nlohmann::json &ref, const nlohmann::ordered_json &ours,
                    const std::string &where, int &checked)
{
    constexpr double kRel = 1e-9;
    constexpr double kFloor = 1e-15; // values that are ~0 (a zero task vector's mean)
    if (ref.is_null())
        return ours.is_null() ? std::string() : where + ": expected null, got " + ours.dump();
    if (ref.is_number()) {
        if (!ours.is_number())
            return where + ": expected " + ref.dump() + ", got " + ours.dump();
        const double a = ref.get<double>();
        const double b = ours.get<double>();
        ++checked;
        if (std::fabs(a - b) > kRel * std::max(std::fabs(a), std::fabs(b)) + kFloor)
            return where + ": expected " + ref.dump() + ", got " + ours.dump();
        return {};
    }
    if (ref.is_string() || ref.is_boolean())
        return ref == nlohmann::json(ours)
                   ? std::string()
                   : where + ": expected " + ref.dump() + ", got " + ours.dump();
    if (ref.is_array()) {
        if (!ours.is_array() || ours.size() != ref.size())
            return where + ": expected an array of " + std::to_string(ref.size());
        for (std::size_t i = 0; i < ref.size(); ++i) {
            auto diff = compare(ref[i], ours[i], where + "[" + std::to_string(i) + "]", checked);
            if (!diff.empty())
                return diff;
        }
        return {};
    }
    for (auto it = ref.begin(); it != ref.end(); ++it) {
        if (!ours.is_object() || !ours.contains(it.key()))
            return where + ": missing key " + it.key();
        auto diff = compare(it.value(), ours[it.key()], where + "." + it.key(), checked);
        if (!diff.empty())
            return diff;
    }
    return {};
}

} // namespace

class TestAnalysisGolden : public QObject {
    Q_OBJECT

private slots:
    void matchesReference_data()
    {
        QTest::addColumn<QString>("family");
        QTest::newRow("f32: small realistic deltas") << QStringLiteral("f32");
        QTest::newRow("far: large deltas") << QStringLiteral("far");
        QTest::newRow("bf16: sharded, deltas mostly zero") << QStringLiteral("bf16");
    }

    void matchesReference()
    {
        QFETCH(QString, family);
        const auto set = openFamily(family);
        QVERIFY(set);
        AnalysisOptions options;
        options.sampleSize = 1024;
        auto snapshot = analyse(*set, options);
        QVERIFY2(snapshot.ok(), snapshot.ok() ? "" : snapshot.error().message.c_str());
        const nlohmann::ordered_json ours = snapshotToJson(**snapshot);
        const nlohmann::json ref = readJson(QStringLiteral(BASIN_TEST_DATA_DIR "/stats/") + family +
                                            QStringLiteral(".json"));
        QVERIFY(ref.is_object());

        int checked = 0;
        for (const char *key : {"zero_threshold", "tensors", "layers", "total", "skipped"}) {
            const std::string diff = compare(ref[key], ours[key], key, checked);
            QVERIFY2(diff.empty(), diff.c_str());
        }
        // Every tensor, layer and figure was compared (39 tensors × 3 models × 9 + …).
        QCOMPARE(ours["tensors"].size(), ref["tensors"].size());
        QVERIFY2(checked > 1900, std::to_string(checked).c_str());

        // Groups outside the layers: embed, norm, head, in that order around the layers.
        const AnalysisSnapshot &s = **snapshot;
        QCOMPARE(s.groups.size(), std::size_t(7));
        QCOMPARE(QString::fromStdString(s.groups.front().label), QStringLiteral("embed"));
        QCOMPARE(QString::fromStdString(s.groups[1].label), QStringLiteral("L0"));
        QCOMPARE(QString::fromStdString(s.groups[5].label), QStringLiteral("norm"));
        QCOMPARE(QString::fromStdString(s.groups[6].label), QStringLiteral("head"));
        // The groups partition the model: their numels add up to the total.
        std::uint64_t numel = 0;
        for (const GroupEntry &group : s.groups)
            numel += group.stats.set.numel;
        QCOMPARE(numel, s.total.set.numel);
    }
};

QTEST_GUILESS_MAIN(TestAnalysisGolden)
#include "tst_analysisgolden.moc"
