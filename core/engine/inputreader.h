// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"
#include "engine/preparedmerge.h"

#include <cstdint>
#include <span>

namespace basin::engine {

// NaN and ±Inf seen while decoding.
struct ValueCounts {
    std::uint64_t nan = 0;
    std::uint64_t inf = 0;

    ValueCounts &operator+=(const ValueCounts &other)
    {
        nan += other.nan;
        inf += other.inf;
        return *this;
    }
};

// Decodes elements [first, first + out.size()) of an input as the output sees it — the
// whole tensor, or for a cropped embedding its leading block of `outShape` — to f32, and
// counts the NaN and ±Inf among them. Errors: the reader's (IoError, UnsupportedDtype),
// naming the file and the tensor.
Result<ValueCounts> readInputRange(const Checkpoint &model, const InputSource &input,
                                   std::span<const std::uint64_t> outShape, std::uint64_t first,
                                   std::span<float> out);

// Drops the mapped pages of an input once the first `done` of its `total` output elements
// are decoded, so a streamed model never stays resident: the whole stored range read so far
// (a mapping may bring in pages next to the ones asked for, and dropping pages already
// dropped costs nothing), and once the input is done, its whole tensor and 1 MiB on either
// side. A cropped input (rows not contiguous) is dropped when done.
void releaseInputPrefix(const Checkpoint &model, const InputSource &input, std::uint64_t done,
                        std::uint64_t total);

// Drops the mapped pages of the stored bytes that hold elements [first, first + count) of
// an input (nothing for a cropped input): for threads decoding parts of one tensor at once;
// releaseInputPrefix() then sweeps up what neighbouring reads mapped again.
void releaseInputRange(const Checkpoint &model, const InputSource &input, std::uint64_t first,
                       std::uint64_t count);

// Counts NaN and ±Inf in values.
ValueCounts countNonFinite(std::span<const float> values);

} // namespace basin::engine
