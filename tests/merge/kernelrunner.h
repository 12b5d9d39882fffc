// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Builds a TensorJob from plain vectors and runs a method's kernel on it, so each test
// states its inputs and expected values and nothing else.

#include "merge/method.h"

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

struct KernelInput {
    std::vector<float> values;
    std::vector<std::pair<std::string, double>> params;
    std::string label;
};

struct KernelRun {
    basin::Result<void> status;
    std::vector<float> out;
    basin::merge::TensorNotes notes;
};

class KernelRunner {
public:
    std::string tensorName = "model.layers.0.mlp.up_proj.weight";
    std::vector<std::uint64_t> shape; // empty: 1-D of the base's (or first input's) length
    std::vector<float> base;          // empty: no base
    std::vector<KernelInput> models;
    std::vector<std::pair<std::string, double>> global;
    std::uint64_t seed = 0;

    KernelInput &add(std::vector<float> values,
                     std::vector<std::pair<std::string, double>> params = {})
    {
        KernelInput input{std::move(values), std::move(params),
                          "ft" + std::to_string(models.size() + 1)};
        models.push_back(std::move(input));
        return models.back();
    }

    // Runs the registered kernel of `method` on these inputs. With outputOverBase, the
    // output buffer starts as a copy of the base and is passed as both (the engine's use of
    // MethodDecl::outputOverBase).
    KernelRun run(std::string_view method, bool outputOverBase = false) const
    {
        const basin::merge::MethodDecl *decl = basin::merge::findMethod(method);
        if (decl == nullptr || decl->kernel == nullptr)
            return {basin::makeError(basin::ErrorCode::UnknownMethod, std::string(method)), {}, {}};
        const std::uint64_t numel = base.empty() ? models.front().values.size() : base.size();
        std::vector<std::uint64_t> dims = shape.empty() ? std::vector<std::uint64_t>{numel} : shape;
        basin::merge::TensorJob job;
        job.tensorName = tensorName;
        job.shape = dims;
        job.numel = numel;
        job.base = base.empty() ? nullptr : base.data();
        job.seed = seed;
        for (std::size_t m = 0; m < models.size(); ++m) {
            basin::merge::ModelInput input;
            input.data = models[m].values.data();
            input.modelIndex = static_cast<int>(m);
            input.label = models[m].label;
            for (const auto &[name, value] : models[m].params)
                input.params.set(name, value);
            job.models.push_back(std::move(input));
        }
        for (const auto &[name, value] : global)
            job.global.set(name, value);
        KernelRun result{{}, std::vector<float>(numel), {}};
        if (outputOverBase && !base.empty()) {
            result.out = base;
            job.base = result.out.data();
        }
        result.status = decl->kernel(job, result.out, result.notes);
        return result;
    }
};

// Deterministic test data: normal(0, scale) values.
inline std::vector<float> randomValues(std::size_t n, std::uint32_t seed, float scale = 1.0f)
{
    std::mt19937 engine(seed);
    std::normal_distribution<float> normal(0.0f, scale);
    std::vector<float> values(n);
    for (float &v : values)
        v = normal(engine);
    return values;
}

// base + delta, element-wise.
inline std::vector<float> plus(const std::vector<float> &base, const std::vector<float> &delta)
{
    std::vector<float> sum(base.size());
    for (std::size_t i = 0; i < base.size(); ++i)
        sum[i] = base[i] + delta[i];
    return sum;
}
