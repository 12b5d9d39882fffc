// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// A counter-based random generator: the random number of an element is a pure function of
// (seed, tensor name, model index, element index), so any thread can produce any element's
// number in any order and a merge is the same for every thread count, in preview and export.

#include <cmath>
#include <cstdint>
#include <string_view>

namespace basin::merge {

// FNV-1a 64 of a tensor name: a stable key for the name across runs and platforms.
constexpr std::uint64_t fnv1a64(std::string_view text)
{
    std::uint64_t hash = 0xcbf29ce484222325ull;
    for (const char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ull;
    }
    return hash;
}

// SplitMix64's output function: a bijective avalanche mix of 64 bits.
constexpr std::uint64_t mix64(std::uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

class CounterRng {
public:
    constexpr CounterRng() = default;

    // One stream per (seed, tensor, model); elements index into it.
    constexpr CounterRng(std::uint64_t seed, std::string_view tensorName, std::uint64_t modelIndex)
        : m_key(mix64(mix64(mix64(seed ^ 0x6a09e667f3bcc909ull) ^ fnv1a64(tensorName)) ^
                      (modelIndex * 0xd1b54a32d192ed03ull)))
    {
    }

    // The element's 64 random bits: SplitMix64's stream at position index.
    constexpr std::uint64_t bits(std::uint64_t index) const
    {
        return mix64(m_key + (index + 1) * 0x9e3779b97f4a7c15ull);
    }

    // Uniform in [0, 1) with 53 random bits.
    constexpr double uniform(std::uint64_t index) const
    {
        return static_cast<double>(bits(index) >> 11) * 0x1.0p-53;
    }

    // A second, cheaper view of the same stream for per-element coin flips: element e takes
    // one 32-bit half of bits(e / 2), so one hash serves two elements.
    constexpr std::uint32_t uniform32(std::uint64_t index) const
    {
        return static_cast<std::uint32_t>(bits(index >> 1) >> (32 * (index & 1)));
    }

    // The threshold t with "uniform32(e) < t" true with probability p (to 2⁻³²).
    static std::uint64_t threshold32(double probability)
    {
        if (!(probability > 0.0))
            return 0;
        if (probability >= 1.0)
            return std::uint64_t{1} << 32;
        return static_cast<std::uint64_t>(std::ceil(probability * 0x1.0p32));
    }

    // Bit b of the result is "uniform32(64·word + b) < threshold": 64 coin flips from 32
    // hashes.
    constexpr std::uint64_t keepWord(std::uint64_t word, std::uint64_t threshold) const
    {
        std::uint64_t mask = 0;
        for (std::uint64_t pair = 0; pair < 32; ++pair) {
            const std::uint64_t h = bits(word * 32 + pair);
            const std::uint64_t low = (h & 0xffffffffull) < threshold ? 1 : 0;
            const std::uint64_t high = (h >> 32) < threshold ? 1 : 0;
            mask |= (low | (high << 1)) << (2 * pair);
        }
        return mask;
    }

private:
    std::uint64_t m_key = 0;
};

} // namespace basin::merge
