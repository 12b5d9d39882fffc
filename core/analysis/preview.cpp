// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/preview.h"

#include "merge/method.h"
#include "recipe/mergeplan.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <limits>
#include <new>
#include <optional>
#include <unordered_map>

namespace basin::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// How one planned tensor is previewed.
enum class Route { Linear, TaskLinear, Slerp, ModelStock, Sampled };

// Methods whose merge is Σ λ_i τ_i once every density is 1 (no sign election, no sparsifier).
bool linearWhenDense(std::string_view method)
{
    return method == "task_arithmetic" || method == "dare_linear" || method == "breadcrumbs";
}

std::filesystem::path canonicalOf(const std::filesystem::path &path)
{
    std::error_code ec;
    auto canonical = std::filesystem::weakly_canonical(path, ec);
    return ec ? path.lexically_normal() : canonical;
}

// Coefficients of raw model s (0 = base) over [B, τ_1 … τ_T].
Eigen::VectorXd rawModel(int s, int fineTunes)
{
    Eigen::VectorXd c = Eigen::VectorXd::Zero(fineTunes + 1);
    c(0) = 1.0;
    if (s > 0)
        c(s) = 1.0;
    return c;
}

// slerp(v0, v1, t) as coefficients, following METHODS.md: normalise each input only when
// its norm exceeds 1e-8, lerp when |cos| > 0.9995.
Eigen::VectorXd slerpCoefficients(const Eigen::MatrixXd &k, const Eigen::VectorXd &v0,
                                  const Eigen::VectorXd &v1, double t, bool &fellBack)
{
    const double n0 = std::sqrt(std::max(0.0, v0.dot(k * v0)));
    const double n1 = std::sqrt(std::max(0.0, v1.dot(k * v1)));
    const double d0 = n0 > 1e-8 ? n0 : 1.0;
    const double d1 = n1 > 1e-8 ? n1 : 1.0;
    const double dot = v0.dot(k * v1) / (d0 * d1);
    if (std::fabs(dot) > 0.9995) {
        fellBack = true;
        return (1.0 - t) * v0 + t * v1;
    }
    fellBack = false;
    const double theta = std::acos(std::clamp(dot, -1.0, 1.0));
    const double sinTheta = std::sin(theta);
    return std::sin((1.0 - t) * theta) / sinTheta * v0 + std::sin(t * theta) / sinTheta * v1;
}

struct Context {
    const AnalysisSnapshot &snapshot;
    const recipe::Recipe &recipe;
    const recipe::MergePlan &plan;
    const merge::MethodDecl &method;
    std::vector<int> planToSnapshot; // plan model index → snapshot model index
    std::uint64_t seed = 0;
};

struct TensorOutcome {
    MergedMoments moments;
    bool sampled = false;
    bool fellBack = false;
    std::uint64_t sampleSize = 0;
    std::optional<Error> error;
};

bool inputPresent(const TensorEntry &entry, int s)
{
    return s == 0 || (static_cast<std::size_t>(s - 1) < entry.present.size() &&
                      entry.present[static_cast<std::size_t>(s - 1)]);
}

Result<void> exactTensor(const Context &ctx, Route route, const recipe::PlannedTensor &pt,
                         const TensorEntry &entry, TensorOutcome &outcome)
{
    const int fineTunes = ctx.snapshot.fineTunes();
    const Eigen::MatrixXd k = basisGram(entry.gram());
    Eigen::VectorXd c = Eigen::VectorXd::Zero(fineTunes + 1);
    const std::string where = std::string(ctx.method.name) + ": tensor " + pt.name;
    switch (route) {
    case Route::Linear: {
        const bool normalize = pt.global.get("normalize", 1.0) != 0.0;
        double weightSum = 0.0;
        for (const recipe::PlannedInput &in : pt.inputs) {
            const int s = ctx.planToSnapshot[static_cast<std::size_t>(in.model)];
            if (!inputPresent(entry, s))
                continue;
            const double weight = in.params.get("weight", 0.0);
            weightSum += static_cast<double>(static_cast<float>(weight));
            c += weight * rawModel(s, fineTunes);
        }
        if (normalize) {
            if (weightSum == 0.0)
                return makeError(ErrorCode::InvalidArgument,
                                 where +
                                     ": the weights sum to 0, so normalize cannot divide by them");
            c /= weightSum;
        }
        c(0) -= 1.0;
        break;
    }
    case Route::TaskLinear: {
        const bool normalize = pt.global.get("normalize", 0.0) != 0.0;
        const double lambda = pt.global.get("lambda", 1.0);
        double divisor = 0.0;
        for (const recipe::PlannedInput &in : pt.inputs) {
            const int s = ctx.planToSnapshot[static_cast<std::size_t>(in.model)];
            if (!inputPresent(entry, s))
                continue;
            const double weight = in.params.get("weight", 0.0);
            divisor += weight;
            if (s > 0)
                c(s) += weight;
        }
        if (!normalize || std::fabs(divisor) < 1e-8)
            divisor = 1.0;
        c *= lambda / divisor;
        break;
    }
    case Route::Slerp: {
        if (!pt.base || pt.inputs.size() != 1)
            return makeError(ErrorCode::InvalidArgument,
                             where + ": slerp needs the base and exactly one other model");
        const double t = pt.global.get("t", 0.0);
        const int s0 = ctx.planToSnapshot[static_cast<std::size_t>(pt.base->model)];
        const int s1 = ctx.planToSnapshot[static_cast<std::size_t>(pt.inputs.front().model)];
        bool fellBack = false;
        c = slerpCoefficients(k, rawModel(s0, fineTunes), rawModel(s1, fineTunes), t, fellBack);
        c(0) -= 1.0;
        outcome.fellBack = fellBack;
        break;
    }
    case Route::ModelStock: {
        // t from the pairwise cosines of the inputs' offsets, out = t·mean(X) + (1 − t)·B.
        std::vector<int> ids;
        for (const recipe::PlannedInput &in : pt.inputs) {
            const int s = ctx.planToSnapshot[static_cast<std::size_t>(in.model)];
            if (s > 0 && inputPresent(entry, s))
                ids.push_back(s);
        }
        Gram sub;
        const auto n = static_cast<Eigen::Index>(ids.size());
        sub.g.resize(n, n);
        sub.b.resize(n);
        for (Eigen::Index i = 0; i < n; ++i) {
            sub.b(i) = k(0, ids[static_cast<std::size_t>(i)]);
            for (Eigen::Index j = 0; j < n; ++j)
                sub.g(i, j) = k(ids[static_cast<std::size_t>(i)], ids[static_cast<std::size_t>(j)]);
        }
        sub.w = k(0, 0);
        const auto info = modelStockInfo(sub, std::vector<bool>(ids.size(), true));
        if (!info)
            return makeError(ErrorCode::InvalidArgument,
                             where + ": model_stock needs at least two models besides the base");
        for (int s : ids)
            c(s) += info->t / static_cast<double>(ids.size());
        break;
    }
    case Route::Sampled:
        break;
    }
    outcome.moments = MergedMoments::affine(k, c);
    return {};
}

constexpr std::size_t kLanes = 8;

// The fixed combination order of kLanes lane sums.
double combineLanes(const double *lane)
{
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) +
           ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

// The sampled moments: ‖τ_m‖², ⟨τ_m, B⟩, then per fine-tune ⟨τ_m, τ_t⟩ and ‖τ_t‖²
// (sums[2 + 2t], sums[3 + 2t]), with τ_m = merged − base in f64. One pass over the sample
// (τ_m is formed once per coordinate). Every sum runs in kLanes interleaved lanes (lane l
// takes i ≡ l mod kLanes) combined in a fixed order, then the tail in index order:
// independent add chains instead of one bound by the f64 add latency, and the same result
// on every run and thread count.
std::vector<double> sampleSums(const TensorSample &sample, std::size_t fineTunes,
                               const float *merged)
{
    const std::size_t n = sample.size();
    const float *base = sample.base.data();
    const float *tau = sample.tau.data();
    const std::size_t count = 2 + 2 * fineTunes;
    std::vector<double> lanes(count * kLanes, 0.0); // lanes[s * kLanes + l]
    std::size_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        double x[kLanes];
        for (std::size_t l = 0; l < kLanes; ++l) {
            const double b = base[i + l];
            x[l] = static_cast<double>(merged[i + l]) - b;
            lanes[l] += x[l] * x[l];
            lanes[kLanes + l] += x[l] * b;
        }
        for (std::size_t t = 0; t < fineTunes; ++t) {
            const float *y = tau + t * n + i;
            double *dot = lanes.data() + (2 + 2 * t) * kLanes;
            double *square = dot + kLanes;
            for (std::size_t l = 0; l < kLanes; ++l) {
                const double v = y[l];
                dot[l] += x[l] * v;
                square[l] += v * v;
            }
        }
    }
    std::vector<double> sums(count);
    for (std::size_t s = 0; s < count; ++s)
        sums[s] = combineLanes(lanes.data() + s * kLanes);
    for (; i < n; ++i) {
        const double b = base[i];
        const double x = static_cast<double>(merged[i]) - b;
        sums[0] += x * x;
        sums[1] += x * b;
        for (std::size_t t = 0; t < fineTunes; ++t) {
            const double v = tau[t * n + i];
            sums[2 + 2 * t] += x * v;
            sums[3 + 2 * t] += v * v;
        }
    }
    return sums;
}

// The sample buffers of one thread, kept between tensors and calls: fresh vectors per
// tensor cost page faults that outweighed the merge of a 65,536-value sample. They hold at
// most (inputs + 1)·S floats per thread (~1.3 MB for four fine-tunes and S = 65,536).
struct SampleScratch {
    std::vector<std::vector<float>> models; // raw inputs at the sampled coordinates
    std::vector<float> out;
};

SampleScratch &sampleScratch()
{
    thread_local SampleScratch scratch;
    return scratch;
}

// DELLA ranks magnitudes within each row (the last dimension) of the real tensor. On a sample
// the kernel would rank across the whole sample, so the sampled coordinates are regrouped by
// the row their flat index lies in: rows with the same number m of sampled coordinates form
// one [rows, m] job (usually all rows: the sample's strata are equal), and a coordinate's
// rank among its row's m samples stands for its rank in the row. A tensor sampled whole is
// therefore merged exactly as the engine merges it. Approximations when rows are sampled
// partially: the rank position r/(m − 1) stands for the true position in the row (for small
// m it overstates the spread of keep probabilities a little, by about (m + 1)/(m − 1)); a row
// with one sampled coordinate gets the mean probability d (DELLA's one-column rule); and
// rescale's L1 ratio is taken per group of equal m instead of over the whole sample.
Result<void> rowwiseKernel(const Context &ctx, const merge::TensorJob &job,
                           const TensorEntry &entry, std::span<float> out,
                           merge::TensorNotes &notes)
{
    const TensorSample &sample = entry.sample;
    const std::size_t n = sample.size();
    const std::uint64_t cols = entry.shape.back();
    // Rows in sample order (indices ascend, so each row's coordinates are contiguous).
    struct Row {
        std::size_t first = 0;
        std::size_t count = 0;
    };
    std::vector<Row> rows;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t row = sample.indices[i] / cols;
        if (i == 0 || row != sample.indices[i - 1] / cols)
            rows.push_back({i, 0});
        ++rows.back().count;
    }
    std::vector<std::size_t> sizes;
    for (const Row &row : rows)
        sizes.push_back(row.count);
    std::sort(sizes.begin(), sizes.end());
    sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
    if (sizes.size() == 1) {
        const std::array<std::uint64_t, 2> shape{rows.size(), sizes.front()};
        merge::TensorJob grid = job;
        grid.shape = shape;
        return ctx.method.kernel(grid, out, notes);
    }
    for (const std::size_t m : sizes) {
        std::vector<std::size_t> at; // sample positions of this group, row by row
        for (const Row &row : rows) {
            if (row.count == m)
                for (std::size_t k = 0; k < m; ++k)
                    at.push_back(row.first + k);
        }
        auto gather = [&](const float *from) {
            std::vector<float> values(at.size());
            for (std::size_t k = 0; k < at.size(); ++k)
                values[k] = from[at[k]];
            return values;
        };
        std::vector<std::vector<float>> inputs;
        inputs.reserve(job.models.size() + 1);
        merge::TensorJob group = job;
        const std::array<std::uint64_t, 2> shape{at.size() / m, m};
        group.shape = shape;
        group.numel = at.size();
        if (job.base) {
            inputs.push_back(gather(job.base));
            group.base = inputs.back().data();
        }
        for (merge::ModelInput &model : group.models) {
            inputs.push_back(gather(model.data));
            model.data = inputs.back().data();
        }
        std::vector<float> groupOut(at.size());
        BASIN_TRY(ctx.method.kernel(group, groupOut, notes));
        for (std::size_t k = 0; k < at.size(); ++k)
            out[at[k]] = groupOut[k];
    }
    return {};
}

Result<void> sampledTensor(const Context &ctx, const recipe::PlannedTensor &pt,
                           const TensorEntry &entry, TensorOutcome &outcome)
{
    const TensorSample &sample = entry.sample;
    const std::size_t n = sample.size();
    if (n == 0)
        return makeError(ErrorCode::Unsupported, std::string(ctx.method.name) + ": tensor " +
                                                     pt.name +
                                                     " has no sample cache (the analysis ran with "
                                                     "sample size 0), so it cannot be previewed");
    const int fineTunes = ctx.snapshot.fineTunes();
    SampleScratch &scratch = sampleScratch();
    std::size_t used = 0;
    // Raw model s (0 = base) at the sampled coordinates: B + τ_s in f32, as the kernel
    // would read it from the checkpoint. The base needs no copy.
    auto rawSample = [&](int s) -> const float * {
        if (s == 0)
            return sample.base.data();
        if (scratch.models.size() <= used)
            scratch.models.emplace_back();
        std::vector<float> &data = scratch.models[used++];
        data.resize(n);
        const auto tau = sample.deltas(s - 1);
        const float *base = sample.base.data();
        for (std::size_t i = 0; i < n; ++i)
            data[i] = base[i] + tau[i];
        return data.data();
    };
    const std::vector<std::uint64_t> shape{static_cast<std::uint64_t>(n)};
    merge::TensorJob job;
    job.tensorName = pt.name;
    job.shape = shape;
    job.numel = n;
    job.global = pt.global;
    job.seed = ctx.seed;
    if (pt.base)
        job.base = rawSample(ctx.planToSnapshot[static_cast<std::size_t>(pt.base->model)]);
    for (const recipe::PlannedInput &in : pt.inputs) {
        const int s = ctx.planToSnapshot[static_cast<std::size_t>(in.model)];
        if (!inputPresent(entry, s))
            continue;
        merge::ModelInput model;
        model.data = rawSample(s);
        model.params = in.params;
        model.modelIndex = in.model;
        model.label = ctx.snapshot.modelNames[static_cast<std::size_t>(s)];
        job.models.push_back(std::move(model));
    }
    scratch.out.resize(n);
    const std::span<float> out(scratch.out.data(), n);
    merge::TensorNotes notes;
    if (ctx.method.name.starts_with("della") && entry.shape.size() >= 2 && entry.shape.back() > 0)
        BASIN_TRY(rowwiseKernel(ctx, job, entry, out, notes));
    else
        BASIN_TRY(ctx.method.kernel(job, out, notes));
    outcome.fellBack = notes.slerpFellBack;

    MergedMoments m(fineTunes);
    const std::vector<double> sums =
        sampleSums(sample, static_cast<std::size_t>(fineTunes), out.data());
    m.normSq = sums[0];
    m.dot(0) = sums[1];
    double tauSampleSq = 0.0;
    for (int t = 0; t < fineTunes; ++t) {
        m.dot(t + 1) = sums[static_cast<std::size_t>(2 + 2 * t)];
        tauSampleSq += sums[static_cast<std::size_t>(3 + 2 * t)];
    }
    m.basis = basisGram(entry.gram());
    // Ratio estimator: scale the sampled moments by how much of the tensor's ‖τ‖² the sample
    // holds (1 when the sample is the whole tensor).
    double scale = 1.0;
    if (n < entry.numel) {
        const double exactSq = m.basis.trace() - m.basis(0, 0);
        scale = tauSampleSq > 0.0 ? exactSq / tauSampleSq
                                  : static_cast<double>(entry.numel) / static_cast<double>(n);
    }
    m.normSq *= scale;
    m.dot *= scale;
    outcome.moments = std::move(m);
    outcome.sampled = true;
    outcome.sampleSize = n;
    return {};
}

double safeDiv(double num, double den)
{
    return den > 0.0 ? num / den : kNaN;
}

} // namespace

Eigen::MatrixXd basisGram(const Gram &gram)
{
    const int t = gram.fineTunes();
    Eigen::MatrixXd k(t + 1, t + 1);
    k(0, 0) = gram.w;
    k.block(0, 1, 1, t) = gram.b.transpose();
    k.block(1, 0, t, 1) = gram.b;
    k.block(1, 1, t, t) = gram.g;
    return k;
}

MergedMoments::MergedMoments(int fineTunes)
    : dot(Eigen::VectorXd::Zero(fineTunes + 1)),
      basis(Eigen::MatrixXd::Zero(fineTunes + 1, fineTunes + 1))
{
}

MergedMoments MergedMoments::affine(const Eigen::MatrixXd &basis,
                                    const Eigen::VectorXd &coefficients)
{
    MergedMoments m(static_cast<int>(coefficients.size()) - 1);
    m.basis = basis;
    m.dot = basis * coefficients;
    m.normSq = std::max(0.0, coefficients.dot(m.dot));
    return m;
}

void MergedMoments::add(const MergedMoments &other)
{
    normSq += other.normSq;
    dot += other.dot;
    basis += other.basis;
}

MergedMoments MergedMoments::scaled(double s) const
{
    MergedMoments m = *this;
    m.normSq *= s * s;
    m.dot *= s;
    return m;
}

PreviewRow previewRow(const std::string &label, const MergedMoments &m)
{
    PreviewRow row;
    row.label = label;
    const int fineTunes = static_cast<int>(m.dot.size()) - 1;
    row.mergedNorm = std::sqrt(std::max(0.0, m.normSq));
    row.distanceToBase = row.mergedNorm;
    row.relativePerturbation = m.basis.size() > 0 && m.basis(0, 0) > 0.0
                                   ? std::sqrt(std::max(0.0, m.normSq) / m.basis(0, 0))
                                   : kNaN;
    for (int t = 1; t <= fineTunes; ++t) {
        const double own = m.basis(t, t);
        row.retention.push_back(safeDiv(m.dot(t), own));
        row.cosine.push_back(safeDiv(m.dot(t), std::sqrt(std::max(0.0, m.normSq) * own)));
        row.distance.push_back(std::sqrt(std::max(0.0, m.normSq - 2.0 * m.dot(t) + own)));
    }
    return row;
}

std::string Preview::marker() const
{
    if (exact)
        return {};
    return "≈ (sample ≤ " + std::to_string(sampleSize) + " per tensor)";
}

int snapshotModelIndex(const AnalysisSnapshot &snapshot, const recipe::ModelRef &model)
{
    const std::filesystem::path wanted =
        canonicalOf(model.resolved.empty() ? std::filesystem::path(model.path) : model.resolved);
    for (std::size_t i = 0; i < snapshot.modelPaths.size(); ++i) {
        if (canonicalOf(snapshot.modelPaths[i]) == wanted)
            return static_cast<int>(i);
    }
    return -1;
}

Result<Preview> computePreview(const AnalysisSnapshot &snapshot, const recipe::Recipe &recipe,
                               const PreviewOptions &options)
{
    try {
        const merge::MethodDecl *method = merge::findMethod(recipe.mergeMethod);
        if (!method)
            return makeError(ErrorCode::UnknownMethod,
                             "preview: unknown merge method '" + recipe.mergeMethod + "'");
        if (snapshot.modelPaths.empty())
            return makeError(ErrorCode::InvalidArgument,
                             "preview: the analysis snapshot holds no models");

        const std::vector<recipe::ModelRef> refs = recipe.referencedModels();
        std::vector<int> toSnapshot;
        for (const recipe::ModelRef &ref : refs) {
            const int s = snapshotModelIndex(snapshot, ref);
            if (s < 0)
                return makeError(ErrorCode::InvalidArgument,
                                 "preview: model " + ref.path +
                                     " of the recipe is not in the analysed set; analyse it first");
            toSnapshot.push_back(s);
        }
        if (recipe.hasBase() && snapshotModelIndex(snapshot, recipe.baseModel) != 0)
            return makeError(ErrorCode::InvalidArgument,
                             "preview: the recipe's base_model " + recipe.baseModel.path +
                                 " is not the analysed base " + snapshot.modelPaths.front());

        recipe::PlanInputs inputs;
        std::vector<std::string> names;
        names.reserve(snapshot.tensors.size());
        for (const TensorEntry &entry : snapshot.tensors)
            names.push_back(entry.name);
        inputs.tensorNames.assign(refs.size(), names);
        int layers = 0;
        for (const GroupEntry &group : snapshot.groups)
            if (group.kind == GroupKind::Layer)
                layers = std::max(layers, group.layer + 1);
        inputs.layerCount = layers > 0 ? layers : -1;
        auto plan = recipe::planMerge(recipe, inputs);
        if (!plan)
            return plan.takeError();

        Context ctx{snapshot, recipe,     *plan,
                    *method,  toSnapshot, options.seed.value_or(recipe.seed.value_or(0))};

        std::unordered_map<std::string_view, std::size_t> byName;
        for (std::size_t i = 0; i < snapshot.tensors.size(); ++i)
            byName.emplace(snapshot.tensors[i].name, i);

        const int fineTunes = snapshot.fineTunes();
        Preview preview;
        preview.method = recipe.mergeMethod;
        for (int t = 0; t < fineTunes; ++t)
            preview.fineTunes.push_back(snapshot.fineTuneLabel(t));

        const auto &planned = plan->tensors;
        std::vector<TensorOutcome> outcomes(planned.size());
        std::vector<std::size_t> entryOf(planned.size(), snapshot.tensors.size());
        for (std::size_t i = 0; i < planned.size(); ++i) {
            // Slices are fine as long as every output tensor reads the same tensor of every
            // model (identical layer ranges); moved or stacked layers have no task vector.
            const recipe::PlannedTensor &pt = planned[i];
            bool inPlace = !pt.base || pt.base->tensorName == pt.name;
            for (const recipe::PlannedInput &in : pt.inputs)
                inPlace = inPlace && in.tensorName == pt.name;
            if (!inPlace)
                return makeError(ErrorCode::Unsupported,
                                 "preview: output tensor " + pt.name +
                                     " is read from other layers (slices that move or stack layers "
                                     "have no weight-space preview)");
            auto it = byName.find(pt.name);
            if (it != byName.end())
                entryOf[i] = it->second;
        }

        const std::string_view name = method->name;
        std::vector<Route> routes(planned.size(), Route::Sampled);
        bool anySampled = false;
        for (std::size_t i = 0; i < planned.size(); ++i) {
            const recipe::PlannedTensor &pt = planned[i];
            Route &route = routes[i];
            if (name == "linear") {
                route = Route::Linear;
            } else if (name == "slerp") {
                route = Route::Slerp;
            } else if (name == "model_stock" && pt.global.get("filter_wise", 0.0) == 0.0) {
                route = Route::ModelStock;
            } else if (linearWhenDense(name)) {
                bool dense = true;
                for (const recipe::PlannedInput &in : pt.inputs)
                    dense = dense && in.params.get("density", 1.0) >= 1.0;
                if (dense)
                    route = Route::TaskLinear;
            }
            anySampled = anySampled || route == Route::Sampled;
        }
        // Exact tensors cost microseconds: a thread team would cost more than it saves.
        const auto n = static_cast<std::ptrdiff_t>(planned.size());
#pragma omp parallel for schedule(dynamic) if (anySampled)
        for (std::ptrdiff_t i = 0; i < n; ++i) {
            const auto idx = static_cast<std::size_t>(i);
            TensorOutcome &outcome = outcomes[idx];
            outcome.moments = MergedMoments(fineTunes);
            if (entryOf[idx] >= snapshot.tensors.size())
                continue;
            const recipe::PlannedTensor &pt = planned[idx];
            const TensorEntry &entry = snapshot.tensors[entryOf[idx]];
            const Route route = routes[idx];
            try {
                Result<void> r = route == Route::Sampled
                                     ? sampledTensor(ctx, pt, entry, outcome)
                                     : exactTensor(ctx, route, pt, entry, outcome);
                if (!r)
                    outcome.error = r.takeError();
            } catch (const std::bad_alloc &) {
                // Exceptions must not leave an OpenMP region.
                outcome.error =
                    makeError(ErrorCode::Internal, "preview: out of memory at " + pt.name);
            }
        }

        std::vector<MergedMoments> perTensor(snapshot.tensors.size(), MergedMoments(fineTunes));
        for (std::size_t i = 0; i < planned.size(); ++i) {
            const TensorOutcome &outcome = outcomes[i];
            if (outcome.error)
                return *outcome.error;
            if (entryOf[i] >= snapshot.tensors.size()) {
                preview.warnings.push_back("preview: " + planned[i].name +
                                           " is not in the analysis snapshot; left out");
                continue;
            }
            if (outcome.sampled) {
                preview.exact = false;
                preview.sampleSize = std::max(preview.sampleSize, outcome.sampleSize);
                preview.sampledCoordinates += outcome.sampleSize;
            }
            if (outcome.fellBack)
                ++preview.slerpFallbacks;
            perTensor[entryOf[i]] = outcome.moments;
        }

        MergedMoments total(fineTunes);
        for (const MergedMoments &m : perTensor)
            total.add(m);
        for (const GroupEntry &group : snapshot.groups) {
            MergedMoments sum(fineTunes);
            for (std::size_t t : group.tensors)
                sum.add(perTensor[t]);
            preview.groups.push_back(previewRow(group.label, sum));
        }
        preview.global = previewRow("global", total);
        preview.tensors = std::move(perTensor);
        return preview;
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::Internal, "preview: out of memory");
    }
}

} // namespace basin::analysis
