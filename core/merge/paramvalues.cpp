// SPDX-License-Identifier: GPL-3.0-or-later
#include "merge/method.h"

namespace basin::merge {

void ParamValues::set(std::string_view name, double value)
{
    for (auto &item : m_items) {
        if (item.first == name) {
            item.second = value;
            return;
        }
    }
    m_items.emplace_back(std::string(name), value);
}

bool ParamValues::has(std::string_view name) const
{
    return get(name).has_value();
}

std::optional<double> ParamValues::get(std::string_view name) const
{
    // A handful of entries per tensor: a linear scan beats any map here.
    for (const auto &item : m_items) {
        if (item.first == name)
            return item.second;
    }
    return std::nullopt;
}

double ParamValues::get(std::string_view name, double fallback) const
{
    const auto value = get(name);
    return value ? *value : fallback;
}

} // namespace basin::merge
