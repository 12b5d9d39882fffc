// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"

#include <filesystem>
#include <memory>
#include <string>

namespace basin::engine {

// Checks that `destination` can receive a merged model: its parent is an existing folder,
// and it is absent, an empty folder, or (with `overwrite`) a folder to replace; symbolic
// links and files are refused. Returns the absolute, normalised destination. Errors:
// InvalidArgument (no folder name), NotFound (no parent folder), IoError (the parent is not
// a folder), DestinationExists (a file, a link, or a non-empty folder without overwrite).
Result<std::filesystem::path> checkDestination(const std::filesystem::path &destination,
                                               bool overwrite);

// The temporary sibling a merge writes into (".NAME.basin-tmp-PID-XXXXXX", next to the
// destination so the final rename is atomic). Destroying it before commit() removes it, so a
// cancelled or failed merge leaves nothing; a killed process leaves a hidden folder that the
// next StagingFolder for the same destination removes.
class StagingFolder {
public:
    // Checks the destination (checkDestination), removes stale temporary folders of dead
    // processes for it, and creates the temporary folder. Errors: checkDestination's,
    // PermissionDenied / NoSpace / IoError from mkdir, naming the folder.
    static Result<std::unique_ptr<StagingFolder>> create(const std::filesystem::path &destination,
                                                         bool overwrite);

    ~StagingFolder();
    StagingFolder(const StagingFolder &) = delete;
    StagingFolder &operator=(const StagingFolder &) = delete;

    // The temporary folder to write into.
    const std::filesystem::path &path() const { return m_temp; }
    const std::filesystem::path &destination() const { return m_destination; }

    // Moves the finished folder into place. An existing destination (empty, or replaced with
    // overwrite) is swapped out atomically where the system allows and removed afterwards;
    // on any failure the old destination is left as it was. Errors: DestinationExists (a
    // non-empty destination appeared meanwhile and overwrite is off), IoError /
    // PermissionDenied from rename. Once the folder is in place, a failure to sync the parent
    // folder is not an error: it is reported by warning().
    Result<void> commit();
    // After commit(): why the move into place may not be durable, or empty.
    const std::string &warning() const { return m_warning; }
    // Removes the temporary folder (what the destructor does before commit()).
    void abort();

    // Prefix of the temporary folders of `destination`: ".NAME.basin-tmp-".
    static std::string temporaryPrefix(const std::filesystem::path &destination);

private:
    StagingFolder() = default;
    Result<void> syncParent();
    std::filesystem::path m_destination;
    std::filesystem::path m_temp;
    bool m_overwrite = false;
    bool m_done = false;
    std::string m_warning;
};

} // namespace basin::engine
