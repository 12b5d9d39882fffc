// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"
#include "io/dtype.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// The pure safetensors header parser and serializer: no file system, callable on any byte
// buffer (the fuzz targets call these directly).
namespace basin {

// Limits from FORMATS.md. Headers longer than this are refused before any allocation.
inline constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
// JSON nesting deeper than this is refused while parsing (a valid header needs 3).
inline constexpr int kMaxJsonDepth = 64;
// Tensors of higher rank are refused (no real checkpoint comes close).
inline constexpr std::size_t kMaxTensorRank = 32;

struct HeaderEntry {
    std::string name;
    Dtype dtype = Dtype::F32;
    std::vector<std::uint64_t> shape;
    std::uint64_t numel = 0;
    std::uint64_t byteSize = 0;
    std::uint64_t begin = 0; // data_offsets, relative to the start of the data section
    std::uint64_t end = 0;
};

struct SafetensorsHeader {
    // Sorted by data offset (the order of the bytes in the file).
    std::vector<HeaderEntry> tensors;
    std::map<std::string, std::string> metadata;
    bool hasMetadata = false;
};

// Parses and validates the JSON header (rules 3–8 of FORMATS.md, in that order) given the
// size of the data section that follows it. `label` (usually the file path) starts every
// error message. Errors: InvalidHeader, DuplicateKey, InvalidTensorInfo, UnknownDtype,
// InvalidMetadata, Overflow, InvalidOffset, IncompleteBuffer; never throws.
Result<SafetensorsHeader> parseSafetensorsHeader(std::span<const std::byte> headerJson,
                                                 std::uint64_t dataSize, std::string_view label);

// Rules 1–2: checks the 8-byte length prefix against the file size and returns N, the
// header length. Errors: FileTooSmall, HeaderTooLarge, BadHeaderLength.
Result<std::uint64_t> checkHeaderLength(std::span<const std::byte> prefix, std::uint64_t fileSize,
                                        std::string_view label);

// Rules 1–8 on a whole file held in memory.
Result<SafetensorsHeader> parseSafetensorsBuffer(std::span<const std::byte> file,
                                                 std::string_view label);

// Compact JSON header for `tensors` (in the given order, their begin/end as data_offsets),
// with `{"__metadata__": metadata}` first when metadata is non-null, padded with spaces to
// a multiple of 8 bytes. Does not validate.
std::string serializeSafetensorsHeader(const std::vector<HeaderEntry> &tensors,
                                       const std::map<std::string, std::string> *metadata);

// Writes the 8-byte little-endian length prefix of `header`.
std::string headerLengthPrefix(std::uint64_t headerBytes);

} // namespace basin
