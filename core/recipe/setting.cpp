// SPDX-License-Identifier: GPL-3.0-or-later
#include "recipe/setting.h"

#include <algorithm>
#include <cmath>

namespace basin::recipe {

Value Value::makeNumber(double number, SourceLoc loc)
{
    Value value;
    value.kind = Kind::Number;
    value.number = number;
    value.loc = loc;
    return value;
}

Value Value::makeBoolean(bool boolean, SourceLoc loc)
{
    Value value;
    value.kind = Kind::Boolean;
    value.boolean = boolean;
    value.loc = loc;
    return value;
}

Value Value::makeGradient(std::vector<double> anchors, SourceLoc loc)
{
    Value value;
    value.kind = Kind::Gradient;
    value.anchors = std::move(anchors);
    value.loc = loc;
    return value;
}

double Value::at(double t) const
{
    switch (kind) {
    case Kind::Number:
        return number;
    case Kind::Boolean:
        return boolean ? 1.0 : 0.0;
    case Kind::Gradient:
        return interpolateGradient(anchors, t);
    }
    return number;
}

bool operator==(const Value &a, const Value &b)
{
    if (a.kind != b.kind)
        return false;
    switch (a.kind) {
    case Value::Kind::Number:
        return a.number == b.number;
    case Value::Kind::Boolean:
        return a.boolean == b.boolean;
    case Value::Kind::Gradient:
        return a.anchors == b.anchors;
    }
    return false;
}

std::vector<const Value *> Setting::values() const
{
    std::vector<const Value *> all;
    if (!isFiltered()) {
        all.push_back(&value());
        return all;
    }
    for (const auto &rule : rules())
        all.push_back(&rule.value);
    return all;
}

std::optional<double> Setting::evaluate(std::string_view tensorName, double t) const
{
    if (!isFiltered())
        return value().at(t);
    for (const auto &rule : rules()) {
        // "*" matches every tensor, as in mergekit.
        if (!rule.filter || *rule.filter == "*" ||
            tensorName.find(*rule.filter) != std::string_view::npos)
            return rule.value.at(t);
    }
    return std::nullopt;
}

const Parameter *findParameter(const Parameters &parameters, std::string_view name)
{
    for (const auto &parameter : parameters) {
        if (parameter.name == name)
            return &parameter;
    }
    return nullptr;
}

void setParameter(Parameters &parameters, std::string_view name, Setting setting)
{
    for (auto &parameter : parameters) {
        if (parameter.name == name) {
            parameter.setting = std::move(setting);
            return;
        }
    }
    parameters.push_back(Parameter{std::string(name), std::move(setting), {}});
}

double layerPosition(int index, int count)
{
    if (count <= 1)
        return 1.0;
    return static_cast<double>(index) / static_cast<double>(count - 1);
}

double interpolateGradient(std::span<const double> anchors, double t)
{
    if (anchors.empty())
        return 0.0;
    const std::size_t last = anchors.size() - 1;
    const double s = std::clamp(t, 0.0, 1.0) * static_cast<double>(last);
    const auto j = std::min(static_cast<std::size_t>(std::floor(s)), last);
    const double f = s - static_cast<double>(j);
    const std::size_t next = std::min(j + 1, last);
    return (1.0 - f) * anchors[j] + f * anchors[next];
}

} // namespace basin::recipe
