// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/bytesize.h"

#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace basin::engine {

namespace {

struct Unit {
    std::string_view name; // lower case
    std::uint64_t factor;
};

constexpr std::array kUnits{
    Unit{"", 1},
    Unit{"b", 1},
    Unit{"k", 1'000},
    Unit{"kb", 1'000},
    Unit{"m", 1'000'000},
    Unit{"mb", 1'000'000},
    Unit{"g", 1'000'000'000},
    Unit{"gb", 1'000'000'000},
    Unit{"t", 1'000'000'000'000},
    Unit{"tb", 1'000'000'000'000},
    Unit{"kib", 1ull << 10},
    Unit{"mib", 1ull << 20},
    Unit{"gib", 1ull << 30},
    Unit{"tib", 1ull << 40},
};

// Built by appending: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string at -O3.
std::string quoted(std::string_view text)
{
    std::string out(1, '\'');
    out += text;
    out += '\'';
    return out;
}

Error badSize(std::string_view text, std::string_view why)
{
    std::string message = quoted(text);
    message += " is not a size: ";
    message += why;
    message += " (examples: 5GB, 500M, 2GiB, 1048576)";
    return makeError(ErrorCode::InvalidArgument, std::move(message));
}

Error tooLarge(std::string_view text)
{
    return makeError(ErrorCode::Overflow, quoted(text) + " is larger than 2^64 - 1 bytes");
}

} // namespace

Result<std::uint64_t> parseByteSize(std::string_view text)
{
    std::size_t pos = 0;
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos])))
        ++pos;
    std::size_t end = text.size();
    while (end > pos && std::isspace(static_cast<unsigned char>(text[end - 1])))
        --end;
    const std::string_view trimmed = text.substr(pos, end - pos);
    if (trimmed.empty())
        return badSize(text, "it is empty");
    if (trimmed.front() == '-')
        return badSize(text, "it is negative");

    // Whole part and optional fraction, digits only: no exponent, no sign, no hex.
    std::size_t i = 0;
    std::uint64_t whole = 0;
    bool overflow = false;
    std::size_t wholeDigits = 0;
    for (; i < trimmed.size() && std::isdigit(static_cast<unsigned char>(trimmed[i])); ++i) {
        const auto digit = static_cast<std::uint64_t>(trimmed[i] - '0');
        if (whole > (UINT64_MAX - digit) / 10)
            overflow = true;
        else
            whole = whole * 10 + digit;
        ++wholeDigits;
    }
    std::string fraction;
    if (i < trimmed.size() && trimmed[i] == '.') {
        ++i;
        for (; i < trimmed.size() && std::isdigit(static_cast<unsigned char>(trimmed[i])); ++i)
            fraction += trimmed[i];
        if (fraction.empty())
            return badSize(text, "a digit must follow the decimal point");
    }
    if (wholeDigits == 0 && fraction.empty())
        return badSize(text, "it does not start with a number");
    while (i < trimmed.size() && trimmed[i] == ' ')
        ++i;
    std::string unit;
    for (; i < trimmed.size(); ++i)
        unit += static_cast<char>(std::tolower(static_cast<unsigned char>(trimmed[i])));

    const Unit *found = nullptr;
    for (const Unit &candidate : kUnits) {
        if (candidate.name == unit)
            found = &candidate;
    }
    if (!found)
        return badSize(text, "unknown unit " + quoted(unit));
    if (!fraction.empty() && found->factor == 1)
        return badSize(text, "a byte count must be a whole number");
    if (overflow)
        return tooLarge(text);

    // whole·factor exactly, then the fraction's share of one unit, rounded down.
    if (whole != 0 && found->factor > UINT64_MAX / whole)
        return tooLarge(text);
    std::uint64_t bytes = whole * found->factor;
    if (!fraction.empty()) {
        // At most 12 fraction digits matter for factors up to 2^40; more are cut (rounding down).
        if (fraction.size() > 15)
            fraction.resize(15);
        std::uint64_t numerator = 0;
        std::uint64_t denominator = 1;
        for (const char c : fraction) {
            numerator = numerator * 10 + static_cast<std::uint64_t>(c - '0');
            denominator *= 10;
        }
        // numerator/denominator·factor without overflow: factor ≤ 2^40, numerator < 10^15.
        const long double share = static_cast<long double>(numerator) *
                                  static_cast<long double>(found->factor) /
                                  static_cast<long double>(denominator);
        const auto extra = static_cast<std::uint64_t>(std::floor(share));
        if (bytes > UINT64_MAX - extra)
            return tooLarge(text);
        bytes += extra;
    }
    if (bytes == 0)
        return badSize(text, "it must be at least one byte");
    return bytes;
}

std::string formatByteSize(std::uint64_t bytes)
{
    constexpr std::array kNames{"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    if (bytes < 1000)
        return std::to_string(bytes) + " B";
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 999.5 && unit + 1 < kNames.size()) {
        value /= 1000.0;
        ++unit;
    }
    char text[32];
    const int decimals = value >= 100.0 ? 0 : (value >= 10.0 ? 1 : 2);
    std::snprintf(text, sizeof text, "%.*f %s", decimals, value, kNames[unit]);
    return text;
}

} // namespace basin::engine
