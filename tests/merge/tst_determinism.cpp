// SPDX-License-Identifier: GPL-3.0-or-later
// Every kernel gives the same bytes for 1 and 2 OpenMP threads (fixed-chunk reductions,
// counter-based RNG), on a tensor large enough that the kernels do run in parallel.
#include "kernelrunner.h"

#include <QtTest>

#include <bit>
#include <cmath>
#include <cstring>
#include <omp.h>

using namespace basin::merge;

class TestDeterminism : public QObject {
    Q_OBJECT

private slots:
    void cleanup() { omp_set_num_threads(omp_get_num_procs()); }
    void threadCountDoesNotMatter_data();
    void threadCountDoesNotMatter();
    void outputOverBaseGivesSameBytes_data() { threadCountDoesNotMatter_data(); }
    void outputOverBaseGivesSameBytes();
    void emptyTensor_data() { threadCountDoesNotMatter_data(); }
    void emptyTensor();
    void bf16RankCutsDoNotDependOnThreads_data();
    void bf16RankCutsDoNotDependOnThreads();
};

void TestDeterminism::threadCountDoesNotMatter_data()
{
    QTest::addColumn<QString>("method");
    for (const MethodDecl &method : methods())
        QTest::newRow(std::string(method.name).c_str())
            << QString::fromStdString(std::string(method.name));
}

namespace {

// Three large, partly shared task vectors with every per-model parameter set, in a
// 300 × 1000 tensor: enough elements for the kernels to run in parallel.
KernelRunner largeJob(const MethodDecl *decl)
{
    const std::uint64_t rows = 300;
    const std::uint64_t cols = 1000;
    const std::size_t n = rows * cols;
    KernelRunner r;
    r.shape = {rows, cols};
    r.seed = 2024;
    const auto base = randomValues(n, 1);
    if (decl->base != BaseRule::AsInput)
        r.base = base;
    const int models = std::clamp(3, decl->minModels, decl->maxModels);
    for (int m = 0; m < models; ++m) {
        // Large, partly shared task vectors: the angle methods stay on their slerp branch.
        auto delta = randomValues(n, 10 + static_cast<std::uint32_t>(m), 0.3f);
        const auto shared = randomValues(n, 9, 0.3f);
        for (std::size_t i = 0; i < n; ++i)
            delta[i] += shared[i];
        auto &input = r.add(plus(base, delta));
        for (const ParamDecl &param : decl->params) {
            if (param.scope == ParamScope::PerModel && param.name != "scale")
                input.params.emplace_back(std::string(param.name),
                                          param.name == "weight" ? 0.3 + 0.2 * m
                                          : param.name == "density"
                                              ? 0.6
                                              : param.defaultValue.value_or(0));
        }
    }
    for (const ParamDecl &param : decl->params) {
        if (param.scope == ParamScope::Global && param.required)
            r.global.emplace_back(std::string(param.name), param.name == "t" ? 0.3 : 1.0);
    }
    return r;
}

} // namespace

void TestDeterminism::threadCountDoesNotMatter()
{
    QFETCH(QString, method);
    const MethodDecl *decl = findMethod(method.toStdString());
    QVERIFY(decl != nullptr);
    const KernelRunner r = largeJob(decl);
    const std::size_t n = r.models.front().values.size();

    omp_set_num_threads(1);
    const KernelRun one = r.run(method.toStdString());
    omp_set_num_threads(2);
    QCOMPARE(omp_get_max_threads(), 2);
    const KernelRun two = r.run(method.toStdString());
    QVERIFY2(one.status.ok(), one.status.ok() ? "" : one.status.error().message.c_str());
    QVERIFY(two.status.ok());
    QVERIFY(std::memcmp(one.out.data(), two.out.data(), n * sizeof(float)) == 0);
    for (std::size_t i = 0; i < n; i += 101)
        QVERIFY(std::isfinite(two.out[i]));
}

void TestDeterminism::bf16RankCutsDoNotDependOnThreads_data()
{
    QTest::addColumn<QString>("method");
    for (const char *name : {"ties", "breadcrumbs", "breadcrumbs_ties", "sce"})
        QTest::newRow(name) << QString::fromLatin1(name);
}

// The rank-selection methods on bf16-valued checkpoints (a few ulps of change: magnitudes
// repeat in long runs, and the cuts are found from guessed values, not windows) give the
// same bytes on 1 and 2 threads.
void TestDeterminism::bf16RankCutsDoNotDependOnThreads()
{
    QFETCH(QString, method);
    const auto bf16 = [](float x) {
        const std::uint32_t u = std::bit_cast<std::uint32_t>(x);
        return std::bit_cast<float>((u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u);
    };
    const std::size_t n = 300 * 1000;
    KernelRunner r;
    r.shape = {300, 1000};
    r.base = randomValues(n, 1, 0.05f);
    for (float &b : r.base)
        b = bf16(b);
    for (int m = 0; m < 3; ++m) {
        auto tuned = plus(r.base, randomValues(n, 20 + static_cast<std::uint32_t>(m), 3e-4f));
        for (float &t : tuned)
            t = bf16(t);
        auto &input = r.add(tuned);
        input.params.emplace_back("weight", 0.5);
        input.params.emplace_back("density", 0.5);
        input.params.emplace_back("gamma", 0.01);
    }
    r.global.emplace_back("select_topk", 0.4);
    omp_set_num_threads(1);
    const KernelRun one = r.run(method.toStdString());
    omp_set_num_threads(2);
    const KernelRun two = r.run(method.toStdString());
    QVERIFY2(one.status.ok(), one.status.ok() ? "" : one.status.error().message.c_str());
    QVERIFY(two.status.ok());
    QVERIFY(std::memcmp(one.out.data(), two.out.data(), n * sizeof(float)) == 0);
    // Something was cut and something kept: the output is neither the base nor a plain sum.
    std::size_t changed = 0;
    for (std::size_t i = 0; i < n; ++i)
        changed += one.out[i] != r.base[i] ? 1 : 0;
    QVERIFY(changed > n / 10 && changed < n);
}

void TestDeterminism::outputOverBaseGivesSameBytes()
{
    // Methods that allow it give the same bytes when the output overwrites the base.
    QFETCH(QString, method);
    const MethodDecl *decl = findMethod(method.toStdString());
    QVERIFY(decl != nullptr);
    // The whole task-arithmetic family declares it (the engine's memory bound for ties
    // relies on it); nothing else does.
    const std::string name = method.toStdString();
    const bool family = name == "task_arithmetic" || name == "ties" || name.starts_with("dare") ||
                        name.starts_with("breadcrumbs") || name.starts_with("della");
    QCOMPARE(decl->outputOverBase, family);
    if (!decl->outputOverBase)
        QSKIP("this method needs a separate output buffer");
    const KernelRunner r = largeJob(decl);
    const KernelRun separate = r.run(method.toStdString());
    const KernelRun over = r.run(method.toStdString(), true);
    QVERIFY2(separate.status.ok(),
             separate.status.ok() ? "" : separate.status.error().message.c_str());
    QVERIFY(over.status.ok());
    QCOMPARE(over.out.size(), separate.out.size());
    QVERIFY(std::memcmp(over.out.data(), separate.out.data(), over.out.size() * sizeof(float)) ==
            0);
}

void TestDeterminism::emptyTensor()
{
    // A tensor with a zero-sized dimension merges to nothing, without an error.
    QFETCH(QString, method);
    const MethodDecl *decl = findMethod(method.toStdString());
    QVERIFY(decl != nullptr);
    std::vector<float> nothing;
    TensorJob job;
    job.tensorName = "model.empty";
    const std::uint64_t shape[] = {0, 16};
    job.shape = shape;
    job.base = decl->base == BaseRule::AsInput ? nullptr : nothing.data();
    for (int m = 0; m < std::clamp(3, decl->minModels, decl->maxModels); ++m) {
        ModelInput input;
        input.data = nothing.data();
        input.modelIndex = m;
        input.label = "ft";
        input.params.set("weight", 1.0);
        input.params.set("density", 0.5);
        job.models.push_back(std::move(input));
    }
    job.global.set("t", 0.5);
    TensorNotes notes;
    const auto result = decl->kernel(job, std::span<float>(), notes);
    QVERIFY2(result.ok(), result.ok() ? "" : result.error().message.c_str());
}

QTEST_GUILESS_MAIN(TestDeterminism)
#include "tst_determinism.moc"
