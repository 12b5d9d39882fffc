// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace basin {

// Every dtype a safetensors header may name (FORMATS.md). Basin merges F32, F16, BF16
// (and decodes F8_E4M3/F8_E5M2); the rest are named in errors but not decoded.
enum class Dtype {
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    BOOL,
    F8_E4M3,
    F8_E5M2,
    U16,
    U32,
    U64,
    C64,
    F8_E8M0,
    F8_E4M3FNUZ,
    F8_E5M2FNUZ,
    F6_E2M3,
    F6_E3M2,
    F4,
};

// The safetensors spelling ("BF16"); exact, case-sensitive.
std::string_view dtypeName(Dtype dtype);
std::optional<Dtype> parseDtype(std::string_view name);

// Storage size in bits (F4 = 4, F6_* = 6, BOOL = 8).
unsigned dtypeBits(Dtype dtype);

// True for the dtypes readF32() decodes: F32, F16, BF16, F8_E4M3, F8_E5M2 (and F64).
bool dtypeDecodable(Dtype dtype);

// True for the dtypes the writer can encode from f32: F32, F16, BF16.
bool dtypeEncodable(Dtype dtype);

// mergekit/torch dtype names used in recipes and config.json: "float32", "bfloat16"…
std::string_view torchDtypeName(Dtype dtype);
// The inverse of torchDtypeName(); also accepts "torch.bfloat16" and the aliases "float",
// "half", "double", "fp32", "fp16", "bf16". Returns nullopt for anything else.
std::optional<Dtype> parseTorchDtype(std::string_view name);

} // namespace basin
