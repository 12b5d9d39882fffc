// SPDX-License-Identifier: GPL-3.0-or-later
// `basin inspect` as a user runs it: the built binary through QProcess, its exit codes,
// and its JSON (checked against docs/inspect-schema.json), CSV and PNG outputs.
#include <QtTest>

#include <QImage>
#include <QProcess>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

namespace {

using nlohmann::json;

struct Run {
    int exitCode = -1;
    QString out;
    QString err;
};

Run runBasin(const QStringList &args)
{
    QProcess process;
    process.start(QStringLiteral(BASIN_BINARY), QStringList{QStringLiteral("inspect")} + args);
    Run run;
    if (!process.waitForFinished(60000))
        return run;
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    run.err = QString::fromUtf8(process.readAllStandardError());
    return run;
}

QStringList family(const char *name, int fineTunes = 3)
{
    QStringList paths;
    const QString root = QStringLiteral(BASIN_TEST_DATA_DIR "/families/") + QLatin1String(name);
    paths << root + QStringLiteral("/base");
    for (int t = 1; t <= fineTunes; ++t)
        paths << root + QStringLiteral("/ft%1").arg(t);
    return paths;
}

json readJson(const QString &path)
{
    std::ifstream in(path.toStdString());
    return json::parse(in, nullptr, false);
}

// A checker for the part of JSON Schema that docs/inspect-schema.json uses: $ref (local),
// allOf, type, enum, minimum, maximum, required, properties, additionalProperties, items.
// Returns the first violation with its JSON path, or an empty string.
class SchemaChecker {
public:
    explicit SchemaChecker(json root) : m_root(std::move(root)) {}

    std::string check(const json &value) const { return check(value, m_root, "$"); }

private:
    const json &resolve(const std::string &ref) const
    {
        // "#/$defs/name"
        const std::string prefix = "#/$defs/";
        if (ref.rfind(prefix, 0) != 0 || !m_root["$defs"].contains(ref.substr(prefix.size())))
            throw std::runtime_error("unresolvable $ref " + ref);
        return m_root["$defs"][ref.substr(prefix.size())];
    }

    static bool hasType(const json &value, const std::string &type)
    {
        if (type == "null")
            return value.is_null();
        if (type == "boolean")
            return value.is_boolean();
        if (type == "integer")
            return value.is_number_integer();
        if (type == "number")
            return value.is_number();
        if (type == "string")
            return value.is_string();
        if (type == "array")
            return value.is_array();
        if (type == "object")
            return value.is_object();
        throw std::runtime_error("unknown type " + type);
    }

    std::string check(const json &value, const json &schema, const std::string &where) const
    {
        if (schema.contains("$ref")) {
            auto diff = check(value, resolve(schema["$ref"].get<std::string>()), where);
            if (!diff.empty())
                return diff;
        }
        if (schema.contains("allOf")) {
            for (const json &part : schema["allOf"]) {
                auto diff = check(value, part, where);
                if (!diff.empty())
                    return diff;
            }
        }
        if (schema.contains("type")) {
            bool ok = false;
            if (schema["type"].is_array()) {
                for (const json &type : schema["type"])
                    ok = ok || hasType(value, type.get<std::string>());
            } else {
                ok = hasType(value, schema["type"].get<std::string>());
            }
            if (!ok)
                return where + ": " + value.dump() + " is not of type " + schema["type"].dump();
        }
        if (schema.contains("enum")) {
            bool found = false;
            for (const json &option : schema["enum"])
                found = found || option == value;
            if (!found)
                return where + ": " + value.dump() + " is not one of " + schema["enum"].dump();
        }
        if (value.is_number()) {
            const double x = value.get<double>();
            if (schema.contains("minimum") && x < schema["minimum"].get<double>())
                return where + ": " + value.dump() + " below the minimum";
            if (schema.contains("maximum") && x > schema["maximum"].get<double>())
                return where + ": " + value.dump() + " above the maximum";
        }
        if (value.is_object()) {
            for (const json &key : schema.value("required", json::array())) {
                if (!value.contains(key.get<std::string>()))
                    return where + ": missing required key " + key.get<std::string>();
            }
            const json properties = schema.value("properties", json::object());
            for (auto it = value.begin(); it != value.end(); ++it) {
                const std::string path = where + "." + it.key();
                if (properties.contains(it.key())) {
                    auto diff = check(it.value(), properties[it.key()], path);
                    if (!diff.empty())
                        return diff;
                } else if (schema.contains("additionalProperties")) {
                    const json &extra = schema["additionalProperties"];
                    if (extra.is_boolean()) {
                        if (!extra.get<bool>())
                            return path + ": key not allowed by the schema";
                    } else {
                        auto diff = check(it.value(), extra, path);
                        if (!diff.empty())
                            return diff;
                    }
                }
            }
        }
        if (value.is_array() && schema.contains("items")) {
            for (std::size_t i = 0; i < value.size(); ++i) {
                auto diff = check(value[i], schema["items"], where + "[" + std::to_string(i) + "]");
                if (!diff.empty())
                    return diff;
            }
        }
        return {};
    }

    json m_root;
};

QStringList csvFields(const QString &line)
{
    // The labels used here never need quoting, so a plain split is exact.
    return line.split(QLatin1Char(','));
}

} // namespace

class TestInspectCli : public QObject {
    Q_OBJECT

private slots:
    void printsTableWithFlags()
    {
        const Run run = runBasin(family("f32"));
        QCOMPARE(run.exitCode, 0);
        QVERIFY(run.out.contains(QStringLiteral("Flags: O =")));
        // ft2 turns against ft1 in the late layers: those rows are flagged, early ones not.
        const QStringList lines = run.out.split(QLatin1Char('\n'));
        const auto row = [&](const QString &label) {
            for (const QString &line : lines) {
                if (line.startsWith(label + QLatin1Char(' ')))
                    return line;
            }
            return QString();
        };
        QVERIFY(row(QStringLiteral("L3")).endsWith(QStringLiteral("OC")));
        QVERIFY(row(QStringLiteral("L0")).trimmed().endsWith(QStringLiteral("0.282")));
        QVERIFY(!row(QStringLiteral("total")).isEmpty());
        QVERIFY(run.out.contains(QStringLiteral("Flagged rows: L2 (OC) L3 (OC)")));
    }

    void jsonFollowsTheSchema()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("out.json"));
        const Run run = runBasin(family("bf16") + QStringList{QStringLiteral("--json"), path,
                                                              QStringLiteral("--density"),
                                                              QStringLiteral("0.5")});
        QCOMPARE(run.exitCode, 0);
        const json doc = readJson(path);
        QVERIFY(doc.is_object());
        const json schema = readJson(QFINDTESTDATA("../../docs/inspect-schema.json"));
        QVERIFY(schema.is_object());
        const SchemaChecker checker(schema);
        const std::string diff = checker.check(doc);
        QVERIFY2(diff.empty(), diff.c_str());

        QCOMPARE(doc["density"].get<double>(), 0.5);
        QCOMPARE(doc["tensors"].size(), std::size_t(39));
        QVERIFY(doc["tensors"]["model.norm.weight"]["models"][0]["ulp"].is_object());
        // Same figures as the golden statistics.
        const json golden = readJson(QStringLiteral(BASIN_TEST_DATA_DIR "/stats/bf16.json"));
        const double ours = doc["total"]["models"][1]["l2"].get<double>();
        const double ref = golden["total"]["models"][1]["l2"].get<double>();
        QVERIFY(std::fabs(ours - ref) <= 1e-9 * ref);

        // The checker is not a rubber stamp: broken documents fail.
        json missing = doc;
        missing.erase("total");
        QVERIFY(!checker.check(missing).empty());
        json wrongType = doc;
        wrongType["layers"]["0"]["pairs"][0]["cosine"] = "high";
        QVERIFY(!checker.check(wrongType).empty());
        json outOfRange = doc;
        outOfRange["total"]["models"][0]["zero_frac"] = 1.5;
        QVERIFY(!checker.check(outOfRange).empty());
        json extra = doc;
        extra["tensors"]["model.norm.weight"]["models"][0]["surprise"] = 1;
        QVERIFY(!checker.check(extra).empty());
    }

    void csvHasOneRowPerLayerAndPair()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("out.csv"));
        const Run run = runBasin(family("far") + QStringList{QStringLiteral("--csv"), path});
        QCOMPARE(run.exitCode, 0);
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QStringList lines =
            QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        // Rows: embed, L0..L3, norm, head = 7; pairs of 3 fine-tunes = 3.
        QCOMPARE(lines.size(), 1 + 7 * 3);
        const QStringList header = csvFields(lines[0]);
        QCOMPARE(header.size(), 14);
        QCOMPARE(header[0], QStringLiteral("row"));
        QCOMPARE(header[7], QStringLiteral("cosine"));
        QStringList seen;
        for (int i = 1; i < lines.size(); ++i) {
            const QStringList fields = csvFields(lines[i]);
            QCOMPARE(fields.size(), 14);
            seen << fields[0] + QLatin1Char('/') + fields[3] + QLatin1Char('/') + fields[4];
        }
        QVERIFY(seen.contains(QStringLiteral("L2/1/3")));
        QVERIFY(seen.contains(QStringLiteral("head/2/3")));
        QCOMPARE(QSet<QString>(seen.begin(), seen.end()).size(), 21);
    }

    void pngHasTheRequestedSize_data()
    {
        QTest::addColumn<QString>("metric");
        QTest::addColumn<int>("width");
        QTest::addColumn<int>("height");
        QTest::newRow("cosine, pairs as columns") << QStringLiteral("cosine") << 640 << 480;
        QTest::newRow("rho, models as columns") << QStringLiteral("rho") << 900 << 700;
    }

    void pngHasTheRequestedSize()
    {
        QFETCH(QString, metric);
        QFETCH(int, width);
        QFETCH(int, height);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("map.png"));
        QStringList args = family("f32") + QStringList{QStringLiteral("--png"), path,
                                                       QStringLiteral("--metric"), metric};
        if (width != 900)
            args << QStringLiteral("--width") << QString::number(width)
                 << QStringLiteral("--height") << QString::number(height);
        const Run run = runBasin(args);
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        QVERIFY(QFileInfo(path).size() > 1000);
        QImage image;
        QVERIFY(image.load(path, "PNG"));
        QCOMPARE(image.size(), QSize(width, height));
        // Not blank: a heatmap has many colours.
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 7) {
            for (int x = 0; x < image.width(); x += 7)
                colours.insert(image.pixel(x, y));
        }
        QVERIFY(colours.size() > 20);
    }

    void tensorDetail()
    {
        const Run run = runBasin(
            family("far") + QStringList{QStringLiteral("--tensor"),
                                        QStringLiteral("model.layers.3.mlp.down_proj.weight")});
        QCOMPARE(run.exitCode, 0);
        QVERIFY(run.out.startsWith(QStringLiteral("Tensor model.layers.3.mlp.down_proj.weight")));
        QVERIFY(run.out.contains(QStringLiteral("slerp base->ft1")));
        QVERIFY(run.out.contains(QStringLiteral("Model Stock")));
        const Run missing = runBasin(
            family("far") + QStringList{QStringLiteral("--tensor"), QStringLiteral("nope.weight")});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY(missing.err.contains(QStringLiteral("nope.weight")));
    }

    void badPathFails()
    {
        QStringList args = family("f32", 1);
        const QString bad = QStringLiteral("/nonexistent/basin/ft9");
        args << bad;
        const Run run = runBasin(args);
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains(bad), qPrintable(run.err));
    }

    void badUsage_data()
    {
        QTest::addColumn<QStringList>("extra");
        QTest::addColumn<int>("fineTunes");
        QTest::newRow("unknown option") << QStringList{QStringLiteral("--bogus")} << 2;
        QTest::newRow("unknown metric")
            << QStringList{QStringLiteral("--png"), QStringLiteral("x.png"),
                           QStringLiteral("--metric"), QStringLiteral("loss")}
            << 2;
        QTest::newRow("density above 1")
            << QStringList{QStringLiteral("--density"), QStringLiteral("2")} << 2;
        QTest::newRow("threads not a number")
            << QStringList{QStringLiteral("--threads"), QStringLiteral("many")} << 2;
        QTest::newRow("no fine-tune") << QStringList{} << 0;
        QTest::newRow("pair metric with one fine-tune")
            << QStringList{QStringLiteral("--png"), QStringLiteral("x.png")} << 1;
        QTest::newRow("metric without png")
            << QStringList{QStringLiteral("--metric"), QStringLiteral("rho")} << 2;
    }

    void badUsage()
    {
        QFETCH(QStringList, extra);
        QFETCH(int, fineTunes);
        const Run run = runBasin(family("f32", fineTunes) + extra);
        QCOMPARE(run.exitCode, 2);
        QVERIFY(run.err.contains(QStringLiteral("basin inspect")));
    }
};

QTEST_GUILESS_MAIN(TestInspectCli)
#include "tst_inspectcli.moc"
