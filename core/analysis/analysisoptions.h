// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>

namespace basin::analysis {

// Parameters of an analysis pass. Everything a snapshot's numbers depend on is here, so a
// snapshot records the options it was made with.
struct AnalysisOptions {
    double zeroThreshold = 1e-8;      // |τ| below this counts as zero (no sign)
    double density = 0.2;             // top-k trimming (k = floor(d·n)) for trimmed TIES
    std::uint64_t sampleSize = 65536; // sample cache size per tensor (0: no sample cache)
    std::uint64_t sampleSeed = 0x5eed;
    int threads = 0; // OpenMP team size; <= 0: the OpenMP default
    // Tensors larger than this are streamed in slices of this many elements (a positive
    // multiple of 16,384), so memory stays bounded whatever the largest tensor. Changes no
    // figure: 16 MiB of f32 per model and slice by default.
    std::uint64_t sliceElements = std::uint64_t{1} << 22;
};

} // namespace basin::analysis
