// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Reads the golden fixture models the plain way (8-byte length, JSON header, raw F32 data),
// so the recipe tests do not depend on the checkpoint reader they are meant to feed.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace fixture {

struct Tensor {
    std::string name;
    std::string dtype;
    std::uint64_t begin = 0;
    std::vector<float> values; // F32 tensors only
};

// Tensors of one .safetensors file in data order; `withData` also decodes F32 values.
inline std::vector<Tensor> readFile(const std::filesystem::path &file, bool withData)
{
    std::ifstream in(file, std::ios::binary);
    std::uint64_t headerSize = 0;
    in.read(reinterpret_cast<char *>(&headerSize), 8);
    std::string header(headerSize, '\0');
    in.read(header.data(), static_cast<std::streamsize>(headerSize));
    const auto json = nlohmann::json::parse(header);
    std::vector<Tensor> tensors;
    for (const auto &[name, info] : json.items()) {
        if (name == "__metadata__")
            continue;
        Tensor tensor{name,
                      info["dtype"].get<std::string>(),
                      info["data_offsets"][0].get<std::uint64_t>(),
                      {}};
        if (withData && tensor.dtype == "F32") {
            const std::uint64_t end = info["data_offsets"][1].get<std::uint64_t>();
            tensor.values.resize((end - tensor.begin) / 4);
            in.seekg(static_cast<std::streamoff>(8 + headerSize + tensor.begin));
            in.read(reinterpret_cast<char *>(tensor.values.data()),
                    static_cast<std::streamsize>(end - tensor.begin));
        }
        tensors.push_back(std::move(tensor));
    }
    std::sort(tensors.begin(), tensors.end(),
              [](const Tensor &a, const Tensor &b) { return a.begin < b.begin; });
    return tensors;
}

// The data files of a model folder, in order (sorted shard names, or model.safetensors).
inline std::vector<std::filesystem::path> dataFiles(const std::filesystem::path &folder)
{
    std::vector<std::filesystem::path> files;
    if (std::filesystem::exists(folder / "model.safetensors.index.json")) {
        std::ifstream in(folder / "model.safetensors.index.json");
        const auto index = nlohmann::json::parse(in);
        for (const auto &[name, file] : index["weight_map"].items()) {
            const auto path = folder / file.get<std::string>();
            if (std::find(files.begin(), files.end(), path) == files.end())
                files.push_back(path);
        }
        std::sort(files.begin(), files.end());
    } else {
        files.push_back(folder / "model.safetensors");
    }
    return files;
}

// Tensor names in file order (file, then offset).
inline std::vector<std::string> tensorNames(const std::filesystem::path &folder)
{
    std::vector<std::string> names;
    for (const auto &file : dataFiles(folder)) {
        for (const auto &tensor : readFile(file, false))
            names.push_back(tensor.name);
    }
    return names;
}

// Name → F32 values of a single-file F32 model (or of an expected output file).
inline std::map<std::string, std::vector<float>> readValues(const std::filesystem::path &file)
{
    std::map<std::string, std::vector<float>> values;
    for (auto &tensor : readFile(file, true))
        values.emplace(tensor.name, std::move(tensor.values));
    return values;
}

} // namespace fixture
