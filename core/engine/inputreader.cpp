// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/inputreader.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace basin::engine {

ValueCounts countNonFinite(std::span<const float> values)
{
    // Exponent bits all ones: Inf when the mantissa is zero, NaN otherwise. Integer tests
    // vectorise and do not depend on the FPU mode. Almost every block holds neither, which
    // one cheap pass tells before anything is counted.
    constexpr std::size_t kBlock = 4096;
    ValueCounts counts;
    for (std::size_t begin = 0; begin < values.size(); begin += kBlock) {
        const std::span<const float> block =
            values.subspan(begin, std::min(kBlock, values.size() - begin));
        // The exponent plus one carries into the sign bit only when the exponent is all
        // ones: an OR of adds (a plain SSE2 loop) finds a NaN or Inf in the block.
        std::uint32_t special = 0;
        for (const float value : block)
            special |= (std::bit_cast<std::uint32_t>(value) & 0x7f800000u) + 0x00800000u;
        if ((special & 0x80000000u) == 0)
            continue;
        for (const float value : block) {
            const std::uint32_t bits = std::bit_cast<std::uint32_t>(value) & 0x7fffffffu;
            counts.nan += bits > 0x7f800000u;
            counts.inf += bits == 0x7f800000u;
        }
    }
    return counts;
}

Result<ValueCounts> readInputRange(const Checkpoint &model, const InputSource &input,
                                   std::span<const std::uint64_t> outShape, std::uint64_t first,
                                   std::span<float> out)
{
    const TensorInfo &tensor = *input.tensor;
    const bool contiguous = input.use != InputUse::Cropped || outShape.empty() || [&] {
        // Only the first dimension is cut: the output is a prefix of the input.
        for (std::size_t d = 1; d < outShape.size(); ++d) {
            if (outShape[d] != tensor.shape[d])
                return false;
        }
        return true;
    }();
    if (contiguous) {
        BASIN_TRY(model.readF32(tensor, first, out));
        return countNonFinite(out);
    }

    // Row by row: a run of output elements inside one output row is contiguous in the input.
    const std::size_t rank = outShape.size();
    const std::uint64_t rowLength = outShape[rank - 1];
    const std::uint64_t inputRowLength = tensor.shape[rank - 1];
    std::uint64_t done = 0;
    while (done < out.size()) {
        const std::uint64_t flat = first + done;
        const std::uint64_t row = flat / rowLength;
        const std::uint64_t column = flat % rowLength;
        // The output row's multi-index, re-linearised in the input's row space.
        std::uint64_t rest = row;
        std::uint64_t inputRow = 0;
        std::uint64_t stride = 1;
        for (std::size_t d = rank - 1; d-- > 0;) {
            const std::uint64_t index = rest % outShape[d];
            rest /= outShape[d];
            inputRow += index * stride;
            stride *= tensor.shape[d];
        }
        const std::uint64_t count = std::min<std::uint64_t>(rowLength - column, out.size() - done);
        BASIN_TRY(model.readF32(
            tensor, inputRow * inputRowLength + column,
            out.subspan(static_cast<std::size_t>(done), static_cast<std::size_t>(count))));
        done += count;
    }
    return countNonFinite(out);
}

void releaseInputRange(const Checkpoint &model, const InputSource &input, std::uint64_t first,
                       std::uint64_t count)
{
    if (input.use == InputUse::Cropped)
        return;
    const TensorInfo &tensor = *input.tensor;
    const std::uint64_t elementBytes = dtypeBits(tensor.dtype) / 8;
    TensorInfo range = tensor;
    range.fileOffset = tensor.fileOffset + first * elementBytes;
    range.byteSize = std::min(count * elementBytes, tensor.byteSize - first * elementBytes);
    model.release(range);
}

void releaseInputPrefix(const Checkpoint &model, const InputSource &input, std::uint64_t done,
                        std::uint64_t total)
{
    const TensorInfo &tensor = *input.tensor;
    // A view of a byte range as a tensor of its own: release() only uses the file, offset
    // and size, rounds the start down to a page and clips the end to the file.
    TensorInfo range = tensor;
    if (done >= total) {
        constexpr std::uint64_t kSlack = 1u << 20;
        range.fileOffset = tensor.fileOffset > kSlack ? tensor.fileOffset - kSlack : 0;
        range.byteSize = tensor.fileOffset - range.fileOffset + tensor.byteSize + kSlack;
    } else if (input.use == InputUse::Cropped) {
        return;
    } else {
        range.byteSize = std::min(done * (dtypeBits(tensor.dtype) / 8), tensor.byteSize);
    }
    model.release(range);
}

} // namespace basin::engine
