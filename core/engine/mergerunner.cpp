// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/mergerunner.h"

#include "engine/bytesize.h"
#include "engine/inputreader.h"
#include "engine/modelcard.h"
#include "engine/outputconfig.h"
#include "engine/prefetcher.h"
#include "engine/progresstracker.h"
#include "engine/shardsink.h"
#include "engine/stagingfolder.h"
#include "engine/workerpool.h"
#include "io/atomicfile.h"
#include "io/codecs.h"
#include "recipe/yamlwriter.h"

#include <omp.h>

#include <algorithm>
#include <new>
#include <optional>
#include <system_error>

namespace fs = std::filesystem;

namespace basin::engine {

namespace {

// Streamed element-wise merges: elements per kernel call (a few of these per input stay in
// L2) and per span (one writer buffer; sets the cancel/progress granularity).
constexpr std::uint64_t kStreamChunk = 1u << 16;
constexpr std::uint64_t kStreamSpan = 1u << 21;
// Whole-tensor inputs decoded per OpenMP iteration (see the prefetcher's chunk).
constexpr std::uint64_t kDecodeChunk = 1u << 18;
// Per-tensor kernel warnings repeated in the summary, at most.
constexpr std::size_t kSummaryWarnings = 5;

// OpenMP's thread count for this thread, restored on exit (the GUI runs merges on a worker
// thread and must not change anyone else's setting).
class ThreadCountScope {
public:
    explicit ThreadCountScope(int threads) : m_saved(omp_get_max_threads())
    {
        if (threads > 0)
            omp_set_num_threads(threads);
    }
    ~ThreadCountScope() { omp_set_num_threads(m_saved); }
    ThreadCountScope(const ThreadCountScope &) = delete;
    ThreadCountScope &operator=(const ThreadCountScope &) = delete;

private:
    int m_saved;
};

bool isInside(const fs::path &candidate, const fs::path &folder)
{
    auto folderIt = folder.begin();
    auto candidateIt = candidate.begin();
    for (; folderIt != folder.end(); ++folderIt, ++candidateIt) {
        if (candidateIt == candidate.end() || *candidateIt != *folderIt)
            return false;
    }
    return true;
}

std::string plural(std::uint64_t count, const std::string &one, const std::string &many)
{
    return std::to_string(count) + " " + (count == 1 ? one : many);
}

class MergeRunner {
public:
    MergeRunner(const PreparedMerge &prepared, const MergeOptions &options,
                const ProgressSink &progress, const CancelFlag &cancel)
        : m_prepared(prepared), m_options(options), m_tracker(progress), m_cancel(cancel)
    {
    }

    Result<MergeReport> run(const fs::path &outDir);

private:
    Result<void> checkInputsOutside(const fs::path &destination) const;
    Result<void> mergeTensors(const fs::path &folder);
    Result<void> decodeInputs(LoadedTensor &loaded);
    Result<void> mergeWhole(LoadedTensor &loaded, TensorReport &report);
    Result<void> mergeStreamed(std::size_t index, TensorReport &report);
    Result<void> checkValues(std::size_t index, const InputSource &input, const ValueCounts &counts,
                             TensorReport &report, bool partial);
    merge::TensorJob jobFor(std::size_t index) const;
    Result<void> writeSideFiles(const StagingFolder &staging);
    void summarise();
    std::string modelLabel(int model) const
    {
        return m_prepared.plan.models[static_cast<std::size_t>(model)].path;
    }

    const PreparedMerge &m_prepared;
    const MergeOptions &m_options;
    ProgressTracker m_tracker;
    const CancelFlag &m_cancel;
    MergeReport m_report;
    // Declared before the sink: the sink's threads stop before the folder is removed.
    std::unique_ptr<StagingFolder> m_staging;
    std::unique_ptr<ShardSink> m_sink;
    std::unique_ptr<WorkerPool> m_pool;       // streamed merges
    FloatBuffer m_out;                        // whole-tensor kernel output, reused
    std::unique_ptr<BufferPool> m_buffers;    // whole-tensor inputs decoded here
    std::vector<FloatBuffer> m_threadScratch; // streamed merges: per OpenMP thread
};

Result<MergeReport> MergeRunner::run(const fs::path &outDir)
{
    Result<std::unique_ptr<StagingFolder>> staging =
        StagingFolder::create(outDir, m_options.overwrite);
    if (!staging)
        return staging.takeError();
    m_staging = std::move(*staging);
    BASIN_TRY(checkInputsOutside(m_staging->destination()));
    m_report.outDir = m_staging->destination();
    m_report.seed = m_prepared.seed;

    BASIN_TRY(mergeTensors(m_staging->path()));
    m_tracker.phase("writing", 0, 0);
    Result<std::vector<ShardReport>> shards = m_sink->finish();
    if (!shards)
        return shards.takeError();
    m_report.shards = std::move(*shards);
    m_sink.reset();
    summarise();
    BASIN_TRY(writeSideFiles(*m_staging));
    if (m_cancel.load())
        return makeError(ErrorCode::Cancelled,
                         "merge cancelled; nothing was written to " + m_report.outDir.string());
    BASIN_TRY(m_staging->commit());
    if (!m_staging->warning().empty())
        m_report.warnings.push_back(m_staging->warning());
    m_report.seconds = m_tracker.elapsedSeconds();
    m_tracker.phase("done", 0, 0);
    return std::move(m_report);
}

Result<void> MergeRunner::checkInputsOutside(const fs::path &destination) const
{
    // Replacing the output folder must never delete an input model.
    std::error_code ec;
    const fs::path target = fs::weakly_canonical(destination, ec);
    if (ec)
        return {};
    std::vector<std::shared_ptr<const Checkpoint>> models = m_prepared.models;
    models.push_back(m_prepared.tokenizer);
    for (const auto &model : models) {
        const fs::path input = fs::weakly_canonical(model->path(), ec);
        if (!ec && isInside(input, target))
            return makeError(ErrorCode::InvalidArgument,
                             destination.string() + ": the output folder holds the input model " +
                                 model->path().string() + "; choose another output folder");
    }
    return {};
}

merge::TensorJob MergeRunner::jobFor(std::size_t index) const
{
    const OutputTensor &out = m_prepared.outputs[index];
    const recipe::PlannedTensor &planned = m_prepared.plan.tensors[index];
    merge::TensorJob job;
    job.tensorName = planned.name;
    job.shape = out.shape;
    job.numel = out.numel;
    job.global = planned.global;
    job.seed = m_prepared.seed;
    for (const InputSource &input : out.inputs) {
        if (input.use == InputUse::Skipped)
            continue;
        merge::ModelInput model;
        model.params = planned.inputs[static_cast<std::size_t>(input.planInput)].params;
        model.modelIndex = input.model;
        model.label = modelLabel(input.model);
        job.models.push_back(std::move(model));
    }
    return job;
}

Result<void> MergeRunner::checkValues(std::size_t index, const InputSource &input,
                                      const ValueCounts &counts, TensorReport &report, bool partial)
{
    if (counts.nan == 0 && counts.inf == 0)
        return {};
    const std::string what = "tensor " + input.tensor->name + " of model " +
                             modelLabel(input.model) + " (" +
                             m_prepared.models[static_cast<std::size_t>(input.model)]
                                 ->files()[static_cast<std::size_t>(input.tensor->fileIndex)]
                                 .string() +
                             ")";
    if (counts.nan > 0 && !m_options.allowNan) {
        return makeError(ErrorCode::NonFinite,
                         what + " holds " + plural(counts.nan, "NaN value", "NaN values") +
                             (partial ? " (counted so far)" : "") +
                             "; merging would spread them into " +
                             m_prepared.plan.tensors[index].name +
                             ". Fix the model, or allow NaN to merge it anyway");
    }
    m_report.nanValues += counts.nan;
    m_report.infValues += counts.inf;
    if (counts.nan > 0)
        report.warnings.push_back(what + " holds " + plural(counts.nan, "NaN value", "NaN values") +
                                  ", merged as allowed");
    if (counts.inf > 0)
        report.warnings.push_back(what + " holds " +
                                  plural(counts.inf, "infinite value", "infinite values"));
    return {};
}

Result<void> MergeRunner::decodeInputs(LoadedTensor &loaded)
{
    // Every input of the tensor in fixed chunks, spread over the OpenMP team; NaN/Inf counts
    // are summed in chunk order.
    const OutputTensor &out = m_prepared.outputs[loaded.index];
    std::vector<std::pair<const InputSource *, FloatBuffer *>> sources;
    std::vector<ValueCounts *> totals;
    if (out.base) {
        sources.emplace_back(&*out.base, &loaded.base);
        totals.push_back(&loaded.baseCounts);
    }
    for (std::size_t i = 0; i < out.inputs.size(); ++i) {
        if (out.inputs[i].use != InputUse::Skipped) {
            sources.emplace_back(&out.inputs[i], &loaded.inputs[i]);
            totals.push_back(&loaded.inputCounts[i]);
        }
    }
    for (auto &[source, buffer] : sources)
        *buffer = m_buffers->acquire(out.numel);

    const std::uint64_t perSource = (out.numel + kDecodeChunk - 1) / kDecodeChunk;
    const auto chunks = static_cast<std::int64_t>(perSource * sources.size());
    std::vector<std::optional<Error>> errors(static_cast<std::size_t>(chunks));
    std::vector<ValueCounts> counts(static_cast<std::size_t>(chunks));
#pragma omp parallel for schedule(dynamic, 1) if (chunks > 1)
    for (std::int64_t c = 0; c < chunks; ++c) {
        const auto slot = static_cast<std::size_t>(c);
        const auto &[source, buffer] = sources[slot / perSource];
        const std::uint64_t first = (slot % perSource) * kDecodeChunk;
        const std::uint64_t count = std::min(kDecodeChunk, out.numel - first);
        const Checkpoint &model = *m_prepared.models[static_cast<std::size_t>(source->model)];
        Result<ValueCounts> read = readInputRange(model, *source, out.shape, first,
                                                  buffer->first(out.numel).subspan(first, count));
        if (!read)
            errors[slot] = read.takeError();
        else
            counts[slot] = *read;
        releaseInputRange(model, *source, first, count);
    }
    for (std::size_t slot = 0; slot < errors.size(); ++slot) {
        if (errors[slot])
            return std::move(*errors[slot]);
        *totals[slot / perSource] += counts[slot];
    }
    for (const auto &[source, buffer] : sources)
        releaseInputPrefix(*m_prepared.models[static_cast<std::size_t>(source->model)], *source,
                           out.numel, out.numel);
    return {};
}

Result<void> MergeRunner::mergeWhole(LoadedTensor &loaded, TensorReport &report)
{
    const std::size_t index = loaded.index;
    const OutputTensor &out = m_prepared.outputs[index];
    if (m_buffers)
        BASIN_TRY(decodeInputs(loaded));
    if (out.base)
        BASIN_TRY(checkValues(index, *out.base, loaded.baseCounts, report, false));
    for (std::size_t i = 0; i < out.inputs.size(); ++i) {
        if (out.inputs[i].use != InputUse::Skipped)
            BASIN_TRY(checkValues(index, out.inputs[i], loaded.inputCounts[i], report, false));
    }

    merge::TensorJob job = jobFor(index);
    job.base = out.base ? loaded.base.data() : nullptr;
    std::size_t model = 0;
    for (std::size_t i = 0; i < out.inputs.size(); ++i) {
        if (out.inputs[i].use != InputUse::Skipped)
            job.models[model++].data = loaded.inputs[i].data();
    }
    std::span<float> values;
    if (out.base && m_prepared.method->outputOverBase) {
        // The kernel may overwrite the base as it goes: one f32 tensor less to hold.
        values = loaded.base.first(out.numel);
    } else {
        if (m_out.capacity() < out.numel) {
            m_out = FloatBuffer(); // free first: never hold two output buffers
            m_out = FloatBuffer(out.numel);
        }
        values = m_out.first(out.numel);
    }
    merge::TensorNotes notes;
    BASIN_TRY(m_prepared.method->kernel(job, values, notes));
    report.slerpFellBack = notes.slerpFellBack;
    for (std::string &warning : notes.warnings)
        report.warnings.push_back(std::move(warning));
    Result<std::uint64_t> overflowed = m_sink->writeValues(values, out.dtype);
    if (!overflowed)
        return overflowed.takeError();
    report.overflowed = *overflowed;
    return {};
}

Result<void> MergeRunner::mergeStreamed(std::size_t index, TensorReport &report)
{
    const OutputTensor &out = m_prepared.outputs[index];
    // Inputs in kernel order: the base first, then the inputs that take part.
    std::vector<const InputSource *> sources;
    if (out.base)
        sources.push_back(&*out.base);
    for (const InputSource &input : out.inputs) {
        if (input.use != InputUse::Skipped)
            sources.push_back(&input);
    }
    const std::size_t sourceCount = sources.size();
    const std::size_t elementBytes = dtypeBits(out.dtype) / 8;
    const int threads = m_pool->threads();
    const std::uint64_t scratchFloats = (sourceCount + 1) * kStreamChunk;
    if (m_threadScratch.size() < static_cast<std::size_t>(threads))
        m_threadScratch.resize(static_cast<std::size_t>(threads));
    for (FloatBuffer &scratch : m_threadScratch) {
        if (scratch.capacity() < scratchFloats)
            scratch = FloatBuffer(scratchFloats);
    }

    const merge::TensorJob prototype = jobFor(index);
    std::vector<merge::TensorJob> jobs(static_cast<std::size_t>(threads), prototype);
    std::vector<std::array<std::uint64_t, 1>> shapes(static_cast<std::size_t>(threads));
    std::vector<ValueCounts> totals(sourceCount);
    const merge::KernelFn kernel = m_prepared.method->kernel;

    for (std::uint64_t first = 0; first < out.numel; first += kStreamSpan) {
        if (m_cancel.load())
            return makeError(ErrorCode::Cancelled, "merge cancelled");
        const std::uint64_t span = std::min(kStreamSpan, out.numel - first);
        const auto chunks = static_cast<std::int64_t>((span + kStreamChunk - 1) / kStreamChunk);
        // Encoded straight into the writer's free buffer; the other one is being written.
        Result<std::span<std::byte>> encodedSpan = m_sink->buffer(span * elementBytes);
        if (!encodedSpan)
            return encodedSpan.takeError();
        std::byte *const encodedBytes = encodedSpan->data();
        std::vector<std::optional<Error>> errors(static_cast<std::size_t>(chunks));
        std::vector<ValueCounts> counts(static_cast<std::size_t>(chunks) * sourceCount);
        std::vector<std::uint64_t> overflow(static_cast<std::size_t>(chunks), 0);
        std::vector<std::string> chunkWarnings;

        m_pool->run(static_cast<std::size_t>(chunks), [&](std::size_t slot, int worker) {
            const auto thread = static_cast<std::size_t>(worker);
            float *scratch = m_threadScratch[thread].data();
            const std::uint64_t begin = first + static_cast<std::uint64_t>(slot) * kStreamChunk;
            const std::uint64_t count = std::min(kStreamChunk, first + span - begin);
            try {
                bool failed = false;
                for (std::size_t s = 0; s < sourceCount && !failed; ++s) {
                    const InputSource &source = *sources[s];
                    Result<ValueCounts> read = readInputRange(
                        *m_prepared.models[static_cast<std::size_t>(source.model)], source,
                        out.shape, begin, std::span<float>(scratch + s * kStreamChunk, count));
                    if (!read) {
                        errors[slot] = read.takeError();
                        failed = true;
                    } else {
                        counts[slot * sourceCount + s] = *read;
                    }
                }
                if (failed)
                    return;
                merge::TensorJob &job = jobs[thread];
                shapes[thread][0] = count;
                job.shape = shapes[thread];
                job.numel = count;
                std::size_t s = 0;
                job.base = out.base ? scratch + (s++) * kStreamChunk : nullptr;
                for (merge::ModelInput &model : job.models)
                    model.data = scratch + (s++) * kStreamChunk;
                const std::span<float> values(scratch + sourceCount * kStreamChunk, count);
                merge::TensorNotes notes;
                Result<void> merged = kernel(job, values, notes);
                if (!merged) {
                    errors[slot] = merged.takeError();
                    return;
                }
                // Element-wise kernels emit no per-tensor notes; keep any the first chunk gives.
                if (begin == 0 && !notes.warnings.empty())
                    chunkWarnings = notes.warnings;
                Result<std::uint64_t> encoded = encodeFromF32(
                    out.dtype, values,
                    std::span<std::byte>(encodedBytes + (begin - first) * elementBytes,
                                         count * elementBytes));
                if (!encoded)
                    errors[slot] = encoded.takeError();
                else
                    overflow[slot] = *encoded;
            } catch (const std::bad_alloc &) {
                errors[slot] = makeError(ErrorCode::IoError, "out of memory merging " +
                                                                 std::string(prototype.tensorName));
            } catch (const std::exception &error) {
                errors[slot] = makeError(ErrorCode::Internal,
                                         std::string(prototype.tensorName) + ": " + error.what());
            }
        });

        // Errors and counts in chunk order, so the outcome does not depend on the threads.
        for (std::int64_t c = 0; c < chunks; ++c) {
            if (errors[static_cast<std::size_t>(c)])
                return std::move(*errors[static_cast<std::size_t>(c)]);
        }
        std::vector<ValueCounts> spanCounts(sourceCount);
        for (std::int64_t c = 0; c < chunks; ++c) {
            for (std::size_t s = 0; s < sourceCount; ++s)
                spanCounts[s] += counts[static_cast<std::size_t>(c) * sourceCount + s];
            report.overflowed += overflow[static_cast<std::size_t>(c)];
        }
        for (std::size_t s = 0; s < sourceCount; ++s) {
            totals[s] += spanCounts[s];
            // NaN is refused before a byte of this span is written.
            if (spanCounts[s].nan > 0 && !m_options.allowNan) {
                TensorReport ignored;
                return checkValues(index, *sources[s], totals[s], ignored, true).takeError();
            }
        }
        for (std::string &warning : chunkWarnings)
            report.warnings.push_back(std::move(warning));
        m_sink->commit(span * elementBytes);
        for (const InputSource *source : sources)
            releaseInputPrefix(*m_prepared.models[static_cast<std::size_t>(source->model)], *source,
                               first + span, out.numel);
        m_tracker.update(m_report.tensors.size(), m_sink->bytesQueued());
    }
    for (std::size_t s = 0; s < sourceCount; ++s)
        BASIN_TRY(checkValues(index, *sources[s], totals[s], report, false));
    return {};
}

Result<void> MergeRunner::mergeTensors(const fs::path &folder)
{
    Result<std::unique_ptr<ShardSink>> sink = ShardSink::create(folder, m_prepared.shards);
    if (!sink)
        return sink.takeError();
    m_sink = std::move(*sink);

    const bool streamed = m_prepared.elementwise && m_options.streamElementwise;
    if (streamed)
        m_pool = std::make_unique<WorkerPool>(std::max(1, omp_get_max_threads()));
    const bool decodeAhead = !streamed && m_options.decodeAhead;
    if (!streamed && !decodeAhead)
        m_buffers = std::make_unique<BufferPool>(m_options.prefetchBytes);
    Prefetcher prefetcher(m_prepared, decodeAhead, m_options.prefetchBytes);
    BASIN_TRY(prefetcher.start());
    const std::size_t total = m_prepared.outputs.size();
    m_tracker.phase("merging", total, m_prepared.shards.totalBytes);
    m_report.tensors.reserve(total);
    for (std::size_t i = 0; i < total; ++i) {
        if (m_cancel.load())
            return makeError(ErrorCode::Cancelled, "merge cancelled after " +
                                                       plural(i, "tensor", "tensors") +
                                                       "; nothing was written");
        Result<LoadedTensor> loaded = prefetcher.next();
        if (!loaded)
            return loaded.takeError();
        const OutputTensor &out = m_prepared.outputs[i];
        TensorReport report;
        report.name = m_prepared.plan.tensors[i].name;
        report.dtype = out.dtype;
        report.shape = out.shape;
        report.warnings = out.notes;
        Result<void> merged = streamed ? mergeStreamed(i, report) : mergeWhole(*loaded, report);
        if (m_buffers) {
            m_buffers->recycle(std::move(loaded->base));
            for (FloatBuffer &buffer : loaded->inputs)
                m_buffers->recycle(std::move(buffer));
        }
        prefetcher.finished(std::move(*loaded));
        if (!merged)
            return merged.takeError();
        m_report.tensors.push_back(std::move(report));
        m_tracker.update(m_report.tensors.size(), m_sink->bytesQueued());
    }
    m_out = FloatBuffer();
    m_threadScratch.clear();
    return {};
}

void MergeRunner::summarise()
{
    MergeReport &r = m_report;
    r.warnings = m_prepared.warnings;
    r.embeddingsCropped = m_prepared.embeddingsCropped;
    r.modelsSkipped = m_prepared.modelsSkipped;
    r.tensorBytes = m_prepared.shards.totalBytes;
    std::size_t kernelWarnings = 0;
    std::string firstOverflow;
    for (const TensorReport &tensor : r.tensors) {
        r.slerpFallbacks += tensor.slerpFellBack ? 1 : 0;
        r.overflowed += tensor.overflowed;
        if (tensor.overflowed > 0 && firstOverflow.empty())
            firstOverflow = tensor.name;
        // Notes the plan already reported are at the front of each tensor's warnings.
        const OutputTensor &out =
            m_prepared.outputs[static_cast<std::size_t>(&tensor - r.tensors.data())];
        for (std::size_t w = out.notes.size(); w < tensor.warnings.size(); ++w) {
            if (kernelWarnings++ < kSummaryWarnings)
                r.warnings.push_back(tensor.warnings[w]);
        }
    }
    if (kernelWarnings > kSummaryWarnings)
        r.warnings.push_back("… and " + std::to_string(kernelWarnings - kSummaryWarnings) +
                             " more tensor warnings (see the per-tensor report)");
    if (r.slerpFallbacks > 0)
        r.warnings.push_back(
            m_prepared.recipe.mergeMethod + " fell back to linear interpolation for " +
            plural(static_cast<std::uint64_t>(r.slerpFallbacks), "tensor", "tensors") + " of " +
            std::to_string(r.tensors.size()) + " (nearly parallel inputs)");
    if (r.nanValues > 0)
        r.warnings.push_back(plural(r.nanValues, "NaN value", "NaN values") +
                             " in the inputs were merged (NaN allowed)");
    if (r.infValues > 0)
        r.warnings.push_back(plural(r.infValues, "infinite value", "infinite values") +
                             " found in the inputs");
    if (r.overflowed > 0)
        r.warnings.push_back(plural(r.overflowed, "value", "values") +
                             " overflowed to ±Inf in the output dtype (first in " + firstOverflow +
                             ")");
}

Result<void> MergeRunner::writeSideFiles(const StagingFolder &staging)
{
    const fs::path &folder = staging.path();
    if (const std::optional<std::string> config = outputConfigText(m_prepared))
        BASIN_TRY(writeFileAtomic(folder / "config.json", *config));
    else
        m_report.warnings.push_back("the base model has no config.json; none was written");

    for (const fs::path &file : m_prepared.tokenizer->sideFiles()) {
        std::error_code ec;
        fs::copy_file(file, folder / file.filename(), fs::copy_options::overwrite_existing, ec);
        if (ec)
            return makeError(ec == std::errc::no_space_on_device ? ErrorCode::NoSpace
                                                                 : ErrorCode::IoError,
                             file.string() + ": cannot copy into the output: " + ec.message());
    }

    // The recipe as run: paths relative to the output folder, the seed of random methods.
    recipe::Recipe written = m_prepared.recipe;
    if (m_prepared.method->randomized)
        written.seed = m_prepared.seed;
    recipe::WriteOptions options;
    options.relativeTo = staging.destination();
    const std::string yaml = recipe::writeRecipeString(written, options);
    BASIN_TRY(writeFileAtomic(folder / "basin_recipe.yml", yaml));
    BASIN_TRY(
        writeFileAtomic(folder / "README.md", modelCardText(m_prepared, staging.destination(), yaml,
                                                            m_report.shards, m_report.warnings)));
    return {};
}

} // namespace

Result<MergeReport> runPreparedMerge(const PreparedMerge &prepared, const fs::path &outDir,
                                     const MergeOptions &options, const ProgressSink &progress,
                                     const CancelFlag &cancel)
{
    const ThreadCountScope threads(options.threads);
    try {
        MergeRunner runner(prepared, options, progress, cancel);
        return runner.run(outDir);
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::IoError, "out of memory while merging into " + outDir.string());
    } catch (const std::length_error &) {
        return makeError(ErrorCode::IoError, "out of memory while merging into " + outDir.string());
    } catch (const fs::filesystem_error &error) {
        return makeError(ErrorCode::IoError, error.what());
    }
}

Result<MergeReport> runMerge(const MergeRequest &request, const ProgressSink &progress,
                             const CancelFlag &cancel)
{
    const ThreadCountScope threads(request.options.threads);
    ProgressTracker tracker(progress);
    tracker.phase("reading", 0, 0);
    // Cheap checks first: a destination that cannot be used fails before any model opens.
    Result<fs::path> destination = checkDestination(request.outDir, request.options.overwrite);
    if (!destination)
        return destination.takeError();
    Result<PreparedMerge> prepared = prepareMerge(request.recipe, request.options);
    if (!prepared)
        return prepared.takeError();
    if (cancel.load())
        return makeError(ErrorCode::Cancelled, "merge cancelled; nothing was written");
    return runPreparedMerge(*prepared, request.outDir, request.options, progress, cancel);
}

} // namespace basin::engine
