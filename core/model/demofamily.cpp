// SPDX-License-Identifier: GPL-3.0-or-later
#include "model/demofamily.h"

#include "io/atomicfile.h"
#include "io/codecs.h"
#include "io/safetensorsmodelwriter.h"
#include "model/tensorname.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <new>
#include <system_error>

#include <unistd.h>

namespace fs = std::filesystem;

namespace basin {

namespace {

constexpr int kMaxFineTunes = 16;
constexpr int kRank = 4;                           // rank of each low-rank part
constexpr double kShared = 0.8;                    // weight of the shared direction
constexpr std::uint64_t kSparseThreshold = 167772; // ≈ 1 % of 2^24
constexpr std::size_t kChunkElements = 1u << 20;

// ---- counter-based random numbers: value = f(key, index), no state ---------------------

inline std::uint64_t mix64(std::uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

inline std::uint64_t hashAt(std::uint64_t key, std::uint64_t index)
{
    return mix64(key + (index + 1) * 0x9e3779b97f4a7c15ull);
}

// Approximately standard normal (Irwin–Hall sum of four 16-bit uniforms): cheap, bounded,
// vectorisable, and plenty for synthetic weights.
inline float gaussianFrom(std::uint64_t h)
{
    const std::uint64_t sum =
        (h & 0xffff) + ((h >> 16) & 0xffff) + ((h >> 32) & 0xffff) + (h >> 48);
    return static_cast<float>((static_cast<double>(sum) - 131070.0) * (1.0 / 37837.23));
}

std::uint64_t hashName(std::string_view name)
{
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (const char c : name) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ull;
    }
    return h;
}

std::uint64_t streamKey(std::uint64_t seed, std::uint64_t nameHash, std::uint64_t tag)
{
    return mix64(mix64(seed ^ 0x5eed5eed5eedull) ^ nameHash ^ mix64(tag));
}

enum Tag : std::uint64_t {
    Base = 1,
    SharedU,
    SharedV,
    PrivateU = 100,
    PrivateV = 200,
    Sparse = 300
};

// ---- presets --------------------------------------------------------------------------------

struct Preset {
    std::string_view name;
    DemoShape shape;
};

constexpr std::array kPresets{
    Preset{"tiny", DemoShape{4, 64, 128, 256, 0, 0, 0}},
    Preset{"small", DemoShape{8, 256, 688, 4096, 0, 0, 0}},
    Preset{"medium", DemoShape{16, 1024, 2816, 16000, 0, 0, 0}},
    Preset{"1b", DemoShape{16, 2048, 8192, 32000, 0, 0, 0}},
};

// ---- what each fine-tune changes ------------------------------------------------------------

struct FineTunePattern {
    float coefficient = 0.0f; // of the shared direction
    float magnitude = 1.0f;
    bool touches = false;
};

// ft1-like: shares the direction everywhere. ft2-like: coefficient 1 − 2f over depth f, so
// it agrees with ft1 early and conflicts in sign late. ft3-like: changes only the MLP of
// the upper half of the layers.
FineTunePattern patternFor(int fineTune, const TensorNameInfo &info, int layers)
{
    const int kind = (fineTune - 1) % 3;
    double depth = 0.0;
    if (info.layer)
        depth = layers > 1 ? static_cast<double>(*info.layer) / (layers - 1) : 0.0;
    else if (info.kind != TensorKind::Embed)
        depth = 1.0; // final norm and head sit after the last layer
    FineTunePattern p;
    p.magnitude = static_cast<float>(1.0 + 0.25 * kind);
    p.touches = true;
    p.coefficient = 1.0f;
    if (kind == 1) {
        p.coefficient = static_cast<float>(1.0 - 2.0 * depth);
    } else if (kind == 2) {
        const bool mlp = info.kind == TensorKind::Gate || info.kind == TensorKind::Up ||
                         info.kind == TensorKind::Down;
        p.touches = mlp && info.layer && *info.layer >= layers / 2;
    }
    return p;
}

template <Dtype D> inline float quantize(float value)
{
    if constexpr (D == Dtype::BF16)
        return bf16ToF32(f32ToBf16(value));
    else if constexpr (D == Dtype::F16)
        return f16ToF32(f32ToF16(value));
    else
        return value;
}

// One chunk of rows of one tensor, for every model: base values, then each fine-tune.
struct RowJob {
    std::uint64_t baseKey = 0;
    std::uint64_t sharedUKey = 0;
    float baseOffset = 0.0f;
    float baseScale = 0.0f;
    std::uint64_t cols = 0;
    std::uint64_t r0 = 0;   // first row of the chunk
    std::uint64_t rows = 0; // rows in the chunk
    int modelCount = 1;
    const float *sharedV = nullptr;               // cols x kRank
    const FineTunePattern *patterns = nullptr;    // per model
    const std::vector<float> *privateV = nullptr; // per model: cols x kRank
    const std::uint64_t *privateUKey = nullptr;   // per model
    const std::uint64_t *sparseKey = nullptr;     // per model
    const float *amplitude = nullptr;             // per model
    float *out = nullptr;                         // model m at out[m * rows * cols]
};

// Column loops without branches on the dtype, so they vectorise; every value depends only
// on (seed, tensor, model, index), never on the thread that computes it.
template <Dtype D> void generateRows(const RowJob &job)
{
    const float shared = static_cast<float>(kShared);
    const float own = static_cast<float>(std::sqrt(1.0 - kShared * kShared));
    const float invSqrtRank = static_cast<float>(1.0 / std::sqrt(double(kRank)));
    const std::uint64_t cols = job.cols;
    const std::size_t n = static_cast<std::size_t>(job.rows * cols);
    const auto rowCount = static_cast<std::int64_t>(job.rows);
    // Small chunks stay on one thread: waking a team costs more than the work.
#pragma omp parallel if (n >= (1u << 16))
    {
        std::vector<float> sharedRow(job.modelCount > 1 ? cols : 0);
#pragma omp for schedule(static)
        for (std::int64_t rr = 0; rr < rowCount; ++rr) {
            const std::uint64_t r = job.r0 + static_cast<std::uint64_t>(rr);
            const std::size_t rowStart = static_cast<std::size_t>(rr) * cols;
            float *const base = job.out + rowStart;
            const std::uint64_t first = r * cols;
            for (std::uint64_t c = 0; c < cols; ++c)
                base[c] = quantize<D>(job.baseOffset +
                                      job.baseScale * gaussianFrom(hashAt(job.baseKey, first + c)));
            if (job.modelCount == 1)
                continue;

            float sharedU[kRank];
            for (int k = 0; k < kRank; ++k)
                sharedU[k] = gaussianFrom(hashAt(job.sharedUKey,
                                                 r * kRank + static_cast<std::uint64_t>(k))) *
                             invSqrtRank;
            for (std::uint64_t c = 0; c < cols; ++c) {
                float s = 0.0f;
                for (int k = 0; k < kRank; ++k)
                    s += sharedU[k] * job.sharedV[c * kRank + static_cast<std::uint64_t>(k)];
                sharedRow[c] = s;
            }
            for (int m = 1; m < job.modelCount; ++m) {
                const auto mi = static_cast<std::size_t>(m);
                float *const ft = job.out + mi * n + rowStart;
                const FineTunePattern &pattern = job.patterns[mi];
                if (!pattern.touches) {
                    std::copy(base, base + cols, ft);
                    continue;
                }
                float privateU[kRank];
                for (int k = 0; k < kRank; ++k)
                    privateU[k] = gaussianFrom(hashAt(job.privateUKey[mi],
                                                      r * kRank + static_cast<std::uint64_t>(k))) *
                                  invSqrtRank;
                const float *const v = job.privateV[mi].data();
                const float amplitude = job.amplitude[mi];
                const float sharedWeight = shared * pattern.coefficient;
                for (std::uint64_t c = 0; c < cols; ++c) {
                    float p = 0.0f;
                    for (int k = 0; k < kRank; ++k)
                        p += privateU[k] * v[c * kRank + static_cast<std::uint64_t>(k)];
                    float tau = amplitude * (sharedWeight * sharedRow[c] + own * p);
                    const std::uint64_t h = hashAt(job.sparseKey[mi], first + c);
                    if ((h >> 40) < kSparseThreshold)
                        tau += 3.0f * amplitude * gaussianFrom(mix64(h));
                    ft[c] = quantize<D>(base[c] + tau);
                }
            }
        }
    }
}

std::string modelName(int index)
{
    return index == 0 ? std::string("base") : "ft" + std::to_string(index);
}

nlohmann::ordered_json configJson(const DemoShape &s, Dtype dtype)
{
    nlohmann::ordered_json c;
    c["architectures"] = {"LlamaForCausalLM"};
    c["model_type"] = "llama";
    c["hidden_size"] = s.hidden;
    c["intermediate_size"] = s.intermediate;
    c["num_hidden_layers"] = s.layers;
    c["num_attention_heads"] = s.heads;
    c["num_key_value_heads"] = s.kvHeads;
    c["head_dim"] = s.headDim;
    c["vocab_size"] = s.vocab;
    c["max_position_embeddings"] = 2048;
    c["rms_norm_eps"] = 1e-05;
    c["rope_theta"] = 10000.0;
    c["hidden_act"] = "silu";
    c["initializer_range"] = 0.02;
    c["attention_bias"] = false;
    c["mlp_bias"] = false;
    c["tie_word_embeddings"] = false;
    c["bos_token_id"] = 1;
    c["eos_token_id"] = 2;
    c["torch_dtype"] = std::string(torchDtypeName(dtype));
    c["use_cache"] = true;
    c["transformers_version"] = "4.44.0";
    return c;
}

// A word-level tokenizer over placeholder tokens: loads in `tokenizers`, means nothing.
std::string tokenizerJson(int vocab)
{
    nlohmann::ordered_json t;
    t["version"] = "1.0";
    t["truncation"] = nullptr;
    t["padding"] = nullptr;
    const std::array<const char *, 3> special{"<unk>", "<s>", "</s>"};
    nlohmann::ordered_json added = nlohmann::ordered_json::array();
    for (int i = 0; i < 3; ++i)
        added.push_back({{"id", i},
                         {"content", special[static_cast<std::size_t>(i)]},
                         {"single_word", false},
                         {"lstrip", false},
                         {"rstrip", false},
                         {"normalized", false},
                         {"special", true}});
    t["added_tokens"] = added;
    t["normalizer"] = nullptr;
    t["pre_tokenizer"] = {{"type", "Whitespace"}};
    t["post_processor"] = nullptr;
    t["decoder"] = nullptr;
    nlohmann::ordered_json vocabMap = nlohmann::ordered_json::object();
    for (int i = 0; i < vocab; ++i)
        vocabMap[i < 3 ? std::string(special[static_cast<std::size_t>(i)])
                       : "tok" + std::to_string(i)] = i;
    t["model"] = {{"type", "WordLevel"}, {"vocab", vocabMap}, {"unk_token", "<unk>"}};
    return t.dump() + "\n";
}

Result<void> writeSideFiles(const fs::path &folder, const DemoShape &shape, Dtype dtype, int index)
{
    BASIN_TRY(writeFileAtomic(folder / "config.json", configJson(shape, dtype).dump(2) + "\n"));
    nlohmann::ordered_json generation;
    generation["_from_model_config"] = true;
    generation["bos_token_id"] = 1;
    generation["eos_token_id"] = 2;
    generation["transformers_version"] = "4.44.0";
    BASIN_TRY(writeFileAtomic(folder / "generation_config.json", generation.dump(2) + "\n"));
    BASIN_TRY(writeFileAtomic(folder / "tokenizer.json", tokenizerJson(shape.vocab)));
    nlohmann::ordered_json tokenizerConfig;
    tokenizerConfig["tokenizer_class"] = "PreTrainedTokenizerFast";
    tokenizerConfig["bos_token"] = "<s>";
    tokenizerConfig["eos_token"] = "</s>";
    tokenizerConfig["unk_token"] = "<unk>";
    tokenizerConfig["model_max_length"] = 2048;
    tokenizerConfig["clean_up_tokenization_spaces"] = false;
    BASIN_TRY(writeFileAtomic(folder / "tokenizer_config.json", tokenizerConfig.dump(2) + "\n"));
    nlohmann::ordered_json specialTokens;
    specialTokens["bos_token"] = "<s>";
    specialTokens["eos_token"] = "</s>";
    specialTokens["unk_token"] = "<unk>";
    BASIN_TRY(writeFileAtomic(folder / "special_tokens_map.json", specialTokens.dump(2) + "\n"));
    std::string card = "---\n";
    if (index > 0)
        card += "base_model: ../base\n";
    card += "tags:\n- basin-demo\n- synthetic\n---\n\n# " + modelName(index) +
            "\n\nA synthetic Llama-shaped model written by `basin demo`. Its weights are "
            "random and mean nothing; ";
    card += index == 0 ? std::string("the fine-tunes beside it are built on it.\n")
                       : std::string("it differs from ../base by a structured task vector "
                                     "(see ../family.json).\n");
    return writeFileAtomic(folder / "README.md", card);
}

nlohmann::ordered_json familyJson(const DemoFamilyOptions &o, const DemoShape &s)
{
    nlohmann::ordered_json f;
    f["generator"] = "basin demo";
    f["size"] = o.size;
    f["seed"] = o.seed;
    f["dtype"] = std::string(torchDtypeName(o.dtype));
    f["shape"] = {{"layers", s.layers},   {"hidden", s.hidden}, {"intermediate", s.intermediate},
                  {"vocab", s.vocab},     {"heads", s.heads},   {"kv_heads", s.kvHeads},
                  {"head_dim", s.headDim}};
    f["relative_scale"] = o.relativeScale;
    f["shared"] = kShared;
    f["rank"] = kRank;
    f["sparse_fraction"] = 0.01;
    nlohmann::ordered_json models = nlohmann::ordered_json::array();
    models.push_back("base");
    nlohmann::ordered_json fineTunes = nlohmann::ordered_json::object();
    for (int m = 1; m <= o.fineTunes; ++m) {
        models.push_back(modelName(m));
        const int kind = (m - 1) % 3;
        nlohmann::ordered_json d;
        d["magnitude"] = 1.0 + 0.25 * kind;
        d["shared_coefficient"] = kind == 1 ? "1 - 2*depth" : "1";
        d["touches"] = kind == 2 ? "mlp (gate/up/down) of layers >= " + std::to_string(s.layers / 2)
                                 : std::string("all tensors");
        fineTunes[modelName(m)] = d;
    }
    f["models"] = models;
    f["fine_tunes"] = fineTunes;
    f["structure"] =
        "tau_k = a_k * (shared * c_k(depth) * S + sqrt(1 - shared^2) * P_k) + sparse_k; S and "
        "P_k are rank-4 with unit RMS; a_k = relative_scale * magnitude_k * RMS(base tensor); "
        "sparse_k adds 3 * a_k * N(0,1) to 1 % of the coordinates.";
    return f;
}

// Removes a temporary folder on every exit path that did not commit it.
class TempFolderGuard {
public:
    explicit TempFolderGuard(fs::path path) : m_path(std::move(path)) {}
    ~TempFolderGuard()
    {
        std::error_code ec;
        if (!m_path.empty())
            fs::remove_all(m_path, ec);
    }
    TempFolderGuard(const TempFolderGuard &) = delete;
    TempFolderGuard &operator=(const TempFolderGuard &) = delete;

private:
    fs::path m_path;
};

struct TensorJob {
    const PlannedTensor *tensor = nullptr;
    std::uint64_t rows = 0;
    std::uint64_t cols = 0;
    TensorNameInfo info;
};

} // namespace

Result<DemoShape> resolveDemoShape(const DemoFamilyOptions &o)
{
    const Preset *preset = nullptr;
    for (const Preset &p : kPresets) {
        if (p.name == o.size)
            preset = &p;
    }
    if (!preset)
        return makeError(ErrorCode::InvalidArgument,
                         "unknown size '" + o.size + "' (tiny, small, medium, 1b)");
    DemoShape s = preset->shape;
    if (o.layers > 0)
        s.layers = o.layers;
    if (o.hidden > 0)
        s.hidden = o.hidden;
    if (o.intermediate > 0)
        s.intermediate = o.intermediate;
    if (o.vocab > 0)
        s.vocab = o.vocab;
    if (o.layers < 0 || o.hidden < 0 || o.intermediate < 0 || o.vocab < 0 || o.heads < 0 ||
        o.kvHeads < 0)
        return makeError(ErrorCode::InvalidArgument, "sizes must be positive");
    if (s.layers > 1024 || s.hidden < 4 || s.hidden > 65536 || s.intermediate < 1 ||
        s.intermediate > 262144 || s.vocab < 4 || s.vocab > 1'048'576)
        return makeError(ErrorCode::InvalidArgument,
                         "sizes out of range (layers 1..1024, hidden 4..65536, "
                         "intermediate 1..262144, vocab 4..1048576)");
    if (o.heads > 0) {
        s.heads = o.heads;
    } else {
        const int headDim = s.hidden >= 256 ? 64 : std::max(1, s.hidden / 4);
        s.heads = s.hidden % headDim == 0 ? s.hidden / headDim : 1;
    }
    if (s.hidden % s.heads != 0)
        return makeError(ErrorCode::InvalidArgument, std::to_string(s.heads) +
                                                         " heads do not divide hidden size " +
                                                         std::to_string(s.hidden));
    s.headDim = s.hidden / s.heads;
    if (o.kvHeads > 0) {
        s.kvHeads = o.kvHeads;
    } else {
        s.kvHeads = s.heads >= 8 ? s.heads / 4 : std::max(1, s.heads / 2);
        while (s.heads % s.kvHeads != 0)
            --s.kvHeads;
    }
    if (s.kvHeads > s.heads || s.heads % s.kvHeads != 0)
        return makeError(ErrorCode::InvalidArgument, std::to_string(s.kvHeads) +
                                                         " key/value heads do not divide " +
                                                         std::to_string(s.heads) + " heads");
    return s;
}

std::vector<PlannedTensor> demoTensorPlan(const DemoShape &s, Dtype dtype)
{
    const auto h = static_cast<std::uint64_t>(s.hidden);
    const auto inter = static_cast<std::uint64_t>(s.intermediate);
    const auto qDim = static_cast<std::uint64_t>(s.heads) * static_cast<std::uint64_t>(s.headDim);
    const auto kvDim =
        static_cast<std::uint64_t>(s.kvHeads) * static_cast<std::uint64_t>(s.headDim);
    const auto vocab = static_cast<std::uint64_t>(s.vocab);
    std::vector<PlannedTensor> plan;
    auto add = [&](std::string name, std::vector<std::uint64_t> shape) {
        plan.push_back(PlannedTensor{std::move(name), dtype, std::move(shape)});
    };
    add("model.embed_tokens.weight", {vocab, h});
    for (int l = 0; l < s.layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        add(p + "input_layernorm.weight", {h});
        add(p + "self_attn.q_proj.weight", {qDim, h});
        add(p + "self_attn.k_proj.weight", {kvDim, h});
        add(p + "self_attn.v_proj.weight", {kvDim, h});
        add(p + "self_attn.o_proj.weight", {h, qDim});
        add(p + "post_attention_layernorm.weight", {h});
        add(p + "mlp.gate_proj.weight", {inter, h});
        add(p + "mlp.up_proj.weight", {inter, h});
        add(p + "mlp.down_proj.weight", {h, inter});
    }
    add("model.norm.weight", {h});
    add("lm_head.weight", {vocab, h});
    return plan;
}

namespace {

Result<DemoFamilyResult> writeFamily(const fs::path &outDir, const DemoFamilyOptions &o,
                                     const ProgressSink &progress, const CancelFlag *cancel)
{
    Result<DemoShape> shape = resolveDemoShape(o);
    if (!shape)
        return shape.takeError();
    if (o.fineTunes < 0 || o.fineTunes > kMaxFineTunes)
        return makeError(ErrorCode::InvalidArgument,
                         "--models must be between 0 and " + std::to_string(kMaxFineTunes));
    if (!dtypeEncodable(o.dtype))
        return makeError(ErrorCode::InvalidArgument, "dtype " + std::string(dtypeName(o.dtype)) +
                                                         " is not one of bf16, f16, f32");
    if (!(o.relativeScale >= 0.0 && o.relativeScale <= 10.0))
        return makeError(ErrorCode::InvalidArgument, "relative scale must be in [0, 10]");

    const int modelCount = o.fineTunes + 1;
    std::error_code ec;
    fs::create_directories(outDir, ec);
    if (ec)
        return makeError(ec == std::errc::permission_denied ? ErrorCode::PermissionDenied
                                                            : ErrorCode::IoError,
                         outDir.string() + ": cannot create folder: " + ec.message());
    for (int m = 0; m < modelCount; ++m) {
        if (fs::exists(outDir / modelName(m), ec))
            return makeError(ErrorCode::DestinationExists, (outDir / modelName(m)).string() +
                                                               ": already exists; choose an "
                                                               "empty output folder");
    }
    static std::atomic<unsigned> counter{0};
    const fs::path tempRoot =
        outDir / (".basin-demo-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    if (!fs::create_directory(tempRoot, ec) || ec)
        return makeError(ErrorCode::IoError,
                         tempRoot.string() + ": cannot create: " + ec.message());
    TempFolderGuard guard(tempRoot);

    const std::vector<PlannedTensor> tensors = demoTensorPlan(*shape, o.dtype);
    Result<ShardPlan> plan = planShards(tensors, o.maxShardBytes);
    if (!plan)
        return plan.takeError();

    DemoFamilyResult result;
    result.shape = *shape;
    result.bytesPerModel = plan->totalBytes;
    for (const PlannedTensor &t : tensors) {
        std::uint64_t numel = 1;
        for (const std::uint64_t d : t.shape)
            numel *= d;
        result.parametersPerModel += numel;
    }

    std::vector<std::unique_ptr<SafetensorsModelWriter>> writers;
    for (int m = 0; m < modelCount; ++m) {
        const fs::path folder = tempRoot / modelName(m);
        if (!fs::create_directory(folder, ec) || ec)
            return makeError(ErrorCode::IoError,
                             folder.string() + ": cannot create: " + ec.message());
        BASIN_TRY(writeSideFiles(folder, *shape, o.dtype, m));
        Result<std::unique_ptr<SafetensorsModelWriter>> writer =
            SafetensorsModelWriter::create(folder, *plan);
        if (!writer)
            return writer.takeError();
        writers.push_back(std::move(*writer));
    }

    const std::size_t elementBytes = dtypeBits(o.dtype) / 8;
    std::vector<float> values(static_cast<std::size_t>(modelCount) * kChunkElements);
    std::vector<std::byte> encoded(kChunkElements * elementBytes);
    const auto start = std::chrono::steady_clock::now();
    const std::uint64_t bytesTotal = plan->totalBytes * static_cast<std::uint64_t>(modelCount);
    std::uint64_t bytesDone = 0;
    for (std::size_t ti = 0; ti < tensors.size(); ++ti) {
        const PlannedTensor &t = tensors[ti];
        const std::uint64_t rows = t.shape[0];
        const std::uint64_t cols = t.shape.size() > 1 ? t.shape[1] : 1;
        const TensorNameInfo info = parseTensorName(t.name);
        const bool isNorm = info.kind == TensorKind::Norm;
        const float baseScale = isNorm ? 0.05f : 0.02f;
        const float baseOffset = isNorm ? 1.0f : 0.0f;
        const float baseRms = isNorm ? 1.0f : 0.02f;
        const std::uint64_t nameHash = hashName(t.name);
        const std::uint64_t baseKey = streamKey(o.seed, nameHash, Tag::Base);
        const std::uint64_t sharedUKey = streamKey(o.seed, nameHash, Tag::SharedU);
        const std::uint64_t sharedVKey = streamKey(o.seed, nameHash, Tag::SharedV);

        // Column factors of every low-rank part, once per tensor.
        std::vector<float> sharedV(cols * kRank);
        for (std::size_t k = 0; k < sharedV.size(); ++k)
            sharedV[k] = gaussianFrom(hashAt(sharedVKey, k));
        std::vector<FineTunePattern> patterns(static_cast<std::size_t>(modelCount));
        std::vector<std::vector<float>> privateV(static_cast<std::size_t>(modelCount));
        std::vector<std::uint64_t> privateUKey(static_cast<std::size_t>(modelCount));
        std::vector<std::uint64_t> sparseKey(static_cast<std::size_t>(modelCount));
        std::vector<float> amplitude(static_cast<std::size_t>(modelCount));
        for (int m = 1; m < modelCount; ++m) {
            const auto mi = static_cast<std::size_t>(m);
            patterns[mi] = patternFor(m, info, shape->layers);
            amplitude[mi] = static_cast<float>(o.relativeScale) * patterns[mi].magnitude * baseRms;
            privateUKey[mi] =
                streamKey(o.seed, nameHash, Tag::PrivateU + static_cast<std::uint64_t>(m));
            sparseKey[mi] =
                streamKey(o.seed, nameHash, Tag::Sparse + static_cast<std::uint64_t>(m));
            const std::uint64_t vKey =
                streamKey(o.seed, nameHash, Tag::PrivateV + static_cast<std::uint64_t>(m));
            privateV[mi].resize(cols * kRank);
            for (std::size_t k = 0; k < privateV[mi].size(); ++k)
                privateV[mi][k] = gaussianFrom(hashAt(vKey, k));
        }

        const std::uint64_t rowsPerChunk = std::max<std::uint64_t>(1, kChunkElements / cols);
        for (std::uint64_t r0 = 0; r0 < rows; r0 += rowsPerChunk) {
            if (cancel && cancel->load())
                return makeError(ErrorCode::Cancelled, "demo generation cancelled");
            const std::uint64_t r1 = std::min(rows, r0 + rowsPerChunk);
            const std::size_t n = static_cast<std::size_t>((r1 - r0) * cols);
            if (values.size() < n * static_cast<std::size_t>(modelCount)) {
                values.resize(n * static_cast<std::size_t>(modelCount));
                encoded.resize(n * elementBytes);
            }
            RowJob job;
            job.baseKey = baseKey;
            job.sharedUKey = sharedUKey;
            job.baseOffset = baseOffset;
            job.baseScale = baseScale;
            job.cols = cols;
            job.r0 = r0;
            job.rows = r1 - r0;
            job.modelCount = modelCount;
            job.sharedV = sharedV.data();
            job.patterns = patterns.data();
            job.privateV = privateV.data();
            job.privateUKey = privateUKey.data();
            job.sparseKey = sparseKey.data();
            job.amplitude = amplitude.data();
            job.out = values.data();
            switch (o.dtype) {
            case Dtype::BF16:
                generateRows<Dtype::BF16>(job);
                break;
            case Dtype::F16:
                generateRows<Dtype::F16>(job);
                break;
            default:
                generateRows<Dtype::F32>(job);
                break;
            }
            for (int m = 0; m < modelCount; ++m) {
                const std::span<const float> src(values.data() + static_cast<std::size_t>(m) * n,
                                                 n);
                const std::span<std::byte> dst(encoded.data(), n * elementBytes);
                Result<std::uint64_t> enc = encodeFromF32(o.dtype, src, dst);
                if (!enc)
                    return enc.takeError();
                BASIN_TRY(writers[static_cast<std::size_t>(m)]->append(dst));
                bytesDone += dst.size();
            }
        }
        if (progress) {
            Progress p;
            p.phase = "writing";
            p.itemsDone = ti + 1;
            p.itemsTotal = tensors.size();
            p.bytesDone = bytesDone;
            p.bytesTotal = bytesTotal;
            p.elapsedSeconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (bytesDone > 0)
                p.etaSeconds = p.elapsedSeconds * static_cast<double>(bytesTotal - bytesDone) /
                               static_cast<double>(bytesDone);
            progress(p);
        }
    }
    for (auto &writer : writers)
        BASIN_TRY(writer->finish());
    writers.clear();

    for (int m = 0; m < modelCount; ++m) {
        const fs::path target = outDir / modelName(m);
        fs::rename(tempRoot / modelName(m), target, ec);
        if (ec) {
            // Undo the renames done so far: all or nothing.
            for (int k = 0; k < m; ++k) {
                std::error_code ignored;
                fs::remove_all(outDir / modelName(k), ignored);
            }
            return makeError(ErrorCode::IoError,
                             target.string() + ": cannot move into place: " + ec.message());
        }
        result.modelFolders.push_back(target);
    }
    BASIN_TRY(writeFileAtomic(outDir / "family.json", familyJson(o, *shape).dump(2) + "\n"));
    BASIN_TRY(syncFolder(outDir));
    return result;
}

} // namespace

Result<DemoFamilyResult> writeDemoFamily(const fs::path &outDir, const DemoFamilyOptions &options,
                                         const ProgressSink &progress, const CancelFlag *cancel)
{
    try {
        return writeFamily(outDir, options, progress, cancel);
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::IoError, outDir.string() + ": out of memory writing the demo");
    } catch (const std::exception &ex) {
        return makeError(ErrorCode::IoError, outDir.string() + ": " + ex.what());
    }
}

} // namespace basin
