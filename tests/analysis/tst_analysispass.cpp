// SPDX-License-Identifier: GPL-3.0-or-later
// The streaming pass over a ModelSet: skipped tensors, non-finite counts, the sample
// cache, thread-count independence, progress and cancellation.
#include "analysis/analysispass.h"
#include "analysis/snapshotjson.h"
#include "analysis/tensorkernel.h"
#include "model/checkpoint.h"
#include "model/modelset.h"

#include <QtTest>

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>

using namespace basin;
using namespace basin::analysis;

namespace {

struct RawTensor {
    std::string name;
    std::string dtype;
    std::vector<std::uint64_t> shape;
    std::vector<char> bytes;
};

RawTensor f32Tensor(std::string name, std::vector<std::uint64_t> shape,
                    const std::vector<float> &values)
{
    RawTensor t{std::move(name), "F32", std::move(shape), {}};
    t.bytes.resize(values.size() * 4);
    std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
    return t;
}

// A minimal safetensors writer (header padded with spaces to 8 bytes), for test inputs.
void writeSafetensors(const QString &path, const std::vector<RawTensor> &tensors)
{
    nlohmann::ordered_json header;
    header["__metadata__"] = {{"format", "pt"}};
    std::uint64_t offset = 0;
    for (const RawTensor &t : tensors) {
        header[t.name] = {{"dtype", t.dtype},
                          {"shape", t.shape},
                          {"data_offsets", {offset, offset + t.bytes.size()}}};
        offset += t.bytes.size();
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    std::ofstream out(path.toStdString(), std::ios::binary);
    const std::uint64_t n = text.size();
    out.write(reinterpret_cast<const char *>(&n), 8);
    out.write(text.data(), std::streamsize(text.size()));
    for (const RawTensor &t : tensors)
        out.write(t.bytes.data(), std::streamsize(t.bytes.size()));
}

std::shared_ptr<const ModelSet> openSet(const QStringList &paths)
{
    std::vector<std::shared_ptr<const Checkpoint>> models;
    for (const QString &path : paths) {
        auto checkpoint = Checkpoint::open(path.toStdString());
        if (!checkpoint) {
            qWarning("%s", checkpoint.error().message.c_str());
            return nullptr;
        }
        models.push_back(*checkpoint);
    }
    auto set = ModelSet::create(models);
    return set ? *set : nullptr;
}

std::shared_ptr<const ModelSet> openFamily(const char *family)
{
    QStringList paths;
    for (const char *name : {"base", "ft1", "ft2", "ft3"})
        paths << QStringLiteral(BASIN_TEST_DATA_DIR "/families/%1/%2")
                     .arg(QLatin1String(family), QLatin1String(name));
    return openSet(paths);
}

std::vector<float> noise(std::size_t n, unsigned seed, double scale, const std::vector<float> *add)
{
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal(0.0, scale);
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<float>((add ? (*add)[i] : 0.0) + normal(rng));
    return v;
}

// A base and three fine-tunes with tensors of several chunks each, so OpenMP splits work.
QStringList writeLargeFamily(const QString &dir)
{
    const std::vector<std::pair<std::string, std::vector<std::uint64_t>>> layout{
        {"model.embed_tokens.weight", {1000, 64}},
        {"model.layers.0.mlp.up_proj.weight", {256, 300}},
        {"model.layers.1.mlp.up_proj.weight", {256, 300}},
        {"model.norm.weight", {64}}};
    std::vector<std::vector<float>> bases;
    QStringList paths;
    for (int m = 0; m < 4; ++m) {
        std::vector<RawTensor> tensors;
        for (std::size_t k = 0; k < layout.size(); ++k) {
            std::uint64_t n = 1;
            for (const auto d : layout[k].second)
                n *= d;
            if (m == 0)
                bases.push_back(noise(n, unsigned(100 + k), 0.02, nullptr));
            const auto values =
                m == 0 ? bases[k] : noise(n, unsigned(1000 * m + k), 1e-3, &bases[k]);
            tensors.push_back(f32Tensor(layout[k].first, layout[k].second, values));
        }
        const QString path = dir + QStringLiteral("/m%1.safetensors").arg(m);
        writeSafetensors(path, tensors);
        paths << path;
    }
    return paths;
}

std::uint64_t bits(double value)
{
    return std::bit_cast<std::uint64_t>(value);
}

} // namespace

class TestAnalysisPass : public QObject {
    Q_OBJECT

private slots:
    void skipsMissingAndMisshapedTensors()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        std::vector<float> up(32), embed(24), embedWide(28), head(8);
        for (std::size_t i = 0; i < up.size(); ++i)
            up[i] = 0.1f * float(i);
        auto upFt = up;
        upFt[3] = std::numeric_limits<float>::quiet_NaN();
        upFt[4] = std::numeric_limits<float>::infinity();
        upFt[5] += 0.5f;
        RawTensor counter{"model.layers.0.counter", "I64", {2}, std::vector<char>(16, 0)};

        const QString base = dir.filePath(QStringLiteral("base.safetensors"));
        const QString ft1 = dir.filePath(QStringLiteral("ft1.safetensors"));
        const QString ft2 = dir.filePath(QStringLiteral("ft2.safetensors"));
        writeSafetensors(base,
                         {f32Tensor("model.embed_tokens.weight", {6, 4}, embed),
                          f32Tensor("model.layers.0.mlp.up_proj.weight", {4, 8}, up), counter});
        writeSafetensors(ft1,
                         {f32Tensor("model.embed_tokens.weight", {7, 4}, embedWide),
                          f32Tensor("model.layers.0.mlp.up_proj.weight", {4, 8}, upFt), counter});
        writeSafetensors(ft2, {f32Tensor("model.layers.0.mlp.up_proj.weight", {4, 8}, up),
                               f32Tensor("lm_head.weight", {2, 4}, head)});
        const auto set = openSet({base, ft1, ft2});
        QVERIFY(set);
        auto result = analyse(*set, AnalysisOptions{});
        QVERIFY2(result.ok(), result.ok() ? "" : result.error().message.c_str());
        const AnalysisSnapshot &s = **result;

        const auto find = [&](const std::string &tensor, int model) -> const SkippedTensor * {
            for (const SkippedTensor &skipped : s.skipped) {
                if (skipped.tensor == tensor && skipped.model == model)
                    return &skipped;
            }
            return nullptr;
        };
        const SkippedTensor *wide = find("model.embed_tokens.weight", 1);
        QVERIFY(wide);
        QCOMPARE(QString::fromStdString(wide->reason), QStringLiteral("shape_mismatch"));
        QVERIFY(wide->message.find("[7, 4]") != std::string::npos);
        QVERIFY(wide->message.find("[6, 4]") != std::string::npos);
        QVERIFY(find("model.embed_tokens.weight", 2));
        QCOMPARE(QString::fromStdString(find("model.embed_tokens.weight", 2)->reason),
                 QStringLiteral("missing"));
        QVERIFY(find("model.layers.0.counter", 0));
        QCOMPARE(QString::fromStdString(find("model.layers.0.counter", 0)->reason),
                 QStringLiteral("unsupported_dtype"));
        QVERIFY(find("lm_head.weight", 0));
        QCOMPARE(s.skipped.size(), std::size_t(4));

        // Analysed: embed (base only) and up_proj (both fine-tunes).
        QCOMPARE(s.tensors.size(), std::size_t(2));
        const TensorEntry *embedEntry = s.findTensor("model.embed_tokens.weight");
        QVERIFY(embedEntry);
        QCOMPARE(embedEntry->present, std::vector<bool>({false, false}));
        const TensorEntry *upEntry = s.findTensor("model.layers.0.mlp.up_proj.weight");
        QVERIFY(upEntry);
        QCOMPARE(upEntry->stats.models[0].nanCount, std::uint64_t(1));
        QCOMPARE(upEntry->stats.models[0].infCount, std::uint64_t(1));
        QCOMPARE(upEntry->stats.models[1].nanCount, std::uint64_t(0));
        QCOMPARE(upEntry->stats.models[1].zeros, std::uint64_t(32));
        // Totals count each model only where it was analysed.
        QCOMPARE(s.total.set.numel, std::uint64_t(24 + 32));
        QCOMPARE(s.total.models[0].count, std::uint64_t(32));
        QCOMPARE(s.total.models[1].count, std::uint64_t(32));

        const auto json = snapshotToJson(s);
        QCOMPARE(json["skipped"].size(), std::size_t(4));
        QCOMPARE(
            json["tensors"]["model.layers.0.mlp.up_proj.weight"]["models"][0]["nan"].get<int>(), 1);
        QVERIFY(json["tensors"]["model.embed_tokens.weight"]["models"][0]["l2"].is_null());
        QVERIFY(json["total"]["models"][0]["max_abs"].is_null()); // ±inf is not JSON
    }

    void sampleCacheIsSharedAndStable()
    {
        const auto set = openFamily("f32");
        QVERIFY(set);
        AnalysisOptions options;
        options.sampleSize = 100;
        auto first = analyse(*set, options);
        auto second = analyse(*set, options);
        QVERIFY(first.ok() && second.ok());
        std::vector<std::uint64_t> previous;
        for (std::size_t k = 0; k < (*first)->tensors.size(); ++k) {
            const TensorEntry &entry = (*first)->tensors[k];
            const TensorSample &sample = entry.sample;
            QCOMPARE(sample.size(), std::size_t(std::min<std::uint64_t>(entry.numel, 100)));
            QVERIFY(std::is_sorted(sample.indices.begin(), sample.indices.end()));
            QVERIFY(std::adjacent_find(sample.indices.begin(), sample.indices.end()) ==
                    sample.indices.end());
            QVERIFY(sample.indices.back() < entry.numel);
            QCOMPARE(sample.indices, (*second)->tensors[k].sample.indices);
            QCOMPARE(sample.tau, (*second)->tensors[k].sample.tau);
            // The same coordinates in every model: values equal those read back at them.
            const AlignedTensor &aligned = set->tensors()[k];
            std::vector<std::vector<float>> values;
            for (int m = 0; m < 4; ++m) {
                values.emplace_back(entry.numel);
                QVERIFY(set->model(m).readF32(*aligned.perModel[std::size_t(m)], values.back()));
            }
            for (std::size_t s = 0; s < sample.size(); ++s) {
                const std::uint64_t i = sample.indices[s];
                QCOMPARE(sample.base[s], values[0][i]);
                for (int t = 0; t < 3; ++t)
                    QCOMPARE(sample.deltas(t)[s],
                             float(double(values[std::size_t(t + 1)][i]) - double(values[0][i])));
            }
            // Different tensors of one size get different coordinates (hash of the name).
            if (entry.numel > 100) {
                QVERIFY(sample.indices != previous);
                previous = sample.indices;
            }
        }
    }

    void threadCountDoesNotChangeBits()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const auto set = openSet(writeLargeFamily(dir.path()));
        QVERIFY(set);
        AnalysisOptions options;
        options.sampleSize = 4096;
        options.threads = 1;
        auto one = analyse(*set, options);
        options.threads = 2;
        auto two = analyse(*set, options);
        QVERIFY(one.ok() && two.ok());
        const AnalysisSnapshot &a = **one;
        const AnalysisSnapshot &b = **two;
        for (int t = 0; t < 3; ++t) {
            QCOMPARE(bits(b.total.models[std::size_t(t)].sum),
                     bits(a.total.models[std::size_t(t)].sum));
            QCOMPARE(bits(b.total.models[std::size_t(t)].m2),
                     bits(a.total.models[std::size_t(t)].m2));
            QCOMPARE(bits(b.total.models[std::size_t(t)].sumAbs),
                     bits(a.total.models[std::size_t(t)].sumAbs));
            QCOMPARE(b.total.models[std::size_t(t)].trimDropped,
                     a.total.models[std::size_t(t)].trimDropped);
            QVERIFY(b.total.models[std::size_t(t)].absHist ==
                    a.total.models[std::size_t(t)].absHist);
        }
        QCOMPARE(bits(b.total.pair(0, 2).dot), bits(a.total.pair(0, 2).dot));
        QCOMPARE(bits(b.findLayer(1)->stats.set.baseSumSq),
                 bits(a.findLayer(1)->stats.set.baseSumSq));
        QCOMPARE(b.tensors[1].sample.indices, a.tensors[1].sample.indices);
        // The whole JSON report is identical apart from timing.
        auto ja = snapshotToJson(a);
        auto jb = snapshotToJson(b);
        ja.erase("seconds");
        jb.erase("seconds");
        QVERIFY(ja == jb);
    }

    void slicingDoesNotChangeBits_data()
    {
        QTest::addColumn<int>("sampleSize");
        QTest::newRow("band from the sample") << 4096;
        QTest::newRow("no sample: second sweep over the slices") << 0;
    }

    void slicingDoesNotChangeBits()
    {
        // Tensors streamed in slices (here one chunk each, so every large tensor is sliced)
        // give the snapshot and the sample caches of whole tensors, to the bit.
        QFETCH(int, sampleSize);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const auto set = openSet(writeLargeFamily(dir.path()));
        QVERIFY(set);
        AnalysisOptions options;
        options.sampleSize = std::uint64_t(sampleSize);
        auto whole = analyse(*set, options);
        options.sliceElements = TensorKernel::kChunk;
        std::vector<Progress> reports;
        auto sliced = analyse(*set, options, [&](const Progress &p) { reports.push_back(p); });
        QVERIFY(whole.ok() && sliced.ok());
        auto jw = snapshotToJson(**whole);
        auto js = snapshotToJson(**sliced);
        jw.erase("seconds");
        js.erase("seconds");
        QVERIFY(jw == js);
        QCOMPARE((*sliced)->tensors.size(), (*whole)->tensors.size());
        for (std::size_t i = 0; i < (*whole)->tensors.size(); ++i) {
            const TensorSample &a = (*whole)->tensors[i].sample;
            const TensorSample &b = (*sliced)->tensors[i].sample;
            QCOMPARE(b.indices, a.indices);
            QCOMPARE(b.base, a.base);
            QCOMPARE(b.tau, a.tau);
            QCOMPARE(b.present, a.present);
        }
        // Progress still ends at every byte, counted slice by slice.
        QVERIFY(reports.size() > 4);
        QCOMPARE(reports.back().bytesDone, reports.back().bytesTotal);
        QCOMPARE(reports.back().itemsDone, std::uint64_t(4));

        options.sliceElements = 1000; // not a multiple of a chunk
        auto refused = analyse(*set, options);
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().code, ErrorCode::InvalidArgument);
    }

    void reportsProgress()
    {
        const auto set = openFamily("bf16");
        QVERIFY(set);
        std::vector<Progress> reports;
        auto result =
            analyse(*set, AnalysisOptions{}, [&](const Progress &p) { reports.push_back(p); });
        QVERIFY(result.ok());
        QVERIFY(!reports.empty());
        const Progress &last = reports.back();
        QCOMPARE(QString::fromStdString(last.phase), QStringLiteral("analysing"));
        QCOMPARE(last.itemsDone, last.itemsTotal);
        QCOMPARE(last.itemsTotal, std::uint64_t(39));
        QCOMPARE(last.bytesDone, last.bytesTotal);
        QCOMPARE(last.bytesDone, (*result)->bytesRead);
        QCOMPARE(last.bytesDone, std::uint64_t(4 * 45344 * 2)); // 4 models, bf16
        for (std::size_t i = 1; i < reports.size(); ++i)
            QVERIFY(reports[i].itemsDone > reports[i - 1].itemsDone);
        // bf16 inputs get the ulp histogram: most changed weights moved by one step.
        const ModelAccum &m = (*result)->total.models[0];
        QVERIFY(m.ulpValid);
        QCOMPARE(m.ulp.total(), std::uint64_t(45344));
        QCOMPARE(m.ulp.counts[0], m.zeros);
        QVERIFY(*m.ulp.oneStepShare() > 0.3);
    }

    void cancels()
    {
        const auto set = openFamily("f32");
        QVERIFY(set);
        CancelFlag cancel{true};
        auto before = analyse(*set, AnalysisOptions{}, {}, &cancel);
        QVERIFY(!before.ok());
        QCOMPARE(before.error().code, ErrorCode::Cancelled);

        // Cancelled from the progress sink once three tensors are done: the pass stops
        // before the next one.
        CancelFlag later{false};
        std::uint64_t doneWhenCancelled = 0;
        auto during = analyse(
            *set, AnalysisOptions{},
            [&](const Progress &p) {
                if (p.itemsDone >= 3 && !later) {
                    later = true;
                    doneWhenCancelled = p.itemsDone;
                }
            },
            &later);
        QVERIFY(!during.ok());
        QCOMPARE(during.error().code, ErrorCode::Cancelled);
        const std::string expected = std::to_string(doneWhenCancelled) + " of 39";
        QVERIFY2(during.error().message.find(expected) != std::string::npos,
                 during.error().message.c_str());
    }

    void rejectsBadOptions_data()
    {
        QTest::addColumn<double>("density");
        QTest::addColumn<double>("zeroThreshold");
        QTest::newRow("density above 1") << 1.5 << 1e-8;
        QTest::newRow("negative density") << -0.1 << 1e-8;
        QTest::newRow("NaN density") << std::nan("") << 1e-8;
        QTest::newRow("negative zero threshold") << 0.2 << -1.0;
    }

    void rejectsBadOptions()
    {
        QFETCH(double, density);
        QFETCH(double, zeroThreshold);
        const auto set = openFamily("f32");
        QVERIFY(set);
        AnalysisOptions options;
        options.density = density;
        options.zeroThreshold = zeroThreshold;
        auto result = analyse(*set, options);
        QVERIFY(!result.ok());
        QCOMPARE(result.error().code, ErrorCode::InvalidArgument);
    }
};

QTEST_GUILESS_MAIN(TestAnalysisPass)
#include "tst_analysispass.moc"
