// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysissnapshot.h"

#include <nlohmann/json.hpp>

namespace basin::analysis {

// The snapshot without its caches (Gram matrices, samples, histograms) as JSON, following
// docs/inspect-schema.json: tensors, layers, the embed/norm/head/other groups and the total,
// each with per-model, per-pair and per-set figures under the fixture files' key names;
// undefined values are null. Keys keep the snapshot's order. Never fails.
nlohmann::ordered_json snapshotToJson(const AnalysisSnapshot &snapshot);

// Schema identifier written as "format" (bumped on incompatible changes).
inline constexpr const char *kInspectFormat = "basin-inspect/1";

} // namespace basin::analysis
