// SPDX-License-Identifier: GPL-3.0-or-later
#include "io/atomicfile.h"
#include "io/faultinjection.h"

#include "io/mappedfile.h"

#include <atomic>
#include <cerrno>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace basin {

std::filesystem::path temporarySibling(const std::filesystem::path &finalPath)
{
    static std::atomic<unsigned> counter{0};
    std::string name(1, '.');
    name += finalPath.filename().string();
    name += ".tmp-";
    name += std::to_string(::getpid());
    name += '-';
    name += std::to_string(counter++);
    return finalPath.parent_path() / name;
}

Result<void> syncFolder(const std::filesystem::path &folder)
{
    const std::filesystem::path target = folder.empty() ? std::filesystem::path(".") : folder;
    const int fd = ::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errnoError(errno, target, "cannot open folder to sync");
    const int rc = fault::fsync(fd);
    const int err = errno;
    ::close(fd);
    // Some file systems refuse fsync on folders; that is not a write failure.
    if (rc != 0 && err != EINVAL && err != EROFS)
        return errnoError(err, target, "cannot sync folder");
    return {};
}

Result<void> checkReplaceable(const std::filesystem::path &path)
{
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT)
            return {};
        return errnoError(errno, path, "cannot inspect");
    }
    if (!S_ISREG(st.st_mode))
        return makeError(ErrorCode::DestinationExists,
                         path.string() +
                             ": exists and is not a regular file; refusing to replace it");
    return {};
}

Result<void> writeFileAtomic(const std::filesystem::path &path, std::string_view content)
{
    BASIN_TRY(checkReplaceable(path));
    const std::filesystem::path temp = temporarySibling(path);
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return errnoError(errno, path, "cannot create");
    auto fail = [&](int err, const char *what) -> Result<void> {
        ::close(fd);
        ::unlink(temp.c_str());
        return errnoError(err, path, what);
    };
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = fault::write(fd, content.data() + done, content.size() - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail(errno, "write failed");
        }
        done += static_cast<std::size_t>(n);
    }
    if (fault::fsync(fd) != 0)
        return fail(errno, "sync failed");
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        return errnoError(err, path, "close failed");
    }
    if (fault::rename(temp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        return errnoError(err, path, "cannot rename into place");
    }
    return syncFolder(path.parent_path());
}

} // namespace basin
