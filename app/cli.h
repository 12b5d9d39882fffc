// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "common/error.h"

#include <QCommandLineParser>
#include <QString>
#include <QStringList>

#include <cstdint>

namespace basin::cli {

// Prints "basin NAME: message" to stderr.
void printError(const QString &command, const QString &message);
void printError(const QString &command, const Error &error);
void printOut(const QString &text);

// Parses a subcommand's arguments. On failure (unknown option, missing value) prints the
// parser's message and a hint to stderr and returns false: the caller exits with kExitUsage.
// On --help prints the help and sets helpShown.
bool parseSubcommand(QCommandLineParser &parser, const QString &name, const QStringList &args,
                     bool &helpShown);

QString toQString(const std::string &text);
// A byte count in binary units with one decimal ("178.5 MiB"; whole bytes below 1 KiB).
QString humanBytes(std::uint64_t bytes);
std::string toStd(const QString &text);

} // namespace basin::cli
