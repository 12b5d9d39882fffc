// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/result.h"

#include <cstddef>
#include <filesystem>
#include <span>
#include <string_view>

namespace basin {

// A unique temporary name next to `finalPath` (same folder, so rename() is atomic):
// ".NAME.tmp-PID-N". The file is not created.
std::filesystem::path temporarySibling(const std::filesystem::path &finalPath);

// Writes `content` to a temporary sibling of `path`, fsyncs it and renames it over `path`,
// so readers see the old file or the whole new one, never a part. An existing `path` that
// is not a regular file is refused (DestinationExists) before anything is written. Errors: NoSpace,
// PermissionDenied, IoError (the message names the file); the temporary is removed.
Result<void> writeFileAtomic(const std::filesystem::path &path, std::string_view content);

// Succeeds when `path` is absent or a regular file (something a writer may replace);
// refuses devices, folders, sockets and symlinks with DestinationExists.
Result<void> checkReplaceable(const std::filesystem::path &path);

// fsync on a folder, so a rename inside it survives a crash. Errors: IoError.
Result<void> syncFolder(const std::filesystem::path &folder);

} // namespace basin
