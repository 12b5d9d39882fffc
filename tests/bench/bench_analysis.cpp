// SPDX-License-Identifier: GPL-3.0-or-later
// The Tier-1 analysis pass over a generated base + 3 fine-tunes, with a warm page cache:
// bytes of tensor data read per second next to a memcpy bandwidth measured in the same
// run (target: >= 40 %), and the peak resident set size.
//
//   bench_analysis [--dir DIR] [--size medium] [--layers 8] [--dtype bf16|f32]
//                  [--repeat 3] [--threads N] [--sample S]
//
// DIR (default /tmp/basin-bench-analysis-<size>-<layers>-<dtype>) keeps the family between
// runs; it is generated when missing (~1 GB with the defaults). Not a test: it prints figures.
#include "analysis/analysispass.h"
#include "model/checkpoint.h"
#include "model/demofamily.h"
#include "model/modelset.h"
#include "openmpwait.h"

#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

using namespace basin;
using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// GB/s of bytes read by a parallel memcpy of 1 MiB blocks (best of `repeat`).
double memcpyBandwidth(std::size_t bytes, int repeat, int threads)
{
    std::vector<char> src(bytes, 1);
    std::vector<char> dst(bytes, 0);
    const auto blocks = static_cast<std::int64_t>((bytes + (1 << 20) - 1) >> 20);
    double best = 0.0;
    for (int r = 0; r < repeat; ++r) {
        const auto start = Clock::now();
#pragma omp parallel for schedule(static) num_threads(threads)
        for (std::int64_t b = 0; b < blocks; ++b) {
            const std::size_t begin = static_cast<std::size_t>(b) << 20;
            const std::size_t count = std::min<std::size_t>(std::size_t{1} << 20, bytes - begin);
            std::memcpy(dst.data() + begin, src.data() + begin, count);
        }
        best = std::max(best, static_cast<double>(bytes) / secondsSince(start) / 1e9);
    }
    return best;
}

// The least any exact pass can cost: per coordinate, each fine-tune's |τ| = |x − b| (bf16
// inputs, as f32) binned at bf16 resolution and counted into that model's histogram, and
// nothing else. Synthetic data of `weights` coordinates (base + 3 fine-tunes, deltas of a
// few bf16 steps); per-thread histograms; best wall time of `repeat` runs.
double histogramFloorSeconds(std::uint64_t weights, int repeat, int threads)
{
    std::vector<std::uint16_t> values[4];
    std::uint32_t state = 12345;
    for (std::vector<std::uint16_t> &v : values) {
        v.resize(weights);
        for (std::uint16_t &x : v) {
            state = state * 1664525u + 1013904223u;
            x = static_cast<std::uint16_t>(0x3c00u + (state >> 22));
        }
    }
    constexpr std::size_t kBins = 32768; // |τ| has no sign bit
    std::vector<std::uint32_t> hist(static_cast<std::size_t>(threads) * 3 * kBins);
    const auto asFloat = [](std::uint16_t bf16) {
        const std::uint32_t bits = std::uint32_t{bf16} << 16;
        float f;
        std::memcpy(&f, &bits, 4);
        return f;
    };
    double best = 1e300;
    for (int r = 0; r < repeat; ++r) {
        const auto start = Clock::now();
#pragma omp parallel num_threads(threads)
        {
            std::uint32_t *h =
                hist.data() + static_cast<std::size_t>(omp_get_thread_num()) * 3 * kBins;
#pragma omp for schedule(static)
            for (std::int64_t i = 0; i < static_cast<std::int64_t>(weights); ++i) {
                const float b = asFloat(values[0][std::size_t(i)]);
                for (std::size_t t = 0; t < 3; ++t) {
                    const float d = asFloat(values[t + 1][std::size_t(i)]) - b;
                    std::uint32_t bits;
                    std::memcpy(&bits, &d, 4);
                    ++h[t * kBins + ((bits & 0x7fffffffu) >> 16)];
                }
            }
        }
        best = std::min(best, secondsSince(start));
    }
    return best;
}

// User + system CPU seconds of the whole process so far.
double cpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval &t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double peakRssMiB()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0; // ru_maxrss is in KiB on Linux
}

} // namespace

int main(int argc, char **argv)
{
    // As `basin` does (app/openmpwait.cpp): idle OpenMP threads must not spin on the cores
    // the prefetch thread needs.
    app::preferPassiveOpenMpWait(argv);
    std::string dir;
    std::string size = "medium";
    int layers = 8;
    std::string dtypeName = "bf16";
    int repeat = 3;
    int threads = omp_get_max_threads();
    std::uint64_t sample = analysis::AnalysisOptions{}.sampleSize;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool hasValue = i + 1 < argc;
        if (arg == "--dir" && hasValue)
            dir = argv[++i];
        else if (arg == "--size" && hasValue)
            size = argv[++i];
        else if (arg == "--layers" && hasValue)
            layers = std::atoi(argv[++i]);
        else if (arg == "--dtype" && hasValue)
            dtypeName = argv[++i];
        else if (arg == "--repeat" && hasValue)
            repeat = std::max(1, std::atoi(argv[++i]));
        else if (arg == "--threads" && hasValue)
            threads = std::max(1, std::atoi(argv[++i]));
        else if (arg == "--sample" && hasValue)
            sample = std::strtoull(argv[++i], nullptr, 10);
        else {
            std::fprintf(stderr, "usage: bench_analysis [--dir DIR] [--size S] [--layers N] "
                                 "[--dtype bf16|f32] [--repeat R] [--threads N] [--sample S]\n");
            return 2;
        }
    }
    if (dtypeName != "bf16" && dtypeName != "f32") {
        std::fprintf(stderr, "bench_analysis: --dtype must be bf16 or f32\n");
        return 2;
    }
    if (dir.empty())
        dir = "/tmp/basin-bench-analysis-" + size + "-" + std::to_string(layers) + "-" + dtypeName;

    if (!std::filesystem::exists(std::filesystem::path(dir) / "base")) {
        DemoFamilyOptions demo;
        demo.size = size;
        demo.layers = layers;
        demo.fineTunes = 3;
        demo.dtype = dtypeName == "bf16" ? Dtype::BF16 : Dtype::F32;
        std::filesystem::create_directories(dir);
        std::printf("generating %s (%s, %d layers, %s) ...\n", dir.c_str(), size.c_str(), layers,
                    dtypeName.c_str());
        std::fflush(stdout);
        const auto written = writeDemoFamily(dir, demo);
        if (!written) {
            std::fprintf(stderr, "bench_analysis: %s\n", written.error().message.c_str());
            return 1;
        }
    }

    std::vector<std::shared_ptr<const Checkpoint>> models;
    for (const char *name : {"base", "ft1", "ft2", "ft3"}) {
        auto checkpoint = Checkpoint::open(std::filesystem::path(dir) / name);
        if (!checkpoint) {
            std::fprintf(stderr, "bench_analysis: %s\n", checkpoint.error().message.c_str());
            return 1;
        }
        models.push_back(*checkpoint);
    }
    auto set = ModelSet::create(models);
    if (!set) {
        std::fprintf(stderr, "bench_analysis: %s\n", set.error().message.c_str());
        return 1;
    }
    std::uint64_t bytes = 0;
    std::uint64_t params = 0;
    for (const auto &model : models) {
        bytes += model->totalBytes();
        params += model->parameterCount();
    }

    analysis::AnalysisOptions options;
    options.threads = threads;
    options.sampleSize = sample;
    std::printf("bench_analysis: %s, base + 3 fine-tunes, %.1f M weights per model, %.2f GB of "
                "tensor data, %d threads, sample %llu per tensor\n",
                dir.c_str(), static_cast<double>(params) / 4.0 / 1e6,
                static_cast<double>(bytes) / 1e9, threads, static_cast<unsigned long long>(sample));

    // Warm-up pass: pulls every file into the page cache.
    {
        const auto warm = analysis::analyse(**set, options);
        if (!warm) {
            std::fprintf(stderr, "bench_analysis: %s\n", warm.error().message.c_str());
            return 1;
        }
    }
    double best = 1e300;
    double bestCpu = 1e300;
    for (int r = 0; r < repeat; ++r) {
        const auto start = Clock::now();
        const double cpuStart = cpuSeconds();
        const auto snapshot = analysis::analyse(**set, options);
        const double seconds = secondsSince(start);
        const double cpu = cpuSeconds() - cpuStart;
        if (!snapshot) {
            std::fprintf(stderr, "bench_analysis: %s\n", snapshot.error().message.c_str());
            return 1;
        }
        std::printf("  pass %d: %.3f s wall, %.3f s CPU\n", r + 1, seconds, cpu);
        best = std::min(best, seconds);
        bestCpu = std::min(bestCpu, cpu);
    }
    const double passRate = static_cast<double>(bytes) / best / 1e9;
    const double rss = peakRssMiB(); // before the memcpy buffers exist
    const double copyRate = memcpyBandwidth(std::size_t{512} << 20, 5, threads);
    std::printf("analysis pass: %.3f s, %.2f GB/s of tensor data read\n", best, passRate);
    // On a shared machine the wall clock includes time spent waiting for a core; the CPU
    // figure (all threads) says what the pass costs.
    std::printf("CPU:           %.3f s (all threads), %.2f GB per CPU-second\n", bestCpu,
                static_cast<double>(bytes) / bestCpu / 1e9);
    std::printf("memcpy:        %.2f GB/s read\n", copyRate);
    std::printf("ratio:         %.1f %% of memcpy (target >= 40 %%)\n",
                100.0 * passRate / copyRate);
    std::printf("peak RSS:      %.0f MiB during the passes\n", rss);
    const std::uint64_t weights = params / 4;
    const double floor = histogramFloorSeconds(weights, repeat, threads);
    const double floorBytes = static_cast<double>(weights) * 4.0 * 2.0; // 4 models, bf16
    std::printf("floor:         %.3f s, %.1f %% of memcpy: the exact |tau| histograms alone (no "
                "other statistic) over as many weights in bf16\n",
                floor, 100.0 * floorBytes / floor / 1e9 / copyRate);
    return 0;
}
