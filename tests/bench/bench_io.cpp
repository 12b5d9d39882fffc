// SPDX-License-Identifier: GPL-3.0-or-later
// Checkpoint I/O benchmark (prints figures; not a test).
//
//   bench_io [DIR] [--keep] [--layers N]
//
// Generates a Llama-shaped bf16 checkpoint of about 3 GB (demo generator, 22 layers,
// hidden 2048, intermediate 8192, vocab 32000, sharded at 1 GB) into DIR (default: a new
// temporary folder, removed afterwards unless --keep), then measures
//   1. header-only open of the sharded folder (target < 100 ms);
//   2. streaming every tensor of the warm checkpoint to f32 with Checkpoint::readF32,
//      against memcpy bandwidth measured in the same run (target >= 50 %).
#include "model/checkpoint.h"
#include "model/demofamily.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <omp.h>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Best of several copies of `bytes` between two buffers, with `threads` threads.
double memcpyBandwidth(std::size_t bytes, int threads)
{
    std::vector<char> a(bytes, 1), b(bytes, 2);
    double best = 0;
    for (int round = 0; round < 5; ++round) {
        const auto start = Clock::now();
        const std::size_t chunk = bytes / static_cast<std::size_t>(threads);
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int t = 0; t < threads; ++t)
            std::memcpy(b.data() + chunk * static_cast<std::size_t>(t),
                        a.data() + chunk * static_cast<std::size_t>(t), chunk);
        best = std::max(best, static_cast<double>(bytes) / secondsSince(start));
    }
    if (b[bytes / 2] != 1)
        std::puts("memcpy check failed");
    return best;
}

} // namespace

int main(int argc, char **argv)
{
    fs::path dir;
    bool keep = false;
    int layers = 22;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--keep")
            keep = true;
        else if (arg == "--layers" && i + 1 < argc)
            layers = std::atoi(argv[++i]);
        else
            dir = arg;
    }
    bool madeTemp = false;
    if (dir.empty()) {
        std::string templ = (fs::temp_directory_path() / "bench_io-XXXXXX").string();
        if (!::mkdtemp(templ.data())) {
            std::perror("mkdtemp");
            return 1;
        }
        dir = templ;
        madeTemp = true;
    }
    const fs::path model = dir / "base";

    if (!fs::exists(model)) {
        basin::DemoFamilyOptions options;
        options.size = "1b";
        options.layers = layers;
        options.fineTunes = 0;
        options.dtype = basin::Dtype::BF16;
        const auto start = Clock::now();
        auto written = basin::writeDemoFamily(dir, options);
        if (!written) {
            std::fprintf(stderr, "generate: %s\n", written.error().message.c_str());
            return 1;
        }
        std::printf("generated %s: %.2f GB bf16 in %.1f s (%.0f MB/s)\n", model.c_str(),
                    static_cast<double>(written->bytesPerModel) / 1e9, secondsSince(start),
                    static_cast<double>(written->bytesPerModel) / 1e6 / secondsSince(start));
    } else {
        std::printf("reusing %s\n", model.c_str());
    }

    // 1. Header-only open.
    std::vector<double> opens;
    std::shared_ptr<const basin::Checkpoint> checkpoint;
    for (int i = 0; i < 20; ++i) {
        const auto start = Clock::now();
        auto opened = basin::Checkpoint::open(model);
        opens.push_back(secondsSince(start));
        if (!opened) {
            std::fprintf(stderr, "open: %s\n", opened.error().message.c_str());
            return 1;
        }
        checkpoint = *opened;
    }
    std::sort(opens.begin(), opens.end());
    std::printf(
        "open (header only): %zu files, %zu tensors, %.2f GB: median %.2f ms, best %.2f ms, "
        "worst %.2f ms (target < 100 ms)\n",
        checkpoint->files().size(), checkpoint->tensors().size(),
        static_cast<double>(checkpoint->totalBytes()) / 1e9, opens[opens.size() / 2] * 1e3,
        opens.front() * 1e3, opens.back() * 1e3);

    // 2. Streaming decode of the warm checkpoint.
    std::uint64_t largest = 0;
    for (const basin::TensorInfo &t : checkpoint->tensors())
        largest = std::max(largest, t.numel);
    std::vector<float> buffer(largest);
    std::uint64_t f32Bytes = 0;
    double decodeBest = 0;
    for (int pass = 0; pass < 3; ++pass) { // pass 0 warms the page cache
        const auto start = Clock::now();
        f32Bytes = 0;
        for (const basin::TensorInfo &t : checkpoint->tensors()) {
            auto r = checkpoint->readF32(t, std::span<float>(buffer.data(), t.numel));
            if (!r) {
                std::fprintf(stderr, "read: %s\n", r.error().message.c_str());
                return 1;
            }
            checkpoint->release(t);
            f32Bytes += t.numel * 4;
        }
        const double seconds = secondsSince(start);
        std::printf("  pass %d: %.2f s, %.2f GB/s of f32 output (%.2f GB/s of bf16 input)%s\n",
                    pass, seconds, static_cast<double>(f32Bytes) / 1e9 / seconds,
                    static_cast<double>(checkpoint->totalBytes()) / 1e9 / seconds,
                    pass == 0 ? " [warm-up]" : "");
        if (pass > 0)
            decodeBest = std::max(decodeBest, static_cast<double>(f32Bytes) / seconds);
    }

    const int threads = omp_get_max_threads();
    const double copy1 = memcpyBandwidth(std::size_t(512) << 20, 1);
    const double copyN = memcpyBandwidth(std::size_t(512) << 20, threads);
    const double copy = std::max(copy1, copyN);
    std::printf("memcpy (512 MiB buffers): %.2f GB/s on 1 thread, %.2f GB/s on %d threads\n",
                copy1 / 1e9, copyN / 1e9, threads);
    std::printf("bf16 -> f32 streaming: %.2f GB/s of f32 output = %.0f %% of the best memcpy "
                "bandwidth (target >= 50 %%)\n",
                decodeBest / 1e9, 100.0 * decodeBest / copy);

    checkpoint.reset();
    if (!keep && madeTemp) {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    return 0;
}
