// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli.h"
#include "commands.h"

namespace basin::cli {

int runInspect(const QStringList &args)
{
    Q_UNUSED(args);
    printError(QStringLiteral("inspect"), QStringLiteral("not implemented yet"));
    return kExitFailed;
}

} // namespace basin::cli
