// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli.h"

#include <cstdio>

namespace basin::cli {

void printError(const QString &command, const QString &message)
{
    std::fprintf(stderr, "basin %s: %s\n", qPrintable(command), qPrintable(message));
}

void printError(const QString &command, const Error &error)
{
    printError(command, toQString(error.message));
}

void printOut(const QString &text)
{
    std::fputs(qPrintable(text), stdout);
    std::fflush(stdout);
}

bool parseSubcommand(QCommandLineParser &parser, const QString &name, const QStringList &args,
                     bool &helpShown)
{
    helpShown = false;
    const QCommandLineOption help(QStringList{QStringLiteral("h"), QStringLiteral("help")},
                                  QStringLiteral("Show this help."));
    parser.addOption(help);
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    QStringList full = args;
    full.prepend(QStringLiteral("basin"));
    if (!parser.parse(full)) {
        printError(name, parser.errorText());
        std::fprintf(stderr, "Try 'basin %s --help'.\n", qPrintable(name));
        return false;
    }
    if (parser.isSet(help)) {
        QString text = parser.helpText();
        // Without a QCoreApplication the parser cannot know the program name.
        text.replace(QStringLiteral("<executable_name>"), QStringLiteral("basin ") + name);
        printOut(text);
        helpShown = true;
    }
    return true;
}

QString humanBytes(std::uint64_t bytes)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024.0 && unit < 4) {
        value /= 1024.0;
        ++unit;
    }
    return QStringLiteral("%1 %2")
        .arg(value, 0, 'f', unit == 0 ? 0 : 1)
        .arg(QLatin1String(units[unit]));
}

QString toQString(const std::string &text)
{
    return QString::fromStdString(text);
}

std::string toStd(const QString &text)
{
    return text.toStdString();
}

} // namespace basin::cli
