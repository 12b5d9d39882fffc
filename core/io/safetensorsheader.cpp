// SPDX-License-Identifier: GPL-3.0-or-later
#include "io/safetensorsheader.h"

#include "io/jsontext.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <new>
#include <numeric>
#include <optional>
#include <stdexcept>

namespace basin {

namespace {

// Tensor names come from the file; keep messages readable whatever they hold.
std::string quotedName(std::string_view name)
{
    std::string out(1, '\'');
    out += printableSnippet(name, 200);
    out += '\'';
    return out;
}

// Builds HeaderEntry values straight from the SAX events: no DOM (a header may hold 10^6
// entries), nesting capped, duplicate keys seen while parsing. Schema errors do not stop
// the parse, so a later syntax error still wins (rule order of FORMATS.md); only the first
// error of each rule is kept.
class HeaderSax {
public:
    using json = nlohmann::json;

    explicit HeaderSax(std::string_view label) : m_label(label) {}

    bool null() { return scalar(Scalar::Other); }
    bool boolean(bool) { return scalar(Scalar::Other); }
    bool number_integer(json::number_integer_t) { return scalar(Scalar::Negative); }
    bool number_unsigned(json::number_unsigned_t value)
    {
        m_unsigned = value;
        return scalar(Scalar::Unsigned);
    }
    bool number_float(json::number_float_t, const std::string &) { return scalar(Scalar::Float); }
    bool string(std::string &value)
    {
        m_string = &value;
        return scalar(Scalar::String);
    }
    bool binary(json::binary_t &) { return scalar(Scalar::Other); }
    bool start_object(std::size_t) { return open(true); }
    bool start_array(std::size_t) { return open(false); }
    bool end_object() { return close(); }
    bool end_array() { return close(); }
    bool key(std::string &key);
    bool parse_error(std::size_t position, const std::string &,
                     const nlohmann::detail::exception &ex)
    {
        if (!m_syntax)
            m_syntax = makeError(ErrorCode::InvalidHeader,
                                 m_label + ": header is not valid JSON at byte " +
                                     std::to_string(position > 0 ? position - 1 : 0) + ": " +
                                     cleanJsonMessage(ex.what()));
        return false;
    }

    std::optional<Error> m_syntax; // rule 3
    std::optional<Error> m_dup;    // rule 4
    std::optional<Error> m_info;   // rule 5
    std::vector<HeaderEntry> m_entries;
    std::map<std::string, std::string> m_metadata;
    bool m_hasMetadata = false;

private:
    enum class Scalar { Unsigned, Negative, Float, String, Other };
    enum class Ctx { Root, Metadata, Tensor, Shape, Offsets, Skip };
    enum class Field { None, Dtype, Shape, Offsets, Unknown };
    enum class Pending { None, Metadata, Tensor };

    bool scalar(Scalar kind);
    bool open(bool object);
    bool close();
    void info(ErrorCode code, const std::string &what)
    {
        if (!m_info)
            m_info = makeError(code, m_label + ": " + what);
    }
    void dup(const std::string &what)
    {
        if (!m_dup)
            m_dup = makeError(ErrorCode::DuplicateKey, m_label + ": " + what);
    }
    std::string tensorLabel() const { return "tensor " + quotedName(m_entries.back().name); }
    void numberInArray(Scalar kind, const char *field, std::vector<std::uint64_t> &into);

    std::string m_label;
    std::vector<Ctx> m_stack;
    Pending m_pending = Pending::None;
    Field m_field = Field::None;
    unsigned m_seenFields = 0;
    std::size_t m_offsetCount = 0;
    std::uint64_t m_offsets[2] = {0, 0};
    std::string m_metaKey;
    bool m_sawMetadataKey = false;
    std::uint64_t m_unsigned = 0;
    std::string *m_string = nullptr;
    std::vector<std::uint64_t> m_scratch;
};

bool HeaderSax::key(std::string &key)
{
    switch (m_stack.back()) {
    case Ctx::Root:
        if (key == "__metadata__") {
            if (m_sawMetadataKey)
                dup("__metadata__ appears twice");
            m_sawMetadataKey = true;
            m_pending = Pending::Metadata;
        } else {
            m_pending = Pending::Tensor;
            HeaderEntry entry;
            entry.name = key;
            m_entries.push_back(std::move(entry));
        }
        break;
    case Ctx::Metadata:
        if (m_metadata.count(key) != 0)
            dup("__metadata__ key " + quotedName(key) + " appears twice");
        m_metaKey = key;
        break;
    case Ctx::Tensor: {
        Field field = Field::Unknown;
        unsigned bit = 0;
        if (key == "dtype") {
            field = Field::Dtype;
            bit = 1;
        } else if (key == "shape") {
            field = Field::Shape;
            bit = 2;
        } else if (key == "data_offsets") {
            field = Field::Offsets;
            bit = 4;
        }
        if (field == Field::Unknown)
            info(ErrorCode::InvalidTensorInfo, tensorLabel() + " has an unknown field " +
                                                   quotedName(key) +
                                                   " (allowed: dtype, shape, data_offsets)");
        else if ((m_seenFields & bit) != 0)
            dup(tensorLabel() + " has field " + quotedName(key) + " twice");
        m_seenFields |= bit;
        m_field = field;
        break;
    }
    default:
        break; // keys inside skipped values
    }
    return true;
}

void HeaderSax::numberInArray(Scalar kind, const char *field, std::vector<std::uint64_t> &into)
{
    switch (kind) {
    case Scalar::Unsigned:
        into.push_back(m_unsigned);
        return;
    case Scalar::Negative:
        info(ErrorCode::InvalidTensorInfo, tensorLabel() + ": " + field + " has a negative value");
        return;
    case Scalar::Float:
        info(ErrorCode::InvalidTensorInfo,
             tensorLabel() + ": " + field + " has a value that is not an integer in [0, 2^64)");
        return;
    default:
        info(ErrorCode::InvalidTensorInfo,
             tensorLabel() + ": " + field + " has a value that is not a number");
        return;
    }
}

bool HeaderSax::scalar(Scalar kind)
{
    if (m_stack.empty()) {
        if (!m_syntax)
            m_syntax =
                makeError(ErrorCode::InvalidHeader, m_label + ": header root is not a JSON object");
        return false;
    }
    switch (m_stack.back()) {
    case Ctx::Root:
        if (m_pending == Pending::Metadata)
            info(ErrorCode::InvalidMetadata, "__metadata__ is not an object of strings");
        else
            info(ErrorCode::InvalidTensorInfo, tensorLabel() + ": entry is not an object");
        m_pending = Pending::None;
        break;
    case Ctx::Metadata:
        if (kind == Scalar::String)
            m_metadata.emplace(m_metaKey, std::move(*m_string));
        else
            info(ErrorCode::InvalidMetadata,
                 "__metadata__ value of " + quotedName(m_metaKey) + " is not a string");
        break;
    case Ctx::Tensor:
        if (m_field == Field::Dtype) {
            if (kind != Scalar::String) {
                info(ErrorCode::InvalidTensorInfo, tensorLabel() + ": dtype is not a string");
            } else if (const std::optional<Dtype> dtype = parseDtype(*m_string)) {
                m_entries.back().dtype = *dtype;
            } else {
                info(ErrorCode::UnknownDtype, tensorLabel() + ": unknown dtype " +
                                                  quotedName(*m_string) +
                                                  " (dtypes are spelled like F32, BF16, F16)");
            }
        } else if (m_field == Field::Shape || m_field == Field::Offsets) {
            info(ErrorCode::InvalidTensorInfo,
                 tensorLabel() + ": " + (m_field == Field::Shape ? "shape" : "data_offsets") +
                     " is not an array");
        }
        break;
    case Ctx::Shape:
        if (m_entries.back().shape.size() >= kMaxTensorRank) {
            info(ErrorCode::InvalidTensorInfo, tensorLabel() + ": shape has more than " +
                                                   std::to_string(kMaxTensorRank) + " dimensions");
            break;
        }
        numberInArray(kind, "shape", m_entries.back().shape);
        break;
    case Ctx::Offsets:
        m_scratch.clear();
        numberInArray(kind, "data_offsets", m_scratch);
        if (!m_scratch.empty() && m_offsetCount < 2)
            m_offsets[m_offsetCount] = m_scratch.front();
        ++m_offsetCount;
        break;
    case Ctx::Skip:
        break;
    }
    return true;
}

bool HeaderSax::open(bool object)
{
    if (m_stack.size() >= static_cast<std::size_t>(kMaxJsonDepth)) {
        if (!m_syntax)
            m_syntax = makeError(ErrorCode::InvalidHeader,
                                 m_label + ": header JSON is nested deeper than " +
                                     std::to_string(kMaxJsonDepth) + " levels");
        return false;
    }
    if (m_stack.empty()) {
        if (!object) {
            if (!m_syntax)
                m_syntax = makeError(ErrorCode::InvalidHeader,
                                     m_label + ": header root is not a JSON object");
            return false;
        }
        m_stack.push_back(Ctx::Root);
        return true;
    }
    Ctx next = Ctx::Skip;
    switch (m_stack.back()) {
    case Ctx::Root:
        if (m_pending == Pending::Metadata) {
            if (object) {
                m_hasMetadata = true;
                next = Ctx::Metadata;
            } else {
                info(ErrorCode::InvalidMetadata, "__metadata__ is not an object of strings");
            }
        } else if (object) {
            next = Ctx::Tensor;
            m_seenFields = 0;
            m_field = Field::None;
            m_offsetCount = 0;
        } else {
            info(ErrorCode::InvalidTensorInfo, tensorLabel() + ": entry is not an object");
        }
        m_pending = Pending::None;
        break;
    case Ctx::Metadata:
        info(ErrorCode::InvalidMetadata,
             "__metadata__ value of " + quotedName(m_metaKey) + " is not a string");
        break;
    case Ctx::Tensor:
        if (m_field == Field::Shape && !object) {
            next = Ctx::Shape;
        } else if (m_field == Field::Offsets && !object) {
            next = Ctx::Offsets;
        } else if (m_field == Field::Dtype) {
            info(ErrorCode::InvalidTensorInfo, tensorLabel() + ": dtype is not a string");
        } else if (m_field != Field::Unknown) {
            info(ErrorCode::InvalidTensorInfo,
                 tensorLabel() + ": " + (m_field == Field::Shape ? "shape" : "data_offsets") +
                     " is not an array");
        }
        break;
    case Ctx::Shape:
    case Ctx::Offsets:
        info(ErrorCode::InvalidTensorInfo,
             tensorLabel() + ": " + (m_stack.back() == Ctx::Shape ? "shape" : "data_offsets") +
                 " has a nested value");
        break;
    case Ctx::Skip:
        break;
    }
    m_stack.push_back(next);
    return true;
}

bool HeaderSax::close()
{
    const Ctx closed = m_stack.back();
    m_stack.pop_back();
    if (closed == Ctx::Offsets) {
        if (m_offsetCount != 2)
            info(ErrorCode::InvalidTensorInfo, tensorLabel() + ": data_offsets has " +
                                                   std::to_string(m_offsetCount) +
                                                   " values, expected exactly 2");
        m_entries.back().begin = m_offsets[0];
        m_entries.back().end = m_offsets[1];
    } else if (closed == Ctx::Tensor) {
        if ((m_seenFields & 1) == 0)
            info(ErrorCode::InvalidTensorInfo, tensorLabel() + " has no dtype");
        else if ((m_seenFields & 2) == 0)
            info(ErrorCode::InvalidTensorInfo, tensorLabel() + " has no shape");
        else if ((m_seenFields & 4) == 0)
            info(ErrorCode::InvalidTensorInfo, tensorLabel() + " has no data_offsets");
    }
    return true;
}

bool mulOverflows(std::uint64_t a, std::uint64_t b, std::uint64_t &out)
{
    return __builtin_mul_overflow(a, b, &out);
}

Result<SafetensorsHeader> parseChecked(std::span<const std::byte> headerJson,
                                       std::uint64_t dataSize, const std::string &label)
{
    const char *first = reinterpret_cast<const char *>(headerJson.data());
    const char *last = first + headerJson.size();
    // nlohmann skips a UTF-8 byte order mark; the format has none.
    if (headerJson.size() >= 3 && std::memcmp(first, "\xEF\xBB\xBF", 3) == 0)
        return makeError(ErrorCode::InvalidHeader,
                         label + ": header starts with a byte order mark (not allowed)");

    // nlohmann reads a NUL byte as the end of the input, which would accept NUL padding
    // after the object. A valid header has none: raw NUL is not allowed inside strings.
    if (!headerJson.empty() && std::memchr(first, 0, headerJson.size()) != nullptr)
        return makeError(
            ErrorCode::InvalidHeader,
            label + ": header contains a NUL byte (at " +
                std::to_string(static_cast<const char *>(std::memchr(first, 0, headerJson.size())) -
                               first) +
                "); padding must be spaces");

    HeaderSax sax(label);
    const bool parsed = nlohmann::json::sax_parse(first, last, &sax);
    if (sax.m_syntax)
        return *sax.m_syntax;
    if (!parsed)
        return makeError(ErrorCode::InvalidHeader, label + ": header is not valid JSON");

    // Rule 4: duplicate tensor names, found by sorting indices (cheaper than a hash set of
    // copies for 10^6 entries).
    std::vector<HeaderEntry> &entries = sax.m_entries;
    if (!sax.m_dup && entries.size() > 1) {
        std::vector<std::uint32_t> order(entries.size());
        std::iota(order.begin(), order.end(), 0u);
        std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
            return entries[a].name < entries[b].name;
        });
        for (std::size_t i = 1; i < order.size(); ++i) {
            if (entries[order[i]].name == entries[order[i - 1]].name) {
                sax.m_dup = makeError(ErrorCode::DuplicateKey,
                                      label + ": tensor " + quotedName(entries[order[i]].name) +
                                          " appears twice in the header");
                break;
            }
        }
    }
    if (sax.m_dup)
        return *sax.m_dup;
    if (sax.m_info) // rule 5
        return *sax.m_info;

    // Rule 6: element counts and byte sizes, with checked multiplication.
    for (HeaderEntry &e : entries) {
        std::uint64_t numel = 1;
        for (std::uint64_t dim : e.shape) {
            if (mulOverflows(numel, dim, numel))
                return makeError(ErrorCode::Overflow,
                                 label + ": tensor " + quotedName(e.name) +
                                     ": element count of its shape overflows 64 bits");
        }
        std::uint64_t bits = 0;
        if (mulOverflows(numel, dtypeBits(e.dtype), bits))
            return makeError(ErrorCode::Overflow, label + ": tensor " + quotedName(e.name) +
                                                      ": byte size of its shape overflows 64 bits");
        if (bits % 8 != 0)
            return makeError(ErrorCode::InvalidTensorInfo,
                             label + ": tensor " + quotedName(e.name) + ": " +
                                 std::to_string(numel) + " elements of " +
                                 std::string(dtypeName(e.dtype)) + " do not fill whole bytes");
        e.numel = numel;
        e.byteSize = bits / 8;
    }

    // Rule 7: contiguous from 0 in offset order, each range exactly its byte size.
    std::stable_sort(entries.begin(), entries.end(),
                     [](const HeaderEntry &a, const HeaderEntry &b) {
                         if (a.begin != b.begin)
                             return a.begin < b.begin;
                         if (a.end != b.end)
                             return a.end < b.end;
                         return a.name < b.name;
                     });
    std::uint64_t expected = 0;
    for (const HeaderEntry &e : entries) {
        if (e.end < e.begin)
            return makeError(ErrorCode::InvalidOffset,
                             label + ": tensor " + quotedName(e.name) + ": data_offsets [" +
                                 std::to_string(e.begin) + ", " + std::to_string(e.end) +
                                 "] end before they begin");
        if (e.begin != expected)
            return makeError(ErrorCode::InvalidOffset,
                             label + ": tensor " + quotedName(e.name) + ": data starts at byte " +
                                 std::to_string(e.begin) + " but the previous tensor ends at " +
                                 std::to_string(expected) +
                                 " (tensors must be contiguous, without gaps or overlaps)");
        if (e.end - e.begin != e.byteSize)
            return makeError(ErrorCode::InvalidTensorInfo,
                             label + ": tensor " + quotedName(e.name) + ": data_offsets cover " +
                                 std::to_string(e.end - e.begin) + " bytes but " +
                                 std::string(dtypeName(e.dtype)) + " of that shape needs " +
                                 std::to_string(e.byteSize));
        expected = e.end;
    }
    // Rule 8.
    if (expected != dataSize)
        return makeError(ErrorCode::IncompleteBuffer,
                         label + ": tensors end at data byte " + std::to_string(expected) +
                             " but the data section holds " + std::to_string(dataSize) +
                             " bytes (file truncated or with trailing bytes)");

    SafetensorsHeader header;
    header.tensors = std::move(entries);
    header.metadata = std::move(sax.m_metadata);
    header.hasMetadata = sax.m_hasMetadata;
    return header;
}

void appendJsonString(std::string &out, std::string_view text)
{
    out += '"';
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (u < 0x20) {
                static const char hex[] = "0123456789abcdef";
                out += "\\u00";
                out += hex[u >> 4];
                out += hex[u & 0xf];
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

} // namespace

Result<SafetensorsHeader> parseSafetensorsHeader(std::span<const std::byte> headerJson,
                                                 std::uint64_t dataSize, std::string_view label)
{
    const std::string labelText(label);
    try {
        return parseChecked(headerJson, dataSize, labelText);
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::InvalidHeader,
                         labelText + ": out of memory while parsing the header");
    } catch (const std::length_error &) {
        return makeError(ErrorCode::InvalidHeader, labelText + ": header too large to parse");
    } catch (const std::exception &ex) {
        return makeError(ErrorCode::InvalidHeader,
                         labelText + ": header could not be parsed: " + ex.what());
    }
}

Result<std::uint64_t> checkHeaderLength(std::span<const std::byte> prefix, std::uint64_t fileSize,
                                        std::string_view label)
{
    const std::string labelText(label);
    if (fileSize < 8 || prefix.size() < 8)
        return makeError(ErrorCode::FileTooSmall,
                         labelText + ": file has " + std::to_string(fileSize) +
                             " bytes, too small for a safetensors header (8-byte length first)");
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i)
        n = (n << 8) | static_cast<std::uint8_t>(prefix[static_cast<std::size_t>(i)]);
    if (n > kMaxHeaderBytes)
        return makeError(ErrorCode::HeaderTooLarge,
                         labelText + ": header length " + std::to_string(n) +
                             " exceeds the limit of " + std::to_string(kMaxHeaderBytes) + " bytes");
    if (n > fileSize - 8)
        return makeError(ErrorCode::BadHeaderLength, labelText + ": header length " +
                                                         std::to_string(n) +
                                                         " runs past the end of the file (" +
                                                         std::to_string(fileSize) + " bytes)");
    return n;
}

Result<SafetensorsHeader> parseSafetensorsBuffer(std::span<const std::byte> file,
                                                 std::string_view label)
{
    Result<std::uint64_t> n = checkHeaderLength(file, file.size(), label);
    if (!n)
        return n.takeError();
    return parseSafetensorsHeader(file.subspan(8, *n), file.size() - 8 - *n, label);
}

std::string serializeSafetensorsHeader(const std::vector<HeaderEntry> &tensors,
                                       const std::map<std::string, std::string> *metadata)
{
    std::string out;
    out.reserve(64 + tensors.size() * 96);
    out += '{';
    bool first = true;
    if (metadata) {
        appendJsonString(out, "__metadata__");
        out += ":{";
        bool firstKey = true;
        for (const auto &[key, value] : *metadata) {
            if (!firstKey)
                out += ',';
            firstKey = false;
            appendJsonString(out, key);
            out += ':';
            appendJsonString(out, value);
        }
        out += '}';
        first = false;
    }
    for (const HeaderEntry &t : tensors) {
        if (!first)
            out += ',';
        first = false;
        appendJsonString(out, t.name);
        out += ":{\"dtype\":";
        appendJsonString(out, dtypeName(t.dtype));
        out += ",\"shape\":[";
        for (std::size_t i = 0; i < t.shape.size(); ++i) {
            if (i)
                out += ',';
            out += std::to_string(t.shape[i]);
        }
        out += "],\"data_offsets\":[";
        out += std::to_string(t.begin);
        out += ',';
        out += std::to_string(t.end);
        out += "]}";
    }
    out += '}';
    out.append((8 - out.size() % 8) % 8, ' ');
    return out;
}

std::string headerLengthPrefix(std::uint64_t headerBytes)
{
    std::string prefix(8, '\0');
    for (int i = 0; i < 8; ++i)
        prefix[static_cast<std::size_t>(i)] = static_cast<char>((headerBytes >> (8 * i)) & 0xffu);
    return prefix;
}

} // namespace basin
