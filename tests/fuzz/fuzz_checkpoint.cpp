// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer target: the full Checkpoint::open on a file (mapping, header validation) and,
// when it opens, reading every tensor as f32 and raw bytes.
#include "model/checkpoint.h"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace {

// One scratch file per fuzzing process, rewritten for each input.
const std::filesystem::path &scratchFile()
{
    static const std::filesystem::path path =
        std::filesystem::temp_directory_path() /
        ("basin-fuzz-" + std::to_string(::getpid()) + ".safetensors");
    return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const auto &path = scratchFile();
    if (std::FILE *f = std::fopen(path.c_str(), "wb")) {
        if (size > 0)
            std::fwrite(data, 1, size, f);
        std::fclose(f);
    } else {
        return 0;
    }
    auto checkpoint = basin::Checkpoint::open(path);
    if (checkpoint.ok()) {
        const auto &cp = *checkpoint.value();
        std::vector<float> values;
        std::vector<std::byte> raw;
        for (const auto &t : cp.tensors()) {
            // Cap what one input may allocate: the parser already proved the size fits the file.
            if (t.byteSize > (1u << 20) || t.numel > (1u << 20))
                continue;
            raw.resize(t.byteSize);
            (void)cp.readRaw(t, raw);
            values.resize(t.numel);
            (void)cp.readF32(t, values);
        }
    }
    std::error_code ec;
    std::filesystem::remove(path, ec);
    return 0;
}
