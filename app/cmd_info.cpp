// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli.h"
#include "commands.h"

namespace basin::cli {

int runInfo(const QStringList &args)
{
    Q_UNUSED(args);
    printError(QStringLiteral("info"), QStringLiteral("not implemented yet"));
    return kExitFailed;
}

} // namespace basin::cli
