// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/error.h"

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace basin {

// A value or an Error: the return type of every core function that can fail on input.
// No exception crosses the core API; this replaces std::expected until C++23.
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_state(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : m_state(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return m_state.index() == 0; }
    explicit operator bool() const { return ok(); }

    T &value() & { assert(ok()); return std::get<0>(m_state); }
    const T &value() const & { assert(ok()); return std::get<0>(m_state); }
    T &&value() && { assert(ok()); return std::get<0>(std::move(m_state)); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    T &operator*() & { return value(); }
    const T &operator*() const & { return value(); }

    const Error &error() const { assert(!ok()); return std::get<1>(m_state); }
    Error &&takeError() { assert(!ok()); return std::get<1>(std::move(m_state)); }

private:
    std::variant<T, Error> m_state;
};

// Success carries nothing.
template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : m_error(std::move(error)), m_failed(true) {}

    bool ok() const { return !m_failed; }
    explicit operator bool() const { return ok(); }
    const Error &error() const { assert(m_failed); return m_error; }
    Error &&takeError() { assert(m_failed); return std::move(m_error); }

private:
    Error m_error;
    bool m_failed = false;
};

inline Error makeError(ErrorCode code, std::string message)
{
    return Error{code, std::move(message)};
}

} // namespace basin

// Propagate an error from an expression returning Result<...>.
#define BASIN_TRY(expr)                                                                            \
    do {                                                                                           \
        auto basinTryResult_ = (expr);                                                             \
        if (!basinTryResult_.ok())                                                                 \
            return basinTryResult_.takeError();                                                    \
    } while (false)
