// SPDX-License-Identifier: GPL-3.0-or-later
#include "io/codecs.h"

#include <array>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace basin {

namespace {

// Branch-free so the bulk loop vectorises. Subnormal halves are converted through an
// exact integer → float conversion and a multiplication whose inputs and output are all
// normal f32 numbers, so DAZ/FTZ modes cannot change the result.
inline std::uint32_t f16ToF32Bits(std::uint32_t h)
{
    const std::uint32_t sign = (h & 0x8000u) << 16;
    const std::uint32_t em = h & 0x7fffu;
    const std::uint32_t normal = (em << 13) + ((127u - 15u) << 23);
    const std::uint32_t special = 0x7f800000u | ((em & 0x3ffu) << 13);
    const std::uint32_t subnormal = std::bit_cast<std::uint32_t>(static_cast<float>(em) * 0x1p-24f);
    std::uint32_t out = em >= 0x7c00u ? special : normal;
    out = em < 0x0400u ? subnormal : out;
    return sign | out;
}

std::array<float, 256> makeE4M3Table()
{
    std::array<float, 256> table{};
    for (unsigned code = 0; code < 256; ++code) {
        const bool negative = (code & 0x80u) != 0;
        const unsigned exponent = (code >> 3) & 0xfu;
        const unsigned mantissa = code & 0x7u;
        float value = 0.0f;
        if (exponent == 0xfu && mantissa == 0x7u)
            value = std::numeric_limits<float>::quiet_NaN();
        else if (exponent == 0)
            value = std::ldexp(static_cast<float>(mantissa), -9);
        else
            value = std::ldexp(static_cast<float>(8 + mantissa), static_cast<int>(exponent) - 10);
        table[code] = negative ? -value : value;
    }
    return table;
}

const std::array<float, 256> &e4m3Table()
{
    static const std::array<float, 256> table = makeE4M3Table();
    return table;
}

} // namespace

float f16ToF32(std::uint16_t bits)
{
    return std::bit_cast<float>(f16ToF32Bits(bits));
}

float f8e4m3ToF32(std::uint8_t bits)
{
    return e4m3Table()[bits];
}

float f8e5m2ToF32(std::uint8_t bits)
{
    return f16ToF32(static_cast<std::uint16_t>(bits << 8));
}

std::uint16_t f32ToBf16(float value, bool &overflowed)
{
    const std::uint32_t u = std::bit_cast<std::uint32_t>(value);
    const std::uint32_t a = u & 0x7fffffffu;
    // NaN first: rounding a NaN whose payload sits in the low bits could carry into Inf.
    if (a > 0x7f800000u)
        return static_cast<std::uint16_t>((u >> 16) | 0x0040u);
    const std::uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    if (a != 0x7f800000u && (rounded & 0x7fffu) == 0x7f80u)
        overflowed = true;
    return static_cast<std::uint16_t>(rounded);
}

std::uint16_t f32ToF16(float value, bool &overflowed)
{
    const std::uint32_t u = std::bit_cast<std::uint32_t>(value);
    const std::uint32_t sign = (u >> 16) & 0x8000u;
    const std::uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) // NaN: keep the top payload bits, force quiet
        return static_cast<std::uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
    if (a == 0x7f800000u)
        return static_cast<std::uint16_t>(sign | 0x7c00u);
    if (a >= 0x477ff000u) { // ≥ 65520 rounds past 65504
        overflowed = true;
        return static_cast<std::uint16_t>(sign | 0x7c00u);
    }
    if (a >= 0x38800000u) { // normal half (≥ 2^-14): rebias, round 13 bits away
        const std::uint32_t r = a - ((127u - 15u) << 23);
        return static_cast<std::uint16_t>(sign | ((r + 0x0fffu + ((r >> 13) & 1u)) >> 13));
    }
    if (a <= 0x33000000u) // ≤ 2^-25: rounds to zero (2^-25 itself is a tie to even 0)
        return static_cast<std::uint16_t>(sign);
    // Subnormal half: value / 2^-24 rounded to nearest even, in integers.
    const std::uint32_t mantissa = (a & 0x7fffffu) | 0x800000u;
    const std::uint32_t shift = 126u - (a >> 23); // 14..24
    std::uint32_t q = mantissa >> shift;
    const std::uint32_t rest = mantissa & ((1u << shift) - 1u);
    const std::uint32_t half = 1u << (shift - 1u);
    if (rest > half || (rest == half && (q & 1u)))
        ++q;
    return static_cast<std::uint16_t>(sign | q);
}

void decodeBf16(std::span<const std::byte> src, std::span<float> dst)
{
    assert(src.size() == dst.size() * 2);
    const std::byte *in = src.data();
    float *out = dst.data();
    const std::size_t n = dst.size();
    for (std::size_t i = 0; i < n; ++i) {
        std::uint16_t h;
        std::memcpy(&h, in + 2 * i, 2);
        const std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
        std::memcpy(out + i, &bits, 4);
    }
}

void decodeF16(std::span<const std::byte> src, std::span<float> dst)
{
    assert(src.size() == dst.size() * 2);
    const std::byte *in = src.data();
    float *out = dst.data();
    const std::size_t n = dst.size();
    for (std::size_t i = 0; i < n; ++i) {
        std::uint16_t h;
        std::memcpy(&h, in + 2 * i, 2);
        const std::uint32_t bits = f16ToF32Bits(h);
        std::memcpy(out + i, &bits, 4);
    }
}

void decodeF32(std::span<const std::byte> src, std::span<float> dst)
{
    assert(src.size() == dst.size() * 4);
    if (!dst.empty())
        std::memcpy(dst.data(), src.data(), src.size());
}

void decodeF64(std::span<const std::byte> src, std::span<float> dst)
{
    assert(src.size() == dst.size() * 8);
    for (std::size_t i = 0; i < dst.size(); ++i) {
        double d;
        std::memcpy(&d, src.data() + 8 * i, 8);
        dst[i] = static_cast<float>(d);
    }
}

void decodeF8E4M3(std::span<const std::byte> src, std::span<float> dst)
{
    assert(src.size() == dst.size());
    const std::array<float, 256> &table = e4m3Table();
    for (std::size_t i = 0; i < dst.size(); ++i)
        dst[i] = table[static_cast<std::uint8_t>(src[i])];
}

void decodeF8E5M2(std::span<const std::byte> src, std::span<float> dst)
{
    assert(src.size() == dst.size());
    for (std::size_t i = 0; i < dst.size(); ++i) {
        const std::uint32_t bits = f16ToF32Bits(static_cast<std::uint32_t>(src[i]) << 8);
        std::memcpy(dst.data() + i, &bits, 4);
    }
}

Result<void> decodeToF32(Dtype dtype, std::span<const std::byte> src, std::span<float> dst)
{
    if (!dtypeDecodable(dtype))
        return makeError(ErrorCode::UnsupportedDtype,
                         "dtype " + std::string(dtypeName(dtype)) + " cannot be decoded to F32");
    if (src.size() / (dtypeBits(dtype) / 8) != dst.size() ||
        src.size() % (dtypeBits(dtype) / 8) != 0)
        return makeError(ErrorCode::InvalidArgument,
                         "decode: " + std::to_string(src.size()) + " bytes of " +
                             std::string(dtypeName(dtype)) + " do not hold " +
                             std::to_string(dst.size()) + " values");
    switch (dtype) {
    case Dtype::BF16:
        decodeBf16(src, dst);
        break;
    case Dtype::F16:
        decodeF16(src, dst);
        break;
    case Dtype::F32:
        decodeF32(src, dst);
        break;
    case Dtype::F64:
        decodeF64(src, dst);
        break;
    case Dtype::F8_E4M3:
        decodeF8E4M3(src, dst);
        break;
    case Dtype::F8_E5M2:
        decodeF8E5M2(src, dst);
        break;
    default:
        break;
    }
    return {};
}

std::uint64_t encodeBf16(std::span<const float> src, std::span<std::byte> dst)
{
    assert(dst.size() == src.size() * 2);
    // f32ToBf16() without branches, so the loop vectorises (it is on every merge's path):
    // the same rounding, NaN and overflow rules.
    std::uint64_t overflows = 0;
    for (std::size_t i = 0; i < src.size(); ++i) {
        const std::uint32_t u = std::bit_cast<std::uint32_t>(src[i]);
        const std::uint32_t a = u & 0x7fffffffu;
        const std::uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
        const std::uint32_t quietNan = (u >> 16) | 0x0040u;
        const auto h = static_cast<std::uint16_t>(a > 0x7f800000u ? quietNan : rounded);
        overflows +=
            static_cast<std::uint64_t>((a < 0x7f800000u) & ((rounded & 0x7fffu) == 0x7f80u));
        std::memcpy(dst.data() + 2 * i, &h, 2);
    }
    return overflows;
}

std::uint64_t encodeF16(std::span<const float> src, std::span<std::byte> dst)
{
    assert(dst.size() == src.size() * 2);
    std::uint64_t overflows = 0;
    for (std::size_t i = 0; i < src.size(); ++i) {
        bool overflowed = false;
        const std::uint16_t h = f32ToF16(src[i], overflowed);
        overflows += overflowed ? 1 : 0;
        std::memcpy(dst.data() + 2 * i, &h, 2);
    }
    return overflows;
}

void encodeF32(std::span<const float> src, std::span<std::byte> dst)
{
    assert(dst.size() == src.size() * 4);
    if (!src.empty())
        std::memcpy(dst.data(), src.data(), dst.size());
}

Result<std::uint64_t> encodeFromF32(Dtype dtype, std::span<const float> src,
                                    std::span<std::byte> dst)
{
    if (!dtypeEncodable(dtype))
        return makeError(ErrorCode::UnsupportedDtype,
                         "dtype " + std::string(dtypeName(dtype)) + " cannot be written");
    if (dst.size() != src.size() * (dtypeBits(dtype) / 8))
        return makeError(ErrorCode::InvalidArgument, "encode: " + std::to_string(src.size()) +
                                                         " values do not fill " +
                                                         std::to_string(dst.size()) + " bytes of " +
                                                         std::string(dtypeName(dtype)));
    switch (dtype) {
    case Dtype::BF16:
        return encodeBf16(src, dst);
    case Dtype::F16:
        return encodeF16(src, dst);
    default:
        encodeF32(src, dst);
        return std::uint64_t{0};
    }
}

} // namespace basin
