// SPDX-License-Identifier: GPL-3.0-or-later
#include "model/tensorname.h"

#include <array>
#include <charconv>
#include <string>
#include <vector>

namespace basin {

std::string_view tensorKindName(TensorKind kind)
{
    switch (kind) {
    case TensorKind::Q:
        return "q";
    case TensorKind::K:
        return "k";
    case TensorKind::V:
        return "v";
    case TensorKind::O:
        return "o";
    case TensorKind::Gate:
        return "gate";
    case TensorKind::Up:
        return "up";
    case TensorKind::Down:
        return "down";
    case TensorKind::Norm:
        return "norm";
    case TensorKind::Embed:
        return "embed";
    case TensorKind::Head:
        return "head";
    case TensorKind::Other:
        return "other";
    }
    return "other";
}

namespace {

std::vector<std::string_view> splitDots(std::string_view name)
{
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (start <= name.size()) {
        const std::size_t dot = name.find('.', start);
        const std::size_t end = dot == std::string_view::npos ? name.size() : dot;
        parts.push_back(name.substr(start, end - start));
        if (dot == std::string_view::npos)
            break;
        start = dot + 1;
    }
    return parts;
}

std::optional<int> parseIndex(std::string_view text)
{
    if (text.empty() || text.size() > 6)
        return std::nullopt;
    int value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size() || value < 0)
        return std::nullopt;
    return value;
}

// Names of the container that holds the numbered transformer blocks in common HF models:
// Llama/Mistral/Qwen "layers", GPT-2/Falcon "h", BERT "layer", others "blocks".
constexpr std::array kLayerContainers{std::string_view("layers"), std::string_view("layer"),
                                      std::string_view("h"), std::string_view("blocks"),
                                      std::string_view("block")};

struct KindToken {
    std::string_view token;
    TensorKind kind;
};

// Matched against whole name segments. Fused projections (qkv_proj, c_attn, gate_up_proj)
// are deliberately "other": they mix kinds.
constexpr std::array kKindTokens{
    KindToken{"q_proj", TensorKind::Q},
    KindToken{"query", TensorKind::Q},
    KindToken{"wq", TensorKind::Q},
    KindToken{"k_proj", TensorKind::K},
    KindToken{"key", TensorKind::K},
    KindToken{"wk", TensorKind::K},
    KindToken{"v_proj", TensorKind::V},
    KindToken{"value", TensorKind::V},
    KindToken{"wv", TensorKind::V},
    KindToken{"o_proj", TensorKind::O},
    KindToken{"out_proj", TensorKind::O},
    KindToken{"wo", TensorKind::O},
    KindToken{"gate_proj", TensorKind::Gate},
    KindToken{"w1", TensorKind::Gate},
    KindToken{"up_proj", TensorKind::Up},
    KindToken{"w3", TensorKind::Up},
    KindToken{"c_fc", TensorKind::Up},
    KindToken{"dense_h_to_4h", TensorKind::Up},
    KindToken{"fc1", TensorKind::Up},
    KindToken{"down_proj", TensorKind::Down},
    KindToken{"w2", TensorKind::Down},
    KindToken{"dense_4h_to_h", TensorKind::Down},
    KindToken{"fc2", TensorKind::Down},
    KindToken{"embed_tokens", TensorKind::Embed},
    KindToken{"wte", TensorKind::Embed},
    KindToken{"word_embeddings", TensorKind::Embed},
    KindToken{"tok_embeddings", TensorKind::Embed},
    KindToken{"embed_in", TensorKind::Embed},
    KindToken{"lm_head", TensorKind::Head},
    KindToken{"embed_out", TensorKind::Head},
};

bool isNormSegment(std::string_view segment)
{
    return segment.find("norm") != std::string_view::npos || segment.starts_with("ln_") ||
           segment == "ln" || segment == "ln1" || segment == "ln2";
}

} // namespace

TensorNameInfo parseTensorName(std::string_view name)
{
    TensorNameInfo info;
    const std::vector<std::string_view> parts = splitDots(name);

    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        bool container = false;
        for (std::string_view c : kLayerContainers)
            container = container || parts[i] == c;
        if (!container)
            continue;
        if (const std::optional<int> index = parseIndex(parts[i + 1])) {
            info.layer = index;
            break;
        }
    }

    // Norms first: "self_attn.q_norm" is a norm, not a query projection.
    for (std::string_view part : parts) {
        if (isNormSegment(part)) {
            info.kind = TensorKind::Norm;
            return info;
        }
    }
    // The last matching segment decides ("mlp.experts.3.w1" → gate).
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        for (const KindToken &token : kKindTokens) {
            if (*it == token.token) {
                info.kind = token.kind;
                return info;
            }
        }
    }
    // Original Llama layout: "output.weight" is the head; GPT-NeoX "attention.dense" is O.
    if (!parts.empty() && parts.front() == "output" && !info.layer)
        info.kind = TensorKind::Head;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        if ((parts[i] == "attention" || parts[i] == "self_attn" || parts[i] == "attn") &&
            (parts[i + 1] == "dense" || parts[i + 1] == "c_proj"))
            info.kind = TensorKind::O;
        if (parts[i] == "mlp" && parts[i + 1] == "c_proj")
            info.kind = TensorKind::Down;
    }
    return info;
}

} // namespace basin
