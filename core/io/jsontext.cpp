// SPDX-License-Identifier: GPL-3.0-or-later
#include "io/jsontext.h"

#include <cstring>
#include <new>
#include <optional>
#include <set>
#include <vector>

namespace basin {

std::string printableSnippet(std::string_view text, std::size_t maxBytes)
{
    static const char hex[] = "0123456789abcdef";
    std::string out;
    const std::size_t n = std::min(text.size(), maxBytes);
    out.reserve(n + 8);
    for (std::size_t i = 0; i < n; ++i) {
        const auto u = static_cast<unsigned char>(text[i]);
        if (u < 0x20 || u >= 0x7f || u == '\'') {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0xf];
        } else {
            out += static_cast<char>(u);
        }
    }
    if (text.size() > maxBytes)
        out += "…";
    return out;
}

std::string cleanJsonMessage(std::string_view what)
{
    std::string message(what);
    if (message.starts_with("[json.exception")) {
        const std::size_t close = message.find("] ");
        if (close != std::string::npos)
            message.erase(0, close + 2);
    }
    const std::size_t lastRead = message.find("; last read:");
    if (lastRead != std::string::npos) {
        const std::size_t expected = message.rfind("; expected");
        std::string tail;
        if (expected != std::string::npos && expected > lastRead)
            tail = message.substr(expected);
        message = message.substr(0, lastRead) + tail;
    }
    return printableSnippet(message, 300);
}

namespace {

// Builds a DOM while refusing duplicate keys and deep nesting (nlohmann's own DOM parser
// keeps the last duplicate silently).
class StrictDomSax {
public:
    using json = nlohmann::json;

    StrictDomSax(std::string label, ErrorCode code, int maxDepth)
        : m_label(std::move(label)), m_code(code), m_maxDepth(maxDepth)
    {
    }

    bool null() { return put(json(nullptr)); }
    bool boolean(bool v) { return put(json(v)); }
    bool number_integer(json::number_integer_t v) { return put(json(v)); }
    bool number_unsigned(json::number_unsigned_t v) { return put(json(v)); }
    bool number_float(json::number_float_t v, const std::string &) { return put(json(v)); }
    bool string(std::string &v) { return put(json(std::move(v))); }
    bool binary(json::binary_t &) { return fail("binary values are not JSON"); }
    bool start_object(std::size_t) { return open(json::object()); }
    bool start_array(std::size_t) { return open(json::array()); }
    bool end_object() { return close(); }
    bool end_array() { return close(); }
    bool key(std::string &k)
    {
        json &object = *m_stack.back().value;
        if (object.contains(k))
            return fail("key '" + printableSnippet(k, 200) + "' appears twice",
                        ErrorCode::DuplicateKey);
        m_stack.back().key = std::move(k);
        return true;
    }
    bool parse_error(std::size_t position, const std::string &,
                     const nlohmann::detail::exception &ex)
    {
        return fail("not valid JSON at byte " + std::to_string(position > 0 ? position - 1 : 0) +
                    ": " + cleanJsonMessage(ex.what()));
    }

    json m_root;
    std::optional<Error> m_error;

private:
    struct Frame {
        json *value;
        std::string key;
    };

    bool fail(const std::string &what, std::optional<ErrorCode> code = std::nullopt)
    {
        if (!m_error)
            m_error = makeError(code.value_or(m_code), m_label + ": " + what);
        return false;
    }
    json *place(json &&value)
    {
        if (m_stack.empty()) {
            m_root = std::move(value);
            return &m_root;
        }
        Frame &top = m_stack.back();
        if (top.value->is_array()) {
            top.value->push_back(std::move(value));
            return &top.value->back();
        }
        json &slot = (*top.value)[top.key];
        slot = std::move(value);
        return &slot;
    }
    bool put(json &&value)
    {
        place(std::move(value));
        return true;
    }
    bool open(json &&container)
    {
        if (static_cast<int>(m_stack.size()) >= m_maxDepth)
            return fail("JSON nested deeper than " + std::to_string(m_maxDepth) + " levels");
        json *slot = place(std::move(container));
        m_stack.push_back(Frame{slot, {}});
        return true;
    }
    bool close()
    {
        m_stack.pop_back();
        return true;
    }

    std::string m_label;
    ErrorCode m_code;
    int m_maxDepth;
    std::vector<Frame> m_stack;
};

} // namespace

Result<nlohmann::json> parseJsonStrict(std::string_view text, std::string_view label,
                                       ErrorCode code, int maxDepth)
{
    const std::string labelText(label);
    if (text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0)
        return makeError(code, labelText + ": starts with a byte order mark (not allowed)");
    // nlohmann stops at a NUL byte as if the input ended there.
    if (text.find('\0') != std::string_view::npos)
        return makeError(code, labelText + ": contains a NUL byte (not JSON)");
    try {
        StrictDomSax sax(labelText, code, maxDepth);
        const bool ok = nlohmann::json::sax_parse(text.data(), text.data() + text.size(), &sax);
        if (sax.m_error)
            return *sax.m_error;
        if (!ok)
            return makeError(code, labelText + ": not valid JSON");
        return std::move(sax.m_root);
    } catch (const std::bad_alloc &) {
        return makeError(code, labelText + ": out of memory while parsing JSON");
    } catch (const std::exception &ex) {
        return makeError(code, labelText + ": JSON could not be parsed: " + ex.what());
    }
}

} // namespace basin
