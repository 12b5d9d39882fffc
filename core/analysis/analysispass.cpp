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

// One tensor's decoded values for every model. Two sets alternate: one being analysed, the
// other being filled by the prefetch thread; buffers only grow, so steady state allocates
// nothing.
struct Buffers {
    std::vector<std::vector<float>> values;
};

Result<void> load(const ModelSet &models, const AlignedTensor &aligned, const Plan &plan,
                  Buffers &buffers)
{
    try {
        buffers.values.resize(plan.read.size());
        for (std::size_t m = 0; m < plan.read.size(); ++m) {
            const TensorInfo *info = plan.read[m];
            if (!info)
                continue;
            std::vector<float> &out = buffers.values[m];
            out.resize(static_cast<std::size_t>(aligned.numel));
            const Checkpoint &checkpoint = models.model(static_cast<int>(m));
            BASIN_TRY(checkpoint.readF32(*info, out));
            // The decoded copy is all the pass needs: drop the mapped pages now, so resident
            // memory stays at the two decoded tensors, not twice that.
            checkpoint.release(*info);
        }
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::Internal, "out of memory reading tensor '" + aligned.name +
                                                  "' (" + std::to_string(aligned.numel) +
                                                  " elements per model)");
    } catch (const std::length_error &) {
        return makeError(ErrorCode::Internal, "tensor '" + aligned.name + "' is too large");
    }
    return {};
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
        // Room for the largest tensor up front: growing a vector on demand would briefly
        // hold two copies and leave capacity at up to twice the largest tensor.
        std::uint64_t largest = 0;
        for (const Plan &plan : plans)
            largest = std::max(largest, models.tensors()[plan.aligned].numel);
        Buffers buffers[2];
        for (Buffers &set : buffers) {
            set.values.resize(static_cast<std::size_t>(count));
            for (std::vector<float> &values : set.values)
                values.reserve(static_cast<std::size_t>(largest));
        }
        std::future<Result<void>> pending;
        const auto startLoad = [&](std::size_t p) {
            const Plan &plan = plans[p];
            Buffers &target = buffers[p % 2];
            pending = std::async(std::launch::async, [&models, &plan, &target] {
                return load(models, models.tensors()[plan.aligned], plan, target);
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
        if (!plans.empty())
            startLoad(0);
        for (std::size_t p = 0; p < plans.size(); ++p) {
            Result<void> loaded = pending.get();
            if (!loaded)
                return loaded.takeError();
            if (cancel && cancel->load()) {
                return makeError(ErrorCode::Cancelled,
                                 "analysis cancelled after " + std::to_string(p) + " of " +
                                     std::to_string(plans.size()) + " tensors");
            }
            if (p + 1 < plans.size())
                startLoad(p + 1);

            const Plan &plan = plans[p];
            const AlignedTensor &aligned = models.tensors()[plan.aligned];
            const Buffers &current = buffers[p % 2];
            TensorData data;
            data.name = aligned.name;
            data.base = std::span<const float>(current.values[0]);
            TensorEntry entry;
            entry.name = aligned.name;
            entry.nameInfo = aligned.nameInfo;
            entry.shape = plan.read[0]->shape;
            entry.numel = plan.read[0]->numel;
            for (int m = 0; m < count; ++m) {
                const TensorInfo *info = aligned.perModel[static_cast<std::size_t>(m)];
                entry.dtypes.emplace_back(info ? dtypeName(info->dtype) : std::string_view());
                if (m == 0)
                    continue;
                const TensorInfo *read = plan.read[static_cast<std::size_t>(m)];
                entry.present.push_back(read != nullptr);
                data.present.push_back(read != nullptr);
                data.fineTunes.push_back(
                    read ? std::span<const float>(current.values[static_cast<std::size_t>(m)])
                         : std::span<const float>());
                data.bf16.push_back(read && read->dtype == Dtype::BF16 &&
                                    plan.read[0]->dtype == Dtype::BF16);
            }
            TensorResult result;
            try {
                result = kernel.run(data);
            } catch (const std::bad_alloc &) {
                drain();
                return makeError(ErrorCode::Internal,
                                 "out of memory analysing tensor '" + aligned.name + "'");
            }
            entry.stats = std::move(result.stats);
            entry.sample = std::move(result.sample);
            snapshot->tensors.push_back(std::move(entry));

            report.itemsDone = p + 1;
            report.bytesDone += plan.bytes;
            report.elapsedSeconds = elapsed();
            const double fraction = bytesTotal > 0
                                        ? double(report.bytesDone) / double(bytesTotal)
                                        : double(report.itemsDone) / double(report.itemsTotal);
            report.etaSeconds =
                fraction > 0.0 ? report.elapsedSeconds * (1.0 - fraction) / fraction : -1.0;
            if (progress && (fraction - lastFraction >= 0.001 || p + 1 == plans.size())) {
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
