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

// Drops the mapped pages of an input's stored bytes that hold elements [first, first + count)
// (all of them for a cropped input, whose rows are not contiguous), so a streamed model
// never stays resident.
void releaseInputRange(const Checkpoint &model, const InputSource &input, std::uint64_t first,
                       std::uint64_t count);

// Counts NaN and ±Inf in values.
ValueCounts countNonFinite(std::span<const float> values);

} // namespace basin::engine
