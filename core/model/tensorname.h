// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <optional>
#include <string_view>

namespace basin {

enum class TensorKind { Q, K, V, O, Gate, Up, Down, Norm, Embed, Head, Other };

std::string_view tensorKindName(TensorKind kind); // "q", "k", …, "embed", "head", "other"

struct TensorNameInfo {
    std::optional<int> layer; // from "…layers.{i}.…"
    TensorKind kind = TensorKind::Other;
};

// Parses Llama-style (and common HF) names: model.layers.3.self_attn.q_proj.weight → {3, Q};
// model.embed_tokens.weight → Embed; model.norm.weight → Norm; lm_head.weight → Head.
TensorNameInfo parseTensorName(std::string_view name);

} // namespace basin
