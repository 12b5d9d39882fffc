// SPDX-License-Identifier: GPL-3.0-or-later
// Preview recompute after one slider change, for a 32-layer model with 4 fine-tunes.
// The snapshot is synthetic (random samples and a consistent-looking Gram cache, no files):
// only the recompute is timed, which is what a slider move costs in the GUI.
//
//   bench_preview [sample size per tensor, default 65536] [repetitions, default 15]
#include "analysis/analysissnapshot.h"
#include "analysis/preview.h"
#include "model/tensorname.h"
#include "recipe/recipe.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

using namespace basin;
using namespace basin::analysis;

namespace {

constexpr int kLayers = 32;
constexpr int kFineTunes = 4;

void addTensor(AnalysisSnapshot &snapshot, const std::string &name, std::uint64_t numel,
               std::uint64_t sampleSize, std::mt19937_64 &rng)
{
    TensorEntry entry;
    entry.name = name;
    entry.nameInfo = parseTensorName(name);
    entry.numel = numel;
    entry.shape = {numel};
    entry.present.assign(kFineTunes, true);
    const std::uint64_t s = std::min(sampleSize, numel);
    TensorSample &sample = entry.sample;
    sample.indices.resize(s);
    for (std::uint64_t i = 0; i < s; ++i)
        sample.indices[i] = i * (numel / s);
    std::normal_distribution<float> weight(0.0f, 0.02f), delta(0.0f, 2e-4f);
    sample.base.resize(s);
    sample.tau.resize(s * kFineTunes);
    sample.present.assign(kFineTunes, true);
    for (auto &v : sample.base)
        v = weight(rng);
    for (auto &v : sample.tau)
        v = delta(rng);
    // The Gram cache scaled up from the sample, so the numbers look like a whole tensor's.
    const double scale = double(numel) / double(s);
    entry.stats = StatsBlock(kFineTunes);
    entry.stats.set.numel = numel;
    for (int t = 0; t < kFineTunes; ++t) {
        ModelAccum &m = entry.stats.models[std::size_t(t)];
        m.count = numel;
        const auto dt = sample.deltas(t);
        for (std::uint64_t i = 0; i < s; ++i) {
            m.sumSq += scale * double(dt[i]) * dt[i];
            m.baseDot += scale * double(dt[i]) * sample.base[i];
        }
        for (int u = t + 1; u < kFineTunes; ++u) {
            const auto du = sample.deltas(u);
            double dot = 0.0;
            for (std::uint64_t i = 0; i < s; ++i)
                dot += double(dt[i]) * du[i];
            entry.stats.pairs[std::size_t(pairIndex(t, u, kFineTunes))].dot = scale * dot;
        }
    }
    for (float b : sample.base)
        entry.stats.set.baseSumSq += scale * double(b) * b;
    snapshot.tensors.push_back(std::move(entry));
}

recipe::Recipe makeRecipe(const std::string &method, double weight0)
{
    recipe::Recipe r;
    r.mergeMethod = method;
    r.baseModel.path = "/bench/base";
    r.baseModel.resolved = r.baseModel.path;
    for (int t = 1; t <= kFineTunes; ++t) {
        recipe::ModelEntry entry;
        entry.model.path = "/bench/ft" + std::to_string(t);
        entry.model.resolved = entry.model.path;
        recipe::setParameter(entry.parameters, "weight",
                             recipe::Setting(recipe::Value::makeNumber(t == 1 ? weight0 : 0.5)));
        if (method == "ties")
            recipe::setParameter(entry.parameters, "density",
                                 recipe::Setting(recipe::Value::makeNumber(0.3)));
        r.models.push_back(std::move(entry));
    }
    return r;
}

// Median wall-clock and CPU (all threads) milliseconds of one recompute. CPU time is shown
// because the shared build machine is often oversubscribed, which inflates wall time.
std::pair<double, double> medianMs(const AnalysisSnapshot &snapshot, const std::string &method,
                                   int reps)
{
    std::vector<double> ms, cpu;
    for (int i = 0; i < reps; ++i) {
        // One slider change: ft1's weight moves, everything is recomputed.
        const recipe::Recipe r = makeRecipe(method, 0.3 + 0.01 * i);
        const auto start = std::chrono::steady_clock::now();
        const std::clock_t cpuStart = std::clock();
        auto preview = computePreview(snapshot, r);
        const std::clock_t cpuEnd = std::clock();
        const auto end = std::chrono::steady_clock::now();
        if (!preview) {
            std::fprintf(stderr, "preview failed: %s\n", preview.error().message.c_str());
            std::exit(1);
        }
        ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
        cpu.push_back(1000.0 * double(cpuEnd - cpuStart) / CLOCKS_PER_SEC);
    }
    std::sort(ms.begin(), ms.end());
    std::sort(cpu.begin(), cpu.end());
    return {ms[ms.size() / 2], cpu[cpu.size() / 2]};
}

} // namespace

int main(int argc, char **argv)
{
    const std::uint64_t sampleSize = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 65536;
    const int reps = argc > 2 ? std::atoi(argv[2]) : 15;
    AnalysisSnapshot snapshot;
    snapshot.options.sampleSize = sampleSize;
    snapshot.modelPaths.push_back("/bench/base");
    snapshot.modelNames.push_back("base");
    for (int t = 1; t <= kFineTunes; ++t) {
        snapshot.modelPaths.push_back("/bench/ft" + std::to_string(t));
        snapshot.modelNames.push_back("ft" + std::to_string(t));
    }
    std::mt19937_64 rng(7);
    // Llama-7B-like tensor sizes: hidden 4096, intermediate 11008, vocab 32000.
    const std::uint64_t h = 4096, inter = 11008, vocab = 32000;
    addTensor(snapshot, "model.embed_tokens.weight", vocab * h, sampleSize, rng);
    for (int l = 0; l < kLayers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        addTensor(snapshot, p + "input_layernorm.weight", h, sampleSize, rng);
        for (const char *k : {"q_proj", "k_proj", "v_proj", "o_proj"})
            addTensor(snapshot, p + "self_attn." + k + ".weight", h * h, sampleSize, rng);
        addTensor(snapshot, p + "post_attention_layernorm.weight", h, sampleSize, rng);
        for (const char *k : {"gate_proj", "up_proj", "down_proj"})
            addTensor(snapshot, p + "mlp." + k + ".weight", h * inter, sampleSize, rng);
    }
    addTensor(snapshot, "model.norm.weight", h, sampleSize, rng);
    addTensor(snapshot, "lm_head.weight", vocab * h, sampleSize, rng);
    finishSnapshot(snapshot);

    std::printf("bench_preview: %d layers, %d fine-tunes, %zu tensors, sample <= %llu per tensor\n",
                kLayers, kFineTunes, snapshot.tensors.size(),
                static_cast<unsigned long long>(sampleSize));
    const auto linear = medianMs(snapshot, "task_arithmetic", reps);
    std::printf("  task_arithmetic (exact, Gram cache): median %.2f ms wall, %.2f ms CPU\n",
                linear.first, linear.second);
    const auto ties = medianMs(snapshot, "ties", reps);
    std::printf("  ties (sampled, real kernel):         median %.2f ms wall, %.2f ms CPU\n",
                ties.first, ties.second);
    return 0;
}
