// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

namespace basin::app {

// Makes idle OpenMP threads sleep instead of spin, by re-executing the program once with
// OMP_WAIT_POLICY=passive (libgomp reads the policy only when it loads, before main()).
// Keeps a policy the user set. Returns only when no re-execution happened (policy already
// set, or exec failed: then the program runs with libgomp's default).
void preferPassiveOpenMpWait(char **argv);

} // namespace basin::app
