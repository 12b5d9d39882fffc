// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer target: model.safetensors.index.json parsing. Every accepted index must name
// only plain shard files (the path-traversal guard of FORMATS.md).
#include "io/shardindex.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    auto index = basin::parseShardIndex(text, "fuzz.index.json");
    if (index.ok()) {
        for (const auto &[tensor, file] : index.value().weightMap) {
            if (!basin::isPlainShardName(file))
                __builtin_trap(); // accepted an unsafe path
        }
    }
    return 0;
}
