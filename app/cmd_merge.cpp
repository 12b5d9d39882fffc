// SPDX-License-Identifier: GPL-3.0-or-later
// `basin merge RECIPE.yml OUT_DIR`: a thin front end over the engine's runMerge(), the same
// code path the GUI's export uses (docs/ENGINE.md).
#include "cli.h"
#include "commands.h"

#include "engine/bytesize.h"
#include "engine/mergerunner.h"
#include "engine/plansummary.h"
#include "engine/preparedmerge.h"
#include "engine/stagingfolder.h"
#include "recipe/yamlreader.h"

#include <QCommandLineParser>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include <unistd.h>

namespace basin::cli {

namespace {

const QString kName = QStringLiteral("merge");

CancelFlag g_mergeCancel{false};

extern "C" void onMergeSignal(int)
{
    // Only a lock-free atomic store: async-signal-safe.
    g_mergeCancel.store(true);
}

// SIGINT/SIGTERM set the cancel flag while a merge runs; a second signal gets the default
// action (SA_RESETHAND), so an impatient user can still kill the process — the hidden
// temporary folder it leaves is removed by the next merge to the same destination.
class SignalScope {
public:
    SignalScope()
    {
        g_mergeCancel.store(false);
        struct sigaction action {};
        action.sa_handler = &onMergeSignal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESETHAND;
        sigaction(SIGINT, &action, &m_oldInt);
        sigaction(SIGTERM, &action, &m_oldTerm);
    }
    ~SignalScope()
    {
        sigaction(SIGINT, &m_oldInt, nullptr);
        sigaction(SIGTERM, &m_oldTerm, nullptr);
    }
    SignalScope(const SignalScope &) = delete;
    SignalScope &operator=(const SignalScope &) = delete;

private:
    struct sigaction m_oldInt {};
    struct sigaction m_oldTerm {};
};

QString text(const std::string &value)
{
    return toQString(value);
}

QString seconds(double value)
{
    if (value < 0)
        return QStringLiteral("?");
    if (value < 60)
        return QStringLiteral("%1 s").arg(value, 0, 'f', value < 10 ? 1 : 0);
    const int whole = static_cast<int>(value);
    return QStringLiteral("%1 min %2 s").arg(whole / 60).arg(whole % 60, 2, 10, QLatin1Char('0'));
}

// Progress on stderr: a redrawn bar on a terminal, a plain line every few seconds otherwise.
class ProgressPrinter {
public:
    explicit ProgressPrinter(bool enabled) : m_enabled(enabled), m_tty(::isatty(STDERR_FILENO) == 1)
    {
    }
    ~ProgressPrinter() { endLine(); }
    ProgressPrinter(const ProgressPrinter &) = delete;
    ProgressPrinter &operator=(const ProgressPrinter &) = delete;

    void operator()(const Progress &p)
    {
        if (!m_enabled)
            return;
        const auto now = std::chrono::steady_clock::now();
        const bool newPhase = p.phase != m_phase;
        const double sinceLast = std::chrono::duration<double>(now - m_last).count();
        m_phase = p.phase;
        if (p.phase != "merging") {
            if (newPhase && p.phase == "writing") {
                endLine();
                std::fputs("basin merge: writing config, tokenizer, recipe and model card\n",
                           stderr);
            }
            return;
        }
        const double fraction =
            p.bytesTotal > 0 ? static_cast<double>(p.bytesDone) / static_cast<double>(p.bytesTotal)
                             : 0.0;
        const QString counts = QStringLiteral("%1/%2 tensors  %3 / %4")
                                   .arg(p.itemsDone)
                                   .arg(p.itemsTotal)
                                   .arg(text(engine::formatByteSize(p.bytesDone)),
                                        text(engine::formatByteSize(p.bytesTotal)));
        if (m_tty) {
            if (!newPhase && sinceLast < 0.1 && p.itemsDone != p.itemsTotal)
                return;
            constexpr int kWidth = 28;
            const int filled = static_cast<int>(fraction * kWidth);
            const QString bar =
                QString(filled, QLatin1Char('#')) + QString(kWidth - filled, QLatin1Char('-'));
            const QString line = QStringLiteral("\rmerging [%1] %2%  %3  ETA %4\x1b[K")
                                     .arg(bar)
                                     .arg(static_cast<int>(fraction * 100), 3)
                                     .arg(counts, seconds(p.etaSeconds));
            std::fputs(qPrintable(line), stderr);
            std::fflush(stderr);
            m_open = true;
        } else {
            if (!newPhase && sinceLast < 5.0 && p.itemsDone != p.itemsTotal)
                return;
            const QString line =
                QStringLiteral("basin merge: merging %1%  %2  elapsed %3  ETA %4\n")
                    .arg(static_cast<int>(fraction * 100))
                    .arg(counts, seconds(p.elapsedSeconds), seconds(p.etaSeconds));
            std::fputs(qPrintable(line), stderr);
        }
        m_last = now;
    }

    void endLine()
    {
        if (m_open) {
            std::fputc('\n', stderr);
            m_open = false;
        }
    }

private:
    bool m_enabled;
    bool m_tty;
    bool m_open = false;
    std::string m_phase;
    std::chrono::steady_clock::time_point m_last{};
};

void printWarnings(const std::vector<std::string> &warnings)
{
    for (const std::string &warning : warnings)
        std::fprintf(stderr, "basin merge: warning: %s\n", warning.c_str());
}

} // namespace

int runMerge(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Runs a mergekit-compatible recipe and writes the merged model to OUT_DIR: safetensors "
        "(sharded with an index above the shard size), config.json, tokenizer files, "
        "basin_recipe.yml and a README.md model card. The output is written to a hidden "
        "temporary folder next to OUT_DIR and renamed into place only when complete; Ctrl-C "
        "cancels cleanly (exit 130). Exit codes: 0 done, 1 failed, 2 usage."));
    parser.addPositionalArgument(QStringLiteral("RECIPE.yml"), QStringLiteral("The merge recipe."));
    parser.addPositionalArgument(QStringLiteral("OUT_DIR"), QStringLiteral("Output folder."));
    const QCommandLineOption shardSize(
        QStringLiteral("out-shard-size"),
        QStringLiteral("Tensor bytes per file (default 5GB): plain bytes, K/M/G/T (decimal) or "
                       "KiB/MiB/GiB/TiB."),
        QStringLiteral("SIZE"));
    const QCommandLineOption threads(
        QStringLiteral("threads"), QStringLiteral("Threads for the kernels (default: all cores)."),
        QStringLiteral("N"));
    const QCommandLineOption seed(
        QStringLiteral("seed"),
        QStringLiteral("Seed of the random methods (dare, della); overrides the recipe's seed "
                       "(default 0)."),
        QStringLiteral("S"));
    const QCommandLineOption dryRun(
        QStringLiteral("dry-run"),
        QStringLiteral("Validate and resolve the recipe, print the plan; write nothing."));
    const QCommandLineOption overwrite(
        QStringLiteral("overwrite"),
        QStringLiteral("Replace a non-empty OUT_DIR (only once the new model is complete)."));
    const QCommandLineOption allowNan(QStringLiteral("allow-nan"),
                                      QStringLiteral("Merge input tensors that hold NaN."));
    const QCommandLineOption quiet(
        QStringLiteral("quiet"),
        QStringLiteral("No progress or summary; warnings and errors only."));
    parser.addOptions({shardSize, threads, seed, dryRun, overwrite, allowNan, quiet});
    bool helpShown = false;
    if (!parseSubcommand(parser, kName, args, helpShown))
        return kExitUsage;
    if (helpShown)
        return kExitOk;
    const QStringList positional = parser.positionalArguments();
    if (positional.size() != 2) {
        printError(kName,
                   QStringLiteral("expected RECIPE.yml and OUT_DIR. Try 'basin merge --help'."));
        return kExitUsage;
    }

    engine::MergeOptions options;
    if (parser.isSet(shardSize)) {
        Result<std::uint64_t> size = engine::parseByteSize(toStd(parser.value(shardSize)));
        if (!size) {
            printError(kName, QStringLiteral("--out-shard-size: ") + text(size.error().message));
            return kExitUsage;
        }
        options.maxShardBytes = *size;
    }
    if (parser.isSet(threads)) {
        bool ok = false;
        const int value = parser.value(threads).toInt(&ok);
        if (!ok || value < 1 || value > 4096) {
            printError(kName,
                       QStringLiteral("--threads needs a whole number from 1 to 4096, got '%1'")
                           .arg(parser.value(threads)));
            return kExitUsage;
        }
        options.threads = value;
    }
    if (parser.isSet(seed)) {
        bool ok = false;
        const QString value = parser.value(seed);
        const qulonglong parsed = value.toULongLong(&ok, 10);
        if (!ok || value.startsWith(QLatin1Char('+')) || value.startsWith(QLatin1Char('-'))) {
            printError(kName,
                       QStringLiteral("--seed needs a whole number from 0 to 2^64 - 1, got '%1'")
                           .arg(value));
            return kExitUsage;
        }
        options.seed = parsed;
    }
    options.overwrite = parser.isSet(overwrite);
    options.allowNan = parser.isSet(allowNan);
    const bool showProgress = !parser.isSet(quiet);

    Result<recipe::Recipe> recipe = recipe::readRecipeFile(toStd(positional.at(0)));
    if (!recipe) {
        printError(kName, recipe.error());
        return kExitFailed;
    }
    const std::filesystem::path outDir = toStd(positional.at(1));

    if (parser.isSet(dryRun)) {
        Result<std::filesystem::path> destination =
            engine::checkDestination(outDir, options.overwrite);
        if (!destination) {
            printError(kName, destination.error());
            return kExitFailed;
        }
        Result<engine::PreparedMerge> prepared = engine::prepareMerge(*recipe, options);
        if (!prepared) {
            printError(kName, prepared.error());
            return kExitFailed;
        }
        printOut(text(engine::describePlan(*prepared)));
        printOut(QStringLiteral("\nDry run: nothing was written (output would go to %1).\n")
                     .arg(text(destination->string())));
        return kExitOk;
    }

    const SignalScope signalScope;
    // Test hook (docs/ENGINE.md): deliver SIGINT to ourselves after N merged tensors, so the
    // signal path can be tested on models that merge in milliseconds.
    long interruptAfter = -1;
    if (const char *hook = std::getenv("BASIN_MERGE_INTERRUPT_AFTER"))
        interruptAfter = std::strtol(hook, nullptr, 10);
    ProgressPrinter printer(showProgress);
    const ProgressSink sink = [&](const Progress &p) {
        if (interruptAfter >= 0 && p.phase == "merging" &&
            p.itemsDone >= static_cast<std::uint64_t>(interruptAfter)) {
            interruptAfter = -1;
            std::raise(SIGINT);
        }
        printer(p);
    };

    engine::MergeRequest request{std::move(*recipe), outDir, options};
    Result<engine::MergeReport> report = engine::runMerge(request, sink, g_mergeCancel);
    printer.endLine();
    if (!report) {
        if (report.error().code == ErrorCode::Cancelled) {
            printError(
                kName,
                QStringLiteral("cancelled; nothing was written to %1").arg(text(outDir.string())));
            return kExitCancelled;
        }
        printError(kName, report.error());
        return kExitFailed;
    }
    printWarnings(report->warnings);
    if (showProgress) {
        printOut(
            QStringLiteral("Merged %1 tensors (%2, %3 %4) into %5 in %6.\n")
                .arg(report->tensors.size())
                .arg(text(engine::formatByteSize(report->tensorBytes)))
                .arg(report->shards.size())
                .arg(report->shards.size() == 1 ? QStringLiteral("file") : QStringLiteral("files"))
                .arg(text(report->outDir.string()), seconds(report->seconds)));
    }
    return kExitOk;
}

} // namespace basin::cli
