// SPDX-License-Identifier: GPL-3.0-or-later
// Why: between parallel regions libgomp's threads spin for a while by default. During a
// merge the engine's writer, hasher and prefetch threads run next to the OpenMP team, and
// on a two-core machine the spinning took the cores they need: perf showed a fifth of all
// cycles of a ties merge in libgomp's wait loop. Passive waiting halved the CPU time of that
// merge and cut its wall time by about a third (docs/ENGINE.md, "Threading").
#include "openmpwait.h"

#include <cstdlib>

#include <unistd.h>

namespace basin::app {

void preferPassiveOpenMpWait(char **argv)
{
    if (std::getenv("OMP_WAIT_POLICY") != nullptr)
        return;
    if (::setenv("OMP_WAIT_POLICY", "passive", 1) != 0)
        return;
    ::execv("/proc/self/exe", argv);
    // Still here: exec failed (no /proc?). Run on with the default policy; the variable
    // stays set, so child processes (evaluator commands) start passive like a re-exec would.
}

} // namespace basin::app
