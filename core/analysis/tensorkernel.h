// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysisoptions.h"
#include "analysis/keycensus.h"
#include "analysis/samplecache.h"
#include "analysis/statsblock.h"
#include "analysis/topk.h"
#include "analysis/trimband.h"
#include "common/result.h"

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace basin::analysis {

// One tensor's values in every model, decoded to f32 and all of the same length: the whole
// tensor, or the slice of flat indices [first, first + base.size()) of it.
struct TensorData {
    std::string_view name;
    std::uint64_t numel = 0; // elements of the whole tensor; 0: the spans hold all of them
    std::uint64_t first = 0; // flat index of the spans' first element
    std::span<const float> base;
    // Per fine-tune (T entries); an entry whose present flag is false is ignored.
    std::vector<std::span<const float>> fineTunes;
    std::vector<bool> present;
    // Per fine-tune: both base and fine-tune were stored as bf16 (enables the ulp histogram).
    std::vector<bool> bf16;

    std::uint64_t tensorSize() const { return numel != 0 ? numel : base.size(); }
};

struct TensorResult {
    StatsBlock stats;
    TensorSample sample;
};

// Computes every Tier-1 statistic of one tensor (ANALYSIS.md) in one sweep over fixed
// 16,384-element chunks: moments, histograms, pairs, untrimmed TIES, and trimmed TIES for
// every coordinate the sample's TrimBand settles; the few coordinates near a model's top-k
// cut are finished once the exact cut is known. Should the band miss the exact cut, a
// second sweep does the trimmed election instead (same result). Chunk partials are combined
// in chunk order, so the result is bit-identical for any thread count, and for any way of
// slicing the tensor. Keeps per-thread scratch between tensors; one kernel must not run two
// tensors at once. May throw std::bad_alloc.
class TensorKernel {
public:
    static constexpr std::uint64_t kChunk = 16384;

    // Reads flat indices [first, first + count) of the current tensor in every model again;
    // the spans stay valid until the next call.
    using RangeReader = std::function<Result<TensorData>(std::uint64_t first, std::uint64_t count)>;

    TensorKernel(int fineTunes, const AnalysisOptions &options);

    // A tensor whose values are all in memory.
    TensorResult run(const TensorData &data);

    // A tensor streamed in slices: start() with the tensor (name, numel, present and bf16
    // flags; no values needed) and its sample, sweep() each slice in index order (starting
    // at multiples of kChunk, covering the tensor), then finish(), which may read ranges
    // again through `read`: the coordinates near a top-k cut, or every slice when the
    // sample's band missed a cut; it reads at most options().sliceElements at a time.
    // Errors: those `read` returns.
    void start(const TensorData &tensor, TensorSample sample);
    void sweep(const TensorData &slice);
    Result<TensorResult> finish(const RangeReader &read);

    // The sample cache entry of a tensor whose values are all in data.
    TensorSample sampleOf(const TensorData &data) const;

    const AnalysisOptions &options() const { return m_options; }

private:
    // Per fine-tune (in the order of `used`): trimmed-TIES counts. Integer sums, so they
    // add up the same in any order.
    struct TrimCounts {
        std::vector<std::uint64_t> kept;
        std::vector<std::uint64_t> dropped;
        std::uint64_t any = 0;
        std::uint64_t conflict = 0;
        void reset(int used);
        void add(const TrimCounts &other);
    };

    // One zeroed TrimCounts per thread slot, and the sum of such parts (any order).
    std::vector<TrimCounts> zeroCountsPerThread() const;
    TrimCounts sumOf(const std::vector<TrimCounts> &parts) const;
    void foldHistograms(StatsBlock &out);
    // Trimmed TIES once the histograms are complete: from the band when it holds every
    // model's cut, else by sweepTrimmed().
    Result<void> finishTrimmed(const RangeReader &read, StatsBlock &out);
    // The exact cut of every model from the candidates the threads collected (elements of
    // the cut's bin, or of a band around it).
    std::vector<TopKCut> resolveCuts(std::uint64_t k, const std::vector<AbsHistogram::Cut> &at);
    // The same from the chunks' key censuses (crowded bands) and one chunk's rescan.
    Result<std::vector<TopKCut>> resolveCensus(const RangeReader &read, std::uint64_t k,
                                               const std::vector<AbsHistogram::Cut> &at);
    // Trimmed TIES of the coordinates the sweep deferred, now that the cuts are exact.
    Result<TrimCounts> electDeferred(const RangeReader &read, const std::vector<TopKCut> &cuts);
    // The fallback: the candidates of each cut's bin from one sweep, then electSweep().
    Result<TrimCounts> sweepTrimmed(const RangeReader &read,
                                    const std::vector<AbsHistogram::Cut> &at, std::uint64_t k);
    // Trimmed TIES of every coordinate, by a sweep over the tensor with the exact cuts.
    Result<TrimCounts> electSweep(const RangeReader &read, const std::vector<TopKCut> &cuts);

    int m_fineTunes = 0;
    int m_team = 1;
    AnalysisOptions m_options;
    // The tensor between start() and finish().
    std::uint64_t m_numel = 0;
    std::uint64_t m_swept = 0; // elements swept so far
    std::vector<int> m_used;   // present fine-tunes, in index order
    TrimBand m_band;
    TensorResult m_result;
    // Per-thread chunk scratch (structure of arrays, so the loops stay simple and fast).
    struct Scratch {
        std::vector<double> tau;            // T × kChunk deltas of the present models
        std::vector<std::int8_t> sign;      // T × kChunk signs (0 below the zero threshold)
        std::vector<double> total;          // Σ_t τ_t per coordinate
        std::vector<std::int8_t> elected;   // sgn⁺(total)
        std::vector<std::uint8_t> any;      // some model non-zero
        std::vector<std::uint8_t> conflict; // some non-zero model against the election
        std::vector<std::uint8_t> keep;     // T × kChunk: kept by the top-k trim
        std::vector<std::uint8_t> deferred; // some delta inside its model's TrimBand
        TrimCounts trim;                    // trimmed TIES of the settled coordinates
        // Crowded bands: per present model, the census of the current chunk, and what the
        // thread's chunks counted (one entry per chunk, model and key).
        std::vector<KeyCensus> census;
        struct CensusEntry {
            std::uint32_t chunk;
            std::uint32_t model;
            KeyCensus::Entry entry;
        };
        std::vector<CensusEntry> censusEntries;
        bool censusFull = false; // some chunk had more distinct keys than a census holds
        // Per fine-tune: elements in the bin where its top-k cut falls (or in its band). Kept
        // between tensors (cleared, not freed) so large bins do not fault fresh pages every time.
        std::vector<std::vector<TopKCandidate>> candidates;
    };
    std::vector<Scratch> m_scratch;
    std::vector<TopKCandidate> m_candidates; // all threads' candidates of one fine-tune
    // One bit per coordinate of the current tensor: deferred by the sweep (see TrimBand).
    std::vector<std::uint64_t> m_deferredBits;
    // Per thread and fine-tune: a dense 65,536-bin |τ| histogram and the bins it touched.
    std::vector<std::uint64_t> m_hist;
    std::vector<std::uint32_t> m_histLo;
    std::vector<std::uint32_t> m_histHi;
};

} // namespace basin::analysis
