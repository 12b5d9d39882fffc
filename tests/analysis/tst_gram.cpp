// SPDX-License-Identifier: GPL-3.0-or-later
// Gram-cache answers for linear merges against the same figures measured on tensors that
// were actually formed: τ_m = Σ λ_t τ_t read from the fixture family.
#include "analysis/analysispass.h"
#include "analysis/gram.h"
#include "model/checkpoint.h"
#include "model/modelset.h"

#include <QtTest>

#include <cmath>

using namespace basin;
using namespace basin::analysis;

namespace {

std::shared_ptr<const ModelSet> openFamily(const char *family)
{
    std::vector<std::shared_ptr<const Checkpoint>> models;
    for (const char *name : {"base", "ft1", "ft2", "ft3"}) {
        auto checkpoint =
            Checkpoint::open(std::string(BASIN_TEST_DATA_DIR "/families/") + family + "/" + name);
        if (!checkpoint)
            return nullptr;
        models.push_back(*checkpoint);
    }
    auto set = ModelSet::create(models);
    return set ? *set : nullptr;
}

// Values of every model for the tensors a predicate selects, concatenated (f64).
std::vector<std::vector<double>> concatenated(const ModelSet &set,
                                              const std::function<bool(const AlignedTensor &)> &use)
{
    std::vector<std::vector<double>> out(std::size_t(set.modelCount()));
    for (const AlignedTensor &tensor : set.tensors()) {
        if (!use(tensor))
            continue;
        for (int m = 0; m < set.modelCount(); ++m) {
            std::vector<float> values(tensor.numel);
            const auto read = set.model(m).readF32(*tensor.perModel[std::size_t(m)], values);
            if (!read)
                qFatal("%s", read.error().message.c_str());
            out[std::size_t(m)].insert(out[std::size_t(m)].end(), values.begin(), values.end());
        }
    }
    return out;
}

double dot(const std::vector<double> &a, const std::vector<double> &b)
{
    double sum = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        sum += a[i] * b[i];
    return sum;
}

bool close(double a, double b)
{
    return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b)) + 1e-15;
}

#define CHECK_CLOSE(actual, expected)                                                              \
    QVERIFY2(close((actual), (expected)), qPrintable(QStringLiteral("%1 = %2, expected %3")        \
                                                         .arg(QLatin1String(#actual))              \
                                                         .arg(double(actual), 0, 'g', 17)          \
                                                         .arg(double(expected), 0, 'g', 17)))

} // namespace

class TestGram : public QObject {
    Q_OBJECT

private slots:
    void linearMergeMatchesFormedTensor_data()
    {
        QTest::addColumn<QString>("family");
        QTest::addColumn<QString>("scope"); // a tensor name, "layer:N" or "total"
        QTest::addColumn<double>("l1");
        QTest::addColumn<double>("l2");
        QTest::addColumn<double>("l3");
        QTest::newRow("f32 q_proj, task arithmetic")
            << QStringLiteral("f32") << QStringLiteral("model.layers.1.self_attn.q_proj.weight")
            << 1.0 << 1.0 << 1.0;
        QTest::newRow("far down_proj, mixed signs")
            << QStringLiteral("far") << QStringLiteral("model.layers.3.mlp.down_proj.weight") << 0.7
            << -0.3 << 1.2;
        QTest::newRow("far layer 2, average")
            << QStringLiteral("far") << QStringLiteral("layer:2") << 1 / 3.0 << 1 / 3.0 << 1 / 3.0;
        QTest::newRow("bf16 whole model")
            << QStringLiteral("bf16") << QStringLiteral("total") << 0.5 << 0.25 << 2.0;
    }

    void linearMergeMatchesFormedTensor()
    {
        QFETCH(QString, family);
        QFETCH(QString, scope);
        QFETCH(double, l1);
        QFETCH(double, l2);
        QFETCH(double, l3);
        const auto set = openFamily(family.toLatin1().constData());
        QVERIFY(set);
        AnalysisOptions options;
        options.sampleSize = 0;
        auto snapshot = analyse(*set, options);
        QVERIFY(snapshot.ok());

        std::function<bool(const AlignedTensor &)> use;
        Gram gram;
        if (scope == QStringLiteral("total")) {
            use = [](const AlignedTensor &) { return true; };
            gram = Gram::fromStats((*snapshot)->total);
        } else if (scope.startsWith(QStringLiteral("layer:"))) {
            const int layer = scope.mid(6).toInt();
            use = [layer](const AlignedTensor &t) { return t.nameInfo.layer == layer; };
            gram = Gram::fromStats((*snapshot)->findLayer(layer)->stats);
        } else {
            const std::string name = scope.toStdString();
            use = [name](const AlignedTensor &t) { return t.name == name; };
            gram = (*snapshot)->findTensor(name)->gram();
        }
        const auto x = concatenated(*set, use);
        const std::vector<double> &base = x[0];
        std::vector<std::vector<double>> tau(3, std::vector<double>(base.size()));
        for (int t = 0; t < 3; ++t) {
            for (std::size_t i = 0; i < base.size(); ++i)
                tau[std::size_t(t)][i] = x[std::size_t(t + 1)][i] - base[i];
        }
        const double lambda[] = {l1, l2, l3};
        std::vector<double> merged(base.size(), 0.0);
        for (std::size_t i = 0; i < base.size(); ++i) {
            for (int t = 0; t < 3; ++t)
                merged[i] += lambda[t] * tau[std::size_t(t)][i];
        }
        Eigen::VectorXd lam(3);
        lam << l1, l2, l3;

        const double normSq = dot(merged, merged);
        CHECK_CLOSE(gram.mergedNormSq(lam), normSq);
        CHECK_CLOSE(*gram.relativePerturbation(lam), std::sqrt(normSq / dot(base, base)));
        for (int t = 0; t < 3; ++t) {
            const auto &own = tau[std::size_t(t)];
            const double ownSq = dot(own, own);
            if (ownSq == 0.0) {
                QVERIFY(!gram.retention(lam, t).has_value());
                continue;
            }
            const double along = dot(merged, own);
            CHECK_CLOSE(*gram.retention(lam, t), along / ownSq);
            CHECK_CLOSE(*gram.mergedCosine(lam, t), along / std::sqrt(normSq * ownSq));
            std::vector<double> diff(base.size());
            for (std::size_t i = 0; i < base.size(); ++i)
                diff[i] = merged[i] - own[i];
            CHECK_CLOSE(gram.distanceSqToParent(lam, t), dot(diff, diff));
            // Raw-weight angle base ↔ fine-tune, as slerp sees it.
            const auto &raw = x[std::size_t(t + 1)];
            const double rawCos =
                dot(base, raw) / (std::sqrt(dot(base, base)) * std::sqrt(dot(raw, raw)));
            CHECK_CLOSE(*gram.rawCosine(0, t + 1), rawCos);
            CHECK_CLOSE(slerpInfo(gram, t).cosine, rawCos);
        }
        // Raw angle between two fine-tunes.
        const double raw12 = dot(x[1], x[2]) / std::sqrt(dot(x[1], x[1]) * dot(x[2], x[2]));
        CHECK_CLOSE(*gram.rawCosine(1, 2), raw12);

        // Model Stock: mean pairwise cosine of offsets, t = N·c / (1 + (N−1)·c).
        std::vector<bool> present(3, true);
        const auto stock = modelStockInfo(gram, present);
        QVERIFY(stock.has_value());
        double cosSum = 0;
        for (int i = 0; i < 3; ++i) {
            for (int j = i + 1; j < 3; ++j) {
                const double den =
                    std::max(std::sqrt(dot(tau[std::size_t(i)], tau[std::size_t(i)]) *
                                       dot(tau[std::size_t(j)], tau[std::size_t(j)])),
                             1e-6);
                cosSum +=
                    std::clamp(dot(tau[std::size_t(i)], tau[std::size_t(j)]) / den, -1.0, 1.0);
            }
        }
        const double c = cosSum / 3.0;
        CHECK_CLOSE(stock->cosine, c);
        CHECK_CLOSE(stock->t, 3.0 * c / (1.0 + 2.0 * c));
    }

    void slerpFallbackFollowsTheThreshold()
    {
        // f32 deltas are ~1e-3 of the weights: slerp falls back to lerp on every tensor.
        // far deltas are large: no fallback on the matrices.
        AnalysisOptions options;
        options.sampleSize = 0;
        for (const char *family : {"f32", "far"}) {
            const auto set = openFamily(family);
            QVERIFY(set);
            auto snapshot = analyse(*set, options);
            QVERIFY(snapshot.ok());
            const TensorEntry *q =
                (*snapshot)->findTensor("model.layers.0.self_attn.q_proj.weight");
            QVERIFY(q);
            const SlerpInfo info = *q->slerp[0];
            QCOMPARE(info.lerpFallback, std::abs(info.cosine) > 0.9995);
            QCOMPARE(info.lerpFallback, std::string(family) == "f32");
            QVERIFY(std::fabs(std::cos(info.angle) - info.cosine) < 1e-12);
        }
    }
};

QTEST_GUILESS_MAIN(TestGram)
#include "tst_gram.moc"
