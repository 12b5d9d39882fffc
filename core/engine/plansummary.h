// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "engine/preparedmerge.h"

#include <string>

namespace basin::engine {

// The plan a dry run prints: method, base, models, seed (random methods), output size,
// dtype and files, then one line per output tensor — shape, dtype, resolved global
// parameters and each input with its parameters (and its own tensor name when it differs,
// as under slices; cropped and skipped inputs marked) — then the warnings.
std::string describePlan(const PreparedMerge &prepared);

} // namespace basin::engine
