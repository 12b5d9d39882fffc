// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysisoptions.h"
#include "analysis/samplecache.h"
#include "analysis/statsblock.h"
#include "analysis/topk.h"

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace basin::analysis {

// One tensor's values in every model, decoded to f32 and all of the same length.
struct TensorData {
    std::string_view name;
    std::span<const float> base;
    // Per fine-tune (T entries); an entry whose present flag is false is ignored.
    std::vector<std::span<const float>> fineTunes;
    std::vector<bool> present;
    // Per fine-tune: both base and fine-tune were stored as bf16 (enables the ulp histogram).
    std::vector<bool> bf16;
};

struct TensorResult {
    StatsBlock stats;
    TensorSample sample;
};

// Computes every Tier-1 statistic of one tensor (ANALYSIS.md) in three sweeps over fixed
// 16,384-element chunks: moments, histograms, pairs and untrimmed TIES; the candidates of
// the top-k cut; trimmed TIES. Chunk partials are combined in chunk order, so the result is
// bit-identical for any thread count. Keeps per-thread histogram scratch between tensors;
// one kernel must not run two tensors at once. May throw std::bad_alloc.
class TensorKernel {
public:
    static constexpr std::uint64_t kChunk = 16384;

    TensorKernel(int fineTunes, const AnalysisOptions &options);

    TensorResult run(const TensorData &data);
    const AnalysisOptions &options() const { return m_options; }

private:
    void sweepMoments(const TensorData &data, StatsBlock &out);
    void sweepTrimmed(const TensorData &data, StatsBlock &out);
    TensorSample gatherSample(const TensorData &data) const;

    int m_fineTunes = 0;
    int m_team = 1;
    AnalysisOptions m_options;
    // Per-thread chunk scratch (structure of arrays, so the loops stay simple and fast).
    struct Scratch {
        std::vector<double> tau;            // T × kChunk deltas of the present models
        std::vector<std::int8_t> sign;      // T × kChunk signs (0 below the zero threshold)
        std::vector<double> total;          // Σ_t τ_t per coordinate
        std::vector<std::int8_t> elected;   // sgn⁺(total)
        std::vector<std::uint8_t> any;      // some model non-zero
        std::vector<std::uint8_t> conflict; // some non-zero model against the election
        // Per fine-tune: elements in the bin where its top-k cut falls. Kept between
        // tensors (cleared, not freed) so large bins do not fault fresh pages every time.
        std::vector<std::vector<TopKCandidate>> candidates;
    };
    std::vector<Scratch> m_scratch;
    std::vector<TopKCandidate> m_candidates; // all threads' candidates of one fine-tune
    // Per thread and fine-tune: a dense 65,536-bin |τ| histogram and the bins it touched.
    std::vector<std::uint64_t> m_hist;
    std::vector<std::uint32_t> m_histLo;
    std::vector<std::uint32_t> m_histHi;
};

} // namespace basin::analysis
