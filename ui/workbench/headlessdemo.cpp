// SPDX-License-Identifier: GPL-3.0-or-later
#include "workbench/headlessdemo.h"

#include "analysis/analysispass.h"
#include "analysis/metrics.h"
#include "basin/version.h"
#include "engine/mergerunner.h"
#include "model/modelset.h"
#include "recipe/yamlreader.h"
#include "workbench/democache.h"
#include "workbench/demoreport.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLocale>

#include <csignal>
#include <cstdio>
#include <sstream>

namespace basin::ui {

namespace {
CancelFlag g_cancel{false};

void onInterrupt(int)
{
    g_cancel.store(true);
}

void say(const QString &line)
{
    std::fputs(line.toLocal8Bit().constData(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

int fail(const QString &step, const Error &error)
{
    std::fprintf(stderr, "basin --demo: %s: %s\n", step.toLocal8Bit().constData(),
                 error.message.c_str());
    return error.code == ErrorCode::Cancelled ? 130 : 1;
}

QString fromPath(const std::filesystem::path &path)
{
    return QFile::decodeName(QByteArray::fromStdString(path.string()));
}

// YAML single-quoted scalar: quotes doubled, nothing else is special.
std::string yamlQuoted(const std::filesystem::path &path)
{
    std::string out = "'";
    for (const char c : path.string()) {
        out += c;
        if (c == '\'')
            out += '\'';
    }
    return out + "'";
}

// TIES with the usual settings: each fine-tune keeps its top half by magnitude, equal
// weights, normalised; computed in f32, written in the family's bf16.
std::string tiesRecipe(const std::vector<std::filesystem::path> &models)
{
    std::ostringstream yaml;
    yaml << "merge_method: ties\n";
    yaml << "base_model: " << yamlQuoted(models.front()) << "\n";
    yaml << "parameters: {normalize: true}\n";
    yaml << "dtype: float32\n";
    yaml << "out_dtype: bfloat16\n";
    yaml << "models:\n";
    for (std::size_t i = 1; i < models.size(); ++i) {
        yaml << "  - model: " << yamlQuoted(models[i]) << "\n";
        yaml << "    parameters: {weight: 1.0, density: 0.5}\n";
    }
    return yaml.str();
}

QString percent(const std::optional<double> &share)
{
    return share ? QStringLiteral("%1 %").arg(*share * 100.0, 0, 'f', 1) : QStringLiteral("–");
}

QString number(const std::optional<double> &value)
{
    return value ? QString::number(*value, 'f', 3) : QStringLiteral("–");
}
} // namespace

int runHeadlessDemo(const HeadlessDemoOptions &options)
{
    g_cancel.store(false);
    const auto previousHandler = std::signal(SIGINT, onInterrupt);
    struct RestoreHandler {
        decltype(previousHandler) handler;
        ~RestoreHandler() { std::signal(SIGINT, handler); }
    } restore{previousHandler};

    say(QStringLiteral("basin %1 — demo (no display found: running headless)")
            .arg(QLatin1String(kVersion)));

    // 1. The family.
    const QString folder = demoCacheFolder(options.size);
    const std::filesystem::path fsFolder(QFile::encodeName(folder).toStdString());
    say(QStringLiteral("demo family (%1): %2").arg(options.size, folder));
    Result<DemoFamily> family = ensureDemoFamily(fsFolder, options.size, {}, &g_cancel);
    if (!family)
        return fail(QStringLiteral("generating the demo family"), family.error());
    say(family->generated ? QStringLiteral("  generated base + 3 fine-tunes (bf16)")
                          : QStringLiteral("  reused the cached family"));

    // 2. The analysis.
    std::vector<std::shared_ptr<const Checkpoint>> checkpoints;
    for (const std::filesystem::path &path : family->models) {
        Result<std::shared_ptr<const Checkpoint>> opened = Checkpoint::open(path);
        if (!opened)
            return fail(QStringLiteral("opening %1").arg(fromPath(path)), opened.error());
        checkpoints.push_back(*opened);
    }
    Result<std::shared_ptr<const ModelSet>> set = ModelSet::create(checkpoints);
    if (!set)
        return fail(QStringLiteral("aligning the models"), set.error());
    Result<std::shared_ptr<const analysis::AnalysisSnapshot>> snapshot =
        analysis::analyse(**set, analysis::AnalysisOptions{}, {}, &g_cancel);
    if (!snapshot)
        return fail(QStringLiteral("analysing"), snapshot.error());
    const analysis::AnalysisSnapshot &snap = **snapshot;
    say(QStringLiteral("analysed %1 tensors of %2 models in %3 s")
            .arg(snap.tensors.size())
            .arg(snap.modelNames.size())
            .arg(snap.seconds, 0, 'f', 2));
    QStringList notes;
    notes << QStringLiteral("Family: %1 (base + %2 fine-tunes, bf16), %3 layers — %4")
                 .arg(options.size)
                 .arg(snap.fineTunes())
                 .arg((*set)->layerCount())
                 .arg(folder);
    for (int i = 0; i < snap.fineTunes(); ++i) {
        for (int j = i + 1; j < snap.fineTunes(); ++j) {
            const QString line =
                QStringLiteral("%1 vs %2: cosine %3, sign conflict %4 (whole model)")
                    .arg(QString::fromStdString(snap.fineTuneLabel(i)),
                         QString::fromStdString(snap.fineTuneLabel(j)),
                         number(analysis::cosine(snap.total, i, j)),
                         percent(analysis::signConflict(snap.total, i, j)));
            say(QStringLiteral("  ") + line);
            notes << line;
        }
    }

    notes << QStringLiteral("Grey cells have no value: a fine-tune left that part of the model "
                            "unchanged (ft3 changes only the MLP of the upper layers).");

    // 3. The report, written before the merge so that it exists even if the merge fails.
    const QString report =
        QFileInfo(options.reportPath.isEmpty() ? QStringLiteral("basin-demo-report.png")
                                               : options.reportPath)
            .absoluteFilePath();
    QString error;
    const QString heading =
        QStringLiteral("Basin %1 — where the demo fine-tunes interfere (%2)")
            .arg(QLatin1String(kVersion),
                 QDateTime::currentDateTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")));
    if (!writeDemoReport(snap, heading, notes, report, &error)) {
        std::fprintf(stderr, "basin --demo: writing the report: %s\n",
                     error.toLocal8Bit().constData());
        return 1;
    }
    say(QStringLiteral("report: %1").arg(report));

    // 4. A TIES merge through the engine.
    // Beside the family, not in it: the family folder opens as exactly base + fine-tunes.
    std::filesystem::path mergedDir = fsFolder;
    mergedDir += "-ties";
    Result<recipe::Recipe> recipe = recipe::readRecipeString(tiesRecipe(family->models), fsFolder);
    if (!recipe)
        return fail(QStringLiteral("preparing the TIES recipe"), recipe.error());
    engine::MergeRequest request;
    request.recipe = std::move(recipe).value();
    request.outDir = mergedDir;
    request.options.overwrite = true;
    Result<engine::MergeReport> merged = engine::runMerge(request, {}, g_cancel);
    if (!merged)
        return fail(QStringLiteral("merging with TIES"), merged.error());
    const QString mergeLine =
        QStringLiteral("TIES merge (density 0.5, normalised): %1 tensors, %2 in %3 s → %4")
            .arg(merged->tensors.size())
            .arg(QLocale::c().formattedDataSize(static_cast<qint64>(merged->tensorBytes)))
            .arg(merged->seconds, 0, 'f', 2)
            .arg(fromPath(mergedDir));
    say(mergeLine);

    say(QStringLiteral("Open the family in the workbench with: basin %1").arg(folder));
    return 0;
}

} // namespace basin::ui
