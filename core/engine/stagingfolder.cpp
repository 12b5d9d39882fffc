// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/stagingfolder.h"

#include "io/atomicfile.h"
#include "io/faultinjection.h"
#include "io/mappedfile.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace basin::engine {

namespace {

constexpr std::string_view kOldTag = ".basin-old-";

std::string oldPrefix(const fs::path &destination)
{
    std::string prefix(1, '.');
    prefix += destination.filename().string();
    prefix += kOldTag;
    return prefix;
}

// "PID-XXXXXX" after the prefix → PID, or -1.
long pidAfter(const std::string &name, std::size_t prefixLength)
{
    long pid = 0;
    std::size_t i = prefixLength;
    for (; i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) {
        pid = pid * 10 + (name[i] - '0');
        if (pid > 1L << 31)
            return -1;
    }
    if (i == prefixLength || i >= name.size() || name[i] != '-')
        return -1;
    return pid;
}

bool processAlive(long pid)
{
    if (pid <= 0)
        return true; // unknown: leave it alone
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH;
}

// Temporary folders of earlier runs to the same destination whose process is gone.
void removeStale(const fs::path &destination)
{
    const std::string prefixes[] = {StagingFolder::temporaryPrefix(destination),
                                    oldPrefix(destination)};
    std::error_code ec;
    std::vector<fs::path> stale;
    for (const fs::directory_entry &entry : fs::directory_iterator(destination.parent_path(), ec)) {
        const std::string name = entry.path().filename().string();
        for (const std::string &prefix : prefixes) {
            if (!name.starts_with(prefix))
                continue;
            const long pid = pidAfter(name, prefix.size());
            if (pid > 0 && pid != static_cast<long>(::getpid()) && !processAlive(pid))
                stale.push_back(entry.path());
        }
    }
    for (const fs::path &path : stale)
        fs::remove_all(path, ec);
}

bool isEmptyFolder(const fs::path &path)
{
    std::error_code ec;
    return fs::is_empty(path, ec) && !ec;
}

// A fresh hidden folder ".NAME<tag>PID-XXXXXX" next to the destination. mkdir (not mkdtemp,
// which makes it private) so the finished model gets the permissions the umask gives.
Result<fs::path> makeSibling(const fs::path &destination, const std::string &prefix)
{
    static std::atomic<std::uint64_t> counter{0};
    const std::string stem =
        (destination.parent_path() / prefix).string() + std::to_string(::getpid()) + "-";
    constexpr char kDigits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::uint64_t bits = std::chrono::steady_clock::now().time_since_epoch().count() ^
                             (counter.fetch_add(1) * 0x9e3779b97f4a7c15ull);
        std::string name = stem;
        for (int i = 0; i < 6; ++i) {
            name += kDigits[bits % 36];
            bits /= 36;
        }
        if (fault::mkdir(name.c_str(), 0777) == 0)
            return fs::path(name);
        if (errno != EEXIST)
            return errnoError(errno, destination.parent_path(),
                              "cannot create a temporary folder for " +
                                  destination.filename().string());
    }
    return makeError(ErrorCode::IoError, destination.parent_path().string() +
                                             ": cannot find a free temporary folder name");
}

} // namespace

std::string StagingFolder::temporaryPrefix(const fs::path &destination)
{
    std::string prefix(1, '.');
    prefix += destination.filename().string();
    prefix += ".basin-tmp-";
    return prefix;
}

Result<fs::path> checkDestination(const fs::path &destination, bool overwrite)
{
    std::error_code ec;
    fs::path absolute = fs::absolute(destination, ec);
    if (ec)
        return makeError(ErrorCode::IoError, destination.string() + ": " + ec.message());
    absolute = absolute.lexically_normal();
    if (!absolute.has_filename())
        absolute = absolute.parent_path(); // "out/" names the folder out
    const std::string name = absolute.filename().string();
    if (name.empty() || name == "." || name == ".." || absolute == absolute.root_path())
        return makeError(ErrorCode::InvalidArgument,
                         destination.string() + ": the output must be a named folder");

    const fs::path parent = absolute.parent_path();
    const fs::file_status parentStatus = fs::status(parent, ec);
    if (!fs::exists(parentStatus))
        return makeError(ErrorCode::NotFound, absolute.string() + ": the parent folder " +
                                                  parent.string() + " does not exist");
    if (!fs::is_directory(parentStatus))
        return makeError(ErrorCode::IoError,
                         absolute.string() + ": cannot create the output here: " + parent.string() +
                             " is not a folder");

    const fs::file_status status = fs::symlink_status(absolute, ec);
    if (!fs::exists(status))
        return absolute;
    if (fs::is_symlink(status))
        return makeError(ErrorCode::DestinationExists,
                         absolute.string() + ": is a symbolic link; refusing to replace it");
    if (!fs::is_directory(status))
        return makeError(ErrorCode::DestinationExists,
                         absolute.string() +
                             ": exists and is not a folder; refusing to replace it");
    if (!overwrite && !isEmptyFolder(absolute))
        return makeError(ErrorCode::DestinationExists,
                         absolute.string() + ": the folder exists and is not empty; allow "
                                             "overwriting to replace it");
    return absolute;
}

Result<std::unique_ptr<StagingFolder>> StagingFolder::create(const fs::path &destination,
                                                             bool overwrite)
{
    Result<fs::path> checked = checkDestination(destination, overwrite);
    if (!checked)
        return checked.takeError();
    removeStale(*checked);
    Result<fs::path> temp = makeSibling(*checked, temporaryPrefix(*checked));
    if (!temp)
        return temp.takeError();
    std::unique_ptr<StagingFolder> folder(new StagingFolder());
    folder->m_destination = *checked;
    folder->m_temp = *temp;
    folder->m_overwrite = overwrite;
    return folder;
}

StagingFolder::~StagingFolder()
{
    if (!m_done)
        abort();
}

void StagingFolder::abort()
{
    if (m_done)
        return;
    m_done = true;
    std::error_code ec;
    fs::remove_all(m_temp, ec);
}

Result<void> StagingFolder::commit()
{
    if (m_done)
        return makeError(ErrorCode::Internal, m_temp.string() + ": already committed or removed");
    BASIN_TRY(syncFolder(m_temp));
    std::error_code ec;
    const fs::file_status status = fs::symlink_status(m_destination, ec);

    if (!fs::exists(status)) {
        // RENAME_NOREPLACE: a folder created meanwhile is never clobbered.
        if (::renameat2(AT_FDCWD, m_temp.c_str(), AT_FDCWD, m_destination.c_str(),
                        RENAME_NOREPLACE) != 0) {
            const int err = errno;
            if (err != EINVAL && err != ENOSYS)
                return errnoError(err, m_destination, "cannot move the merged model into place");
            if (::rename(m_temp.c_str(), m_destination.c_str()) != 0)
                return errnoError(errno, m_destination, "cannot move the merged model into place");
        }
        m_done = true;
        return syncParent();
    }

    if (!fs::is_directory(status) || fs::is_symlink(status) ||
        (!m_overwrite && !isEmptyFolder(m_destination)))
        return makeError(ErrorCode::DestinationExists,
                         m_destination.string() +
                             ": appeared while merging; refusing to replace it");

    // Swap the new folder with the old one in one step; the old one then sits at the
    // temporary name and is removed.
    if (::renameat2(AT_FDCWD, m_temp.c_str(), AT_FDCWD, m_destination.c_str(), RENAME_EXCHANGE) ==
        0) {
        m_done = true;
        fs::remove_all(m_temp, ec);
        return syncParent();
    }
    if (errno != EINVAL && errno != ENOSYS)
        return errnoError(errno, m_destination, "cannot replace the folder");

    // No atomic exchange on this file system: move the old folder aside, the new one in, and
    // put the old one back if that fails.
    Result<fs::path> aside = makeSibling(m_destination, oldPrefix(m_destination));
    if (!aside)
        return aside.takeError();
    if (::rename(m_destination.c_str(), aside->c_str()) != 0) {
        const int err = errno;
        fs::remove(*aside, ec);
        return errnoError(err, m_destination, "cannot move the old folder aside");
    }
    if (::rename(m_temp.c_str(), m_destination.c_str()) != 0) {
        const int err = errno;
        (void)::rename(aside->c_str(), m_destination.c_str());
        return errnoError(err, m_destination, "cannot move the merged model into place");
    }
    m_done = true;
    fs::remove_all(*aside, ec);
    return syncParent();
}

Result<void> StagingFolder::syncParent()
{
    // The model is complete and in place: rolling the rename back would trade a finished
    // output for nothing. Only the rename's durability across a power loss is in doubt, so
    // that becomes a warning.
    Result<void> synced = syncFolder(m_destination.parent_path());
    if (!synced)
        m_warning = synced.error().message +
                    " (the merged model is complete, but its move into place may not survive "
                    "a power loss)";
    return {};
}

} // namespace basin::engine
