// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli.h"
#include "commands.h"

#include "model/demofamily.h"

#include <QCommandLineParser>

#include <csignal>
#include <cstdio>

namespace basin::cli {

namespace {

CancelFlag g_demoCancel{false};

void onDemoInterrupt(int)
{
    g_demoCancel.store(true);
}

// Reads an optional positive integer option into `out`; false (and a message) on garbage.
bool readInt(const QCommandLineParser &parser, const QCommandLineOption &option, int &out,
             int minimum)
{
    if (!parser.isSet(option))
        return true;
    bool ok = false;
    const int value = parser.value(option).toInt(&ok);
    if (!ok || value < minimum) {
        printError(QStringLiteral("demo"), QStringLiteral("--%1 needs an integer ≥ %2, got '%3'")
                                               .arg(option.names().constFirst())
                                               .arg(minimum)
                                               .arg(parser.value(option)));
        return false;
    }
    out = value;
    return true;
}

} // namespace

int runDemo(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Writes a generated Llama-shaped base model and N fine-tunes as Hugging Face folders "
        "(OUT_DIR/base, OUT_DIR/ft1 …). The fine-tunes differ from the base by structured task "
        "vectors: early layers agree, late layers conflict in sign, one fine-tune changes only "
        "the MLP of the upper layers."));
    parser.addPositionalArgument(QStringLiteral("OUT_DIR"), QStringLiteral("Output folder."));
    const QCommandLineOption size(
        QStringLiteral("size"), QStringLiteral("Preset: tiny, small, medium or 1b (default tiny)."),
        QStringLiteral("SIZE"), QStringLiteral("tiny"));
    const QCommandLineOption models(QStringLiteral("models"),
                                    QStringLiteral("Number of fine-tunes (default 3)."),
                                    QStringLiteral("N"), QStringLiteral("3"));
    const QCommandLineOption dtype(QStringLiteral("dtype"),
                                   QStringLiteral("bf16, f16 or f32 (default bf16)."),
                                   QStringLiteral("DTYPE"), QStringLiteral("bf16"));
    const QCommandLineOption seed(QStringLiteral("seed"),
                                  QStringLiteral("Random seed (default 1)."), QStringLiteral("S"),
                                  QStringLiteral("1"));
    const QCommandLineOption layers(QStringLiteral("layers"),
                                    QStringLiteral("Override the number of layers."),
                                    QStringLiteral("N"));
    const QCommandLineOption hidden(
        QStringLiteral("hidden"), QStringLiteral("Override the hidden size."), QStringLiteral("N"));
    const QCommandLineOption intermediate(QStringLiteral("intermediate"),
                                          QStringLiteral("Override the MLP size."),
                                          QStringLiteral("N"));
    const QCommandLineOption vocab(QStringLiteral("vocab"),
                                   QStringLiteral("Override the vocabulary size."),
                                   QStringLiteral("N"));
    const QCommandLineOption heads(QStringLiteral("heads"),
                                   QStringLiteral("Override the attention heads."),
                                   QStringLiteral("N"));
    const QCommandLineOption kvHeads(QStringLiteral("kv-heads"),
                                     QStringLiteral("Override the key/value heads."),
                                     QStringLiteral("N"));
    const QCommandLineOption shardMb(
        QStringLiteral("shard-mb"),
        QStringLiteral("Shard models above this many MB (default 1000)."), QStringLiteral("MB"));
    const QCommandLineOption quiet(QStringLiteral("quiet"), QStringLiteral("No progress output."));
    parser.addOptions({size, models, dtype, seed, layers, hidden, intermediate, vocab, heads,
                       kvHeads, shardMb, quiet});
    bool helpShown = false;
    if (!parseSubcommand(parser, QStringLiteral("demo"), args, helpShown))
        return kExitUsage;
    if (helpShown)
        return kExitOk;
    const QStringList positional = parser.positionalArguments();
    if (positional.size() != 1) {
        printError(QStringLiteral("demo"), QStringLiteral("expected one OUT_DIR argument. Try "
                                                          "'basin demo --help'."));
        return kExitUsage;
    }

    DemoFamilyOptions options;
    options.size = toStd(parser.value(size));
    const QString dtypeText = parser.value(dtype).toLower();
    if (dtypeText == QLatin1String("bf16") || dtypeText == QLatin1String("bfloat16"))
        options.dtype = Dtype::BF16;
    else if (dtypeText == QLatin1String("f16") || dtypeText == QLatin1String("float16"))
        options.dtype = Dtype::F16;
    else if (dtypeText == QLatin1String("f32") || dtypeText == QLatin1String("float32"))
        options.dtype = Dtype::F32;
    else {
        printError(
            QStringLiteral("demo"),
            QStringLiteral("--dtype must be bf16, f16 or f32, got '%1'").arg(parser.value(dtype)));
        return kExitUsage;
    }
    bool seedOk = false;
    options.seed = parser.value(seed).toULongLong(&seedOk);
    if (!seedOk) {
        printError(QStringLiteral("demo"),
                   QStringLiteral("--seed needs a non-negative integer, got '%1'")
                       .arg(parser.value(seed)));
        return kExitUsage;
    }
    int shardMegabytes = 1000;
    if (!readInt(parser, models, options.fineTunes, 0) ||
        !readInt(parser, layers, options.layers, 1) ||
        !readInt(parser, hidden, options.hidden, 1) ||
        !readInt(parser, intermediate, options.intermediate, 1) ||
        !readInt(parser, vocab, options.vocab, 1) || !readInt(parser, heads, options.heads, 1) ||
        !readInt(parser, kvHeads, options.kvHeads, 1) ||
        !readInt(parser, shardMb, shardMegabytes, 0))
        return kExitUsage;
    options.maxShardBytes = static_cast<std::uint64_t>(shardMegabytes) * 1'000'000ull;
    if (Result<DemoShape> shape = resolveDemoShape(options); !shape) {
        printError(QStringLiteral("demo"), shape.error());
        return kExitUsage;
    }

    const bool showProgress = !parser.isSet(quiet);
    int lastDecile = -1;
    const ProgressSink sink = [&](const Progress &p) {
        if (!showProgress || p.bytesTotal == 0)
            return;
        const int decile = static_cast<int>(10 * p.bytesDone / p.bytesTotal);
        if (decile != lastDecile && p.bytesTotal > (64u << 20)) {
            lastDecile = decile;
            std::fprintf(stderr, "basin demo: writing %d%%\n", decile * 10);
        }
    };
    g_demoCancel.store(false);
    auto previous = std::signal(SIGINT, onDemoInterrupt);
    Result<DemoFamilyResult> result =
        writeDemoFamily(toStd(positional.constFirst()), options, sink, &g_demoCancel);
    std::signal(SIGINT, previous);
    if (!result) {
        printError(QStringLiteral("demo"), result.error());
        return result.error().code == ErrorCode::Cancelled ? kExitCancelled : kExitFailed;
    }
    const DemoShape &s = result->shape;
    printOut(QStringLiteral("wrote base + %1 fine-tune(s) to %2\n")
                 .arg(options.fineTunes)
                 .arg(positional.constFirst()));
    printOut(QStringLiteral("shape: %1 layers, hidden %2, intermediate %3, vocab %4, heads %5/%6, "
                            "%7\n")
                 .arg(s.layers)
                 .arg(s.hidden)
                 .arg(s.intermediate)
                 .arg(s.vocab)
                 .arg(s.heads)
                 .arg(s.kvHeads)
                 .arg(QLatin1String(dtypeName(options.dtype).data(),
                                    static_cast<qsizetype>(dtypeName(options.dtype).size()))));
    printOut(QStringLiteral("per model: %1 parameters, %2 of tensor data\n")
                 .arg(result->parametersPerModel)
                 .arg(humanBytes(result->bytesPerModel)));
    return kExitOk;
}

} // namespace basin::cli
