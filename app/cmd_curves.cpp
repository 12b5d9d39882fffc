// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli.h"
#include "commands.h"

namespace basin::cli {

int runCurves(const QStringList &args)
{
    Q_UNUSED(args);
    printError(QStringLiteral("curves"), QStringLiteral("not implemented yet"));
    return kExitFailed;
}

} // namespace basin::cli
