// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/analysispass.h"

#include "analysis/tensorkernel.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>
#include <new>

namespace basin::analysis {

namespace {

std::string shapeText(const std::vector<std::uint64_t> &shape)
{
    std::string out = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        out += (i ? ", " : "") + std::to_string(shape[i]);
    return out + "]";
}

// What to read for one aligned tensor: per model, its TensorInfo or null when skipped.
struct Plan {
    std::size_t aligned = 0;
    std::vector<const TensorInfo *> read; // base first
    std::uint64_t bytes = 0;
};

// A slice of one tensor: the pass streams tensors larger than options.sliceElements in
// slices, so memory stays bounded by the slice size, not by the largest tensor.
struct Item {
    std::size_t plan = 0;
    std::uint64_t first = 0;
    std::uint64_t count = 0;
};

// One slice's decoded values for every model (and, for the first slice of a sliced tensor,
// the tensor's sample, gathered from the files). Two sets alternate: one being analysed,
// the other being filled by the prefetch thread; buffers only grow, so steady state
// allocates nothing.
struct Buffers {
    std::vector<std::vector<float>> values;
    TensorSample sample;
};

Result<void> readSlice(const ModelSet &models, const AlignedTensor &aligned, const Plan &plan,
                       std::uint64_t first, std::uint64_t count, Buffers &buffers)
{
    try {
        buffers.values.resize(plan.read.size());
        for (std::size_t m = 0; m < plan.read.size(); ++m) {
            const TensorInfo *info = plan.read[m];
            if (!info)
                continue;
            std::vector<float> &out = buffers.values[m];
            out.resize(static_cast<std::size_t>(count));
            const Checkpoint &checkpoint = models.model(static_cast<int>(m));
            BASIN_TRY(checkpoint.readF32(*info, first, out));
            // The decoded copy is all the pass needs: drop the mapped pages now, so resident
            // memory stays at the decoded slices, not twice that.
            checkpoint.release(*info, first, count);
        }
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::Internal, "out of memory reading tensor '" + aligned.name +
                                                  "' (" + std::to_string(count) +
                                                  " elements per model)");
    } catch (const std::length_error &) {
        return makeError(ErrorCode::Internal, "tensor '" + aligned.name + "' is too large");
    }
    return {};
}

// The sample of a tensor that is streamed in slices, read straight from the files: the
// same values TensorKernel::sampleOf() takes from a tensor held whole.
Result<TensorSample> gatherSample(const ModelSet &models, const AlignedTensor &aligned,
                                  const Plan &plan, const AnalysisOptions &options)
{
    TensorSample sample;
    sample.indices =
        sampleIndices(options.sampleSeed, aligned.name, aligned.numel, options.sampleSize);
    const std::size_t m = sample.indices.size();
    const std::size_t fineTunes = plan.read.size() - 1;
    sample.base.resize(m);
    sample.tau.assign(m * fineTunes, 0.0f);
    BASIN_TRY(models.model(0).gatherF32(*plan.read[0], sample.indices, sample.base));
    models.model(0).release(*plan.read[0]);
    std::vector<float> values(m);
    for (std::size_t t = 0; t < fineTunes; ++t) {
        const TensorInfo *info = plan.read[t + 1];
        sample.present.push_back(info != nullptr);
        if (!info)
            continue;
        const Checkpoint &checkpoint = models.model(static_cast<int>(t + 1));
        BASIN_TRY(checkpoint.gatherF32(*info, sample.indices, values));
        checkpoint.release(*info); // the gather touched pages all over the tensor
        float *dst = sample.tau.data() + t * m;
        for (std::size_t s = 0; s < m; ++s)
            dst[s] = static_cast<float>(static_cast<double>(values[s]) -
                                        static_cast<double>(sample.base[s]));
    }
    return sample;
}

Result<void> load(const ModelSet &models, const AlignedTensor &aligned, const Plan &plan,
                  const Item &item, const AnalysisOptions &options, Buffers &buffers)
{
    if (item.first == 0 && item.count < aligned.numel) {
        try {
            Result<TensorSample> sample = gatherSample(models, aligned, plan, options);
            if (!sample)
                return sample.takeError();
            buffers.sample = std::move(*sample);
        } catch (const std::bad_alloc &) {
            return makeError(ErrorCode::Internal,
                             "out of memory sampling tensor '" + aligned.name + "'");
        }
    }
    return readSlice(models, aligned, plan, item.first, item.count, buffers);
}

// The kernel's view of a slice held in buffers.
TensorData sliceData(const AlignedTensor &aligned, const Plan &plan, const Item &item,
                     const Buffers &buffers)
{
    TensorData data;
    data.name = aligned.name;
    data.numel = aligned.numel;
    data.first = item.first;
    data.base = std::span<const float>(buffers.values[0].data(), item.count);
    for (std::size_t m = 1; m < plan.read.size(); ++m) {
        const TensorInfo *read = plan.read[m];
        data.present.push_back(read != nullptr);
        data.fineTunes.push_back(read ? std::span<const float>(buffers.values[m].data(), item.count)
                                      : std::span<const float>());
        data.bf16.push_back(read && read->dtype == Dtype::BF16 &&
                            plan.read[0]->dtype == Dtype::BF16);
    }
    return data;
}

std::string modelLabel(const ModelSet &models, int m)
{
    return m == 0 ? "base " + models.model(0).displayName()
                  : "ft" + std::to_string(m) + " " + models.model(m).displayName();
}

// Decides, per model, whether the tensor is analysed; records why not.
Plan planTensor(const ModelSet &models, std::size_t index, AnalysisSnapshot &snapshot)
{
    const AlignedTensor &aligned = models.tensors()[index];
    const int count = models.modelCount();
    Plan plan;
    plan.aligned = index;
    plan.read.assign(static_cast<std::size_t>(count), nullptr);
    const auto skip = [&](int m, const char *reason, std::string message) {
        snapshot.skipped.push_back(SkippedTensor{aligned.name, m, reason, std::move(message)});
    };
    const TensorInfo *base = aligned.perModel[0];
    if (!base) {
        skip(0, "missing",
             "tensor '" + aligned.name + "' is missing from the " + modelLabel(models, 0) +
                 "; it is not analysed for any model");
        return plan;
    }
    if (!dtypeDecodable(base->dtype)) {
        skip(0, "unsupported_dtype",
             "tensor '" + aligned.name + "' of the " + modelLabel(models, 0) + " has dtype " +
                 std::string(dtypeName(base->dtype)) + ", which cannot be decoded; skipped");
        return plan;
    }
    plan.read[0] = base;
    for (int m = 1; m < count; ++m) {
        const TensorInfo *info = aligned.perModel[static_cast<std::size_t>(m)];
        if (!info) {
            skip(m, "missing",
                 "tensor '" + aligned.name + "' is missing from " + modelLabel(models, m) +
                     "; that model is left out of this tensor");
        } else if (info->shape != base->shape || info->numel != base->numel) {
            skip(m, "shape_mismatch",
                 "tensor '" + aligned.name + "' has shape " + shapeText(info->shape) + " in " +
                     modelLabel(models, m) + " but " + shapeText(base->shape) +
                     " in the base; that model is left out of this tensor (never broadcast)");
        } else if (!dtypeDecodable(info->dtype)) {
            skip(m, "unsupported_dtype",
                 "tensor '" + aligned.name + "' of " + modelLabel(models, m) + " has dtype " +
                     std::string(dtypeName(info->dtype)) + ", which cannot be decoded; skipped");
        } else {
            plan.read[static_cast<std::size_t>(m)] = info;
        }
    }
    for (const TensorInfo *info : plan.read) {
        if (info)
            plan.bytes += info->byteSize;
    }
    return plan;
}

} // namespace

Result<std::shared_ptr<const AnalysisSnapshot>> analyse(const ModelSet &models,
                                                        const AnalysisOptions &options,
                                                        const ProgressSink &progress,
                                                        const CancelFlag *cancel)
{
    if (!(options.density >= 0.0 && options.density <= 1.0))
        return makeError(ErrorCode::InvalidArgument, "analysis: density must lie in [0, 1], got " +
                                                         std::to_string(options.density));
    if (!(options.zeroThreshold >= 0.0) || !std::isfinite(options.zeroThreshold))
        return makeError(ErrorCode::InvalidArgument,
                         "analysis: the zero threshold must be a finite number >= 0");
    if (options.sliceElements == 0 || options.sliceElements % TensorKernel::kChunk != 0)
        return makeError(ErrorCode::InvalidArgument,
                         "analysis: the slice size must be a positive multiple of " +
                             std::to_string(TensorKernel::kChunk) + " elements, got " +
                             std::to_string(options.sliceElements));

    const auto started = std::chrono::steady_clock::now();
    const auto elapsed = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };

    try {
        auto snapshot = std::make_shared<AnalysisSnapshot>();
        snapshot->options = options;
        const int count = models.modelCount();
        const int T = models.fineTuneCount();
        for (int m = 0; m < count; ++m) {
            snapshot->modelPaths.push_back(models.model(m).path().string());
            snapshot->modelNames.push_back(models.model(m).displayName());
            for (const std::string &warning : models.model(m).warnings())
                snapshot->warnings.push_back(modelLabel(models, m) + ": " + warning);
        }
        for (const std::string &problem : models.problems())
            snapshot->warnings.push_back(problem);

        std::vector<Plan> plans;
        std::uint64_t bytesTotal = 0;
        for (std::size_t i = 0; i < models.tensors().size(); ++i) {
            Plan plan = planTensor(models, i, *snapshot);
            if (!plan.read[0])
                continue;
            bytesTotal += plan.bytes;
            plans.push_back(std::move(plan));
        }

        TensorKernel kernel(T, options);
        // Slices, in order; a tensor up to options.sliceElements is one slice.
        const std::uint64_t sliceElements = options.sliceElements;
        std::vector<Item> items;
        for (std::size_t p = 0; p < plans.size(); ++p) {
            const std::uint64_t numel = models.tensors()[plans[p].aligned].numel;
            for (std::uint64_t first = 0; first == 0 || first < numel; first += sliceElements)
                items.push_back(Item{p, first, std::min(sliceElements, numel - first)});
        }
        // Room for the largest slice up front: growing a vector on demand would briefly hold
        // two copies and leave capacity at up to twice the largest slice.
        std::uint64_t largest = 0;
        for (const Item &item : items)
            largest = std::max(largest, item.count);
        Buffers buffers[2];
        for (Buffers &set : buffers) {
            set.values.resize(static_cast<std::size_t>(count));
            for (std::vector<float> &values : set.values)
                values.reserve(static_cast<std::size_t>(largest));
        }
        // A third set, only for sliced tensors whose finish reads slices again.
        Buffers reread;
        std::future<Result<void>> pending;
        const auto startLoad = [&](std::size_t i) {
            const Item &item = items[i];
            const Plan &plan = plans[item.plan];
            Buffers &target = buffers[i % 2];
            pending = std::async(std::launch::async, [&models, &plan, &item, &options, &target] {
                return load(models, models.tensors()[plan.aligned], plan, item, options, target);
            });
        };
        // Joins the prefetch thread before any return, so it never outlives its buffers.
        const auto drain = [&] {
            if (pending.valid())
                pending.wait();
        };

        Progress report;
        report.phase = "analysing";
        report.itemsTotal = plans.size();
        report.bytesTotal = bytesTotal;
        double lastFraction = -1.0;
        TensorEntry entry;
        if (!items.empty())
            startLoad(0);
        for (std::size_t i = 0; i < items.size(); ++i) {
            Result<void> loaded = pending.get();
            if (!loaded)
                return loaded.takeError();
            const Item &item = items[i];
            if (cancel && cancel->load()) {
                return makeError(ErrorCode::Cancelled,
                                 "analysis cancelled after " + std::to_string(item.plan) + " of " +
                                     std::to_string(plans.size()) + " tensors");
            }
            if (i + 1 < items.size())
                startLoad(i + 1);

            const Plan &plan = plans[item.plan];
            const AlignedTensor &aligned = models.tensors()[plan.aligned];
            Buffers &current = buffers[i % 2];
            const TensorData slice = sliceData(aligned, plan, item, current);
            const bool whole = item.count == aligned.numel;
            const bool last = item.first + item.count == aligned.numel;
            try {
                if (item.first == 0) {
                    entry = TensorEntry();
                    entry.name = aligned.name;
                    entry.nameInfo = aligned.nameInfo;
                    entry.shape = plan.read[0]->shape;
                    entry.numel = plan.read[0]->numel;
                    for (int m = 0; m < count; ++m) {
                        const TensorInfo *info = aligned.perModel[static_cast<std::size_t>(m)];
                        entry.dtypes.emplace_back(info ? dtypeName(info->dtype)
                                                       : std::string_view());
                        if (m > 0)
                            entry.present.push_back(plan.read[static_cast<std::size_t>(m)] !=
                                                    nullptr);
                    }
                    kernel.start(slice, whole ? kernel.sampleOf(slice) : std::move(current.sample));
                }
                kernel.sweep(slice);
                if (last) {
                    // A tensor held whole is read again from its buffers; a sliced one from
                    // the files, into the third set.
                    const TensorKernel::RangeReader read =
                        [&](std::uint64_t first, std::uint64_t length) -> Result<TensorData> {
                        const Item range{item.plan, first, length};
                        if (whole) {
                            TensorData view = slice;
                            view.first = first;
                            view.base = slice.base.subspan(first, length);
                            for (std::size_t t = 0; t < view.fineTunes.size(); ++t) {
                                if (view.present[t])
                                    view.fineTunes[t] = slice.fineTunes[t].subspan(first, length);
                            }
                            return view;
                        }
                        BASIN_TRY(readSlice(models, aligned, plan, first, length, reread));
                        return sliceData(aligned, plan, range, reread);
                    };
                    Result<TensorResult> result = kernel.finish(read);
                    if (!result) {
                        drain();
                        return result.takeError();
                    }
                    entry.stats = std::move(result->stats);
                    entry.sample = std::move(result->sample);
                    snapshot->tensors.push_back(std::move(entry));
                }
            } catch (const std::bad_alloc &) {
                drain();
                return makeError(ErrorCode::Internal,
                                 "out of memory analysing tensor '" + aligned.name + "'");
            }

            report.itemsDone = item.plan + (last ? 1 : 0);
            // The tensor's bytes in proportion to its slices, exact once the last one is done.
            const auto bytesUpTo = [&](std::uint64_t end) {
                return end >= aligned.numel
                           ? plan.bytes
                           : static_cast<std::uint64_t>(static_cast<double>(plan.bytes) *
                                                        static_cast<double>(end) /
                                                        static_cast<double>(aligned.numel));
            };
            report.bytesDone += bytesUpTo(item.first + item.count) - bytesUpTo(item.first);
            report.elapsedSeconds = elapsed();
            const double fraction = bytesTotal > 0
                                        ? double(report.bytesDone) / double(bytesTotal)
                                        : double(report.itemsDone) / double(report.itemsTotal);
            report.etaSeconds =
                fraction > 0.0 ? report.elapsedSeconds * (1.0 - fraction) / fraction : -1.0;
            if (progress && (fraction - lastFraction >= 0.001 || i + 1 == items.size())) {
                lastFraction = fraction;
                progress(report);
            }
        }
        drain();
        snapshot->bytesRead = report.bytesDone;
        finishSnapshot(*snapshot);
        snapshot->seconds = elapsed();
        return std::shared_ptr<const AnalysisSnapshot>(std::move(snapshot));
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::Internal, "out of memory during the analysis pass");
    }
}

} // namespace basin::analysis
