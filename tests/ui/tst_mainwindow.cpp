// SPDX-License-Identifier: GPL-3.0-or-later
#include "mainwindow.h"

#include <QAction>
#include <QDockWidget>
#include <QMap>
#include <QMenuBar>
#include <QSettings>
#include <QUndoCommand>
#include <QUndoStack>
#include <QtTest>

using basin::ui::MainWindow;

namespace {
// A recipe-free command: enough to prove the Edit menu drives the window's undo stack.
class SetIntCommand : public QUndoCommand {
public:
    SetIntCommand(int &target, int value) : m_target(target), m_old(target), m_new(value) {}
    void redo() override { m_target = m_new; }
    void undo() override { m_target = m_old; }

private:
    int &m_target;
    int m_old;
    int m_new;
};
} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("BasinTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_mainwindow"));
        QSettings().clear();
    }

    void docksAndMenusExist()
    {
        MainWindow window;
        for (const char *name :
             {"modelsDock", "layersDock", "recipeDock", "previewDock", "logDock"})
            QVERIFY2(window.findChild<QDockWidget *>(QLatin1String(name)), name);
        for (const char *name : {"fileMenu", "editMenu", "viewMenu", "helpMenu"})
            QVERIFY2(window.menuBar()->findChild<QMenu *>(QLatin1String(name)), name);
        QVERIFY(window.findChild<QAction *>(QStringLiteral("aboutAction")));
    }

    void shortcutsAreUniqueAndTheMainOnesExist()
    {
        // Window-wide shortcuts must not collide (Qt then triggers neither), and the actions
        // people reach for by keyboard have one.
        MainWindow window;
        QMap<QString, QString> owner;
        for (QAction *action : window.findChildren<QAction *>()) {
            if (action->shortcutContext() == Qt::WidgetShortcut ||
                action->shortcutContext() == Qt::WidgetWithChildrenShortcut)
                continue;
            for (const QKeySequence &key : action->shortcuts()) {
                const QString text = key.toString();
                QVERIFY2(!owner.contains(text),
                         qPrintable(text + QStringLiteral(": ") + owner.value(text) +
                                    QStringLiteral(" and ") + action->objectName()));
                owner.insert(text, action->objectName());
            }
        }
        const QMap<QString, QKeySequence> expected = {
            {QStringLiteral("openRecipeAction"), QKeySequence(QKeySequence::Open)},
            {QStringLiteral("saveRecipeAction"), QKeySequence(QKeySequence::Save)},
            {QStringLiteral("exportAction"), QKeySequence(Qt::CTRL | Qt::Key_E)},
            {QStringLiteral("setBaseAction"), QKeySequence(Qt::CTRL | Qt::Key_B)},
            {QStringLiteral("addFineTunesAction"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F)},
            {QStringLiteral("addFilesAction"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O)},
        };
        for (auto it = expected.begin(); it != expected.end(); ++it) {
            auto *action = window.findChild<QAction *>(it.key());
            QVERIFY2(action, qPrintable(it.key()));
            QCOMPARE(action->shortcut(), it.value());
        }
    }

    void undoRedoDriveTheUndoStack()
    {
        MainWindow window;
        auto *undo = window.findChild<QAction *>(QStringLiteral("undoAction"));
        auto *redo = window.findChild<QAction *>(QStringLiteral("redoAction"));
        QVERIFY(undo && redo);
        QCOMPARE(undo->shortcut(), QKeySequence(QKeySequence::Undo));
        QVERIFY(redo->shortcuts().contains(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z)));
        QVERIFY(!undo->isEnabled());

        int value = 1;
        window.undoStack()->push(new SetIntCommand(value, 5));
        QCOMPARE(value, 5);
        QVERIFY(undo->isEnabled());
        undo->trigger();
        QCOMPARE(value, 1);
        QVERIFY(redo->isEnabled());
        redo->trigger();
        QCOMPARE(value, 5);
    }

    void geometryIsRemembered()
    {
        QSize closedSize;
        {
            MainWindow window;
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            // Grow by a visible amount; the window's minimum size may clamp a smaller one.
            window.resize(window.size() + QSize(37, 23));
            closedSize = window.size();
            window.close();
        }
        QVERIFY(QSettings().contains(QStringLiteral("window/geometry")));
        MainWindow again;
        QCOMPARE(again.size(), closedSize);
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
