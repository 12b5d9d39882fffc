// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/snapshotjson.h"

#include "analysis/metrics.h"
#include "basin/version.h"

#include <cmath>
#include <numbers>

namespace basin::analysis {

namespace {
using Json = nlohmann::ordered_json;

// JSON has no NaN or infinity: those, like undefined values, become null.
Json number(std::optional<double> value)
{
    if (!value || !std::isfinite(*value))
        return nullptr;
    return *value;
}

Json ulpJson(const ModelAccum &m)
{
    if (!m.ulpValid)
        return nullptr;
    Json bins = Json::object();
    for (int b = 0; b < UlpHistogram::kBins; ++b)
        bins[std::string(UlpHistogram::binLabel(b))] = m.ulp.counts[static_cast<std::size_t>(b)];
    Json out = Json::object();
    out["steps"] = std::move(bins);
    out["one_step_share"] = number(m.ulp.oneStepShare());
    return out;
}

Json modelJson(const ModelAccum &m, int t, const std::optional<SlerpInfo> *slerp)
{
    Json out = Json::object();
    out["index"] = t + 1;
    out["numel"] = m.count;
    out["l2"] = number(m.count > 0 ? std::optional<double>(l2(m)) : std::nullopt);
    out["rel_l2"] = number(relL2(m));
    out["mean"] = number(mean(m));
    out["std"] = number(stddev(m));
    out["zero_frac"] = number(zeroFrac(m));
    out["max_abs"] = number(maxAbs(m));
    out["ties_dropped_frac"] = number(tiesDroppedFrac(m));
    out["ties_dropped_l1_frac"] = number(tiesDroppedL1Frac(m));
    out["ties_trimmed_frac"] = number(tiesTrimmedFrac(m));
    out["p50"] = number(quantileAbs(m, 0.5));
    out["p90"] = number(quantileAbs(m, 0.9));
    out["p99"] = number(quantileAbs(m, 0.99));
    out["nan"] = m.nanCount;
    out["inf"] = m.infCount;
    out["ulp"] = ulpJson(m);
    if (slerp) {
        if (*slerp) {
            Json s = Json::object();
            s["cosine"] = number((*slerp)->cosine);
            s["angle_deg"] = number((*slerp)->angle * 180.0 / std::numbers::pi);
            s["lerp_fallback"] = (*slerp)->lerpFallback;
            out["slerp"] = std::move(s);
        } else {
            out["slerp"] = nullptr;
        }
    }
    return out;
}

Json modelStockJson(const std::optional<ModelStockInfo> &info)
{
    if (!info)
        return nullptr;
    Json out = Json::object();
    out["cosine"] = number(info->cosine);
    out["t"] = number(info->t);
    out["n"] = info->n;
    return out;
}

// The figures every row (tensor, group, total) shares, appended to out.
void addBlock(Json &out, const StatsBlock &s, const std::optional<ModelStockInfo> &modelStock,
              const std::vector<std::optional<SlerpInfo>> *slerp)
{
    out["numel"] = s.set.numel;
    out["base_l2"] = number(baseL2(s));
    Json models = Json::array();
    for (int t = 0; t < s.fineTunes(); ++t) {
        const std::optional<SlerpInfo> *perModel = slerp && t < static_cast<int>(slerp->size())
                                                       ? &(*slerp)[static_cast<std::size_t>(t)]
                                                       : nullptr;
        models.push_back(modelJson(s.models[static_cast<std::size_t>(t)], t, perModel));
    }
    out["models"] = std::move(models);
    Json pairs = Json::array();
    for (int i = 0; i < s.fineTunes(); ++i) {
        for (int j = i + 1; j < s.fineTunes(); ++j) {
            Json p = Json::object();
            p["i"] = i + 1;
            p["j"] = j + 1;
            p["cosine"] = number(cosine(s, i, j));
            p["both_nonzero_frac"] = number(bothNonzeroFrac(s, i, j));
            p["sign_conflict"] = number(signConflict(s, i, j));
            p["ties_disagree"] = number(pairTiesDisagree(s, i, j));
            pairs.push_back(std::move(p));
        }
    }
    out["pairs"] = std::move(pairs);
    out["ties_conflict_frac"] = number(tiesConflictFrac(s));
    out["ties_trimmed_conflict_frac"] = number(tiesTrimmedConflictFrac(s));
    out["model_stock"] = modelStockJson(modelStock);
    out["base_nan"] = s.set.baseNanCount;
    out["base_inf"] = s.set.baseInfCount;
}

Json groupJson(const GroupEntry &group)
{
    Json out = Json::object();
    out["label"] = group.label;
    out["tensors"] = group.tensors.size();
    addBlock(out, group.stats, group.modelStock, nullptr);
    return out;
}
} // namespace

nlohmann::ordered_json snapshotToJson(const AnalysisSnapshot &snapshot)
{
    Json root = Json::object();
    root["format"] = kInspectFormat;
    root["tool"] = std::string("basin ") + kVersion;
    root["base"] = snapshot.modelPaths.empty() ? std::string() : snapshot.modelPaths[0];
    Json models = Json::object();
    Json names = Json::object();
    for (std::size_t m = 0; m < snapshot.modelPaths.size(); ++m) {
        if (m > 0)
            models[std::to_string(m)] = snapshot.modelPaths[m];
        names[std::to_string(m)] = snapshot.modelNames[m];
    }
    root["models"] = std::move(models);
    root["model_names"] = std::move(names);
    root["zero_threshold"] = snapshot.options.zeroThreshold;
    root["density"] = snapshot.options.density;

    Json tensors = Json::object();
    for (const TensorEntry &entry : snapshot.tensors) {
        Json t = Json::object();
        t["shape"] = entry.shape;
        t["kind"] = std::string(tensorKindName(entry.nameInfo.kind));
        t["layer"] = entry.nameInfo.layer ? Json(*entry.nameInfo.layer) : Json(nullptr);
        t["dtypes"] = entry.dtypes;
        addBlock(t, entry.stats, entry.modelStock, &entry.slerp);
        tensors[entry.name] = std::move(t);
    }
    root["tensors"] = std::move(tensors);

    Json layers = Json::object();
    Json groups = Json::object();
    for (const GroupEntry &group : snapshot.groups) {
        if (group.kind == GroupKind::Layer)
            layers[std::to_string(group.layer)] = groupJson(group);
        else
            groups[group.label] = groupJson(group);
    }
    root["layers"] = std::move(layers);
    root["groups"] = std::move(groups);
    Json total = Json::object();
    addBlock(total, snapshot.total, snapshot.totalModelStock, nullptr);
    root["total"] = std::move(total);

    Json skipped = Json::array();
    for (const SkippedTensor &s : snapshot.skipped) {
        Json item = Json::object();
        item["tensor"] = s.tensor;
        item["model"] = s.model;
        item["reason"] = s.reason;
        item["message"] = s.message;
        skipped.push_back(std::move(item));
    }
    root["skipped"] = std::move(skipped);
    root["warnings"] = snapshot.warnings;
    root["bytes_read"] = snapshot.bytesRead;
    root["seconds"] = snapshot.seconds;
    return root;
}

} // namespace basin::analysis
