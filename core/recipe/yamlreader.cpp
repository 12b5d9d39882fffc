// SPDX-License-Identifier: GPL-3.0-or-later
#include "recipe/yamlreader.h"

#include "recipe/suggest.h"
#include "recipe/validate.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <new>
#include <sstream>
#include <system_error>
#include <vector>

namespace basin::recipe {

namespace {

namespace fs = std::filesystem;

// Recipes are a few kilobytes; the caps keep a hostile file (or an alias bomb, which
// yaml-cpp shares rather than copies) from costing more than a moment.
constexpr std::size_t kMaxRecipeBytes = 8u << 20;
constexpr std::size_t kMaxValues = 1u << 20;
constexpr double kMaxLayerIndex = 1e6;

// A plain YAML scalar classified the way PyYAML (mergekit's reader) does.
struct Scalar {
    enum class Type { Null, Boolean, Number, String };
    Type type = Type::String;
    double number = 0.0;
    bool boolean = false;
};

bool isOneOf(std::string_view text, std::initializer_list<std::string_view> words)
{
    for (const auto word : words) {
        if (text == word)
            return true;
    }
    return false;
}

// Decimal numbers, optionally signed, with an optional fraction and exponent (".5", "5.",
// "1e-5", "1.0e-6"), and .inf / .nan. Hex, octal and "1_000" stay strings.
std::optional<double> parseNumber(std::string_view text)
{
    bool negative = false;
    if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
        negative = text.front() == '-';
        text.remove_prefix(1);
    }
    if (isOneOf(text, {".inf", ".Inf", ".INF"}))
        return negative ? -std::numeric_limits<double>::infinity()
                        : std::numeric_limits<double>::infinity();
    if (isOneOf(text, {".nan", ".NaN", ".NAN"}))
        return std::numeric_limits<double>::quiet_NaN();
    std::size_t i = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9')
        ++i, ++digits;
    if (i < text.size() && text[i] == '.') {
        ++i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9')
            ++i, ++digits;
    }
    if (digits == 0)
        return std::nullopt;
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < text.size() && (text[i] == '+' || text[i] == '-'))
            ++i;
        std::size_t exponentDigits = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9')
            ++i, ++exponentDigits;
        if (exponentDigits == 0)
            return std::nullopt;
    }
    if (i != text.size())
        return std::nullopt;
    double value = 0.0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error == std::errc::result_out_of_range)
        value = std::numeric_limits<double>::infinity(); // caught by the range checks
    else if (error != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return negative ? -value : value;
}

std::string describe(const YAML::Node &node)
{
    if (node.IsMap())
        return "a mapping";
    if (node.IsSequence())
        return "a list";
    if (node.IsNull())
        return "nothing";
    return "\"" + node.Scalar() + "\"";
}

class Reader {
public:
    Reader(fs::path baseDir, const ReadOptions &options)
        : m_baseDir(std::move(baseDir)), m_options(options)
    {
        m_recipe.source.name = options.sourceName;
    }

    Result<Recipe> read(std::string_view text);

private:
    static SourceLoc locOf(const YAML::Node &node)
    {
        const YAML::Mark mark = node.Mark();
        if (mark.line < 0 || mark.column < 0)
            return {};
        return SourceLoc{mark.line + 1, mark.column + 1};
    }
    Error fail(SourceLoc loc, ErrorCode code, const std::string &message) const
    {
        return makeError(code, m_recipe.where(loc) + message);
    }
    Error fail(const YAML::Node &node, ErrorCode code, const std::string &message) const
    {
        return fail(locOf(node), code, message);
    }

    Result<Scalar> scalar(const YAML::Node &node, std::string_view what) const;
    Result<std::string> text(const YAML::Node &node, std::string_view what) const;
    Result<double> number(const YAML::Node &node, std::string_view what);

    // Checks a mapping's keys: no duplicates, only `allowed` ones; keys mergekit knows but
    // Basin does not support yet give Unsupported.
    Result<void> checkKeys(
        const YAML::Node &map, std::string_view context,
        const std::vector<std::string_view> &allowed,
        const std::vector<std::pair<std::string_view, std::string_view>> &unsupported = {}) const;

    Result<Value> value(const YAML::Node &node, std::string_view what, bool insideFilter);
    Result<Setting> setting(const YAML::Node &node, std::string_view what);
    Result<Parameters> parameters(const YAML::Node &node, std::string_view context);
    Result<ModelRef> model(const YAML::Node &node, std::string_view what) const;
    Result<void> modelsList(const YAML::Node &node);
    Result<void> slicesList(const YAML::Node &node);
    Result<std::pair<int, int>> layerRange(const YAML::Node &node);
    Result<Dtype> dtype(const YAML::Node &node, std::string_view key) const;
    Result<void> tokenizerSource(const YAML::Node &node, bool nested);
    Result<void> tokenizer(const YAML::Node &node);
    Result<void> seed(const YAML::Node &node);

    fs::path m_baseDir;
    const ReadOptions &m_options;
    Recipe m_recipe;
    std::size_t m_values = 0;
};

Result<Scalar> Reader::scalar(const YAML::Node &node, std::string_view what) const
{
    Scalar result;
    if (node.IsNull()) {
        result.type = Scalar::Type::Null;
        return result;
    }
    if (!node.IsScalar())
        return fail(node, ErrorCode::WrongType,
                    std::string(what) + " must be a single value, not " + describe(node));
    const std::string &raw = node.Scalar();
    const std::string &tag = node.Tag();
    constexpr std::string_view core = "tag:yaml.org,2002:";
    if (tag == "!" || tag == std::string(core) + "str")
        return result; // quoted or !!str: always text
    if (tag != "?" && !tag.starts_with(core)) {
        return fail(node, ErrorCode::WrongType,
                    std::string(what) + " has the tag " + tag + ", which recipes do not use");
    }
    if (isOneOf(raw, {"", "~", "null", "Null", "NULL"})) {
        result.type = Scalar::Type::Null;
    } else if (isOneOf(raw, {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})) {
        result.type = Scalar::Type::Boolean;
        result.boolean = true;
    } else if (isOneOf(raw, {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})) {
        result.type = Scalar::Type::Boolean;
    } else if (const auto parsed = parseNumber(raw)) {
        result.type = Scalar::Type::Number;
        result.number = *parsed;
    }
    return result;
}

Result<std::string> Reader::text(const YAML::Node &node, std::string_view what) const
{
    auto parsed = scalar(node, what);
    if (!parsed)
        return parsed.takeError();
    if (parsed->type == Scalar::Type::Null)
        return fail(node, ErrorCode::WrongType, std::string(what) + " has no value");
    return node.Scalar();
}

Result<double> Reader::number(const YAML::Node &node, std::string_view what)
{
    auto parsed = scalar(node, what);
    if (!parsed)
        return parsed.takeError();
    if (parsed->type != Scalar::Type::Number) {
        return fail(node, ErrorCode::WrongType,
                    std::string(what) + " must be a number, not " + describe(node));
    }
    if (++m_values > kMaxValues)
        return fail(node, ErrorCode::InvalidRecipe, "the recipe holds too many values");
    return parsed->number;
}

Result<void> Reader::checkKeys(
    const YAML::Node &map, std::string_view context, const std::vector<std::string_view> &allowed,
    const std::vector<std::pair<std::string_view, std::string_view>> &unsupported) const
{
    std::vector<std::pair<std::string, SourceLoc>> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
        const YAML::Node key = it->first;
        if (!key.IsScalar())
            return fail(key, ErrorCode::WrongType, std::string(context) + ": keys must be names");
        const std::string &name = key.Scalar();
        for (const auto &[previous, loc] : seen) {
            if (previous == name) {
                return fail(key, ErrorCode::RecipeSyntax,
                            std::string(context) + ": duplicate key " + name + " (first at line " +
                                std::to_string(loc.line) + ")");
            }
        }
        seen.emplace_back(name, locOf(key));
        bool known = false;
        for (const auto candidate : allowed)
            known = known || candidate == name;
        if (known)
            continue;
        for (const auto &[candidate, reason] : unsupported) {
            if (candidate == name) {
                return fail(key, ErrorCode::Unsupported,
                            std::string(context) + ": " + name + " is not supported yet (" +
                                std::string(reason) + ")");
            }
        }
        std::vector<std::string_view> names = allowed;
        for (const auto &entry : unsupported)
            names.push_back(entry.first);
        return fail(key, ErrorCode::UnknownKey,
                    std::string(context) + ": unknown key " + name + didYouMean(name, names));
    }
    return {};
}

Result<Value> Reader::value(const YAML::Node &node, std::string_view what, bool insideFilter)
{
    const SourceLoc loc = locOf(node);
    if (node.IsSequence()) {
        if (insideFilter && node.size() > 0 && node[0].IsMap()) {
            return fail(node, ErrorCode::WrongType,
                        std::string(what) + ": a filter's value is a number, a boolean or a list "
                                            "of numbers, not a filtered list");
        }
        if (node.size() == 0)
            return fail(node, ErrorCode::WrongType, std::string(what) + " is an empty list");
        std::vector<double> anchors;
        std::vector<SourceLoc> locs;
        for (const auto &element : node) {
            if (element.IsMap()) {
                return fail(element, ErrorCode::WrongType,
                            std::string(what) + " mixes numbers and filter entries");
            }
            auto anchor = number(element, std::string(what) + " (a gradient)");
            if (!anchor)
                return anchor.takeError();
            anchors.push_back(*anchor);
            locs.push_back(locOf(element));
        }
        Value gradient = Value::makeGradient(std::move(anchors), loc);
        gradient.anchorLocs = std::move(locs);
        return gradient;
    }
    auto parsed = scalar(node, what);
    if (!parsed)
        return parsed.takeError();
    switch (parsed->type) {
    case Scalar::Type::Boolean:
        return Value::makeBoolean(parsed->boolean, loc);
    case Scalar::Type::Number:
        if (++m_values > kMaxValues)
            return fail(node, ErrorCode::InvalidRecipe, "the recipe holds too many values");
        return Value::makeNumber(parsed->number, loc);
    case Scalar::Type::Null:
        return fail(node, ErrorCode::WrongType, std::string(what) + " has no value");
    case Scalar::Type::String:
        break;
    }
    return fail(node, ErrorCode::WrongType,
                std::string(what) + " must be a number, true/false or a list, not the text " +
                    describe(node));
}

Result<Setting> Reader::setting(const YAML::Node &node, std::string_view what)
{
    if (node.IsMap()) {
        return fail(node, ErrorCode::WrongType,
                    std::string(what) +
                        " must be a number, true/false, a list of numbers or a list of "
                        "{filter, value} entries, not a mapping");
    }
    const bool filtered = node.IsSequence() && node.size() > 0 && node[0].IsMap();
    if (!filtered) {
        auto plain = value(node, what, false);
        if (!plain)
            return plain.takeError();
        return Setting(std::move(*plain));
    }
    std::vector<FilterRule> rules;
    for (const auto &entry : node) {
        if (!entry.IsMap()) {
            return fail(entry, ErrorCode::WrongType,
                        std::string(what) + " mixes filter entries and plain values");
        }
        BASIN_TRY(checkKeys(entry, what, {"filter", "value"}));
        FilterRule rule;
        rule.loc = locOf(entry);
        if (const YAML::Node filter = entry["filter"]) {
            auto filterText = text(filter, std::string(what) + " filter");
            if (!filterText)
                return filterText.takeError();
            rule.filter = std::move(*filterText);
        }
        const YAML::Node valueNode = entry["value"];
        if (!valueNode) {
            return fail(entry, ErrorCode::InvalidRecipe,
                        std::string(what) + ": filter entry without a value");
        }
        auto parsed = value(valueNode, what, true);
        if (!parsed)
            return parsed.takeError();
        rule.value = std::move(*parsed);
        rules.push_back(std::move(rule));
    }
    return Setting(std::move(rules));
}

Result<Parameters> Reader::parameters(const YAML::Node &node, std::string_view context)
{
    Parameters result;
    if (node.IsNull())
        return result;
    if (!node.IsMap()) {
        return fail(node, ErrorCode::WrongType,
                    std::string(context) +
                        " parameters must be a mapping of names to values, "
                        "not " +
                        describe(node));
    }
    // Duplicate names would make the lookup ambiguous; names themselves are checked against
    // the method by validateRecipe().
    for (auto it = node.begin(); it != node.end(); ++it) {
        const YAML::Node key = it->first;
        if (!key.IsScalar())
            return fail(key, ErrorCode::WrongType, "parameter names must be plain names");
        const std::string &name = key.Scalar();
        if (const Parameter *previous = findParameter(result, name)) {
            return fail(key, ErrorCode::RecipeSyntax,
                        "duplicate parameter " + name + " (first at line " +
                            std::to_string(previous->loc.line) + ")");
        }
        auto parsed = setting(it->second, "parameter " + name);
        if (!parsed)
            return parsed.takeError();
        result.push_back(Parameter{name, std::move(*parsed), locOf(key)});
    }
    return result;
}

bool looksLikeHubId(std::string_view path)
{
    // "org/name": exactly one slash, both parts plain names, not starting with a dot.
    const std::size_t slash = path.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == path.size() ||
        path.find('/', slash + 1) != std::string_view::npos || path.front() == '.')
        return false;
    for (const char c : path) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '/';
        if (!plain)
            return false;
    }
    return true;
}

Result<ModelRef> Reader::model(const YAML::Node &node, std::string_view what) const
{
    auto path = text(node, what);
    if (!path)
        return path.takeError();
    ModelRef ref;
    ref.path = *path;
    ref.loc = locOf(node);
    const fs::path given(ref.path);
    std::error_code error;
    const fs::path cwd = fs::current_path(error);
    const fs::path base = m_baseDir.empty() ? cwd : m_baseDir;
    if (!m_options.checkPaths) {
        ref.resolved = (given.is_absolute() ? given : base / given).lexically_normal();
        return ref;
    }
    std::vector<fs::path> attempts;
    if (given.is_absolute()) {
        attempts.push_back(given);
    } else {
        attempts.push_back(base / given);
        if (!cwd.empty() && cwd != base)
            attempts.push_back(cwd / given);
    }
    for (const auto &attempt : attempts) {
        if (fs::exists(attempt, error)) {
            fs::path canonical = fs::weakly_canonical(attempt, error);
            ref.resolved = error ? attempt.lexically_normal() : canonical;
            return ref;
        }
    }
    std::string tried;
    for (const auto &attempt : attempts)
        tried += (tried.empty() ? "" : " and ") + attempt.lexically_normal().string();
    if (ref.path.find('+') != std::string::npos) {
        return fail(node, ErrorCode::Unsupported,
                    std::string(what) + " " + ref.path +
                        ": model+LoRA references are not supported yet (no such path: " + tried +
                        ")");
    }
    if (looksLikeHubId(ref.path)) {
        return fail(node, ErrorCode::Unsupported,
                    std::string(what) + " " + ref.path +
                        " looks like a Hugging Face Hub id; Hub downloads are not supported yet: "
                        "download it and name the local folder (no such path: " +
                        tried + ")");
    }
    return fail(node, ErrorCode::NotFound,
                std::string(what) + " " + ref.path + " does not exist (tried " + tried + ")");
}

Result<void> Reader::modelsList(const YAML::Node &node)
{
    if (!node.IsSequence()) {
        return fail(node, ErrorCode::WrongType,
                    "models must be a list of {model, parameters} entries, not " + describe(node));
    }
    for (const auto &entryNode : node) {
        if (!entryNode.IsMap()) {
            return fail(entryNode, ErrorCode::WrongType,
                        "each models entry must be a mapping with a model key, not " +
                            describe(entryNode));
        }
        BASIN_TRY(checkKeys(entryNode, "models entry", {"model", "parameters"}));
        ModelEntry entry;
        entry.loc = locOf(entryNode);
        const YAML::Node modelNode = entryNode["model"];
        if (!modelNode)
            return fail(entryNode, ErrorCode::InvalidRecipe, "models entry without a model key");
        auto ref = model(modelNode, "model");
        if (!ref)
            return ref.takeError();
        entry.model = std::move(*ref);
        if (const YAML::Node params = entryNode["parameters"]) {
            auto parsed = parameters(params, "model");
            if (!parsed)
                return parsed.takeError();
            entry.parameters = std::move(*parsed);
        }
        m_recipe.models.push_back(std::move(entry));
    }
    return {};
}

Result<std::pair<int, int>> Reader::layerRange(const YAML::Node &node)
{
    if (!node.IsSequence() || node.size() != 2) {
        return fail(node, ErrorCode::WrongType,
                    "layer_range must be a list of two layer numbers [start, end), not " +
                        describe(node));
    }
    int bounds[2] = {0, 0};
    for (std::size_t i = 0; i < 2; ++i) {
        auto bound = number(node[i], "layer_range");
        if (!bound)
            return bound.takeError();
        if (std::floor(*bound) != *bound)
            return fail(node[i], ErrorCode::WrongType, "layer_range bounds must be whole numbers");
        if (std::fabs(*bound) > kMaxLayerIndex)
            return fail(node[i], ErrorCode::OutOfRange, "layer_range bound out of range");
        bounds[i] = static_cast<int>(*bound);
    }
    return std::pair<int, int>{bounds[0], bounds[1]};
}

Result<void> Reader::slicesList(const YAML::Node &node)
{
    if (!node.IsSequence())
        return fail(node, ErrorCode::WrongType, "slices must be a list, not " + describe(node));
    for (const auto &sliceNode : node) {
        if (!sliceNode.IsMap()) {
            return fail(sliceNode, ErrorCode::WrongType,
                        "each slice must be a mapping with sources, not " + describe(sliceNode));
        }
        BASIN_TRY(checkKeys(
            sliceNode, "slice", {"sources", "parameters"},
            {{"base_model", "a per-slice base model"}, {"residual_weight", "residual weights"}}));
        Slice slice;
        slice.loc = locOf(sliceNode);
        const YAML::Node sources = sliceNode["sources"];
        if (!sources)
            return fail(sliceNode, ErrorCode::InvalidRecipe, "slice without sources");
        if (!sources.IsSequence())
            return fail(sources, ErrorCode::WrongType, "sources must be a list");
        for (const auto &sourceNode : sources) {
            if (!sourceNode.IsMap()) {
                return fail(sourceNode, ErrorCode::WrongType,
                            "each source must be a mapping with model and layer_range, not " +
                                describe(sourceNode));
            }
            BASIN_TRY(
                checkKeys(sourceNode, "slice source", {"model", "layer_range", "parameters"}));
            SliceSource source;
            source.loc = locOf(sourceNode);
            const YAML::Node modelNode = sourceNode["model"];
            if (!modelNode)
                return fail(sourceNode, ErrorCode::InvalidRecipe, "slice source without a model");
            auto ref = model(modelNode, "model");
            if (!ref)
                return ref.takeError();
            source.model = std::move(*ref);
            const YAML::Node rangeNode = sourceNode["layer_range"];
            if (!rangeNode) {
                return fail(sourceNode, ErrorCode::InvalidRecipe,
                            "slice source without a layer_range");
            }
            auto range = layerRange(rangeNode);
            if (!range)
                return range.takeError();
            source.layerStart = range->first;
            source.layerEnd = range->second;
            source.rangeLoc = locOf(rangeNode);
            if (const YAML::Node params = sourceNode["parameters"]) {
                auto parsed = parameters(params, "slice source");
                if (!parsed)
                    return parsed.takeError();
                source.parameters = std::move(*parsed);
            }
            slice.sources.push_back(std::move(source));
        }
        if (const YAML::Node params = sliceNode["parameters"]) {
            auto parsed = parameters(params, "slice");
            if (!parsed)
                return parsed.takeError();
            slice.parameters = std::move(*parsed);
        }
        m_recipe.slices.push_back(std::move(slice));
    }
    return {};
}

Result<Dtype> Reader::dtype(const YAML::Node &node, std::string_view key) const
{
    auto name = text(node, key);
    if (!name)
        return name.takeError();
    if (const auto parsed = parseRecipeDtype(*name))
        return *parsed;
    std::string_view bare = *name;
    if (bare.starts_with("torch."))
        bare.remove_prefix(6);
    if (isOneOf(bare, {"float64", "double", "float8_e4m3fn", "float8_e5m2", "int8"})) {
        return fail(node, ErrorCode::Unsupported,
                    std::string(key) + " " + *name +
                        " is not supported: Basin writes float32, float16 or bfloat16");
    }
    return fail(node, ErrorCode::WrongType,
                std::string(key) + " " + *name + " is not a dtype (float32, float16 or bfloat16)" +
                    didYouMean(bare, {"float32", "float16", "bfloat16", "fp32", "fp16", "bf16"}));
}

Result<void> Reader::tokenizerSource(const YAML::Node &node, bool nested)
{
    auto name = text(node, "tokenizer source");
    if (!name)
        return name.takeError();
    TokenizerSource &tokenizer = m_recipe.tokenizer;
    tokenizer.nested = nested;
    tokenizer.loc = locOf(node);
    if (*name == "union") {
        return fail(node, ErrorCode::Unsupported,
                    "tokenizer source union is not supported yet: use base or a model path");
    }
    if (*name == "base") {
        tokenizer.kind = TokenizerSource::Kind::Base;
        return {};
    }
    auto ref = model(node, "tokenizer source");
    if (!ref)
        return ref.takeError();
    tokenizer.kind = TokenizerSource::Kind::Model;
    tokenizer.model = std::move(*ref);
    return {};
}

Result<void> Reader::tokenizer(const YAML::Node &node)
{
    if (!node.IsMap())
        return fail(node, ErrorCode::WrongType, "tokenizer must be a mapping with a source key");
    BASIN_TRY(
        checkKeys(node, "tokenizer", {"source"},
                  {{"tokens", "token surgery"}, {"pad_to_multiple_of", "vocabulary padding"}}));
    const YAML::Node source = node["source"];
    if (!source) {
        return fail(node, ErrorCode::Unsupported,
                    "tokenizer without a source means union in mergekit, which is not "
                    "supported yet: set source to base or a model path");
    }
    return tokenizerSource(source, true);
}

Result<void> Reader::seed(const YAML::Node &node)
{
    auto parsed = scalar(node, "seed");
    if (!parsed)
        return parsed.takeError();
    const std::string &raw = node.Scalar();
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(raw.data(), raw.data() + raw.size(), value);
    if (parsed->type != Scalar::Type::Number || error != std::errc() ||
        end != raw.data() + raw.size()) {
        if (parsed->type == Scalar::Type::Number && parsed->number < 0)
            return fail(node, ErrorCode::OutOfRange, "seed must not be negative");
        return fail(node, ErrorCode::WrongType,
                    "seed must be a whole number from 0 to 2^64 - 1, not " + describe(node));
    }
    m_recipe.seed = value;
    m_recipe.seedLoc = locOf(node);
    return {};
}

namespace {
// Discards every event: used only to count documents.
class IgnoreEvents : public YAML::EventHandler {
public:
    void OnDocumentStart(const YAML::Mark &) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark &, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark &, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark &, const std::string &, YAML::anchor_t,
                  const std::string &) override
    {
    }
    void OnSequenceStart(const YAML::Mark &, const std::string &, YAML::anchor_t,
                         YAML::EmitterStyle::value) override
    {
    }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark &, const std::string &, YAML::anchor_t,
                    YAML::EmitterStyle::value) override
    {
    }
    void OnMapEnd() override {}
};

// Number of YAML documents in text, counting no further than cap. Throws YAML::Exception
// on a syntax error, like YAML::Load.
int countYamlDocuments(std::string_view text, int cap)
{
    std::istringstream stream{std::string(text)};
    YAML::Parser parser(stream);
    IgnoreEvents ignore;
    int count = 0;
    while (count < cap && parser.HandleNextDocument(ignore))
        ++count;
    return count;
}
} // namespace

Result<Recipe> Reader::read(std::string_view text)
{
    if (text.size() > kMaxRecipeBytes) {
        return fail(SourceLoc{}, ErrorCode::InvalidRecipe,
                    "the recipe is " + std::to_string(text.size()) +
                        " bytes; recipes are limited to " + std::to_string(kMaxRecipeBytes));
    }
    std::vector<YAML::Node> documents;
    try {
        // yaml-cpp 0.7's LoadAll() can loop forever on some malformed inputs (found by
        // fuzz_recipe, issue 10): count documents with a capped event loop, then load one.
        if (countYamlDocuments(text, 2) > 1)
            return fail(SourceLoc{}, ErrorCode::RecipeSyntax,
                        "the recipe holds several YAML documents");
        documents.push_back(YAML::Load(std::string(text)));
    } catch (const YAML::Exception &error) {
        const SourceLoc loc = error.mark.is_null()
                                  ? SourceLoc{}
                                  : SourceLoc{error.mark.line + 1, error.mark.column + 1};
        return fail(loc, ErrorCode::RecipeSyntax, "not valid YAML: " + error.msg);
    }
    if (documents.size() > 1)
        return fail(SourceLoc{}, ErrorCode::RecipeSyntax,
                    "the recipe holds several YAML documents");
    if (documents.empty() || documents.front().IsNull())
        return fail(SourceLoc{}, ErrorCode::InvalidRecipe, "the recipe is empty");
    const YAML::Node root = documents.front();
    if (!root.IsMap())
        return fail(root, ErrorCode::WrongType,
                    "a recipe is a mapping (merge_method: …, models: …)");

    BASIN_TRY(checkKeys(root, "recipe",
                        {"merge_method", "base_model", "models", "slices", "parameters", "dtype",
                         "out_dtype", "tokenizer_source", "tokenizer", "seed"},
                        {{"modules", "modules: merges"}, {"chat_template", "chat templates"}}));

    if (const YAML::Node node = root["merge_method"]) {
        auto method = this->text(node, "merge_method");
        if (!method)
            return method.takeError();
        m_recipe.mergeMethod = std::move(*method);
        m_recipe.methodLoc = locOf(node);
    } else {
        return fail(SourceLoc{1, 1}, ErrorCode::InvalidRecipe, "the recipe has no merge_method");
    }
    if (const YAML::Node node = root["base_model"]; node && !node.IsNull()) {
        auto ref = model(node, "base_model");
        if (!ref)
            return ref.takeError();
        m_recipe.baseModel = std::move(*ref);
    }
    if (const YAML::Node node = root["models"]; node && !node.IsNull())
        BASIN_TRY(modelsList(node));
    if (const YAML::Node node = root["slices"]; node && !node.IsNull())
        BASIN_TRY(slicesList(node));
    if (const YAML::Node node = root["parameters"]) {
        auto parsed = parameters(node, "top-level");
        if (!parsed)
            return parsed.takeError();
        m_recipe.parameters = std::move(*parsed);
        m_recipe.parametersLoc = locOf(node);
    }
    if (const YAML::Node node = root["dtype"]) {
        auto parsed = dtype(node, "dtype");
        if (!parsed)
            return parsed.takeError();
        m_recipe.dtype = *parsed;
        m_recipe.dtypeLoc = locOf(node);
    }
    if (const YAML::Node node = root["out_dtype"]) {
        auto parsed = dtype(node, "out_dtype");
        if (!parsed)
            return parsed.takeError();
        m_recipe.outDtype = *parsed;
        m_recipe.outDtypeLoc = locOf(node);
    }
    const YAML::Node tokenizerSourceNode = root["tokenizer_source"];
    const YAML::Node tokenizerNode = root["tokenizer"];
    if (tokenizerSourceNode && tokenizerNode) {
        return fail(tokenizerNode, ErrorCode::InvalidRecipe,
                    "use either tokenizer_source or tokenizer, not both");
    }
    if (tokenizerSourceNode)
        BASIN_TRY(tokenizerSource(tokenizerSourceNode, false));
    if (tokenizerNode)
        BASIN_TRY(tokenizer(tokenizerNode));
    if (const YAML::Node node = root["seed"])
        BASIN_TRY(seed(node));

    BASIN_TRY(validateRecipe(m_recipe));
    return std::move(m_recipe);
}

} // namespace

Result<Recipe> readRecipeString(std::string_view text, const std::filesystem::path &baseDir,
                                const ReadOptions &options)
{
    try {
        std::error_code error;
        const fs::path absoluteBase = baseDir.empty() ? fs::path() : fs::absolute(baseDir, error);
        Reader reader(error ? baseDir : absoluteBase, options);
        return reader.read(text);
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::InvalidRecipe, "out of memory while reading the recipe");
    } catch (const std::exception &error) {
        // yaml-cpp throws on conversions we guard against; never let one cross the core API.
        return makeError(ErrorCode::Internal, std::string("reading the recipe: ") + error.what());
    }
}

Result<Recipe> readRecipeFile(const std::filesystem::path &path, const ReadOptions &options)
{
    std::error_code error;
    if (!fs::exists(path, error))
        return makeError(ErrorCode::NotFound, path.string() + ": no such recipe file");
    if (fs::is_directory(path, error))
        return makeError(ErrorCode::InvalidArgument, path.string() + " is a folder, not a recipe");
    const auto size = fs::file_size(path, error);
    if (error)
        return makeError(ErrorCode::IoError, path.string() + ": " + error.message());
    if (size > kMaxRecipeBytes) {
        return makeError(ErrorCode::InvalidRecipe, path.string() + ": " + std::to_string(size) +
                                                       " bytes is too large for a recipe");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return makeError(ErrorCode::PermissionDenied, path.string() + ": cannot open the file");
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad())
        return makeError(ErrorCode::IoError, path.string() + ": read failed");
    ReadOptions fileOptions = options;
    if (fileOptions.sourceName.empty())
        fileOptions.sourceName = path.string();
    const fs::path folder = fs::absolute(path, error).parent_path();
    return readRecipeString(content.str(), folder, fileOptions);
}

} // namespace basin::recipe
