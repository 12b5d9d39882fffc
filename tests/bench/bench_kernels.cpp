// SPDX-License-Identifier: GPL-3.0-or-later
// Kernel throughput per merge method on one large tensor (default 64 Mi elements, base +
// 3 fine-tunes), as GB/s of input read, next to a memcpy bandwidth measured in the same run.
//
//   bench_kernels [--elements N] [--repeat R] [--rank-scratch] [method ...]
//
// --rank-scratch instead measures the top-k selection (merge/rankselect.h) on a
// bf16-quantised task vector: the candidate scratch RankFinder holds, its time and the path
// that answered.
//
// Not a test: it prints figures. Targets (docs/METHODS.md): linear and task_arithmetic at
// >= 40 % of the memcpy figure, ties / dare / breadcrumbs at >= 15 %.
#include "merge/method.h"
#include "merge/rankselect.h"

#include <omp.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

using namespace basin::merge;

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Fills in parallel with a cheap deterministic generator (the bench measures kernels, not
// the fill).
void fill(std::vector<float> &values, std::uint64_t seed, float scale, const float *add)
{
    const auto n = static_cast<std::int64_t>(values.size());
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < n; ++i) {
        std::uint64_t z = seed * 0x9e3779b97f4a7c15ull + static_cast<std::uint64_t>(i);
        z = (z ^ (z >> 31)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 29)) * 0x94d049bb133111ebull;
        z ^= z >> 32;
        // Sum of two uniforms: a cheap bell shape with plenty of distinct magnitudes.
        const float u = static_cast<float>(z & 0xffff) / 65536.0f +
                        static_cast<float>((z >> 16) & 0xffff) / 65536.0f - 1.0f;
        values[static_cast<std::size_t>(i)] = (add ? add[i] : 0.0f) + scale * u;
    }
}

// Copies src to dst in parallel and returns GB/s of bytes read (best of `repeat`).
double memcpyBandwidth(const std::vector<float> &src, std::vector<float> &dst, int repeat)
{
    const std::size_t n = src.size();
    double best = 0.0;
    for (int r = 0; r < repeat; ++r) {
        const auto start = Clock::now();
        const auto blocks = static_cast<std::int64_t>((n + (1 << 20) - 1) >> 20);
#pragma omp parallel for schedule(static)
        for (std::int64_t b = 0; b < blocks; ++b) {
            const std::size_t begin = static_cast<std::size_t>(b) << 20;
            const std::size_t count = std::min<std::size_t>(std::size_t{1} << 20, n - begin);
            std::memcpy(dst.data() + begin, src.data() + begin, count * sizeof(float));
        }
        best = std::max(best, static_cast<double>(n * sizeof(float)) / secondsSince(start) / 1e9);
    }
    return best;
}

// f32 rounded to bf16 (nearest even) and back.
float bf16(float x)
{
    const std::uint32_t u = std::bit_cast<std::uint32_t>(x);
    return std::bit_cast<float>((u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u);
}

// A bf16 fine-tune's task vector: bf16 weights moved by a few ulps, so magnitudes repeat in
// long runs (the case that used to fill RankFinder's window with hundreds of MB).
int rankScratch(std::uint64_t elements)
{
    std::vector<float> base(elements);
    std::vector<float> tuned(elements);
    fill(base, 1, 0.05f, nullptr);
    fill(tuned, 2, 3e-4f, base.data());
    for (std::uint64_t i = 0; i < elements; ++i) {
        base[i] = bf16(base[i]);
        tuned[i] = bf16(tuned[i]);
    }
    const float *x = tuned.data();
    const float *b = base.data();
    const auto bitsAt = [x, b](std::uint64_t i) { return magnitudeBits(x[i] - b[i]); };
    std::printf("rank selection, %llu bf16-quantised elements, %d threads; candidate budget "
                "%.1f MiB\n",
                static_cast<unsigned long long>(elements), omp_get_max_threads(),
                static_cast<double>(RankFinder<decltype(bitsAt)>::candidateBudget(elements)) * 8.0 /
                    1048576.0);
    for (const double density : {0.1, 0.3, 0.5, 0.7, 0.9}) {
        const auto k = static_cast<std::uint64_t>(density * static_cast<double>(elements));
        const auto start = Clock::now();
        RankFinder finder(elements, bitsAt);
        const RankValue cut = finder.at(elements - k);
        const std::uint64_t keptEqual = k - (elements - cut.below - cut.equal);
        const std::uint64_t index =
            keptEqual == cut.equal ? elements : finder.nthEqualIndex(cut.bits, keptEqual);
        const double seconds = secondsSince(start);
        // Which path answered: a guessed value (countGuesses()), the window, or the radix.
        const char *path = finder.guessedRanks() > 0       ? "guess"
                           : finder.peakScratchBytes() > 0 ? "window"
                                                           : "radix";
        std::printf("  density %.1f: peak candidate scratch %7.1f MiB, %6.3f s, %s (cut bits "
                    "%u, %llu equal, tie index %llu)\n",
                    density, static_cast<double>(finder.peakScratchBytes()) / 1048576.0, seconds,
                    path, cut.bits, static_cast<unsigned long long>(cut.equal),
                    static_cast<unsigned long long>(index));
    }
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    std::uint64_t elements = std::uint64_t{64} << 20;
    int repeat = 2;
    std::vector<std::string> selected;
    bool scratch = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--rank-scratch")
            scratch = true;
        else if (arg == "--elements" && i + 1 < argc)
            elements = std::strtoull(argv[++i], nullptr, 10);
        else if (arg == "--repeat" && i + 1 < argc)
            repeat = std::max(1, std::atoi(argv[++i]));
        else
            selected.push_back(arg);
    }
    if (scratch)
        return rankScratch(elements);
    const std::uint64_t cols = 8192;
    elements = std::max<std::uint64_t>(cols, elements / cols * cols);
    const std::vector<std::uint64_t> shape{elements / cols, cols};

    std::printf("bench_kernels: %llu elements (%llu x %llu), %d threads\n",
                static_cast<unsigned long long>(elements),
                static_cast<unsigned long long>(shape[0]), static_cast<unsigned long long>(cols),
                omp_get_max_threads());
    std::vector<float> base(elements);
    fill(base, 1, 0.05f, nullptr);
    std::vector<std::vector<float>> finetunes(3, std::vector<float>(elements));
    for (std::size_t m = 0; m < finetunes.size(); ++m)
        fill(finetunes[m], 2 + m, 0.01f, base.data());
    std::vector<float> out(elements, 0.0f); // touched: page faults stay out of the figures

    const double bandwidth = memcpyBandwidth(base, out, 3);
    std::printf("memcpy: %.2f GB/s read\n\n", bandwidth);
    // cpu s is the process CPU time of the best run: on a shared machine, cpu s well below
    // threads × seconds means the kernel waited for a core, not for memory.
    std::printf("%-18s %7s %9s %9s %9s %8s\n", "method", "inputs", "seconds", "cpu s", "GB/s",
                "% memcpy");

    for (const MethodDecl &method : methods()) {
        if (!selected.empty() &&
            std::find(selected.begin(), selected.end(), std::string(method.name)) == selected.end())
            continue;
        TensorJob job;
        job.tensorName = "model.layers.0.mlp.up_proj.weight";
        job.shape = shape;
        job.numel = elements;
        job.seed = 7;
        const bool hasBase = method.base != BaseRule::AsInput;
        job.base = hasBase ? base.data() : nullptr;
        const int count = std::clamp(3, method.minModels, method.maxModels);
        for (int m = 0; m < count; ++m) {
            ModelInput input;
            input.data = finetunes[static_cast<std::size_t>(m)].data();
            input.modelIndex = m;
            input.label = "ft" + std::to_string(m + 1);
            for (const ParamDecl &param : method.params) {
                if (param.scope != ParamScope::PerModel || param.name == "scale")
                    continue;
                const double value = param.name == "weight"    ? 0.5
                                     : param.name == "density" ? 0.5
                                                               : param.defaultValue.value_or(0.0);
                input.params.set(param.name, value);
            }
            job.models.push_back(std::move(input));
        }
        for (const ParamDecl &param : method.params) {
            if (param.scope == ParamScope::Global)
                job.global.set(param.name,
                               param.defaultValue.value_or(param.name == "t" ? 0.3 : 1.0));
        }
        if (method.name == "nearswap")
            job.global.set("t", 0.01);

        double best = 1e30;
        double bestCpu = 0.0;
        bool failed = false;
        for (int r = 0; r < repeat && !failed; ++r) {
            TensorNotes notes;
            const std::clock_t cpuStart = std::clock();
            const auto start = Clock::now();
            const auto result = method.kernel(job, out, notes);
            const double seconds = secondsSince(start);
            const double cpu = static_cast<double>(std::clock() - cpuStart) / CLOCKS_PER_SEC;
            if (!result.ok()) {
                std::printf("%-18s failed: %s\n", std::string(method.name).c_str(),
                            result.error().message.c_str());
                failed = true;
            }
            if (seconds < best) {
                best = seconds;
                bestCpu = cpu;
            }
        }
        if (failed)
            continue;
        const int inputs = count + (hasBase ? 1 : 0);
        const double gbps = static_cast<double>(inputs) * sizeof(float) *
                            static_cast<double>(elements) / best / 1e9;
        std::printf("%-18s %7d %9.3f %9.3f %9.2f %7.1f%%\n", std::string(method.name).c_str(),
                    inputs, best, bestCpu, gbps, 100.0 * gbps / bandwidth);
        std::fflush(stdout);
    }
    return 0;
}
