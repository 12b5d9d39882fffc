// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/samplecache.h"

#include <cstdint>
#include <span>
#include <vector>

namespace basin::analysis {

// Where each fine-tune's top-k cut (trimmed TIES) lies, read off the tensor's sample before
// the pass: a range of |τ| histogram bins that holds the cut unless the sample is very
// unrepresentative. The pass then settles the trimmed election in its single sweep for
// every coordinate whose deltas all lie outside their bands (a larger bin than the band is
// kept, a smaller one dropped, whatever the exact cut), collects the elements inside the
// bands (the candidates for the exact cut) and defers only the few coordinates that touch
// a band. Whether the exact cut really lies in the band is checked once the histogram is
// complete; if not, the pass falls back to a second sweep, so results never depend on it.
struct TrimBand {
    // Sparse: few elements per band, collected as top-k candidates. Crowded: a band holds up
    // to 1/kMaxCrowdedFraction of the non-zero elements, on few exact values (bf16), which a
    // KeyCensus per chunk counts instead. Dense: a band holds more (task vectors with a
    // handful of distinct magnitudes): counted the same way, but so many coordinates would
    // be deferred that the election runs as a second sweep once the cut is known (still no
    // candidate lists). Ordered by how much they cost.
    enum class Mode { Off, Sparse, Crowded, Dense };
    Mode mode = Mode::Off;
    bool active() const { return mode != Mode::Off; }
    // Per present fine-tune, in the order of `used`: the bins low..high (inclusive).
    std::vector<std::uint32_t> low;
    std::vector<std::uint32_t> high;
};

// The band of every model in `used` (fine-tune indices into the sample) for a cut keeping
// the k largest of numel elements, 0 < k < numel. Sparse when every band holds at most
// 1/kMaxBandFraction of the sample's non-zero deltas, crowded when one holds more but none
// more than 1/kMaxCrowdedFraction, dense otherwise; off when the sample is empty.
TrimBand planTrimBand(const TensorSample &sample, std::span<const int> used, std::uint64_t numel,
                      std::uint64_t k);

inline constexpr std::uint64_t kMaxBandFraction = 16;
inline constexpr std::uint64_t kMaxCrowdedFraction = 4;

} // namespace basin::analysis
