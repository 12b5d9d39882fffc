// SPDX-License-Identifier: GPL-3.0-or-later
#include "io/safetensorsmodelwriter.h"
#include "model/modelset.h"
#include "model/tensorname.h"
#include "testfiles.h"

#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <limits>

using namespace basin;
using namespace basin::test;
namespace fs = std::filesystem;

Q_DECLARE_METATYPE(basin::TensorKind)

namespace {

struct Spec {
    std::string name;
    std::vector<std::uint64_t> shape;
};

// An F32 model whose values are all `fill` (the first few overridable).
bool writeModel(const fs::path &folder, const std::vector<Spec> &specs, float fill = 0.5f,
                const std::vector<float> &head = {})
{
    fs::create_directories(folder);
    std::vector<PlannedTensor> planned;
    for (const Spec &s : specs)
        planned.push_back(PlannedTensor{s.name, Dtype::F32, s.shape});
    Result<ShardPlan> plan = planShards(planned, 0);
    if (!plan)
        return false;
    auto writer = SafetensorsModelWriter::create(folder, *plan);
    if (!writer)
        return false;
    for (const PlannedShard &shard : plan->shards) {
        for (const HeaderEntry &e : shard.entries) {
            std::vector<float> v(e.numel, fill);
            for (std::size_t i = 0; i < head.size() && i < v.size(); ++i)
                v[i] = head[i];
            if (!(*writer)->append(std::as_bytes(std::span<const float>(v))))
                return false;
        }
    }
    return (*writer)->finish().ok();
}

std::shared_ptr<const Checkpoint> open(const fs::path &folder)
{
    auto c = Checkpoint::open(folder);
    return c ? *c : nullptr;
}

} // namespace

class TestModelSet : public QObject {
    Q_OBJECT

private slots:
    void nameParsing_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("layer"); // -1: none
        QTest::addColumn<basin::TensorKind>("kind");
        QTest::newRow("llama-q") << QStringLiteral("model.layers.3.self_attn.q_proj.weight") << 3
                                 << TensorKind::Q;
        QTest::newRow("llama-k") << QStringLiteral("model.layers.0.self_attn.k_proj.weight") << 0
                                 << TensorKind::K;
        QTest::newRow("llama-v") << QStringLiteral("model.layers.12.self_attn.v_proj.weight") << 12
                                 << TensorKind::V;
        QTest::newRow("llama-o") << QStringLiteral("model.layers.1.self_attn.o_proj.weight") << 1
                                 << TensorKind::O;
        QTest::newRow("llama-gate")
            << QStringLiteral("model.layers.5.mlp.gate_proj.weight") << 5 << TensorKind::Gate;
        QTest::newRow("llama-up") << QStringLiteral("model.layers.5.mlp.up_proj.weight") << 5
                                  << TensorKind::Up;
        QTest::newRow("llama-down")
            << QStringLiteral("model.layers.31.mlp.down_proj.weight") << 31 << TensorKind::Down;
        QTest::newRow("llama-input-norm")
            << QStringLiteral("model.layers.2.input_layernorm.weight") << 2 << TensorKind::Norm;
        QTest::newRow("llama-post-norm")
            << QStringLiteral("model.layers.2.post_attention_layernorm.weight") << 2
            << TensorKind::Norm;
        QTest::newRow("qwen3-q-norm")
            << QStringLiteral("model.layers.4.self_attn.q_norm.weight") << 4 << TensorKind::Norm;
        QTest::newRow("final-norm")
            << QStringLiteral("model.norm.weight") << -1 << TensorKind::Norm;
        QTest::newRow("embed") << QStringLiteral("model.embed_tokens.weight") << -1
                               << TensorKind::Embed;
        QTest::newRow("head") << QStringLiteral("lm_head.weight") << -1 << TensorKind::Head;
        QTest::newRow("q-bias") << QStringLiteral("model.layers.7.self_attn.q_proj.bias") << 7
                                << TensorKind::Q;
        QTest::newRow("mixtral-expert-w1")
            << QStringLiteral("model.layers.1.block_sparse_moe.experts.3.w1.weight") << 1
            << TensorKind::Gate;
        QTest::newRow("mixtral-expert-w2")
            << QStringLiteral("model.layers.1.block_sparse_moe.experts.3.w2.weight") << 1
            << TensorKind::Down;
        QTest::newRow("mixtral-router")
            << QStringLiteral("model.layers.1.block_sparse_moe.gate.weight") << 1
            << TensorKind::Other;
        QTest::newRow("gpt2-attn")
            << QStringLiteral("transformer.h.11.attn.c_attn.weight") << 11 << TensorKind::Other;
        QTest::newRow("gpt2-attn-proj")
            << QStringLiteral("transformer.h.11.attn.c_proj.weight") << 11 << TensorKind::O;
        QTest::newRow("gpt2-mlp-fc")
            << QStringLiteral("transformer.h.0.mlp.c_fc.weight") << 0 << TensorKind::Up;
        QTest::newRow("gpt2-mlp-proj")
            << QStringLiteral("transformer.h.0.mlp.c_proj.weight") << 0 << TensorKind::Down;
        QTest::newRow("gpt2-ln") << QStringLiteral("transformer.h.0.ln_1.weight") << 0
                                 << TensorKind::Norm;
        QTest::newRow("gpt2-wte") << QStringLiteral("transformer.wte.weight") << -1
                                  << TensorKind::Embed;
        QTest::newRow("neox-dense")
            << QStringLiteral("gpt_neox.layers.2.attention.dense.weight") << 2 << TensorKind::O;
        QTest::newRow("neox-h-to-4h")
            << QStringLiteral("gpt_neox.layers.2.mlp.dense_h_to_4h.weight") << 2 << TensorKind::Up;
        QTest::newRow("neox-embed-out")
            << QStringLiteral("embed_out.weight") << -1 << TensorKind::Head;
        QTest::newRow("bert-query")
            << QStringLiteral("bert.encoder.layer.9.attention.self.query.weight") << 9
            << TensorKind::Q;
        QTest::newRow("phi3-fused")
            << QStringLiteral("model.layers.0.mlp.gate_up_proj.weight") << 0 << TensorKind::Other;
        QTest::newRow("rotary") << QStringLiteral("model.layers.0.self_attn.rotary_emb.inv_freq")
                                << 0 << TensorKind::Other;
        QTest::newRow("layers-not-number")
            << QStringLiteral("model.layers.x.mlp.up_proj.weight") << -1 << TensorKind::Up;
        QTest::newRow("negative-layer")
            << QStringLiteral("model.layers.-1.mlp.up_proj.weight") << -1 << TensorKind::Up;
        QTest::newRow("empty") << QString() << -1 << TensorKind::Other;
    }

    void nameParsing()
    {
        QFETCH(QString, name);
        QFETCH(int, layer);
        QFETCH(basin::TensorKind, kind);
        const TensorNameInfo info = parseTensorName(name.toStdString());
        QCOMPARE(info.layer.value_or(-1), layer);
        QCOMPARE(tensorKindName(info.kind), tensorKindName(kind));
    }

    void kindNames()
    {
        QCOMPARE(tensorKindName(TensorKind::Gate), std::string_view("gate"));
        QCOMPARE(tensorKindName(TensorKind::Embed), std::string_view("embed"));
        QCOMPARE(tensorKindName(TensorKind::Other), std::string_view("other"));
    }

    void fixtureAlignment()
    {
        const QString root = QStringLiteral(BASIN_TEST_DATA_DIR "/families/bf16");
        std::vector<std::shared_ptr<const Checkpoint>> models;
        for (const char *name : {"base", "ft1", "ft2", "ft3"}) {
            models.push_back(open(toPath(root + QLatin1Char('/') + QLatin1String(name))));
            QVERIFY(models.back());
        }
        auto set = ModelSet::create(models);
        QVERIFY(set.ok());
        const ModelSet &s = **set;
        QCOMPARE(s.modelCount(), 4);
        QCOMPARE(s.fineTuneCount(), 3);
        QCOMPARE(s.layerCount(), 4);
        QCOMPARE(s.tensors().size(), std::size_t(39));
        QVERIFY(s.problems().empty());
        // The base's file order: the first tensor is the embedding in shard 1.
        QCOMPARE(s.tensors().front().name, std::string("model.embed_tokens.weight"));
        for (const AlignedTensor &t : s.tensors()) {
            QVERIFY(t.complete());
            for (int m = 0; m < 4; ++m)
                QCOMPARE(t.perModel[static_cast<std::size_t>(m)]->name, t.name);
        }
        int q = 0;
        for (const AlignedTensor &t : s.tensors())
            q += t.nameInfo.kind == TensorKind::Q ? 1 : 0;
        QCOMPARE(q, 4);
        auto count = s.scanNonFinite(2, s.tensors().front());
        QVERIFY(count.ok());
        QCOMPARE(count->nan + count->inf, std::uint64_t(0));
    }

    void missingAndMismatched()
    {
        QTemporaryDir dir;
        const fs::path root = toPath(dir.path());
        const std::vector<Spec> base{{"model.embed_tokens.weight", {8, 4}},
                                     {"model.layers.0.mlp.up_proj.weight", {6, 4}},
                                     {"model.layers.1.mlp.up_proj.weight", {6, 4}},
                                     {"lm_head.weight", {8, 4}}};
        // ft1: resized vocabulary (10 rows), no layer-1 up_proj, one extra tensor.
        const std::vector<Spec> ft1{{"model.embed_tokens.weight", {10, 4}},
                                    {"model.layers.0.mlp.up_proj.weight", {6, 4}},
                                    {"lm_head.weight", {10, 4}},
                                    {"model.layers.2.extra.weight", {3}}};
        // ft2: like the base except the layer-0 tensor has a transposed shape.
        const std::vector<Spec> ft2{{"model.embed_tokens.weight", {8, 4}},
                                    {"model.layers.0.mlp.up_proj.weight", {4, 6}},
                                    {"model.layers.1.mlp.up_proj.weight", {6, 4}},
                                    {"lm_head.weight", {8, 4}}};
        QVERIFY(writeModel(root / "base", base));
        QVERIFY(writeModel(root / "ft1", ft1));
        QVERIFY(writeModel(root / "ft2", ft2));
        auto set = ModelSet::create({open(root / "base"), open(root / "ft1"), open(root / "ft2")});
        QVERIFY(set.ok());
        const ModelSet &s = **set;
        QCOMPARE(s.tensors().size(), std::size_t(5));
        QCOMPARE(s.layerCount(), 3);

        const AlignedTensor &embed = s.tensors()[0];
        QCOMPARE(embed.shape, (std::vector<std::uint64_t>{8, 4}));
        QCOMPARE(embed.shapeMismatch, std::vector<int>{1});
        QVERIFY(embed.missing.empty());
        QVERIFY(!embed.complete());
        QCOMPARE(embed.perModel[1]->shape, (std::vector<std::uint64_t>{10, 4})); // not broadcast

        const AlignedTensor &layer0 = s.tensors()[1];
        QCOMPARE(layer0.shapeMismatch, std::vector<int>{2});
        const AlignedTensor &layer1 = s.tensors()[2];
        QCOMPARE(layer1.missing, std::vector<int>{1});
        QVERIFY(layer1.perModel[1] == nullptr);
        // Names only a fine-tune has come after the base's, with the base missing.
        const AlignedTensor &extra = s.tensors()[4];
        QCOMPARE(extra.name, std::string("model.layers.2.extra.weight"));
        QCOMPARE(extra.missing, (std::vector<int>{0, 2}));
        QCOMPARE(extra.shape, std::vector<std::uint64_t>{3});

        QString problems;
        for (const std::string &p : s.problems())
            problems += QString::fromStdString(p) + QLatin1Char('\n');
        QCOMPARE(s.problems().size(), std::size_t(5));
        QVERIFY2(problems.contains(QStringLiteral(
                     "ft1: model.embed_tokens.weight has shape [10, 4], base [8, 4]")),
                 qPrintable(problems));
        QVERIFY2(problems.contains(QStringLiteral(
                     "ft2: model.layers.0.mlp.up_proj.weight has shape [4, 6], base [6, 4]")),
                 qPrintable(problems));
        QVERIFY2(
            problems.contains(QStringLiteral("ft1: model.layers.1.mlp.up_proj.weight is missing")),
            qPrintable(problems));
        QVERIFY2(problems.contains(QStringLiteral(
                     "base, ft2: model.layers.2.extra.weight is missing (present in ft1)")),
                 qPrintable(problems));

        auto missingScan = s.scanNonFinite(1, layer1);
        QVERIFY(!missingScan);
        QCOMPARE(missingScan.error().code, ErrorCode::InvalidArgument);
    }

    void nonFiniteScan()
    {
        QTemporaryDir dir;
        const fs::path root = toPath(dir.path());
        const float nan = std::numeric_limits<float>::quiet_NaN();
        const float inf = std::numeric_limits<float>::infinity();
        QVERIFY(writeModel(root / "base", {{"w", {3, 5}}}));
        QVERIFY(writeModel(root / "ft1", {{"w", {3, 5}}}, 1.0f, {nan, inf, -inf, 2.0f, nan, -nan}));
        auto set = ModelSet::create({open(root / "base"), open(root / "ft1")});
        QVERIFY(set.ok());
        const AlignedTensor &w = (*set)->tensors().front();
        auto clean = (*set)->scanNonFinite(0, w);
        QVERIFY(clean.ok());
        QCOMPARE(clean->nan, std::uint64_t(0));
        QCOMPARE(clean->inf, std::uint64_t(0));
        auto dirty = (*set)->scanNonFinite(1, w);
        QVERIFY(dirty.ok());
        QCOMPARE(dirty->nan, std::uint64_t(3));
        QCOMPARE(dirty->inf, std::uint64_t(2));
        QCOMPARE((*set)->scanNonFinite(5, w).error().code, ErrorCode::InvalidArgument);
    }

    void createErrors()
    {
        QCOMPARE(ModelSet::create({}).error().code, ErrorCode::InvalidArgument);
        QCOMPARE(ModelSet::create({nullptr}).error().code, ErrorCode::InvalidArgument);
    }
};

QTEST_GUILESS_MAIN(TestModelSet)
#include "tst_modelset.moc"
