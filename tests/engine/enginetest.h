// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Helpers shared by the engine tests: fixture paths, running a recipe through the engine,
// comparing outputs, and writing altered copies of fixture models.

#include "engine/mergerunner.h"
#include "io/codecs.h"
#include "io/safetensorsmodelwriter.h"
#include "io/sha256.h"
#include "io/shardplanner.h"
#include "model/checkpoint.h"
#include "recipe/yamlreader.h"

#include <QString>
#include <QTest>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace basin::test {

namespace fs = std::filesystem;

inline fs::path dataDir()
{
    return fs::path(BASIN_TEST_DATA_DIR);
}

inline fs::path caseDir(const std::string &name)
{
    return dataDir() / "cases" / name;
}

inline fs::path familyDir(const std::string &family, const std::string &model)
{
    return dataDir() / "families" / family / model;
}

inline fs::path toPath(const QString &path)
{
    return fs::path(path.toStdString());
}

// All 22 golden cases.
inline std::vector<std::string> goldenCases()
{
    std::vector<std::string> cases;
    for (const auto &entry : fs::directory_iterator(dataDir() / "cases")) {
        if (fs::exists(entry.path() / "recipe.yml"))
            cases.push_back(entry.path().filename().string());
    }
    std::sort(cases.begin(), cases.end());
    return cases;
}

inline std::string readText(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void writeText(const fs::path &path, const std::string &text)
{
    std::ofstream out(path, std::ios::binary);
    out << text;
}

inline std::string fileSha(const fs::path &path)
{
    const std::string bytes = readText(path);
    return Sha256::hexOf(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
}

inline Result<recipe::Recipe> readCase(const std::string &name)
{
    return recipe::readRecipeFile(caseDir(name) / "recipe.yml");
}

// Runs `recipe` through the engine into `out`.
inline Result<engine::MergeReport> runRecipe(const recipe::Recipe &recipe, const fs::path &out,
                                             engine::MergeOptions options = {},
                                             const ProgressSink &progress = {},
                                             const CancelFlag *cancel = nullptr)
{
    static CancelFlag never{false};
    engine::MergeRequest request{recipe, out, options};
    return engine::runMerge(request, progress, cancel ? *cancel : never);
}

// Every tensor of a checkpoint: name → (dtype, shape, raw bytes).
struct RawTensor {
    Dtype dtype = Dtype::F32;
    std::vector<std::uint64_t> shape;
    std::vector<std::byte> bytes;
};

inline std::map<std::string, RawTensor> readAll(const Checkpoint &model)
{
    std::map<std::string, RawTensor> all;
    for (const TensorInfo &info : model.tensors()) {
        RawTensor tensor{info.dtype, info.shape, std::vector<std::byte>(info.byteSize)};
        if (!model.readRaw(info, tensor.bytes).ok())
            return {};
        all.emplace(info.name, std::move(tensor));
    }
    return all;
}

inline std::vector<float> toFloats(const RawTensor &tensor)
{
    std::uint64_t numel = 1;
    for (const std::uint64_t d : tensor.shape)
        numel *= d;
    std::vector<float> values(numel);
    if (!decodeToF32(tensor.dtype, tensor.bytes, values).ok())
        return {};
    return values;
}

// Concatenated raw tensor bytes of every data file of a model folder, in catalog order:
// equal for two folders exactly when every tensor's bytes are equal.
inline std::string tensorBytes(const fs::path &folder)
{
    auto model = Checkpoint::open(folder);
    if (!model)
        return "open failed: " + model.error().message;
    std::string bytes;
    for (const TensorInfo &info : (*model)->tensors()) {
        std::vector<std::byte> raw(info.byteSize);
        if (!(*model)->readRaw(info, raw).ok())
            return "read failed";
        bytes += info.name;
        bytes.append(reinterpret_cast<const char *>(raw.data()), raw.size());
    }
    return bytes;
}

// Writes a copy of `source` into `destination` (a new folder, one model.safetensors) with
// `edit` applied to the decoded values of every tensor (it may change the shape too);
// config.json and the side files are copied.
using TensorEdit = std::function<void(const std::string &name, std::vector<std::uint64_t> &shape,
                                      std::vector<float> &values)>;

inline bool writeEditedCopy(const fs::path &source, const fs::path &destination,
                            const TensorEdit &edit)
{
    auto model = Checkpoint::open(source);
    if (!model)
        return false;
    fs::create_directories(destination);
    std::vector<PlannedTensor> planned;
    std::vector<std::vector<float>> data;
    for (const TensorInfo &info : (*model)->tensors()) {
        std::vector<float> values(info.numel);
        if (!(*model)->readF32(info, values).ok())
            return false;
        std::vector<std::uint64_t> shape = info.shape;
        edit(info.name, shape, values);
        planned.push_back(PlannedTensor{info.name, info.dtype, shape});
        data.push_back(std::move(values));
    }
    auto plan = planShards(planned, 0);
    if (!plan)
        return false;
    auto writer = SafetensorsModelWriter::create(destination, *plan);
    if (!writer)
        return false;
    for (std::size_t i = 0; i < planned.size(); ++i) {
        std::vector<std::byte> bytes(data[i].size() * dtypeBits(planned[i].dtype) / 8);
        if (!encodeFromF32(planned[i].dtype, data[i], bytes).ok() || !(*writer)->append(bytes).ok())
            return false;
    }
    if (!(*writer)->finish().ok())
        return false;
    fs::copy_file(source / "config.json", destination / "config.json");
    for (const fs::path &side : (*model)->sideFiles())
        fs::copy_file(side, destination / side.filename());
    return true;
}

// A family folder (base, ft1, ft2, ft3 as links to the fixture) where `edited` is replaced by
// an edited copy, and a recipe text with {ROOT} standing for that folder.
inline bool makeFamily(const fs::path &root, const std::string &family, const std::string &edited,
                       const TensorEdit &edit)
{
    fs::create_directories(root);
    for (const char *model : {"base", "ft1", "ft2", "ft3"}) {
        if (model == edited) {
            if (!writeEditedCopy(familyDir(family, model), root / model, edit))
                return false;
        } else {
            fs::create_directory_symlink(familyDir(family, model), root / model);
        }
    }
    return true;
}

inline Result<recipe::Recipe> recipeIn(const fs::path &folder, const std::string &text)
{
    writeText(folder / "recipe.yml", text);
    return recipe::readRecipeFile(folder / "recipe.yml");
}

} // namespace basin::test
