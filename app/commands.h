// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QStringList>

#include <span>

namespace basin::cli {

// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitCancelled = 130;

// A headless subcommand: `basin NAME ARGS…`. run() receives the arguments after NAME and
// returns the process exit code. It must not create a QApplication (no display needed);
// a command that renders (inspect --png) creates its own offscreen QGuiApplication.
struct Command {
    const char *name;
    const char *summary;
    int (*run)(const QStringList &args);
};

std::span<const Command> commands();
const Command *findCommand(const QString &name);

int runDemo(const QStringList &args);
int runInfo(const QStringList &args);
int runMerge(const QStringList &args);
int runInspect(const QStringList &args);
int runCurves(const QStringList &args);

} // namespace basin::cli
