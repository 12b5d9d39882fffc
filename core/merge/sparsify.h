// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The sparsifiers of the task-arithmetic family (docs/METHODS.md): which elements of one
// model's task vector δ = X − B survive, and the L1 rescale factor of the survivors. A rule
// is evaluated on the fly while mixing, so no sparsified copy of δ is ever stored (except
// DELLA's per-row mask, which needs a sort).

#include "merge/counterrng.h"
#include "merge/method.h"
#include "merge/rankselect.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace basin::merge {

// Keeps magnitudes between two cuts in the total order (magnitude, flat index).
struct MagnitudeCut {
    bool hasLow = false;
    std::uint32_t lowBits = 0;       // keep bits > lowBits, and bits == lowBits with
    std::uint64_t lowEqualBegin = 0; //   index in [lowEqualBegin, lowEqualEnd)
    std::uint64_t lowEqualEnd = 0;
    bool hasHigh = false;
    std::uint32_t highBits = 0;     // keep bits < highBits, and bits == highBits with
    std::uint64_t highEqualEnd = 0; //   index < highEqualEnd

    // Bitwise, not short-circuit, operators: the outcome is data-dependent and a branch
    // here would be mispredicted half the time.
    bool keeps(std::uint32_t bits, std::uint64_t index) const
    {
        const bool aboveLow =
            !hasLow | (bits > lowBits) |
            ((bits == lowBits) & (index >= lowEqualBegin) & (index < lowEqualEnd));
        const bool belowHigh =
            !hasHigh | (bits < highBits) | ((bits == highBits) & (index < highEqualEnd));
        return aboveLow & belowHigh;
    }

    // Inside most blocks of indices the index tests are constant, and the cut reduces to
    // lowest <= bits <= highest on 32-bit values (which vectorises). Returns false for the
    // few blocks that straddle an index boundary; those use keeps().
    bool bitRange(std::uint64_t begin, std::uint64_t end, std::uint32_t &lowest,
                  std::uint32_t &highest) const
    {
        lowest = 0;
        highest = 0xffffffffu;
        if (hasLow) {
            if (begin >= lowEqualBegin && end <= lowEqualEnd)
                lowest = lowBits;
            else if (end <= lowEqualBegin || begin >= lowEqualEnd)
                lowest = lowBits + 1;
            else
                return false;
        }
        if (hasHigh) {
            if (end <= highEqualEnd) {
                highest = highBits;
            } else if (begin >= highEqualEnd) {
                if (highBits == 0) { // nothing lies below 0: keep none
                    lowest = 1;
                    highest = 0;
                } else {
                    highest = highBits - 1;
                }
            } else {
                return false;
            }
        }
        return true;
    }
};

struct KeepRule {
    enum class Kind { All, None, Magnitude, Random, Mask };
    Kind kind = Kind::All;
    MagnitudeCut cut;                // Magnitude
    std::vector<std::uint64_t> bits; // Random: bit i % 64 of word i / 64 = kept
    std::vector<std::uint8_t> mask;  // Mask: 1 = kept
    float factor = 1.0f;             // rescale factor of kept values (1 without rescale)
};

// Calls fn(keep) with keep(index, delta) -> bool specialised for the rule's kind, so the
// element loops inside fn compile once per kind with no per-element dispatch. keep is valid
// for indices in [begin, end).
template <typename Fn>
decltype(auto) visitKeep(const KeepRule &rule, std::uint64_t begin, std::uint64_t end, Fn &&fn)
{
    switch (rule.kind) {
    case KeepRule::Kind::None:
        return fn([](std::uint64_t, float) { return false; });
    case KeepRule::Kind::Magnitude: {
        std::uint32_t lowest = 0;
        std::uint32_t highest = 0;
        if (rule.cut.bitRange(begin, end, lowest, highest)) {
            return fn([lowest, highest](std::uint64_t, float d) {
                const std::uint32_t bits = magnitudeBits(d);
                return (bits >= lowest) & (bits <= highest);
            });
        }
        return fn(
            [&cut = rule.cut](std::uint64_t i, float d) { return cut.keeps(magnitudeBits(d), i); });
    }
    case KeepRule::Kind::Random:
        return fn([words = rule.bits.data()](std::uint64_t i, float) {
            return ((words[i >> 6] >> (i & 63)) & 1) != 0;
        });
    case KeepRule::Kind::Mask:
        return fn([mask = rule.mask.data()](std::uint64_t i, float) { return mask[i] != 0; });
    case KeepRule::Kind::All:
        break;
    }
    return fn([](std::uint64_t, float) { return true; });
}

// Inputs of one sparsification: the task vector of `model` against job.base.
struct SparsifyInput {
    std::string_view method;
    const TensorJob &job;
    const ModelInput &model;
    double density = 1.0;
    bool rescale = false;
};

// ties: keep the k = floor(density·n) largest |δ|; equal magnitudes at the cut keep the
// lower flat indices. OutOfRange error when k = 0.
Result<KeepRule> magnitudeRule(const SparsifyInput &in);

// dare: keep each element with probability density: uniform32() of the counter RNG keyed by
// (job.seed, tensor name, model index) at the element's index, below threshold32(density).
Result<KeepRule> randomRule(const SparsifyInput &in);

// breadcrumbs: drop the floor(gamma·n) largest and enough of the smallest to keep
// floor(density·n); ranks ascend by (|δ|, flat index). With floor(gamma·n) = 0 nothing is
// dropped from the top (mergekit erases the whole delta then), and a note says so.
Result<KeepRule> outlierRule(const SparsifyInput &in, double gamma, TensorNotes &notes);

// della: per row (last dimension; a 1-D tensor is one row), keep with probability
// (d − ε) + 2ε·(rank − 1)/(ncols − 1), ranks ascending by (|δ|, index). OutOfRange error
// unless 0 < d − ε and d + ε < 1.
Result<KeepRule> dellaRule(const SparsifyInput &in, double epsilon);

} // namespace basin::merge
