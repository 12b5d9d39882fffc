// SPDX-License-Identifier: GPL-3.0-or-later
// `basin inspect BASE FT1 [FT2 …]`: one analysis pass, then a table on stdout and, on
// request, the snapshot as JSON, a layer × pair CSV and a heatmap PNG.
#include "cli.h"
#include "commands.h"

#include "analysis/analysispass.h"
#include "analysis/heatmapmatrix.h"
#include "analysis/snapshotcsv.h"
#include "analysis/snapshotjson.h"
#include "analysis/summarytable.h"
#include "model/checkpoint.h"
#include "model/modelset.h"
#include "plots/heatmapwidget.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QSaveFile>

#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace basin::cli {

namespace {

const QString kName = QStringLiteral("inspect");

// Ctrl-C ends the pass between tensors; the command then exits with kExitCancelled.
CancelFlag g_cancel{false};
extern "C" void onInterrupt(int)
{
    g_cancel = true;
}

bool writeText(const QString &path, const std::string &text, QString &error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        error = path + QStringLiteral(": cannot write: ") + file.errorString();
        return false;
    }
    file.write(text.data(), static_cast<qint64>(text.size()));
    if (!file.commit()) {
        error = path + QStringLiteral(": cannot write: ") + file.errorString();
        return false;
    }
    return true;
}

// Renders the heatmap offscreen: the only part of inspect that needs a GUI toolkit, so the
// QApplication exists just here and never asks for a display.
bool writePng(const analysis::HeatmapMatrix &matrix, const QString &path, int width, int height)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    static int argc = 1;
    static char arg0[] = "basin";
    static char *argv[] = {arg0, nullptr};
    QApplication app(argc, argv);

    ui::HeatmapData data;
    data.rows = matrix.rows;
    data.cols = matrix.cols;
    data.values = matrix.values;
    for (const std::string &label : matrix.rowLabels)
        data.rowLabels << QString::fromStdString(label);
    for (const std::string &label : matrix.colLabels)
        data.colLabels << QString::fromStdString(label);
    data.title = QString::fromStdString(matrix.title);
    data.valueName = QString::fromStdString(matrix.valueName);
    data.diverging = matrix.diverging;
    data.range = matrix.range;
    data.decimals = 3;

    ui::HeatmapWidget widget;
    widget.setData(std::move(data));
    return widget.savePng(path, width, height);
}

bool parsePositiveInt(const QString &text, int &out)
{
    bool ok = false;
    const int value = text.toInt(&ok);
    if (!ok || value <= 0)
        return false;
    out = value;
    return true;
}

int usage(const QString &message)
{
    printError(kName, message);
    std::fprintf(stderr, "Try 'basin inspect --help'.\n");
    return kExitUsage;
}

} // namespace

int runInspect(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Task-vector statistics and interference of fine-tunes of one base model: per layer "
        "the relative change of each fine-tune, the cosine and sign conflict of every pair, "
        "TIES disagreement, with flagged layers."));
    parser.addPositionalArgument(QStringLiteral("base"),
                                 QStringLiteral("The base model (folder or .safetensors)."));
    parser.addPositionalArgument(QStringLiteral("fine-tunes"),
                                 QStringLiteral("One or more fine-tunes of the base."),
                                 QStringLiteral("FT1 [FT2 ...]"));
    const QCommandLineOption json(QStringLiteral("json"),
                                  QStringLiteral("Write the whole snapshot (without caches) as "
                                                 "JSON (docs/inspect-schema.json)."),
                                  QStringLiteral("file"));
    const QCommandLineOption csv(QStringLiteral("csv"),
                                 QStringLiteral("Write one row per layer x fine-tune pair."),
                                 QStringLiteral("file"));
    const QCommandLineOption png(QStringLiteral("png"),
                                 QStringLiteral("Write a heatmap of --metric as PNG."),
                                 QStringLiteral("file"));
    const QCommandLineOption metric(
        QStringLiteral("metric"),
        QStringLiteral("Heatmap metric: cosine, conflict (pairs), rho, ties (models). "
                       "Default: cosine."),
        QStringLiteral("name"), QStringLiteral("cosine"));
    const QCommandLineOption width(QStringLiteral("width"),
                                   QStringLiteral("PNG width in pixels (default 900)."),
                                   QStringLiteral("px"), QStringLiteral("900"));
    const QCommandLineOption height(QStringLiteral("height"),
                                    QStringLiteral("PNG height in pixels (default 700)."),
                                    QStringLiteral("px"), QStringLiteral("700"));
    const QCommandLineOption tensor(QStringLiteral("tensor"),
                                    QStringLiteral("Print every figure of one tensor instead of "
                                                   "the layer table."),
                                    QStringLiteral("name"));
    const QCommandLineOption density(
        QStringLiteral("density"),
        QStringLiteral("Density in (0, 1] for the trimmed TIES figures (default 0.2)."),
        QStringLiteral("d"), QStringLiteral("0.2"));
    const QCommandLineOption threads(QStringLiteral("threads"),
                                     QStringLiteral("Worker threads (default: all cores)."),
                                     QStringLiteral("n"));
    parser.addOptions({json, csv, png, metric, width, height, tensor, density, threads});

    bool helpShown = false;
    if (!parseSubcommand(parser, kName, args, helpShown))
        return kExitUsage;
    if (helpShown)
        return kExitOk;

    const QStringList paths = parser.positionalArguments();
    if (paths.size() < 2)
        return usage(QStringLiteral("needs a base model and at least one fine-tune"));

    // The default sample cache, although the CLI shows no preview: the sample also tells the
    // pass where each top-k cut lies, which saves a second sweep (docs/ANALYSIS.md).
    analysis::AnalysisOptions options;
    bool ok = false;
    options.density = parser.value(density).toDouble(&ok);
    if (!ok || !(options.density > 0.0 && options.density <= 1.0))
        return usage(QStringLiteral("--density must be a number in (0, 1], got '%1'")
                         .arg(parser.value(density)));
    if (parser.isSet(threads) && !parsePositiveInt(parser.value(threads), options.threads))
        return usage(QStringLiteral("--threads must be a positive integer, got '%1'")
                         .arg(parser.value(threads)));
    int pngWidth = 0;
    int pngHeight = 0;
    if (!parsePositiveInt(parser.value(width), pngWidth) ||
        !parsePositiveInt(parser.value(height), pngHeight) || pngWidth > 20000 || pngHeight > 20000)
        return usage(QStringLiteral("--width and --height must be integers in 1..20000"));
    const auto heatmapMetric = analysis::parseHeatmapMetric(toStd(parser.value(metric)));
    if (!heatmapMetric)
        return usage(QStringLiteral("unknown --metric '%1' (cosine, conflict, rho, ties)")
                         .arg(parser.value(metric)));
    if (!parser.isSet(png) && (parser.isSet(metric) || parser.isSet(width) || parser.isSet(height)))
        return usage(QStringLiteral("--metric, --width and --height apply to --png only"));
    const bool perPair = *heatmapMetric == analysis::HeatmapMetric::Cosine ||
                         *heatmapMetric == analysis::HeatmapMetric::Conflict;
    if (parser.isSet(png) && perPair && paths.size() < 3)
        return usage(QStringLiteral("--metric %1 compares pairs: it needs two fine-tunes or more")
                         .arg(parser.value(metric)));

    std::vector<std::shared_ptr<const Checkpoint>> models;
    for (const QString &path : paths) {
        auto checkpoint = Checkpoint::open(toStd(path));
        if (!checkpoint) {
            QString message = toQString(checkpoint.error().message);
            if (!message.contains(path))
                message = path + QStringLiteral(": ") + message;
            printError(kName, message);
            return kExitFailed;
        }
        models.push_back(std::move(*checkpoint));
    }
    auto set = ModelSet::create(std::move(models));
    if (!set) {
        printError(kName, set.error());
        return kExitFailed;
    }

    const bool showProgress = isatty(fileno(stderr)) != 0;
    const ProgressSink progress = [showProgress](const Progress &p) {
        if (!showProgress)
            return;
        std::fprintf(stderr, "\ranalysing %llu/%llu tensors",
                     static_cast<unsigned long long>(p.itemsDone),
                     static_cast<unsigned long long>(p.itemsTotal));
        if (p.itemsDone == p.itemsTotal)
            std::fputs("\n", stderr);
        std::fflush(stderr);
    };
    g_cancel = false;
    const auto previous = std::signal(SIGINT, onInterrupt);
    auto snapshot = analysis::analyse(**set, options, progress, &g_cancel);
    std::signal(SIGINT, previous);
    if (!snapshot) {
        printError(kName, snapshot.error());
        return snapshot.error().code == ErrorCode::Cancelled ? kExitCancelled : kExitFailed;
    }
    const analysis::AnalysisSnapshot &result = **snapshot;

    if (parser.isSet(tensor)) {
        const std::string name = toStd(parser.value(tensor));
        const analysis::TensorEntry *entry = result.findTensor(name);
        if (!entry) {
            printError(kName, QStringLiteral("no analysed tensor named '%1' in %2")
                                  .arg(parser.value(tensor), paths.front()));
            return kExitFailed;
        }
        printOut(toQString(analysis::tensorDetail(result, *entry)));
    } else {
        printOut(toQString(analysis::summaryTable(result)));
    }

    QString error;
    if (parser.isSet(json) &&
        !writeText(parser.value(json), analysis::snapshotToJson(result).dump(2) + "\n", error)) {
        printError(kName, error);
        return kExitFailed;
    }
    if (parser.isSet(csv) && !writeText(parser.value(csv), analysis::layerPairCsv(result), error)) {
        printError(kName, error);
        return kExitFailed;
    }
    if (parser.isSet(png) && !writePng(analysis::heatmapMatrix(result, *heatmapMetric),
                                       parser.value(png), pngWidth, pngHeight)) {
        printError(kName, parser.value(png) + QStringLiteral(": cannot write the PNG"));
        return kExitFailed;
    }
    return kExitOk;
}

} // namespace basin::cli
