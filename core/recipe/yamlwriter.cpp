// SPDX-License-Identifier: GPL-3.0-or-later
#include "recipe/yamlwriter.h"

#include "merge/method.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <system_error>

namespace basin::recipe {

namespace {

namespace fs = std::filesystem;

bool isPlainWord(std::string_view text)
{
    if (text.empty())
        return false;
    for (const char c : text) {
        const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '/' || c == '-' ||
                          c == '+';
        if (!safe)
            return false;
    }
    // A leading '-' could start a list item, '.' could be .inf/.nan, '+' a number; and words
    // YAML 1.1 reads as booleans, nulls or numbers must stay text.
    const char first = text.front();
    if (first == '-' || first == '+')
        return false;
    static const char *const reserved[] = {
        "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES",
        "no",   "No",   "NO",   "on",    "On",    "ON",    "off", "Off", "OFF",
        "null", "Null", "NULL", "y",     "Y",     "n",     "N"};
    for (const char *word : reserved) {
        if (text == word)
            return false;
    }
    bool digitsAndDots = true;
    for (const char c : text)
        digitsAndDots = digitsAndDots && ((c >= '0' && c <= '9') || c == '.' || c == '_');
    if (digitsAndDots)
        return false;
    if (first == '.' && text.size() > 1 && text[1] != '.' && text[1] != '/')
        return false; // .inf, .nan, .5
    // "1e5" and friends.
    if ((first >= '0' && first <= '9') && text.find_first_of("eE") != std::string_view::npos)
        return false;
    return true;
}

std::string quote(std::string_view text)
{
    if (isPlainWord(text))
        return std::string(text);
    std::string out = "\"";
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20 || byte == 0x7f) {
            char escape[8];
            std::snprintf(escape, sizeof escape, "\\x%02x", byte);
            out += escape;
        } else {
            out += c; // UTF-8 passes through
        }
    }
    out += '"';
    return out;
}

std::string formatNumber(double value, bool integer)
{
    if (std::isnan(value))
        return ".nan";
    if (std::isinf(value))
        return value > 0 ? ".inf" : "-.inf";
    if (integer && std::floor(value) == value && std::fabs(value) < 1e15)
        return std::to_string(static_cast<long long>(value));
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value); // shortest exact
    std::string text(buffer, result.ptr);
    // PyYAML (mergekit's reader) takes "1e-05" and "1" without a dot for a string or an int:
    // every float gets a dot and a signed exponent.
    const std::size_t e = text.find_first_of("eE");
    std::string mantissa = text.substr(0, e);
    std::string exponent = e == std::string::npos ? std::string() : text.substr(e + 1);
    if (mantissa.find('.') == std::string::npos)
        mantissa += ".0";
    if (!exponent.empty() && exponent.front() != '-' && exponent.front() != '+')
        exponent.insert(exponent.begin(), '+');
    return exponent.empty() ? mantissa : mantissa + "e" + exponent;
}

class Writer {
public:
    Writer(const Recipe &recipe, const WriteOptions &options)
        : m_recipe(recipe), m_options(options), m_method(merge::findMethod(recipe.mergeMethod))
    {
        if (m_options.relativeTo) {
            std::error_code error;
            const fs::path folder =
                fs::weakly_canonical(fs::absolute(*m_options.relativeTo), error);
            m_folder = error ? m_options.relativeTo->lexically_normal() : folder;
        }
    }

    std::string run();

private:
    void line(int indent, const std::string &text)
    {
        m_out += std::string(indent, ' ') + text + '\n';
    }
    bool isInteger(std::string_view name) const
    {
        const merge::ParamDecl *decl = m_method ? m_method->findParam(name) : nullptr;
        return decl && decl->kind == merge::ParamKind::Integer;
    }
    std::string path(const ModelRef &model) const;
    std::string value(const Value &value, bool integer) const;
    void parameters(int indent, const Parameters &parameters);

    const Recipe &m_recipe;
    const WriteOptions &m_options;
    const merge::MethodDecl *m_method;
    fs::path m_folder;
    std::string m_out;
};

std::string Writer::path(const ModelRef &model) const
{
    if (!m_options.relativeTo || model.resolved.empty())
        return quote(model.path);
    fs::path relative = model.resolved.lexically_relative(m_folder);
    if (relative.empty())
        return quote(model.resolved.generic_string()); // another root: stay absolute
    return quote(relative.generic_string());
}

std::string Writer::value(const Value &value, bool integer) const
{
    switch (value.kind) {
    case Value::Kind::Boolean:
        return value.boolean ? "true" : "false";
    case Value::Kind::Number:
        return formatNumber(value.number, integer);
    case Value::Kind::Gradient:
        break;
    }
    std::string list = "[";
    for (std::size_t i = 0; i < value.anchors.size(); ++i)
        list += (i ? ", " : "") + formatNumber(value.anchors[i], integer);
    return list + "]";
}

void Writer::parameters(int indent, const Parameters &parameters)
{
    for (const auto &parameter : parameters) {
        const bool integer = isInteger(parameter.name);
        const Setting &setting = parameter.setting;
        if (!setting.isFiltered()) {
            line(indent, quote(parameter.name) + ": " + value(setting.value(), integer));
            continue;
        }
        line(indent, quote(parameter.name) + ":");
        for (const auto &rule : setting.rules()) {
            if (rule.filter) {
                line(indent + 2, "- filter: " + quote(*rule.filter));
                line(indent + 4, "value: " + value(rule.value, integer));
            } else {
                line(indent + 2, "- value: " + value(rule.value, integer));
            }
        }
    }
}

std::string Writer::run()
{
    if (m_recipe.usesSlices()) {
        line(0, "slices:");
        for (const auto &slice : m_recipe.slices) {
            line(2, "- sources:");
            for (const auto &source : slice.sources) {
                line(6, "- model: " + path(source.model));
                line(8, "layer_range: [" + std::to_string(source.layerStart) + ", " +
                            std::to_string(source.layerEnd) + "]");
                if (!source.parameters.empty()) {
                    line(8, "parameters:");
                    parameters(10, source.parameters);
                }
            }
            if (!slice.parameters.empty()) {
                line(4, "parameters:");
                parameters(6, slice.parameters);
            }
        }
    } else if (m_recipe.models.empty()) {
        line(0, "models: []");
    } else {
        line(0, "models:");
        for (const auto &entry : m_recipe.models) {
            line(2, "- model: " + path(entry.model));
            if (!entry.parameters.empty()) {
                line(4, "parameters:");
                parameters(6, entry.parameters);
            }
        }
    }
    line(0, "merge_method: " + quote(m_recipe.mergeMethod));
    if (m_recipe.hasBase())
        line(0, "base_model: " + path(m_recipe.baseModel));
    if (!m_recipe.parameters.empty()) {
        line(0, "parameters:");
        parameters(2, m_recipe.parameters);
    }
    if (m_recipe.dtype)
        line(0, "dtype: " + std::string(recipeDtypeName(*m_recipe.dtype)));
    if (m_recipe.outDtype)
        line(0, "out_dtype: " + std::string(recipeDtypeName(*m_recipe.outDtype)));
    const TokenizerSource &tokenizer = m_recipe.tokenizer;
    if (tokenizer.kind != TokenizerSource::Kind::Unset) {
        const std::string source =
            tokenizer.kind == TokenizerSource::Kind::Base ? "base" : path(tokenizer.model);
        if (tokenizer.nested) {
            line(0, "tokenizer:");
            line(2, "source: " + source);
        } else {
            line(0, "tokenizer_source: " + source);
        }
    }
    if (m_recipe.seed)
        line(0, "seed: " + std::to_string(*m_recipe.seed));
    return std::move(m_out);
}

} // namespace

std::string writeRecipeString(const Recipe &recipe, const WriteOptions &options)
{
    Writer writer(recipe, options);
    return writer.run();
}

Result<void> writeRecipeFile(const Recipe &recipe, const std::filesystem::path &path,
                             const WriteOptions &options)
{
    std::string text;
    try {
        text = writeRecipeString(recipe, options);
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::IoError, path.string() + ": out of memory writing the recipe");
    }
    std::error_code error;
    const fs::path folder = fs::absolute(path, error).parent_path();
    if (error || !fs::is_directory(folder, error))
        return makeError(ErrorCode::NotFound, path.string() + ": the folder does not exist");
    std::random_device random;
    std::string temporaryName(1, '.'); // appended, see validate.cpp on GCC 12's -Wrestrict
    temporaryName += path.filename().string();
    temporaryName += ".tmp-";
    temporaryName += std::to_string(random());
    const fs::path temporary = folder / temporaryName;
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out)
            return makeError(ErrorCode::PermissionDenied,
                             path.string() + ": cannot create a file in " + folder.string());
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        out.close();
        if (!out) {
            fs::remove(temporary, error);
            return makeError(ErrorCode::IoError, path.string() + ": writing failed (disk full?)");
        }
    }
    fs::rename(temporary, path, error);
    if (error) {
        const std::string reason = error.message();
        fs::remove(temporary, error);
        return makeError(ErrorCode::IoError,
                         path.string() + ": cannot replace the file: " + reason);
    }
    return {};
}

} // namespace basin::recipe
