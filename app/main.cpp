// SPDX-License-Identifier: GPL-3.0-or-later
// Entry point: `basin SUBCOMMAND …` runs headless; anything else opens the workbench
// (`basin`, `basin BASE FT1 FT2 …`, `basin --demo`). Without a display, `basin --demo`
// runs the headless demo instead of failing to open a window.
#include "basin/version.h"
#include "cli.h"
#include "commands.h"
#include "mainwindow.h"
#include "openmpwait.h"
#include "workbench/democache.h"
#include "workbench/headlessdemo.h"
#include "workbench/session.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QIcon>
#include <QPixmap>
#include <QTimer>

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

// True when no window can be shown: neither an X11 nor a Wayland display, and no Qt
// platform that draws without one.
bool noDisplay()
{
    if (!qEnvironmentVariableIsEmpty("DISPLAY") || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
        return false;
    const QString platform = qEnvironmentVariable("QT_QPA_PLATFORM");
    for (const char *displayless : {"offscreen", "minimal", "vnc", "eglfs", "linuxfb"}) {
        if (platform.startsWith(QLatin1String(displayless)))
            return false;
    }
    return true;
}

void setApplicationNames()
{
    QApplication::setApplicationName(QStringLiteral("Basin"));
    QApplication::setOrganizationName(QStringLiteral("Basin"));
    QApplication::setApplicationVersion(QLatin1String(basin::kVersion));
}

// --screenshot: once the analysis is on screen, grab the window into FILE and quit; give
// up (exit 1) if nothing was analysed within `timeoutSeconds`.
void scheduleScreenshot(basin::ui::MainWindow &window, const QString &file, int timeoutSeconds)
{
    QObject::connect(
        window.session(), &basin::ui::Session::analysisFinished, &window, [&window, file] {
            // Let the views lay out and replot after the result arrived.
            QTimer::singleShot(1200, &window, [&window, file] {
                const bool ok = window.grab().save(file, "PNG");
                std::fprintf(ok ? stdout : stderr, "basin: %s %s\n",
                             ok ? "screenshot saved to" : "cannot write",
                             file.toLocal8Bit().constData());
                QCoreApplication::exit(ok ? basin::cli::kExitOk : basin::cli::kExitFailed);
            });
        });
    QTimer::singleShot(timeoutSeconds * 1000, &window, [] {
        std::fputs("basin: no analysis finished before the screenshot timeout\n", stderr);
        QCoreApplication::exit(basin::cli::kExitFailed);
    });
}

} // namespace

int main(int argc, char **argv)
{
    basin::app::preferPassiveOpenMpWait(argv);
    QStringList args;
    for (int i = 0; i < argc; ++i)
        args << QString::fromLocal8Bit(argv[i]);

    if (args.size() > 1 && !args.at(1).startsWith(QLatin1Char('-'))) {
        if (const basin::cli::Command *command = basin::cli::findCommand(args.at(1)))
            return command->run(args.mid(2));
        // Not a command: model paths for the workbench, if they exist.
        if (!QFileInfo::exists(args.at(1))) {
            basin::cli::printError(args.at(1), QStringLiteral("neither a command nor a model "
                                                              "path. Try 'basin --help'."));
            return basin::cli::kExitUsage;
        }
    }

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Basin: a workbench for merging fine-tuned models that share a base model.\n"
        "'basin BASE FT1 FT2…' opens those models (folders or .safetensors files)."));
    parser.addPositionalArgument(QStringLiteral("command"),
                                 QStringLiteral("Optional headless command (see below), or "
                                                "model paths to open: the base first."),
                                 QStringLiteral("[command | BASE FINE-TUNE…]"));
    const QCommandLineOption help(QStringList{QStringLiteral("h"), QStringLiteral("help")},
                                  QStringLiteral("Show this help."));
    const QCommandLineOption version(QStringList{QStringLiteral("v"), QStringLiteral("version")},
                                     QStringLiteral("Show the version."));
    const QCommandLineOption demo(
        QStringLiteral("demo"),
        QStringLiteral("Open the workbench on a generated demo model family (made once, then "
                       "cached). Without a display: generate, analyse, merge with TIES and "
                       "write a PNG report."));
    const QCommandLineOption demoSize(QStringLiteral("demo-size"),
                                      QStringLiteral("Demo family size: tiny or small "
                                                     "(default small)."),
                                      QStringLiteral("SIZE"), QStringLiteral("small"));
    const QCommandLineOption report(QStringLiteral("report"),
                                    QStringLiteral("Headless demo: where to write the PNG "
                                                   "report (default basin-demo-report.png)."),
                                    QStringLiteral("FILE"));
    QCommandLineOption headless(QStringLiteral("headless"),
                                QStringLiteral("Run the demo headless even with a display."));
    headless.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                  QStringLiteral("Save the window to FILE once the analysis "
                                                 "is shown, then quit."),
                                  QStringLiteral("FILE"));
    screenshot.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption screenshotSize(QStringLiteral("window-size"),
                                      QStringLiteral("Window size WIDTHxHEIGHT."),
                                      QStringLiteral("SIZE"));
    screenshotSize.setFlags(QCommandLineOption::HiddenFromHelp);
    parser.addOptions(
        {help, version, demo, demoSize, report, headless, screenshot, screenshotSize});
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
    const QString size = parser.value(demoSize);
    if (!basin::ui::isDemoSize(size)) {
        basin::cli::printError(QStringLiteral("--demo-size"),
                               QStringLiteral("must be tiny or small, got '%1'").arg(size));
        return basin::cli::kExitUsage;
    }
    const QStringList paths = parser.positionalArguments();

    if (parser.isSet(demo) && (parser.isSet(headless) || noDisplay())) {
        // The report is rendered with the workbench's plot widgets, offscreen.
        qputenv("QT_QPA_PLATFORM", "offscreen");
        QApplication app(argc, argv);
        setApplicationNames();
        basin::ui::HeadlessDemoOptions options;
        options.size = size;
        options.reportPath = parser.value(report);
        return basin::ui::runHeadlessDemo(options);
    }
    if (noDisplay()) {
        basin::cli::printError(QStringLiteral("--"),
                               QStringLiteral("no display found (DISPLAY and WAYLAND_DISPLAY "
                                              "are unset). The workbench needs one; 'basin "
                                              "--demo' and the commands below run headless."));
        basin::cli::printOut(helpText(parser));
        return basin::cli::kExitFailed;
    }

    QApplication app(argc, argv);
    setApplicationNames();
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/basin/basin.svg")));

    basin::ui::MainWindow window;
    if (parser.isSet(screenshotSize)) {
        const QStringList parts = parser.value(screenshotSize).split(QLatin1Char('x'));
        if (parts.size() == 2 && parts.at(0).toInt() > 0 && parts.at(1).toInt() > 0)
            window.resize(parts.at(0).toInt(), parts.at(1).toInt());
    }
    if (parser.isSet(screenshot))
        scheduleScreenshot(window, QFileInfo(parser.value(screenshot)).absoluteFilePath(), 300);
    window.show();
    if (parser.isSet(demo))
        window.openDemoFamily(size);
    else if (!paths.isEmpty())
        window.openPaths(paths);
    return QApplication::exec();
}
