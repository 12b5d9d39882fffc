// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli.h"
#include "commands.h"

#include "io/shardindex.h"
#include "model/checkpoint.h"
#include "model/tensorname.h"

#include <QCommandLineParser>

#include <nlohmann/json.hpp>

#include <map>

namespace basin::cli {

namespace {

struct DtypeTotals {
    std::uint64_t tensors = 0;
    std::uint64_t parameters = 0;
    std::uint64_t bytes = 0;
};

std::string configString(const nlohmann::json &config, const char *key)
{
    if (!config.is_object())
        return {};
    const auto it = config.find(key);
    if (it == config.end())
        return {};
    if (it->is_string())
        return it->get<std::string>();
    if (it->is_array() && !it->empty() && it->front().is_string())
        return it->front().get<std::string>();
    return {};
}

std::optional<std::int64_t> configInt(const nlohmann::json &config, const char *key)
{
    if (!config.is_object())
        return std::nullopt;
    const auto it = config.find(key);
    if (it == config.end() || !it->is_number_integer())
        return std::nullopt;
    return it->get<std::int64_t>();
}

QString grouped(std::uint64_t value)
{
    QString digits = QString::number(value);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3)
        digits.insert(i, QLatin1Char(','));
    return digits;
}

QString q(std::string_view text)
{
    return QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size()));
}

} // namespace

int runInfo(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Describes a checkpoint (a .safetensors file, a folder with model.safetensors, or a "
        "sharded folder): architecture, layers, tensors by dtype, parameters, bytes, warnings. "
        "Every validation rule runs; a broken file exits with status 1 and names the file, "
        "the tensor and the rule."));
    parser.addPositionalArgument(QStringLiteral("PATH"), QStringLiteral("Checkpoint to describe."));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print JSON."));
    parser.addOption(json);
    bool helpShown = false;
    if (!parseSubcommand(parser, QStringLiteral("info"), args, helpShown))
        return kExitUsage;
    if (helpShown)
        return kExitOk;
    const QStringList positional = parser.positionalArguments();
    if (positional.size() != 1) {
        printError(QStringLiteral("info"),
                   QStringLiteral("expected one PATH argument. Try 'basin info --help'."));
        return kExitUsage;
    }

    Result<std::shared_ptr<const Checkpoint>> opened =
        Checkpoint::open(toStd(positional.constFirst()));
    if (!opened) {
        printError(QStringLiteral("info"), opened.error());
        if (parser.isSet(json)) {
            nlohmann::json error;
            error["error"]["code"] = std::string(codeName(opened.error().code));
            error["error"]["message"] = opened.error().message;
            printOut(q(error.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)) +
                     QLatin1Char('\n'));
        }
        return kExitFailed;
    }
    const Checkpoint &checkpoint = **opened;

    std::map<std::string, DtypeTotals> byDtype;
    int maxLayer = -1;
    for (const TensorInfo &t : checkpoint.tensors()) {
        DtypeTotals &totals = byDtype[std::string(dtypeName(t.dtype))];
        ++totals.tensors;
        totals.parameters += t.numel;
        totals.bytes += t.byteSize;
        if (const std::optional<int> layer = parseTensorName(t.name).layer)
            maxLayer = std::max(maxLayer, *layer);
    }
    const std::string architecture = configString(checkpoint.config(), "architectures");
    const std::string modelType = configString(checkpoint.config(), "model_type");
    const std::optional<std::int64_t> configLayers =
        configInt(checkpoint.config(), "num_hidden_layers");
    const bool sharded = checkpoint.files().size() > 1 ||
                         (!checkpoint.files().empty() &&
                          checkpoint.files().front().filename() != std::string(kSingleFileName) &&
                          std::filesystem::is_directory(checkpoint.path()));

    if (parser.isSet(json)) {
        nlohmann::ordered_json out;
        out["path"] = checkpoint.path().string();
        out["name"] = checkpoint.displayName();
        nlohmann::ordered_json files = nlohmann::ordered_json::array();
        for (const auto &file : checkpoint.files())
            files.push_back(file.string());
        out["files"] = files;
        out["sharded"] = sharded;
        out["architecture"] =
            architecture.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(architecture);
        out["model_type"] =
            modelType.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(modelType);
        out["layers"] = maxLayer + 1;
        out["config_layers"] =
            configLayers ? nlohmann::ordered_json(*configLayers) : nlohmann::ordered_json();
        out["tensor_count"] = checkpoint.tensors().size();
        nlohmann::ordered_json dtypes = nlohmann::ordered_json::object();
        for (const auto &[name, totals] : byDtype)
            dtypes[name] = {{"tensors", totals.tensors},
                            {"parameters", totals.parameters},
                            {"bytes", totals.bytes}};
        out["dtypes"] = dtypes;
        out["parameters"] = checkpoint.parameterCount();
        out["bytes"] = checkpoint.totalBytes();
        out["metadata"] = checkpoint.metadata();
        nlohmann::ordered_json side = nlohmann::ordered_json::array();
        for (const auto &file : checkpoint.sideFiles())
            side.push_back(file.filename().string());
        out["side_files"] = side;
        out["warnings"] = checkpoint.warnings();
        nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
        for (const TensorInfo &t : checkpoint.tensors()) {
            const TensorNameInfo info = parseTensorName(t.name);
            nlohmann::ordered_json entry;
            entry["name"] = t.name;
            entry["dtype"] = std::string(dtypeName(t.dtype));
            entry["shape"] = t.shape;
            entry["bytes"] = t.byteSize;
            entry["layer"] =
                info.layer ? nlohmann::ordered_json(*info.layer) : nlohmann::ordered_json();
            entry["kind"] = std::string(tensorKindName(info.kind));
            entry["file"] =
                checkpoint.files()[static_cast<std::size_t>(t.fileIndex)].filename().string();
            tensors.push_back(std::move(entry));
        }
        out["tensors"] = tensors;
        printOut(q(out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)) +
                 QLatin1Char('\n'));
        return kExitOk;
    }

    QString text;
    text += QStringLiteral("path:         %1\n").arg(q(checkpoint.path().string()));
    text += QStringLiteral("storage:      %1\n")
                .arg(sharded ? QStringLiteral("%1 shards + %2")
                                   .arg(checkpoint.files().size())
                                   .arg(q(kIndexFileName))
                             : q(checkpoint.files().front().filename().string()));
    text += QStringLiteral("architecture: %1\n")
                .arg(architecture.empty()
                         ? QStringLiteral("unknown (no config.json)")
                         : q(architecture) + (modelType.empty()
                                                  ? QString()
                                                  : QStringLiteral(" (%1)").arg(q(modelType))));
    text += QStringLiteral("layers:       %1").arg(maxLayer + 1);
    if (configLayers && *configLayers != maxLayer + 1)
        text += QStringLiteral(" (config.json says %1)").arg(*configLayers);
    text += QLatin1Char('\n');
    text += QStringLiteral("tensors:      %1\n").arg(checkpoint.tensors().size());
    for (const auto &[name, totals] : byDtype)
        text += QStringLiteral("  %1 %2 tensors, %3 parameters, %4\n")
                    .arg(q(name).leftJustified(12))
                    .arg(totals.tensors)
                    .arg(grouped(totals.parameters))
                    .arg(humanBytes(totals.bytes));
    text += QStringLiteral("parameters:   %1\n").arg(grouped(checkpoint.parameterCount()));
    text += QStringLiteral("bytes:        %1 (%2)\n")
                .arg(grouped(checkpoint.totalBytes()))
                .arg(humanBytes(checkpoint.totalBytes()));
    if (!checkpoint.metadata().empty()) {
        QStringList pairs;
        for (const auto &[key, value] : checkpoint.metadata())
            pairs << q(key) + QLatin1Char('=') + q(value);
        text += QStringLiteral("metadata:     %1\n").arg(pairs.join(QStringLiteral(", ")));
    }
    QStringList side;
    for (const auto &file : checkpoint.sideFiles())
        side << q(file.filename().string());
    text += QStringLiteral("side files:   %1\n")
                .arg(side.isEmpty() ? QStringLiteral("none") : side.join(QStringLiteral(", ")));
    if (checkpoint.warnings().empty()) {
        text += QStringLiteral("warnings:     none\n");
    } else {
        text += QStringLiteral("warnings:\n");
        for (const std::string &warning : checkpoint.warnings())
            text += QStringLiteral("  - %1\n").arg(q(warning));
    }
    printOut(text);
    return kExitOk;
}

} // namespace basin::cli
