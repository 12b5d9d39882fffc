// SPDX-License-Identifier: GPL-3.0-or-later
// Seed-corpus generator for the fuzz targets: writes one file per row of the hostile-input
// table of FORMATS.md (plus a few valid inputs, so mutations start from parseable data)
// into <out>/{safetensors,index,recipe,checkpoint}/. Generated, not committed, so the
// seeds follow the table when it changes.
//
//   basin_fuzz_corpus <out-dir> [recipe.yml ...]
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::string prefix(std::uint64_t n)
{
    std::string p(8, '\0');
    for (int i = 0; i < 8; ++i)
        p[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return p;
}

// A safetensors file: prefix, header, then `dataBytes` bytes of data.
std::string file(const std::string &header, std::size_t dataBytes)
{
    std::string out = prefix(header.size()) + header;
    for (std::size_t i = 0; i < dataBytes; ++i)
        out.push_back(static_cast<char>(i * 37 + 11));
    return out;
}

void put(const fs::path &dir, const std::string &name, const std::string &bytes, int &count)
{
    std::ofstream(dir / name, std::ios::binary) << bytes;
    ++count;
}

void safetensorsSeeds(const fs::path &dir, int &n)
{
    const std::string ok =
        R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]},"s":{"dtype":"F16","shape":[],"data_offsets":[22,24]}})";
    put(dir, "valid", file(ok, 24), n);
    put(dir, "valid-padded", file("  " + ok + "      ", 24), n);
    put(dir, "valid-empty", file("{}", 0), n);
    put(dir, "valid-zero-size",
        file(R"({"z":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]}})", 0), n);
    const char *dtypes[] = {"F64",         "F32",     "F16",     "BF16", "I64",     "I32",
                            "I16",         "I8",      "U8",      "BOOL", "F8_E4M3", "F8_E5M2",
                            "U16",         "U32",     "U64",     "C64",  "F8_E8M0", "F8_E4M3FNUZ",
                            "F8_E5M2FNUZ", "F6_E2M3", "F6_E3M2", "F4"};
    for (const char *d : dtypes)
        put(dir, std::string("dtype-") + d,
            file(std::string(R"({"t":{"dtype":")") + d + R"(","shape":[4],"data_offsets":[0,4]}})",
                 4),
            n);
    // Rules 1-2: length prefix.
    for (int len = 0; len < 8; ++len)
        put(dir, "short-" + std::to_string(len), std::string(static_cast<std::size_t>(len), '\x01'),
            n);
    put(dir, "n-zero", prefix(0), n);
    put(dir, "n-2pow63", prefix(std::uint64_t(1) << 63) + "{}", n);
    put(dir, "n-past-eof", prefix(64) + "{}", n);
    put(dir, "n-over-100mb", prefix(100'000'001) + "{}", n);
    // Rule 3: not JSON.
    put(dir, "not-utf8", file("{\"\xff\xfe\":1}", 0), n);
    put(dir, "open-brace", file("{", 0), n);
    put(dir, "trailing-garbage", file("{}x", 0), n);
    put(dir, "trailing-nul", file(std::string("{}\0", 3), 0), n);
    put(dir, "array-root", file("[]", 0), n);
    put(dir, "nested", file(std::string(20000, '['), 0), n);
    put(dir, "nested-obj", file(R"({"a":)" + std::string(2000, '{'), 0), n);
    // Rule 4: duplicates.
    put(dir, "dup-tensor",
        file(
            R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
            8),
        n);
    put(dir, "dup-metadata", file(R"({"__metadata__":{},"__metadata__":{}})", 0), n);
    // Rule 5: entry fields.
    put(dir, "no-dtype", file(R"({"a":{"shape":[1],"data_offsets":[0,4]}})", 4), n);
    put(dir, "no-shape", file(R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", 4), n);
    put(dir, "no-offsets", file(R"({"a":{"dtype":"F32","shape":[1]}})", 4), n);
    put(dir, "three-offsets",
        file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})", 4), n);
    put(dir, "dtype-F128", file(R"({"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}})", 16),
        n);
    put(dir, "dtype-lower", file(R"({"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}})", 4),
        n);
    put(dir, "dim-negative", file(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4),
        n);
    put(dir, "dim-fraction", file(R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4),
        n);
    put(dir, "dim-string", file(R"({"a":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}})", 4),
        n);
    put(dir, "dim-huge",
        file(R"({"a":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,4]}})", 4), n);
    put(dir, "offset-negative",
        file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", 4), n);
    put(dir, "metadata-nonstring",
        file(
            R"({"__metadata__":{"format":1},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
            4),
        n);
    // Rule 6: overflow.
    put(dir, "shape-overflow",
        file(R"({"a":{"dtype":"F32","shape":[2,18446744073709551614],"data_offsets":[0,4]}})", 4),
        n);
    put(dir, "bytes-overflow",
        file(R"({"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]}})", 8), n);
    // Rule 7: offsets.
    put(dir, "end-before-begin",
        file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", 4), n);
    put(dir, "gap",
        file(
            R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
            12),
        n);
    put(dir, "overlap",
        file(
            R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
            12),
        n);
    std::string same = "{";
    for (int i = 0; i < 10; ++i)
        same += (i ? "," : "") + std::string("\"t") + std::to_string(i) +
                R"(":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
    put(dir, "ten-same-bytes", file(same + "}", 4), n);
    put(dir, "size-mismatch", file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4),
        n);
    // Rule 8: file length.
    std::string truncated = file(ok, 24);
    truncated.resize(truncated.size() - 2);
    put(dir, "truncated-2", truncated, n);
    put(dir, "appended", file(ok, 24) + "xx", n);
    // Many entries (bounded time and memory); 10^3 keeps the seed small, mutations grow it.
    std::string many = "{";
    for (int i = 0; i < 1000; ++i)
        many += (i ? "," : "") + std::string("\"t") + std::to_string(i) +
                R"(":{"dtype":"U8","shape":[1],"data_offsets":[)" + std::to_string(i) + "," +
                std::to_string(i + 1) + "]}";
    put(dir, "many-tensors", file(many + "}", 1000), n);
}

void indexSeeds(const fs::path &dir, int &n)
{
    auto index = [](const std::string &map) {
        return R"({"metadata":{"total_size":64},"weight_map":{)" + map + "}}";
    };
    put(dir, "valid",
        index(
            R"("a.weight":"model-00001-of-00002.safetensors","b.weight":"model-00002-of-00002.safetensors")"),
        n);
    put(dir, "no-metadata", R"({"weight_map":{"a":"x.safetensors"}})", n);
    put(dir, "empty-map", index(""), n);
    put(dir, "dotdot", index(R"("a":"../../etc/passwd")"), n);
    put(dir, "absolute", index(R"("a":"/etc/shadow")"), n);
    put(dir, "subdir", index(R"("a":"a/b.safetensors")"), n);
    put(dir, "backslash", index(R"("a":"a\\b.safetensors")"), n);
    put(dir, "nul", index(R"("a":"x\u0000.safetensors")"), n);
    put(dir, "hidden", index(R"("a":".x.safetensors")"), n);
    put(dir, "wrong-ext", index(R"("a":"x.bin")"), n);
    put(dir, "dup-tensor", index(R"("a":"x.safetensors","a":"y.safetensors")"), n);
    put(dir, "non-string", index(R"("a":3)"), n);
    put(dir, "total-string",
        R"({"metadata":{"total_size":"64"},"weight_map":{"a":"x.safetensors"}})", n);
    put(dir, "not-json", "{\"weight_map\":", n);
    put(dir, "array", "[]", n);
    put(dir, "nested", std::string(50'000, '['), n);
}

void recipeSeeds(const fs::path &dir, const std::vector<fs::path> &recipes, int &n)
{
    for (const auto &r : recipes) {
        std::ifstream in(r, std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        put(dir, "case-" + r.parent_path().filename().string(), text, n);
    }
    put(dir, "linear",
        "models:\n  - model: a\n    parameters: {weight: 0.5}\n  - model: b\n    parameters: "
        "{weight: 0.5}\nmerge_method: linear\ndtype: float32\n",
        n);
    put(dir, "ties-gradient",
        "models:\n  - model: a\n    parameters:\n      weight: [0, 0.5, 1]\n      density: "
        "{filter: mlp, value: 0.3}\nmerge_method: ties\nbase_model: base\nparameters: {normalize: "
        "true}\n",
        n);
    put(dir, "slices",
        "slices:\n  - sources:\n      - model: a\n        layer_range: [0, 2]\n      - model: b\n  "
        "      layer_range: [0, 2]\nmerge_method: slerp\nbase_model: a\nparameters:\n  t: "
        "[{filter: self_attn, value: [0, 1]}, {value: 0.5}]\n",
        n);
    put(dir, "dup-key", "merge_method: linear\nmerge_method: ties\n", n);
    put(dir, "unknown-method", "merge_method: frobnicate\nmodels: [{model: a}]\n", n);
    put(dir, "anchors", "x: &a [*a]\nmerge_method: linear\n", n);
    put(dir, "alias-bomb",
        "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nd: [*c, *c, *c, *c]\n",
        n);
    put(dir, "deep", std::string(10'000, '[') + "\n", n);
    put(dir, "tabs", "models:\n\t- model: a\n", n);
    put(dir, "not-yaml", "{: : :\n", n);
    put(dir, "hub-id", "models:\n  - model: org/name\nmerge_method: linear\n", n);
    put(dir, "lora", "models:\n  - model: base+lora\nmerge_method: linear\n", n);
    put(dir, "tokenizer", "models: [{model: a}]\nmerge_method: linear\ntokenizer_source: union\n",
        n);
    put(dir, "nan-weight",
        "models:\n  - model: a\n    parameters: {weight: .nan}\nmerge_method: linear\n", n);
    put(dir, "huge-int",
        "models:\n  - model: a\n    layer_range: [0, 99999999999999999999]\nmerge_method: "
        "passthrough\n",
        n);
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::cerr << "usage: basin_fuzz_corpus <out-dir> [recipe.yml ...]\n";
        return 2;
    }
    const fs::path out = argv[1];
    std::vector<fs::path> recipes(argv + 2, argv + argc);
    int counts[4] = {0, 0, 0, 0};
    for (const char *sub : {"safetensors", "index", "recipe", "checkpoint"})
        fs::create_directories(out / sub);
    safetensorsSeeds(out / "safetensors", counts[0]);
    indexSeeds(out / "index", counts[1]);
    recipeSeeds(out / "recipe", recipes, counts[2]);
    // Checkpoint::open reads the same bytes from a file: same seeds (generated again, not
    // copied: the fuzzer adds its own finds to the safetensors folder).
    safetensorsSeeds(out / "checkpoint", counts[3]);
    std::cout << "seeds: safetensors " << counts[0] << ", index " << counts[1] << ", recipe "
              << counts[2] << ", checkpoint " << counts[3] << "\n";
    return 0;
}
