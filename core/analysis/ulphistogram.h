// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <optional>
#include <string_view>

namespace basin::analysis {

// How many representable bf16 steps separate a bf16 fine-tune value from its bf16 base
// value: |τ| in units of ulp(B) (exactly |τ|/ulp(B) when both lie in one binade). Fine-tunes
// stored in bf16 move most weights by 0 or 1 step; this histogram makes that visible.
struct UlpHistogram {
    // Bins: 0, 1, 2, 3, 4–7, 8–15, 16–31, 32–63, 64–127, ≥ 128 steps.
    static constexpr int kBins = 10;
    std::array<std::uint64_t, kBins> counts{};

    // Steps between two bf16 patterns (the top 16 bits of their f32 decodings). Both must be
    // finite; +0 and −0 are the same value.
    static constexpr std::uint32_t steps(std::uint16_t base, std::uint16_t fineTune)
    {
        const auto key = [](std::uint16_t pattern) {
            // Sign-magnitude to an integer ordered like the values: adjacent bf16 values
            // differ by one.
            const auto magnitude = static_cast<std::int32_t>(pattern & 0x7FFFu);
            return (pattern & 0x8000u) != 0 ? -magnitude : magnitude;
        };
        const std::int32_t diff = key(fineTune) - key(base);
        return static_cast<std::uint32_t>(diff < 0 ? -diff : diff);
    }
    static constexpr int binOf(std::uint32_t steps)
    {
        if (steps < 4)
            return static_cast<int>(steps);
        if (steps >= 128)
            return kBins - 1;
        // 4–7 → 4, 8–15 → 5, …, 64–127 → 8.
        return static_cast<int>(std::bit_width(steps)) + 1;
    }
    // "0", "1", …, "4-7", …, "128+".
    static std::string_view binLabel(int bin);

    void add(std::uint32_t stepCount) { ++counts[static_cast<std::size_t>(binOf(stepCount))]; }
    // Adds another histogram's counts (exact, any order).
    void merge(const UlpHistogram &other);
    // Number of elements counted.
    std::uint64_t total() const;
    // Share of the changed elements (≥ 1 step) that moved by exactly one step; nothing
    // when no element changed.
    std::optional<double> oneStepShare() const;

    bool operator==(const UlpHistogram &other) const = default;
};

} // namespace basin::analysis
