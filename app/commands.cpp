// SPDX-License-Identifier: GPL-3.0-or-later
#include "commands.h"

#include <array>

namespace basin::cli {

namespace {
const std::array kCommands{
    Command{"demo", "write a generated demo model family (base + fine-tunes)", &runDemo},
    Command{"info", "describe a checkpoint: architecture, tensors, dtypes, warnings", &runInfo},
    Command{"inspect", "task-vector statistics and interference of fine-tunes", &runInspect},
    Command{"merge", "run a mergekit-compatible recipe and write the merged model", &runMerge},
    Command{"curves", "weight-space interpolation curves for a recipe", &runCurves},
};
} // namespace

std::span<const Command> commands()
{
    return kCommands;
}

const Command *findCommand(const QString &name)
{
    for (const Command &command : kCommands) {
        if (name == QLatin1String(command.name))
            return &command;
    }
    return nullptr;
}

} // namespace basin::cli
