// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace basin::recipe {

// Where an element was written in the YAML source (1-based; 0 = not from a file). Two
// locations always compare equal: a recipe read from a file and the same recipe built in the
// GUI must be equal, so positions never take part in Recipe comparisons.
struct SourceLoc {
    int line = 0;
    int column = 0;

    bool known() const { return line > 0; }
    friend bool operator==(const SourceLoc &, const SourceLoc &) { return true; }
};

// A scalar (number or boolean) or a gradient (a list of numbers spread over the layers).
struct Value {
    enum class Kind { Number, Boolean, Gradient };

    Kind kind = Kind::Number;
    double number = 0.0;               // Kind::Number
    bool boolean = false;              // Kind::Boolean
    std::vector<double> anchors;       // Kind::Gradient, at least one
    SourceLoc loc;                     // the scalar, or the list
    std::vector<SourceLoc> anchorLocs; // one per anchor when read from YAML, else empty

    static Value makeNumber(double number, SourceLoc loc = {});
    static Value makeBoolean(bool boolean, SourceLoc loc = {});
    static Value makeGradient(std::vector<double> anchors, SourceLoc loc = {});

    // The value at interpolation position t in [0, 1]; booleans give 0 or 1.
    double at(double t) const;

    // Compares what the value means: the kind and its payload, never locations.
    friend bool operator==(const Value &a, const Value &b);
};

// One entry of a filtered list: applies when `filter` is a substring of the tensor name;
// an entry without a filter, or with the filter "*", matches every tensor.
struct FilterRule {
    std::optional<std::string> filter;
    Value value;
    SourceLoc loc;

    friend bool operator==(const FilterRule &, const FilterRule &) = default;
};

// What a parameter is set to: one Value, or a filtered list whose first matching entry wins.
class Setting {
public:
    Setting() = default;
    explicit Setting(Value value) : m_data(std::move(value)) {}
    explicit Setting(std::vector<FilterRule> rules) : m_data(std::move(rules)) {}

    bool isFiltered() const { return m_data.index() == 1; }
    // The plain value; only valid when !isFiltered().
    const Value &value() const { return std::get<0>(m_data); }
    Value &value() { return std::get<0>(m_data); }
    // The filtered list; only valid when isFiltered().
    const std::vector<FilterRule> &rules() const { return std::get<1>(m_data); }
    std::vector<FilterRule> &rules() { return std::get<1>(m_data); }

    // Every Value the setting holds (one for a plain value, one per rule otherwise).
    std::vector<const Value *> values() const;

    // The value for a tensor at position t, or nothing when no rule of a filtered list
    // matches (the lookup then continues at the next level, as in mergekit).
    std::optional<double> evaluate(std::string_view tensorName, double t) const;

    friend bool operator==(const Setting &, const Setting &) = default;

private:
    std::variant<Value, std::vector<FilterRule>> m_data;
};

// A named setting in a `parameters:` block, in the order it was written.
struct Parameter {
    std::string name;
    Setting setting;
    SourceLoc loc; // the key

    friend bool operator==(const Parameter &, const Parameter &) = default;
};

using Parameters = std::vector<Parameter>;

// The parameter with this name, or null.
const Parameter *findParameter(const Parameters &parameters, std::string_view name);

// Sets (or replaces, keeping its position) a parameter; used by the GUI and tests.
void setParameter(Parameters &parameters, std::string_view name, Setting setting);

// Interpolation position of layer `index` among `count` layers: index/(count−1), and 1 when
// count is 1 (mergekit's rule). Tensors outside the layers use 0.
double layerPosition(int index, int count);

// Evenly spaced anchors over [0, 1] evaluated at t (clamped to [0, 1]): s = t·(L−1),
// j = floor(s), f = s − j, (1−f)·v[j] + f·v[min(j+1, L−1)]. Returns 0 for no anchors.
double interpolateGradient(std::span<const double> anchors, double t);

} // namespace basin::recipe
