// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/curves.h"

#include "analysis/curvesrecipe.h"
#include "merge/method.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <new>
#include <numeric>

namespace basin::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double ratio(double num, double den)
{
    return den > 0.0 ? num / den : kNaN;
}

std::vector<double> xValues(const CurveRequest &request)
{
    std::vector<double> x(static_cast<std::size_t>(request.steps));
    const double span = request.to - request.from;
    for (int i = 0; i < request.steps; ++i)
        x[static_cast<std::size_t>(i)] = request.from + span * i / (request.steps - 1);
    // The endpoints are the requested values exactly, whatever the rounding above did.
    x.front() = request.from;
    x.back() = request.to;
    return x;
}

// The tensors a scope covers, in snapshot order; the group index (or -1 for global).
Result<std::pair<std::vector<std::size_t>, int>> scopeTensors(const AnalysisSnapshot &snapshot,
                                                              const std::string &scope)
{
    if (scope.empty() || scope == "global") {
        std::vector<std::size_t> all(snapshot.tensors.size());
        std::iota(all.begin(), all.end(), std::size_t{0});
        return std::make_pair(std::move(all), -1);
    }
    for (std::size_t g = 0; g < snapshot.groups.size(); ++g)
        if (snapshot.groups[g].label == scope)
            return std::make_pair(snapshot.groups[g].tensors, static_cast<int>(g));
    return makeError(ErrorCode::InvalidArgument,
                     "curves: no layer or group '" + scope +
                         "' in the snapshot (use L0, L1, …, embed, norm, head or global)");
}

// A label made safe for a CSV column name.
std::string keyOf(const std::string &label)
{
    std::string key = label;
    for (char &c : key)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
            c = '_';
    return key;
}

std::string modelLabel(const AnalysisSnapshot &snapshot, int s)
{
    return s == 0 ? snapshot.modelNames.front() : snapshot.fineTuneLabel(s - 1);
}

std::optional<double> plainNumber(const recipe::Parameters &params, std::string_view name)
{
    const recipe::Parameter *p = recipe::findParameter(params, name);
    if (!p || p->setting.isFiltered() || p->setting.value().kind != recipe::Value::Kind::Number)
        return std::nullopt;
    return p->setting.value().number;
}

const PreviewRow &scopeRow(const Preview &preview, int group)
{
    return group < 0 ? preview.global : preview.groups[static_cast<std::size_t>(group)];
}

// Per-fine-tune series of one preview figure, plus relative perturbation.
void addPreviewSeries(CurveSet &set, const AnalysisSnapshot &snapshot, bool withCosine)
{
    for (int t = 0; t < snapshot.fineTunes(); ++t) {
        const std::string ft = snapshot.fineTuneLabel(t);
        set.series.push_back({"retention_" + keyOf(ft), "retention r of " + ft, {}});
        if (withCosine)
            set.series.push_back({"cos_" + keyOf(ft), "cos(τ_m, τ) of " + ft, {}});
        set.series.push_back({"dist_" + keyOf(ft), "‖merged − " + ft + "‖", {}});
    }
    set.series.push_back({"rel_perturbation", "‖τ_m‖ / ‖B‖", {}});
}

void appendPreviewRow(CurveSet &set, const PreviewRow &row, bool withCosine)
{
    std::size_t k = 0;
    for (std::size_t t = 0; t < row.retention.size(); ++t) {
        set.series[k++].y.push_back(row.retention[t]);
        if (withCosine)
            set.series[k++].y.push_back(row.cosine[t]);
        set.series[k++].y.push_back(row.distance[t]);
    }
    set.series[k].y.push_back(row.relativePerturbation);
}

Result<CurveSet> alphaCurves(const AnalysisSnapshot &snapshot, const recipe::Recipe *recipe,
                             const CurveRequest &request, const std::vector<std::size_t> &tensors)
{
    const int models = static_cast<int>(snapshot.modelNames.size());
    if (request.modelA < 0 || request.modelA >= models || request.modelB < 0 ||
        request.modelB >= models || request.modelA == request.modelB)
        return makeError(ErrorCode::InvalidArgument,
                         "curves: α needs two different models among 0 (base) … " +
                             std::to_string(models - 1));
    CurveSet set;
    set.x = xValues(request);
    const std::string a = modelLabel(snapshot, request.modelA);
    const std::string b = modelLabel(snapshot, request.modelB);
    set.xTitle = "α (" + a + " → " + b + ")";
    for (const char *mode : {"lerp", "slerp"}) {
        const std::string m(mode);
        set.series.push_back({m + "_norm_ratio", m + ": ‖path‖ / ((1−α)‖A‖ + α‖B‖)", {}});
        set.series.push_back({m + "_cos_a", m + ": cos to " + a, {}});
        set.series.push_back({m + "_cos_b", m + ": cos to " + b, {}});
        set.series.push_back({m + "_dist_a", m + ": distance to " + a, {}});
        set.series.push_back({m + "_dist_b", m + ": distance to " + b, {}});
    }
    // Per tensor the path is s0·X_a + s1·X_b, so three raw dots describe it entirely.
    // Per tensor the path is s0·X_a + s1·X_b with X = B + τ (τ = 0 for the base). Vectors
    // u·B + v·τ_a + x·τ_b are measured from the Gram cache; differences from an end are
    // formed in coefficients first, so the large ‖B‖² cancels exactly instead of in floating
    // point (a distance of 0 at the ends is 0, not the rounding of ‖B‖²).
    struct Ends {
        double w, ba, bb, gaa, gab, gbb;
        double quad(double u, double v, double x) const
        {
            return u * u * w + 2.0 * u * v * ba + 2.0 * u * x * bb + v * v * gaa +
                   2.0 * v * x * gab + x * x * gbb;
        }
        double aa() const { return quad(1.0, 1.0, 0.0); }
        double bbRaw() const { return quad(1.0, 0.0, 1.0); }
        double ab() const { return w + ba + bb + gab; }
    };
    std::vector<Ends> ends;
    ends.reserve(tensors.size());
    const int ia = request.modelA, ib = request.modelB;
    for (std::size_t i : tensors) {
        const Gram gram = snapshot.tensors[i].gram();
        auto g = [&](int p, int q) { return p > 0 && q > 0 ? gram.g(p - 1, q - 1) : 0.0; };
        ends.push_back({gram.w, ia > 0 ? gram.b(ia - 1) : 0.0, ib > 0 ? gram.b(ib - 1) : 0.0,
                        g(ia, ia), g(ia, ib), g(ib, ib)});
    }
    double aaSum = 0.0, bbSum = 0.0;
    for (const Ends &e : ends) {
        aaSum += e.aa();
        bbSum += e.bbRaw();
    }
    const double normA = std::sqrt(aaSum);
    const double normB = std::sqrt(bbSum);
    int fallbacks = 0;
    for (double alpha : set.x) {
        for (int mode = 0; mode < 2; ++mode) {
            double pp = 0.0, pa = 0.0, pb = 0.0, da = 0.0, db = 0.0;
            for (const Ends &e : ends) {
                double s0 = 1.0 - alpha;
                double s1 = alpha;
                if (mode == 1) {
                    // slerp's rule (METHODS.md): normalise when the norm exceeds 1e-8, lerp
                    // when |cos| > 0.9995.
                    const double na = std::sqrt(e.aa()) > 1e-8 ? std::sqrt(e.aa()) : 1.0;
                    const double nb = std::sqrt(e.bbRaw()) > 1e-8 ? std::sqrt(e.bbRaw()) : 1.0;
                    const double dot = e.ab() / (na * nb);
                    if (std::fabs(dot) <= 0.9995) {
                        const double theta = std::acos(std::clamp(dot, -1.0, 1.0));
                        s0 = std::sin((1.0 - alpha) * theta) / std::sin(theta);
                        s1 = std::sin(alpha * theta) / std::sin(theta);
                    } else if (alpha == set.x.front()) {
                        ++fallbacks;
                    }
                }
                pp += e.quad(s0 + s1, s0, s1);
                pa += s0 * e.aa() + s1 * e.ab();
                pb += s0 * e.ab() + s1 * e.bbRaw();
                da += e.quad(s0 + s1 - 1.0, s0 - 1.0, s1);
                db += e.quad(s0 + s1 - 1.0, s0, s1 - 1.0);
            }
            pp = std::max(0.0, pp);
            const std::size_t k = static_cast<std::size_t>(mode) * 5;
            set.series[k + 0].y.push_back(
                ratio(std::sqrt(pp), (1.0 - alpha) * normA + alpha * normB));
            set.series[k + 1].y.push_back(ratio(pa, std::sqrt(pp * aaSum)));
            set.series[k + 2].y.push_back(ratio(pb, std::sqrt(pp * bbSum)));
            set.series[k + 3].y.push_back(std::sqrt(std::max(0.0, da)));
            set.series[k + 4].y.push_back(std::sqrt(std::max(0.0, db)));
        }
    }
    if (fallbacks > 0)
        set.warnings.push_back("slerp falls back to lerp on " + std::to_string(fallbacks) + " of " +
                               std::to_string(ends.size()) + " tensors (|cos| > 0.9995)");
    if (recipe && recipe->mergeMethod == "slerp" && recipe->models.size() >= 1) {
        // slerp(base, other, t): t runs from the base to the other model.
        const auto t = plainNumber(recipe->parameters, "t");
        const int base = snapshotModelIndex(snapshot, recipe->baseModel);
        int other = -1;
        for (const recipe::ModelEntry &entry : recipe->models) {
            const int s = snapshotModelIndex(snapshot, entry.model);
            if (s != base)
                other = s;
        }
        if (t && base == request.modelA && other == request.modelB)
            set.current = *t;
        else if (t && base == request.modelB && other == request.modelA)
            set.current = 1.0 - *t;
    }
    return set;
}

Result<CurveSet> lambdaCurves(const AnalysisSnapshot &snapshot, const recipe::Recipe &recipe,
                              const CurveRequest &request, int group)
{
    const merge::MethodDecl *method = merge::findMethod(recipe.mergeMethod);
    if (!method || !method->findParam("lambda"))
        return makeError(
            ErrorCode::InvalidArgument,
            "curves: method " + recipe.mergeMethod +
                " has no lambda parameter (vary lambda on a task-arithmetic-family recipe)");
    CurveSet set;
    set.x = xValues(request);
    set.xTitle = "λ";
    recipe::Recipe at = recipe;
    double lambda0 = plainNumber(recipe.parameters, "lambda")
                         .value_or(method->findParam("lambda")->defaultValue.value_or(1.0));
    if (recipe::findParameter(recipe.parameters, "lambda") &&
        !plainNumber(recipe.parameters, "lambda"))
        return makeError(ErrorCode::InvalidArgument,
                         "curves: the recipe's lambda varies over layers; vary a scalar lambda");
    set.current = lambda0;
    if (lambda0 == 0.0) {
        // τ_m is zero at λ = 0: preview at λ = 1 and scale from there.
        recipe::setParameter(at.parameters, "lambda",
                             recipe::Setting(recipe::Value::makeNumber(1.0)));
        lambda0 = 1.0;
    }
    auto preview = computePreview(snapshot, at);
    if (!preview)
        return preview.takeError();
    set.exact = preview->exact;
    set.sampleSize = preview->sampleSize;
    const int fineTunes = snapshot.fineTunes();
    MergedMoments sum(fineTunes);
    if (group < 0) {
        for (const MergedMoments &m : preview->tensors)
            sum.add(m);
    } else {
        for (std::size_t t : snapshot.groups[static_cast<std::size_t>(group)].tensors)
            sum.add(preview->tensors[t]);
    }
    addPreviewSeries(set, snapshot, false);
    // The whole task-arithmetic family multiplies the mixed delta by λ last, so τ_m(λ) is
    // τ_m(λ0) scaled by λ/λ0, for the sampled methods too.
    for (double x : set.x)
        appendPreviewRow(set, previewRow("", sum.scaled(x / lambda0)), false);
    return set;
}

Result<CurveSet> weightCurves(const AnalysisSnapshot &snapshot, const recipe::Recipe &recipe,
                              const CurveRequest &request, int group)
{
    const merge::MethodDecl *method = merge::findMethod(recipe.mergeMethod);
    if (!method || !method->findParam("weight"))
        return makeError(ErrorCode::InvalidArgument,
                         "curves: method " + recipe.mergeMethod + " has no weight parameter");
    auto axis = weightAxis(snapshot, recipe, request.model);
    if (!axis)
        return axis.takeError();
    CurveSet set;
    set.x = xValues(request);
    const std::string label = modelLabel(snapshot, request.model);
    set.xTitle = axis->scaled ? "× weight of " + label + " (its per-layer weights scaled)"
                              : "weight of " + label;
    set.current = axis->current;
    addPreviewSeries(set, snapshot, true);
    for (double x : set.x) {
        auto at = withModelWeight(snapshot, recipe, request.model, x);
        if (!at)
            return at.takeError();
        auto preview = computePreview(snapshot, *at);
        if (!preview)
            return preview.takeError();
        set.exact = set.exact && preview->exact;
        set.sampleSize = std::max(set.sampleSize, preview->sampleSize);
        appendPreviewRow(set, scopeRow(*preview, group), true);
    }
    return set;
}

Result<CurveSet> densityCurves(const AnalysisSnapshot &snapshot, const recipe::Recipe *recipe,
                               const CurveRequest &request, const std::vector<std::size_t> &tensors)
{
    const int fineTunes = snapshot.fineTunes();
    if (request.from <= 0.0 || request.to > 1.0 || request.from > 1.0 || request.to <= 0.0)
        return makeError(ErrorCode::InvalidArgument, "curves: density must lie in (0, 1]");
    CurveSet set;
    set.x = xValues(request);
    set.xTitle = "density";
    for (int t = 0; t < fineTunes; ++t) {
        const std::string ft = snapshot.fineTuneLabel(t);
        set.series.push_back(
            {"kept_mass_" + keyOf(ft), "kept mass Σ_top-k|τ| / Σ|τ| of " + ft, {}});
        set.series.push_back(
            {"kept_energy_" + keyOf(ft), "kept energy Σ_top-k τ² / Σ τ² of " + ft, {}});
        set.series.push_back(
            {"sign_disagreement_" + keyOf(ft), "sign disagreement after trimming of " + ft, {}});
    }
    set.series.push_back({"dare_inflation", "DARE norm inflation 1/√d", {}});

    const std::size_t steps = set.x.size();
    const auto ft = static_cast<std::size_t>(fineTunes);
    std::vector<double> keptMass(steps * ft, 0.0), totalMass(ft, 0.0);
    std::vector<double> keptEnergy(steps * ft, 0.0), totalEnergy(ft, 0.0);
    std::vector<double> disagree(steps * ft, 0.0), keptNonzero(steps * ft, 0.0);
    const double zero = snapshot.options.zeroThreshold;
    for (std::size_t ti : tensors) {
        const TensorEntry &entry = snapshot.tensors[ti];
        const TensorSample &sample = entry.sample;
        const std::size_t n = sample.size();
        if (n == 0) {
            if (entry.numel > 0)
                return makeError(ErrorCode::Unsupported,
                                 "curves: tensor " + entry.name +
                                     " has no sample cache (analysis sample size 0)");
            continue;
        }
        if (n < entry.numel) {
            set.exact = false;
            set.sampleSize = std::max<std::uint64_t>(set.sampleSize, n);
        }
        // Each sampled coordinate stands for numel / n of the tensor's coordinates.
        const double scale = static_cast<double>(entry.numel) / static_cast<double>(n);
        std::vector<std::vector<std::uint32_t>> rank(ft, std::vector<std::uint32_t>(n));
        std::vector<std::size_t> order(n);
        for (std::size_t t = 0; t < ft; ++t) {
            const auto tau = sample.deltas(static_cast<int>(t));
            std::iota(order.begin(), order.end(), std::size_t{0});
            // Descending |τ|, the lower index first on ties (the magnitude sparsifier's order).
            std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
                const float ax = std::fabs(tau[x]), ay = std::fabs(tau[y]);
                return ax > ay || (ax == ay && x < y);
            });
            std::vector<double> prefixAbs(n + 1, 0.0), prefixSq(n + 1, 0.0);
            for (std::size_t r = 0; r < n; ++r) {
                const double v = tau[order[r]];
                rank[t][order[r]] = static_cast<std::uint32_t>(r);
                prefixAbs[r + 1] = prefixAbs[r] + std::fabs(v);
                prefixSq[r + 1] = prefixSq[r] + v * v;
            }
            totalMass[t] += scale * prefixAbs[n];
            totalEnergy[t] += scale * prefixSq[n];
            for (std::size_t s = 0; s < steps; ++s) {
                const auto k = std::min<std::size_t>(
                    n, static_cast<std::size_t>(std::floor(set.x[s] * static_cast<double>(n))));
                keptMass[s * ft + t] += scale * prefixAbs[k];
                keptEnergy[s * ft + t] += scale * prefixSq[k];
            }
        }
        for (std::size_t s = 0; s < steps; ++s) {
            const auto k = std::min<std::size_t>(
                n, static_cast<std::size_t>(std::floor(set.x[s] * static_cast<double>(n))));
            for (std::size_t i = 0; i < n; ++i) {
                double sum = 0.0;
                for (std::size_t t = 0; t < ft; ++t)
                    if (rank[t][i] < k)
                        sum += sample.deltas(static_cast<int>(t))[i];
                const double elected = sum >= 0.0 ? 1.0 : -1.0;
                for (std::size_t t = 0; t < ft; ++t) {
                    const double v = sample.deltas(static_cast<int>(t))[i];
                    if (rank[t][i] >= k || std::fabs(v) < zero)
                        continue;
                    keptNonzero[s * ft + t] += scale;
                    if ((v > 0.0 ? 1.0 : -1.0) != elected)
                        disagree[s * ft + t] += scale;
                }
            }
        }
    }
    for (std::size_t s = 0; s < steps; ++s) {
        std::size_t k = 0;
        for (std::size_t t = 0; t < ft; ++t) {
            set.series[k++].y.push_back(ratio(keptMass[s * ft + t], totalMass[t]));
            set.series[k++].y.push_back(ratio(keptEnergy[s * ft + t], totalEnergy[t]));
            set.series[k++].y.push_back(ratio(disagree[s * ft + t], keptNonzero[s * ft + t]));
        }
        set.series[k].y.push_back(1.0 / std::sqrt(set.x[s]));
    }
    if (recipe) {
        for (const recipe::ModelEntry &entry : recipe->models) {
            const auto d = plainNumber(entry.parameters, "density");
            if (d && snapshotModelIndex(snapshot, entry.model) == request.model) {
                set.current = *d;
                break;
            }
            if (d && !set.current)
                set.current = *d;
        }
    }
    return set;
}

void formatNumber(std::string &out, double v)
{
    if (std::isnan(v))
        return;
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
    out.append(buffer, result.ptr);
}

} // namespace

std::string_view curveVariableName(CurveVariable variable)
{
    switch (variable) {
    case CurveVariable::Alpha:
        return "alpha";
    case CurveVariable::Lambda:
        return "lambda";
    case CurveVariable::Weight:
        return "weight";
    case CurveVariable::Density:
        return "density";
    }
    return "alpha";
}

std::optional<CurveVariable> parseCurveVariable(std::string_view name)
{
    if (name == "alpha" || name == "t")
        return CurveVariable::Alpha;
    if (name == "lambda")
        return CurveVariable::Lambda;
    if (name == "weight")
        return CurveVariable::Weight;
    if (name == "density")
        return CurveVariable::Density;
    return std::nullopt;
}

std::pair<double, double> defaultCurveRange(CurveVariable variable)
{
    switch (variable) {
    case CurveVariable::Lambda:
        return {0.0, 2.0};
    case CurveVariable::Density:
        return {0.05, 1.0};
    case CurveVariable::Alpha:
    case CurveVariable::Weight:
        break;
    }
    return {0.0, 1.0};
}

const CurveSeries *CurveSet::find(std::string_view key) const
{
    for (const CurveSeries &s : series)
        if (s.key == key)
            return &s;
    return nullptr;
}

Result<CurveSet> computeCurves(const AnalysisSnapshot &snapshot, const recipe::Recipe *recipe,
                               const CurveRequest &request)
{
    try {
        if (request.steps < 2 || request.steps > 100000)
            return makeError(ErrorCode::InvalidArgument,
                             "curves: steps must be between 2 and 100000");
        if (!std::isfinite(request.from) || !std::isfinite(request.to) ||
            request.from == request.to)
            return makeError(ErrorCode::InvalidArgument,
                             "curves: the range needs two different finite ends");
        auto scope = scopeTensors(snapshot, request.scope);
        if (!scope)
            return scope.takeError();
        const auto &[tensors, group] = *scope;
        Result<CurveSet> result = makeError(ErrorCode::Internal, "curves: no variable");
        switch (request.variable) {
        case CurveVariable::Alpha:
            result = alphaCurves(snapshot, recipe, request, tensors);
            break;
        case CurveVariable::Lambda:
        case CurveVariable::Weight:
            if (!recipe)
                return makeError(ErrorCode::InvalidArgument,
                                 "curves: varying " +
                                     std::string(curveVariableName(request.variable)) +
                                     " needs a recipe");
            result = request.variable == CurveVariable::Lambda
                         ? lambdaCurves(snapshot, *recipe, request, group)
                         : weightCurves(snapshot, *recipe, request, group);
            break;
        case CurveVariable::Density:
            result = densityCurves(snapshot, recipe, request, tensors);
            break;
        }
        if (!result)
            return result;
        CurveSet &set = *result;
        set.variable = request.variable;
        set.scope = group < 0 ? std::string("global")
                              : snapshot.groups[static_cast<std::size_t>(group)].label;
        const std::string symbol = request.variable == CurveVariable::Alpha    ? "α"
                                   : request.variable == CurveVariable::Lambda ? "λ"
                                   : request.variable == CurveVariable::Weight ? "weight"
                                                                               : "density";
        set.yTitle = "weight-space proxy vs " + symbol;
        return result;
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::Internal, "curves: out of memory");
    }
}

std::string curvesCsv(const CurveSet &curves)
{
    std::string out = "x";
    for (const CurveSeries &s : curves.series) {
        out += ',';
        out += s.key;
    }
    out += '\n';
    for (std::size_t i = 0; i < curves.x.size(); ++i) {
        formatNumber(out, curves.x[i]);
        for (const CurveSeries &s : curves.series) {
            out += ',';
            if (i < s.y.size())
                formatNumber(out, s.y[i]);
        }
        out += '\n';
    }
    return out;
}

} // namespace basin::analysis
