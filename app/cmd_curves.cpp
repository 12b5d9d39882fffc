// SPDX-License-Identifier: GPL-3.0-or-later
// `basin curves RECIPE.yml --vary PARAM[:MODEL] …`: weight-space proxy curves of a recipe
// (docs/PREVIEW.md), from one analysis pass over the recipe's models; optionally real
// evaluations of candidate merges with a user command, a CSV and an offscreen PNG.
#include "cli.h"
#include "commands.h"

#include "analysis/analysispass.h"
#include "analysis/curves.h"
#include "analysis/curvesrecipe.h"
#include "jobs/jobrunner.h"
#include "model/checkpoint.h"
#include "model/modelset.h"
#include "plots/curveplotwidget.h"
#include "preview/curvedata.h"
#include "preview/evaluator.h"
#include "recipe/yamlreader.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QEventLoop>
#include <QSaveFile>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>

namespace basin::cli {

namespace {

const QString kName = QStringLiteral("curves");

CancelFlag g_cancel{false};
extern "C" void onCurvesInterrupt(int)
{
    g_cancel = true;
}

int usage(const QString &message)
{
    printError(kName, message);
    std::fprintf(stderr, "Try 'basin curves --help'.\n");
    return kExitUsage;
}

bool writeText(const QString &path, const std::string &text, QString &error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) ||
        file.write(text.data(), static_cast<qint64>(text.size())) !=
            static_cast<qint64>(text.size()) ||
        !file.commit()) {
        error = path + QStringLiteral(": cannot write: ") + file.errorString();
        return false;
    }
    return true;
}

// A model named on the command line: a 1-based index into the snapshot's fine-tunes ("0" is
// the base), the path as written in the recipe, or the folder name.
int findModel(const analysis::AnalysisSnapshot &snapshot, const recipe::Recipe &recipe,
              const QString &name)
{
    bool isNumber = false;
    const int number = name.toInt(&isNumber);
    if (isNumber)
        return number >= 0 && number <= snapshot.fineTunes() ? number : -1;
    for (const recipe::ModelRef &ref : recipe.referencedModels()) {
        const QString written = toQString(ref.path);
        const QString folder =
            toQString(std::filesystem::path(ref.path).lexically_normal().filename().string());
        if (name == written || name == folder)
            return analysis::snapshotModelIndex(snapshot, ref);
    }
    for (int s = 0; s < static_cast<int>(snapshot.modelNames.size()); ++s)
        if (name == toQString(snapshot.modelNames[static_cast<std::size_t>(s)]))
            return s;
    return -1;
}

} // namespace

int runCurves(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Weight-space proxy curves of a merge recipe (never a loss): interpolation between two "
        "models (lerp and slerp), lambda, one model's weight, or density. Runs one analysis "
        "pass over the recipe's models first."));
    parser.addPositionalArgument(QStringLiteral("recipe"),
                                 QStringLiteral("The mergekit YAML recipe."));
    const QCommandLineOption vary(
        QStringLiteral("vary"),
        QStringLiteral(
            "What to vary: alpha[:A[,B]] (between the base, or A, and B; default the "
            "slerp's two models or the first two), lambda, weight:MODEL, density[:MODEL] "
            "(MODEL marks its current density). MODEL: index (0 = base), path as written, "
            "or folder name."),
        QStringLiteral("param"));
    const QCommandLineOption from(QStringLiteral("from"),
                                  QStringLiteral("First value (default per variable)."),
                                  QStringLiteral("a"));
    const QCommandLineOption to(QStringLiteral("to"),
                                QStringLiteral("Last value (default per variable)."),
                                QStringLiteral("b"));
    const QCommandLineOption steps(QStringLiteral("steps"),
                                   QStringLiteral("Number of points, >= 2 (default 21)."),
                                   QStringLiteral("n"), QStringLiteral("21"));
    const QCommandLineOption layer(
        QStringLiteral("layer"),
        QStringLiteral("A layer index or group (embed, norm, head); default: global."),
        QStringLiteral("L"));
    const QCommandLineOption csv(QStringLiteral("csv"), QStringLiteral("Write the curves as CSV."),
                                 QStringLiteral("file"));
    const QCommandLineOption png(QStringLiteral("png"),
                                 QStringLiteral("Render the curves as PNG (offscreen)."),
                                 QStringLiteral("file"));
    const QCommandLineOption eval(
        QStringLiteral("eval"),
        QStringLiteral("Evaluator command run on each candidate merge; {model} is its folder. "
                       "The last number it prints is the score."),
        QStringLiteral("command"));
    const QCommandLineOption timeout(
        QStringLiteral("timeout"),
        QStringLiteral("Evaluator timeout per point in seconds (default 600)."),
        QStringLiteral("s"), QStringLiteral("600"));
    const QCommandLineOption sample(QStringLiteral("sample-size"),
                                    QStringLiteral("Sample cache size per tensor (default 65536)."),
                                    QStringLiteral("n"), QStringLiteral("65536"));
    parser.addOptions({vary, from, to, steps, layer, csv, png, eval, timeout, sample});

    bool helpShown = false;
    if (!parseSubcommand(parser, kName, args, helpShown))
        return kExitUsage;
    if (helpShown)
        return kExitOk;
    if (parser.positionalArguments().size() != 1)
        return usage(QStringLiteral("needs exactly one recipe file"));
    if (!parser.isSet(vary))
        return usage(QStringLiteral("--vary is required (alpha, lambda, weight:MODEL, density)"));

    const QString varySpec = parser.value(vary);
    const QString varName = varySpec.section(QLatin1Char(':'), 0, 0);
    const QString varModel = varySpec.section(QLatin1Char(':'), 1);
    const auto variable = analysis::parseCurveVariable(toStd(varName));
    if (!variable)
        return usage(
            QStringLiteral("unknown --vary parameter '%1' (alpha, lambda, weight:MODEL, density)")
                .arg(varName));
    if (*variable == analysis::CurveVariable::Weight && varModel.isEmpty())
        return usage(QStringLiteral("--vary weight needs a model: weight:MODEL"));
    if (*variable == analysis::CurveVariable::Lambda && !varModel.isEmpty())
        return usage(QStringLiteral("--vary lambda takes no model"));

    analysis::CurveRequest request;
    request.variable = *variable;
    const auto range = analysis::defaultCurveRange(*variable);
    bool ok = true;
    request.from = parser.isSet(from) ? parser.value(from).toDouble(&ok) : range.first;
    if (!ok)
        return usage(QStringLiteral("--from must be a number, got '%1'").arg(parser.value(from)));
    request.to = parser.isSet(to) ? parser.value(to).toDouble(&ok) : range.second;
    if (!ok)
        return usage(QStringLiteral("--to must be a number, got '%1'").arg(parser.value(to)));
    request.steps = parser.value(steps).toInt(&ok);
    if (!ok || request.steps < 2 || request.steps > 100000)
        return usage(QStringLiteral("--steps must be an integer in 2..100000, got '%1'")
                         .arg(parser.value(steps)));
    if (parser.isSet(layer)) {
        const QString l = parser.value(layer);
        bool isNumber = false;
        const int index = l.toInt(&isNumber);
        request.scope = isNumber ? "L" + std::to_string(index) : toStd(l);
    }
    const qulonglong sampleSize = parser.value(sample).toULongLong(&ok);
    if (!ok)
        return usage(QStringLiteral("--sample-size must be a non-negative integer"));
    const int timeoutSeconds = parser.value(timeout).toInt(&ok);
    if (!ok || timeoutSeconds <= 0)
        return usage(QStringLiteral("--timeout must be a positive integer"));
    if (parser.isSet(eval) && !parser.value(eval).contains(QStringLiteral("{model}")))
        return usage(
            QStringLiteral("--eval needs a {model} placeholder for the candidate's folder"));

    auto recipe = recipe::readRecipeFile(toStd(parser.positionalArguments().front()));
    if (!recipe) {
        printError(kName, recipe.error());
        return kExitFailed;
    }
    if (recipe->usesSlices()) {
        printError(kName, QStringLiteral("recipes with slices: have no weight-space curves"));
        return kExitFailed;
    }

    // The analysed set: the recipe's base (else its first model), then the other models.
    std::vector<recipe::ModelRef> refs = recipe->referencedModels();
    std::vector<std::shared_ptr<const Checkpoint>> models;
    for (const recipe::ModelRef &ref : refs) {
        auto checkpoint =
            Checkpoint::open(ref.resolved.empty() ? std::filesystem::path(ref.path) : ref.resolved);
        if (!checkpoint) {
            printError(kName, checkpoint.error());
            return kExitFailed;
        }
        models.push_back(std::move(*checkpoint));
    }
    if (models.size() < 2) {
        printError(kName, QStringLiteral("the recipe needs a base and at least one other model"));
        return kExitFailed;
    }
    auto set = ModelSet::create(std::move(models));
    if (!set) {
        printError(kName, set.error());
        return kExitFailed;
    }
    analysis::AnalysisOptions options;
    options.sampleSize = sampleSize;
    g_cancel = false;
    const auto previous = std::signal(SIGINT, onCurvesInterrupt);
    auto snapshot = analysis::analyse(**set, options, {}, &g_cancel);
    std::signal(SIGINT, previous);
    if (!snapshot) {
        printError(kName, snapshot.error());
        return snapshot.error().code == ErrorCode::Cancelled ? kExitCancelled : kExitFailed;
    }
    const analysis::AnalysisSnapshot &result = **snapshot;

    // Models named by --vary.
    const QStringList named = varModel.isEmpty() ? QStringList() : varModel.split(QLatin1Char(','));
    std::vector<int> picked;
    for (const QString &name : named) {
        const int s = findModel(result, *recipe, name);
        if (s < 0)
            return usage(
                QStringLiteral("--vary names model '%1', which the recipe does not use").arg(name));
        picked.push_back(s);
    }
    if (*variable == analysis::CurveVariable::Alpha) {
        if (picked.size() == 2) {
            request.modelA = picked[0];
            request.modelB = picked[1];
        } else if (picked.size() == 1) {
            request.modelA = 0;
            request.modelB = picked[0];
        } else if (recipe->mergeMethod == "slerp" || result.fineTunes() == 1) {
            request.modelA = 0;
            request.modelB = 1;
        } else {
            request.modelA = 1;
            request.modelB = 2;
        }
    } else if (!picked.empty()) {
        request.model = picked.front();
    }

    auto curves = analysis::computeCurves(result, &*recipe, request);
    if (!curves) {
        printError(kName, curves.error());
        return curves.error().code == ErrorCode::InvalidArgument ? kExitUsage : kExitFailed;
    }

    // Real evaluations, through the same Evaluator the GUI uses, on a local event loop.
    std::unique_ptr<QCoreApplication> app;
    static int argc = 1;
    static char arg0[] = "basin";
    static char *argv[] = {arg0, nullptr};
    if (parser.isSet(png)) {
        qputenv("QT_QPA_PLATFORM", "offscreen");
        app = std::make_unique<QApplication>(argc, argv);
    } else if (parser.isSet(eval)) {
        app = std::make_unique<QCoreApplication>(argc, argv);
    }
    std::map<double, double> scores;
    int failures = 0;
    if (parser.isSet(eval)) {
        ui::JobRunner runner;
        ui::Evaluator evaluator(&runner);
        evaluator.setCommand(parser.value(eval));
        evaluator.setTimeoutMs(timeoutSeconds * 1000);
        QEventLoop loop;
        QObject::connect(&evaluator, &ui::Evaluator::logMessage, [](const QString &line) {
            std::fprintf(stderr, "%s\n", qPrintable(line));
        });
        QObject::connect(&evaluator, &ui::Evaluator::pointFinished,
                         [&](double x, double score, bool) { scores[x] = score; });
        QObject::connect(
            &evaluator, &ui::Evaluator::pointFailed, [&](double x, const QString &message) {
                ++failures;
                printError(kName,
                           QStringLiteral("evaluation at %1 failed: %2").arg(x).arg(message));
            });
        QObject::connect(&evaluator, &ui::Evaluator::idle, &loop, &QEventLoop::quit);
        for (double x : curves->x) {
            auto candidate = analysis::recipeAt(result, &*recipe, request, x);
            if (!candidate) {
                printError(kName, candidate.error());
                return kExitFailed;
            }
            evaluator.enqueue(x, *candidate);
        }
        if (evaluator.busy())
            loop.exec();
    }

    std::string text = analysis::curvesCsv(*curves);
    if (parser.isSet(eval)) {
        // One more column: the measured score, empty where the evaluation failed.
        std::string withScores;
        std::size_t row = 0, pos = 0;
        while (pos < text.size()) {
            const std::size_t end = text.find('\n', pos);
            std::string line = text.substr(pos, end - pos);
            if (row == 0) {
                line += ",score";
            } else {
                line += ',';
                const auto it = scores.find(curves->x[row - 1]);
                if (it != scores.end())
                    line += QString::number(it->second, 'g', 17).toStdString();
            }
            withScores += line + '\n';
            ++row;
            pos = end + 1;
        }
        text = withScores;
    }
    const QString header =
        QStringLiteral("%1, %2%3")
            .arg(toQString(curves->yTitle), toQString(curves->scope),
                 curves->exact
                     ? QString()
                     : QStringLiteral(" (≈ sample ≤ %1 per tensor)").arg(curves->sampleSize));
    QString error;
    if (parser.isSet(csv)) {
        if (!writeText(parser.value(csv), text, error)) {
            printError(kName, error);
            return kExitFailed;
        }
        printOut(header + QLatin1Char('\n'));
    } else {
        printOut(header + QLatin1Char('\n') + toQString(text));
    }
    for (const std::string &warning : curves->warnings)
        std::fprintf(stderr, "basin curves: note: %s\n", warning.c_str());

    if (parser.isSet(png)) {
        ui::CurveData data = ui::curveDataFrom(*curves);
        if (!scores.empty()) {
            ui::MeasuredSeries measured;
            measured.name = QStringLiteral("score");
            for (const auto &[x, y] : scores) {
                measured.x.push_back(x);
                measured.y.push_back(y);
            }
            data.measured.push_back(std::move(measured));
            data.y2Label = QStringLiteral("evaluator score");
        }
        ui::CurvePlotWidget widget;
        widget.setData(std::move(data));
        if (curves->current)
            widget.setCurrentValue(*curves->current);
        if (!widget.savePng(parser.value(png), 1000, 650)) {
            printError(kName, parser.value(png) + QStringLiteral(": cannot write the PNG"));
            return kExitFailed;
        }
    }
    return failures > 0 ? kExitFailed : kExitOk;
}

} // namespace basin::cli
