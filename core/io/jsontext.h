// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

// Small helpers for JSON read from untrusted files (index files, config.json).
namespace basin {

// Parses `text` strictly: RFC 8259 JSON, UTF-8, no byte order mark, no comments, nesting
// at most `maxDepth`, no duplicate keys in any object. Returns the document, or
// InvalidIndex-style errors with `code` and a message starting with `label`.
Result<nlohmann::json> parseJsonStrict(std::string_view text, std::string_view label,
                                       ErrorCode code, int maxDepth = 64);

// `text` cut to at most `maxBytes`, with control and non-ASCII bytes shown as \xNN, so a
// hostile name cannot garble a message or a terminal.
std::string printableSnippet(std::string_view text, std::size_t maxBytes);

// nlohmann's exception text without the "[json.exception…]" prefix and the echo of the
// input ("last read: …"), which may hold arbitrary bytes.
std::string cleanJsonMessage(std::string_view what);

} // namespace basin
