// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace basin::engine {

// Parses a size as users write it on a command line: plain bytes ("1048576"), decimal units
// K, M, G, T (optionally followed by B: "5GB" = 5·10⁹), binary units KiB, MiB, GiB, TiB, and
// a fraction before a unit ("1.5G"). Units are case-insensitive; spaces between the number
// and the unit are allowed. Returns the size rounded down to whole bytes. Errors:
// InvalidArgument (empty, negative, unknown unit, garbage, zero) and Overflow (past 2⁶⁴−1),
// each message quoting the text.
Result<std::uint64_t> parseByteSize(std::string_view text);

// "1.79 GB", "512 B": decimal units with three significant digits, for messages and plans.
std::string formatByteSize(std::uint64_t bytes);

} // namespace basin::engine
