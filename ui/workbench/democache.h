// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/progress.h"
#include "common/result.h"

#include <QString>

#include <filesystem>
#include <vector>

namespace basin::ui {

// The demo family `basin --demo` opens, generated once per Basin version and size into
// the user's cache folder and reused while it is intact.

// Sizes offered: "tiny" (4 layers, a second to make) and "small" (8 layers, the default).
bool isDemoSize(const QString &size);
// QStandardPaths::CacheLocation/demo-<version>-<size>.
QString demoCacheFolder(const QString &size);

struct DemoFamily {
    std::vector<std::filesystem::path> models; // base first, then ft1…ft3
    bool generated = false;                    // false: reused from the cache
};

// Returns the family in `folder`, writing it first when it is missing or does not open
// (a half-deleted or older cache is removed and regenerated). The family is written into a
// temporary sibling and renamed into place, so concurrent callers never see half of one;
// siblings left by a Basin that was killed while writing (its process is gone) are removed.
// Errors: those of
// writeDemoFamily() (InvalidArgument for an unknown size, NoSpace, PermissionDenied,
// Cancelled, …) and IoError when a broken cache cannot be removed.
Result<DemoFamily> ensureDemoFamily(const std::filesystem::path &folder, const QString &size,
                                    const ProgressSink &progress = {},
                                    const CancelFlag *cancel = nullptr);

} // namespace basin::ui
