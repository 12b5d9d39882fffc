// SPDX-License-Identifier: GPL-3.0-or-later
#include "workbench/democache.h"

#include "basin/version.h"
#include "model/checkpoint.h"
#include "model/demofamily.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QStandardPaths>

#include <cerrno>
#include <charconv>
#include <string>
#include <system_error>

#include <signal.h>

namespace basin::ui {

namespace {
constexpr int kFineTunes = 3;

std::vector<std::filesystem::path> memberFolders(const std::filesystem::path &folder)
{
    std::vector<std::filesystem::path> models{folder / "base"};
    for (int t = 1; t <= kFineTunes; ++t)
        models.push_back(folder / ("ft" + std::to_string(t)));
    return models;
}

// Intact: the family manifest is there and every model opens (headers only, fast).
bool intact(const std::filesystem::path &folder)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(folder / "family.json", ec))
        return false;
    for (const std::filesystem::path &model : memberFolders(folder)) {
        if (!Checkpoint::open(model))
            return false;
    }
    return true;
}
std::string stagingPrefix(const std::filesystem::path &folder)
{
    return folder.filename().string() + ".tmp-";
}

// A Basin killed while writing the family leaves its staging sibling behind
// (<name>.tmp-<pid>-<random>). Removes those whose process is gone; another running Basin's
// (or this one's) staging folder is left alone.
void removeAbandonedStaging(const std::filesystem::path &folder)
{
    const std::string prefix = stagingPrefix(folder);
    std::error_code ec;
    std::filesystem::directory_iterator entries(folder.parent_path(), ec);
    if (ec)
        return;
    for (const std::filesystem::directory_entry &entry : entries) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(prefix, 0) != 0)
            continue;
        const char *first = name.data() + prefix.size();
        const char *last = name.data() + name.size();
        long long pid = 0;
        const auto [end, error] = std::from_chars(first, last, pid);
        if (error != std::errc() || end == last || *end != '-' || pid <= 0 ||
            pid == QCoreApplication::applicationPid())
            continue;
        if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)
            continue; // alive, or not ours to judge
        std::error_code ignored;
        std::filesystem::remove_all(entry.path(), ignored);
    }
}
} // namespace

bool isDemoSize(const QString &size)
{
    return size == QLatin1String("tiny") || size == QLatin1String("small");
}

QString demoCacheFolder(const QString &size)
{
    const QString root = QStandardPaths::writableLocation(QStandardPaths::CacheLocation);
    return QDir(root).filePath(QStringLiteral("demo-%1-%2").arg(QLatin1String(kVersion), size));
}

Result<DemoFamily> ensureDemoFamily(const std::filesystem::path &folder, const QString &size,
                                    const ProgressSink &progress, const CancelFlag *cancel)
{
    if (!isDemoSize(size))
        return makeError(ErrorCode::InvalidArgument,
                         "unknown demo size '" + size.toStdString() + "' (tiny or small)");
    DemoFamily family;
    family.models = memberFolders(folder);
    removeAbandonedStaging(folder);
    if (intact(folder))
        return family;

    std::error_code ec;
    std::filesystem::remove_all(folder, ec);
    if (ec)
        return makeError(ErrorCode::IoError, "cannot remove the broken demo cache " +
                                                 folder.string() + ": " + ec.message());
    // Written into a private sibling and renamed into place, so a second Basin starting at
    // the same time never sees (or deletes) a half-written family: whoever renames first
    // wins, the other one uses that family.
    const std::filesystem::path staging =
        folder.parent_path() /
        (stagingPrefix(folder) + std::to_string(QCoreApplication::applicationPid()) + "-" +
         std::to_string(QRandomGenerator::global()->generate()));
    std::filesystem::create_directories(folder.parent_path(), ec);
    DemoFamilyOptions options;
    options.size = size.toStdString();
    options.fineTunes = kFineTunes;
    options.dtype = Dtype::BF16; // like real fine-tunes: shows the bf16 step view too
    options.seed = 1;
    Result<DemoFamilyResult> written = writeDemoFamily(staging, options, progress, cancel);
    if (!written) {
        std::filesystem::remove_all(staging, ec); // never leave a half family behind
        return written.takeError();
    }
    std::filesystem::rename(staging, folder, ec);
    if (ec) {
        std::filesystem::remove_all(staging, ec);
        if (intact(folder))
            return family; // another Basin finished first
        return makeError(ErrorCode::IoError, "cannot move the demo family into " + folder.string());
    }
    family.generated = true;
    return family;
}

} // namespace basin::ui
