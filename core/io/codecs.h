// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"
#include "io/dtype.h"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

// Conversions between f32 and the storage dtypes. Everything works on integer bit
// patterns, so results do not depend on the FPU's flush-to-zero / denormals-are-zero
// modes. Raw buffers are little-endian bytes with no alignment requirement (safetensors
// data offsets need not be aligned).
namespace basin {

static_assert(std::endian::native == std::endian::little,
              "Basin reads little-endian safetensors data in place");

// ---- scalar ------------------------------------------------------------------------------

// Exact: bf16 is the top half of an f32.
inline float bf16ToF32(std::uint16_t bits)
{
    return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

// Exact for every code, subnormals, ±Inf and NaN (payload kept) included.
float f16ToF32(std::uint16_t bits);
// OCP F8 E4M3FN (bias 7, no Inf, S.1111.111 = NaN, max 448). Exact.
float f8e4m3ToF32(std::uint8_t bits);
// OCP F8 E5M2 (bias 15, the top byte of an f16). Exact.
float f8e5m2ToF32(std::uint8_t bits);

// Round to nearest, ties to even. NaN stays NaN (quiet, sign kept). Finite values that
// round past the largest finite bf16 become ±Inf and set `overflowed`.
std::uint16_t f32ToBf16(float value, bool &overflowed);
inline std::uint16_t f32ToBf16(float value)
{
    bool ignored = false;
    return f32ToBf16(value, ignored);
}

// Round to nearest, ties to even, subnormals produced, values ≥ 65520 in magnitude become
// ±Inf and set `overflowed`. NaN stays NaN (quiet, sign kept).
std::uint16_t f32ToF16(float value, bool &overflowed);
inline std::uint16_t f32ToF16(float value)
{
    bool ignored = false;
    return f32ToF16(value, ignored);
}

// ---- bulk (the hot path of every merge) --------------------------------------------------
// src holds dst.size() values of the named dtype; sizes are the caller's contract (checked
// by assert).

void decodeBf16(std::span<const std::byte> src, std::span<float> dst);
void decodeF16(std::span<const std::byte> src, std::span<float> dst);
void decodeF32(std::span<const std::byte> src, std::span<float> dst);
// f64 → f32 rounds to nearest even (values beyond the f32 range become ±Inf).
void decodeF64(std::span<const std::byte> src, std::span<float> dst);
void decodeF8E4M3(std::span<const std::byte> src, std::span<float> dst);
void decodeF8E5M2(std::span<const std::byte> src, std::span<float> dst);

// Decodes src (raw bytes of `dtype`) into dst. Returns UnsupportedDtype when the dtype is
// not decodable (see dtypeDecodable) and InvalidArgument when the sizes disagree.
Result<void> decodeToF32(Dtype dtype, std::span<const std::byte> src, std::span<float> dst);

// Encoders return how many finite inputs overflowed to ±Inf.
std::uint64_t encodeBf16(std::span<const float> src, std::span<std::byte> dst);
std::uint64_t encodeF16(std::span<const float> src, std::span<std::byte> dst);
void encodeF32(std::span<const float> src, std::span<std::byte> dst);

// Encodes src into dst as `dtype` (F32, F16 or BF16). Returns the overflow count, or
// UnsupportedDtype / InvalidArgument (size mismatch).
Result<std::uint64_t> encodeFromF32(Dtype dtype, std::span<const float> src,
                                    std::span<std::byte> dst);

} // namespace basin
