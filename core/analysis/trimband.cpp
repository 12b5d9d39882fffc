// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/trimband.h"

#include "analysis/abshistogram.h"

#include <algorithm>
#include <cmath>

namespace basin::analysis {

TrimBand planTrimBand(const TensorSample &sample, std::span<const int> used, std::uint64_t numel,
                      std::uint64_t k)
{
    TrimBand band;
    const std::size_t m = sample.size();
    if (m == 0 || k == 0 || k >= numel || used.empty())
        return band;
    // The cut is the element of ascending rank numel − k. A sample holding the whole tensor
    // gives its bin exactly; otherwise the stratified sample's quantile lies within a few
    // standard deviations, sqrt(m·q·(1 − q)) positions, of q·m (4 of them, plus a margin
    // for small samples; a miss only costs the fallback sweep).
    const bool whole = m == numel;
    const double q = static_cast<double>(numel - k) / static_cast<double>(numel);
    const double centre = whole ? static_cast<double>(numel - k) : q * static_cast<double>(m);
    const double spread =
        whole ? 0.0 : 4.0 * std::sqrt(static_cast<double>(m) * q * (1.0 - q)) + 8.0;
    const double lowPosition = std::floor(centre - spread);
    const double highPosition = std::ceil(centre + spread);
    const double last = static_cast<double>(m - 1);

    std::vector<std::uint32_t> bins(m);
    band.mode = TrimBand::Mode::Sparse;
    for (const int t : used) {
        const std::span<const float> deltas = sample.deltas(t);
        for (std::size_t s = 0; s < m; ++s)
            bins[s] = AbsHistogram::binOf(std::fabs(deltas[s]));
        // Open-ended where the window reaches past the sample: the tensor may hold values
        // beyond the sample's extremes.
        std::uint32_t low = 0;
        std::uint32_t high = AbsHistogram::kBins - 1;
        if (whole || lowPosition > 0.0) {
            const auto at = static_cast<std::size_t>(std::min(std::max(lowPosition, 0.0), last));
            std::nth_element(bins.begin(), bins.begin() + std::ptrdiff_t(at), bins.end());
            low = bins[at];
        }
        if (whole || highPosition < last) {
            const auto at = static_cast<std::size_t>(std::min(std::max(highPosition, 0.0), last));
            std::nth_element(bins.begin(), bins.begin() + std::ptrdiff_t(at), bins.end());
            high = bins[at];
        }
        // Exact zeros never become candidates (ANALYSIS.md: they change no statistic), so
        // only the non-zero deltas inside the band count towards its size.
        // (bins is reordered by now: read the deltas again.)
        std::uint64_t inside = 0;
        for (const float delta : deltas) {
            const std::uint32_t bin = AbsHistogram::binOf(std::fabs(delta));
            inside += bin - low <= high - low && delta != 0.0f ? 1 : 0;
        }
        const TrimBand::Mode mode = inside * kMaxCrowdedFraction > m ? TrimBand::Mode::Dense
                                    : inside * kMaxBandFraction > m  ? TrimBand::Mode::Crowded
                                                                     : TrimBand::Mode::Sparse;
        band.mode = std::max(band.mode, mode);
        band.low.push_back(low);
        band.high.push_back(high);
    }
    return band;
}

} // namespace basin::analysis
