// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer target: the pure safetensors parser (rules 1-8 of FORMATS.md) on an in-memory
// file. Any input must give a value or an Error; a crash, leak or UB report is a bug.
#include "io/safetensorsheader.h"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte *>(data), size);
    auto whole = basin::parseSafetensorsBuffer(bytes, "fuzz.safetensors");
    if (whole.ok()) {
        // A header that parsed must serialize and parse again to the same tensor list:
        // the round trip the writer relies on.
        const auto &h = whole.value();
        const std::string json =
            basin::serializeSafetensorsHeader(h.tensors, h.hasMetadata ? &h.metadata : nullptr);
        const std::uint64_t dataSize = h.tensors.empty() ? 0 : h.tensors.back().end;
        auto again = basin::parseSafetensorsHeader(
            std::span(reinterpret_cast<const std::byte *>(json.data()), json.size()), dataSize,
            "roundtrip");
        if (!again.ok() || again.value().tensors.size() != h.tensors.size())
            __builtin_trap();
    }
    // The header parser alone, with the data size taken from the first 8 bytes, so inputs
    // without a valid length prefix still reach the JSON validation.
    if (size >= 8) {
        std::uint64_t dataSize = 0;
        for (int i = 7; i >= 0; --i)
            dataSize = (dataSize << 8) | data[i];
        (void)basin::parseSafetensorsHeader(bytes.subspan(8), dataSize, "fuzz-header");
    }
    return 0;
}
