// SPDX-License-Identifier: GPL-3.0-or-later
#include "recipe/layername.h"

namespace basin::recipe {

std::optional<LayerSpan> findLayer(std::string_view name)
{
    constexpr std::string_view word = "layers.";
    std::size_t from = 0;
    while (true) {
        const std::size_t at = name.find(word, from);
        if (at == std::string_view::npos)
            return std::nullopt;
        from = at + 1;
        // Whole path segment only: "sublayers.3" is not a layer.
        if (at != 0 && name[at - 1] != '.')
            continue;
        const std::size_t digits = at + word.size();
        std::size_t end = digits;
        while (end < name.size() && name[end] >= '0' && name[end] <= '9')
            ++end;
        if (end == digits || (end < name.size() && name[end] != '.'))
            continue;
        if (end - digits > 6) // more than a million layers: not an index
            return std::nullopt;
        int index = 0;
        for (std::size_t i = digits; i < end; ++i)
            index = index * 10 + (name[i] - '0');
        return LayerSpan{index, digits, end - digits};
    }
}

std::string withLayer(std::string_view name, const LayerSpan &span, int index)
{
    std::string out(name.substr(0, span.pos));
    out += std::to_string(index);
    out += name.substr(span.pos + span.length);
    return out;
}

} // namespace basin::recipe
