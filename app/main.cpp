// SPDX-License-Identifier: GPL-3.0-or-later
// Entry point: `basin SUBCOMMAND …` runs headless; anything else opens the workbench.
#include "basin/version.h"
#include "cli.h"
#include "commands.h"
#include "mainwindow.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>

#include <cstdio>

namespace {

QString helpText(const QCommandLineParser &parser)
{
    QString text = parser.helpText();
    text.replace(QStringLiteral("<executable_name>"), QStringLiteral("basin"));
    text += QStringLiteral("\nCommands (run headless, no display needed):\n");
    for (const basin::cli::Command &command : basin::cli::commands()) {
        text += QStringLiteral("  %1  %2\n")
                    .arg(QString::fromLatin1(command.name).leftJustified(10))
                    .arg(QLatin1String(command.summary));
    }
    text += QStringLiteral("\n'basin COMMAND --help' describes a command.\n");
    return text;
}

} // namespace

int main(int argc, char **argv)
{
    QStringList args;
    for (int i = 0; i < argc; ++i)
        args << QString::fromLocal8Bit(argv[i]);

    if (args.size() > 1 && !args.at(1).startsWith(QLatin1Char('-'))) {
        if (const basin::cli::Command *command = basin::cli::findCommand(args.at(1)))
            return command->run(args.mid(2));
        basin::cli::printError(args.at(1), QStringLiteral("unknown command. Try 'basin --help'."));
        return basin::cli::kExitUsage;
    }

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Basin: a workbench for merging fine-tuned models that share a base model."));
    parser.addPositionalArgument(QStringLiteral("command"),
                                 QStringLiteral("Optional headless command (see below)."),
                                 QStringLiteral("[command]"));
    const QCommandLineOption help(QStringList{QStringLiteral("h"), QStringLiteral("help")},
                                  QStringLiteral("Show this help."));
    const QCommandLineOption version(QStringList{QStringLiteral("v"), QStringLiteral("version")},
                                     QStringLiteral("Show the version."));
    const QCommandLineOption demo(
        QStringLiteral("demo"),
        QStringLiteral("Open the workbench on a generated demo model family (headless report "
                       "when no display is available)."));
    parser.addOptions({help, version, demo});
    if (!parser.parse(args)) {
        basin::cli::printError(QStringLiteral("--"), parser.errorText());
        std::fputs("Try 'basin --help'.\n", stderr);
        return basin::cli::kExitUsage;
    }
    if (parser.isSet(help)) {
        basin::cli::printOut(helpText(parser));
        return basin::cli::kExitOk;
    }
    if (parser.isSet(version)) {
        basin::cli::printOut(QStringLiteral("basin %1\n").arg(QLatin1String(basin::kVersion)));
        return basin::cli::kExitOk;
    }

    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Basin"));
    QApplication::setOrganizationName(QStringLiteral("Basin"));
    QApplication::setApplicationVersion(QLatin1String(basin::kVersion));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/basin/basin.svg")));

    basin::ui::MainWindow window;
    window.show();
    return QApplication::exec();
}
