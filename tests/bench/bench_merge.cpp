// SPDX-License-Identifier: GPL-3.0-or-later
// Figures for the merge engine (run by tests/bench/run-merge-bench.sh, not by CI).
//
//   bench_merge bounds [--write SIZE DIR] FILE...
//                                     time to read FILEs through the page cache (read(),
//                                     like cat) and to memcpy the same bytes from memory
//                                     (mapped and pre-faulted), in this run; with --write,
//                                     also to write SIZE bytes into DIR (a merge's output:
//                                     write() into the page cache, then fsync)
//   bench_merge merge RECIPE OUT_DIR [--threads N] [--shard-size SIZE] [--trace]
//                                     runMerge() in this process: wall time, peak RSS
//                                     (getrusage), output size; OUT_DIR is replaced;
//                                     --trace prints the resident memory (anonymous and
//                                     file-backed) after every tensor
#include "engine/bytesize.h"
#include "engine/mergerunner.h"
#include "recipe/yamlreader.h"

#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

int usage()
{
    std::fputs("usage: bench_merge bounds [--write SIZE DIR] FILE...\n"
               "       bench_merge merge RECIPE OUT_DIR [--threads N] [--shard-size SIZE] "
               "[--trace]\n",
               stderr);
    return 2;
}

// "RssAnon: 123 kB" and friends from /proc/self/status, in MiB.
std::string residentMemory()
{
    std::FILE *status = std::fopen("/proc/self/status", "r");
    if (!status)
        return "?";
    std::string text;
    char line[256];
    while (std::fgets(line, sizeof line, status)) {
        long kb = 0;
        char name[64];
        if (std::sscanf(line, "%63[^:]: %ld kB", name, &kb) == 2 &&
            (std::strcmp(name, "RssAnon") == 0 || std::strcmp(name, "RssFile") == 0))
            text += std::string(name) + " " + std::to_string(kb / 1024) + " MiB  ";
    }
    std::fclose(status);
    return text;
}

struct Mapped {
    void *data = nullptr;
    std::size_t size = 0;
};

// Writes `bytes` into a new file in `folder` in 4 MiB pieces, then fsyncs it: the cost of a
// merge's output alone. Prints both times and removes the file.
int writeBound(std::uint64_t bytes, const char *folder)
{
    const std::string path = std::string(folder) + "/.bench_merge-write.tmp";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        std::perror(path.c_str());
        return 1;
    }
    std::vector<char> piece(4u << 20, 1);
    const auto start = Clock::now();
    for (std::uint64_t done = 0; done < bytes;) {
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), bytes - done));
        const ssize_t written = ::write(fd, piece.data(), n);
        if (written <= 0) {
            std::perror("write");
            ::close(fd);
            ::unlink(path.c_str());
            return 1;
        }
        done += static_cast<std::uint64_t>(written);
    }
    const double writeSeconds = since(start);
    ::fsync(fd);
    const double syncSeconds = since(start);
    ::close(fd);
    ::unlink(path.c_str());
    std::printf("write %s into %s: %.3f s (%.2f GB/s), %.3f s with fsync\n",
                basin::engine::formatByteSize(bytes).c_str(), folder, writeSeconds,
                static_cast<double>(bytes) / writeSeconds / 1e9, syncSeconds);
    return 0;
}

int bounds(int argc, char **argv)
{
    if (argc >= 3 && std::strcmp(argv[0], "--write") == 0) {
        auto size = basin::engine::parseByteSize(argv[1]);
        if (!size) {
            std::fprintf(stderr, "%s\n", size.error().message.c_str());
            return 2;
        }
        if (const int rc = writeBound(*size, argv[2]); rc != 0)
            return rc;
        argc -= 3;
        argv += 3;
    }
    std::uint64_t total = 0;
    // read(): what `cat FILE > /dev/null` costs, warm.
    std::vector<char> buffer(1u << 20);
    const auto readStart = Clock::now();
    for (int i = 0; i < argc; ++i) {
        const int fd = ::open(argv[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            std::perror(argv[i]);
            return 1;
        }
        ssize_t n = 0;
        while ((n = ::read(fd, buffer.data(), buffer.size())) > 0)
            total += static_cast<std::uint64_t>(n);
        ::close(fd);
    }
    const double readSeconds = since(readStart);

    // memcpy of the same bytes out of memory: the files mapped and pre-faulted, copied in
    // 1 MiB pieces into per-thread buffers (one pass over every input byte).
    std::vector<Mapped> maps;
    for (int i = 0; i < argc; ++i) {
        const int fd = ::open(argv[i], O_RDONLY | O_CLOEXEC);
        struct stat st {};
        ::fstat(fd, &st);
        Mapped m;
        m.size = static_cast<std::size_t>(st.st_size);
        m.data = ::mmap(nullptr, m.size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
        ::close(fd);
        if (m.data == MAP_FAILED) {
            std::perror("mmap");
            return 1;
        }
        maps.push_back(m);
    }
    const int threads = omp_get_max_threads();
    std::vector<std::vector<char>> sinks(static_cast<std::size_t>(threads),
                                         std::vector<char>(1u << 20));
    double best = 1e30;
    for (int repeat = 0; repeat < 3; ++repeat) {
        const auto start = Clock::now();
        for (const Mapped &m : maps) {
            const auto pieces = static_cast<std::int64_t>((m.size + (1u << 20) - 1) >> 20);
#pragma omp parallel for schedule(static)
            for (std::int64_t p = 0; p < pieces; ++p) {
                const std::size_t begin = static_cast<std::size_t>(p) << 20;
                const std::size_t count = std::min<std::size_t>(1u << 20, m.size - begin);
                std::memcpy(sinks[static_cast<std::size_t>(omp_get_thread_num())].data(),
                            static_cast<const char *>(m.data) + begin, count);
            }
        }
        best = std::min(best, since(start));
    }
    for (const Mapped &m : maps)
        ::munmap(m.data, m.size);
    std::printf("inputs: %s in %d files\n", basin::engine::formatByteSize(total).c_str(), argc);
    std::printf("read (cat, warm): %.3f s (%.2f GB/s)\n", readSeconds,
                static_cast<double>(total) / readSeconds / 1e9);
    std::printf("memcpy of the same bytes (%d threads): %.3f s (%.2f GB/s)\n", threads, best,
                static_cast<double>(total) / best / 1e9);
    return 0;
}

int merge(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    basin::engine::MergeOptions options;
    options.overwrite = true;
    bool trace = false;
    for (int i = 2; i < argc; i += 2) {
        if (std::strcmp(argv[i], "--trace") == 0) {
            trace = true;
            --i;
        } else if (i + 1 >= argc) {
            return usage();
        } else if (std::strcmp(argv[i], "--threads") == 0) {
            options.threads = std::atoi(argv[i + 1]);
        } else if (std::strcmp(argv[i], "--shard-size") == 0) {
            auto size = basin::engine::parseByteSize(argv[i + 1]);
            if (!size) {
                std::fprintf(stderr, "%s\n", size.error().message.c_str());
                return 2;
            }
            options.maxShardBytes = *size;
        } else {
            return usage();
        }
    }
    auto recipe = basin::recipe::readRecipeFile(argv[0]);
    if (!recipe) {
        std::fprintf(stderr, "%s\n", recipe.error().message.c_str());
        return 1;
    }
    basin::engine::MergeRequest request{std::move(*recipe), argv[1], options};
    basin::CancelFlag never{false};
    std::uint64_t lastItems = 0;
    const basin::ProgressSink sink = [&](const basin::Progress &p) {
        if (!trace || p.phase != "merging" || p.itemsDone == lastItems)
            return;
        lastItems = p.itemsDone;
        std::printf("%6.2f s  %4llu/%llu tensors  %s\n", p.elapsedSeconds,
                    static_cast<unsigned long long>(p.itemsDone),
                    static_cast<unsigned long long>(p.itemsTotal), residentMemory().c_str());
    };
    const auto start = Clock::now();
    auto report = basin::engine::runMerge(request, sink, never);
    const double seconds = since(start);
    if (!report) {
        std::fprintf(stderr, "%s\n", report.error().message.c_str());
        return 1;
    }
    struct rusage usage {};
    ::getrusage(RUSAGE_SELF, &usage);
    std::printf("%s: %zu tensors, %s written in %.3f s, peak RSS %.0f MiB\n",
                request.recipe.mergeMethod.c_str(), report->tensors.size(),
                basin::engine::formatByteSize(report->tensorBytes).c_str(), seconds,
                usage.ru_maxrss / 1024.0);
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    if (std::strcmp(argv[1], "bounds") == 0)
        return bounds(argc - 2, argv + 2);
    if (std::strcmp(argv[1], "merge") == 0)
        return merge(argc - 2, argv + 2);
    return usage();
}
