// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli.h"
#include "commands.h"

namespace basin::cli {

int runMerge(const QStringList &args)
{
    Q_UNUSED(args);
    printError(QStringLiteral("merge"), QStringLiteral("not implemented yet"));
    return kExitFailed;
}

} // namespace basin::cli
