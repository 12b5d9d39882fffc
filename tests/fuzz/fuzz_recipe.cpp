// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer target: the mergekit YAML recipe reader on arbitrary text (paths not checked,
// so nothing touches the disk).
#include "recipe/yamlreader.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    basin::recipe::ReadOptions options;
    options.checkPaths = false;
    options.sourceName = "fuzz.yml";
    (void)basin::recipe::readRecipeString(text, "/nonexistent-fuzz-dir", options);
    return 0;
}
