// SPDX-License-Identifier: GPL-3.0-or-later
// Analysis ▸ Settings: the form shows and returns the options, Restore Defaults works,
// values persist and reach the session of the next window, and out-of-range saved values
// fall back to the defaults.
#include "mainwindow.h"
#include "workbench/analysisoptionsdialog.h"
#include "workbench/session.h"

#include <QAction>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QtTest>

using namespace basin;
using namespace basin::ui;

class TestAnalysisOptions : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("BasinTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_analysisoptions"));
    }
    void init() { QSettings().clear(); }

    void formShowsAndReturnsTheOptions()
    {
        analysis::AnalysisOptions start;
        start.density = 0.35;
        start.zeroThreshold = 1e-6;
        start.sampleSize = 8192;
        start.threads = 2;
        start.sampleSeed = 77;
        AnalysisOptionsDialog dialog(start);
        auto *density = dialog.findChild<QDoubleSpinBox *>(QStringLiteral("densitySpin"));
        auto *zero = dialog.findChild<QComboBox *>(QStringLiteral("zeroThresholdCombo"));
        auto *sample = dialog.findChild<QSpinBox *>(QStringLiteral("sampleSizeSpin"));
        auto *threads = dialog.findChild<QSpinBox *>(QStringLiteral("threadsSpin"));
        QVERIFY(density && zero && sample && threads);
        QCOMPARE(density->value(), 0.35);
        QCOMPARE(zero->currentData().toDouble(), 1e-6);
        QCOMPARE(sample->value(), 8192);
        QCOMPARE(threads->value(), 2);
        for (QWidget *w : std::initializer_list<QWidget *>{density, zero, sample, threads})
            QVERIFY2(!w->toolTip().isEmpty(), qPrintable(w->objectName()));

        // Edit through the widgets, as a user would.
        density->setValue(0.6);
        zero->setCurrentIndex(0);
        sample->setValue(0);
        threads->setValue(0);
        const analysis::AnalysisOptions edited = dialog.options();
        QCOMPARE(edited.density, 0.6);
        QCOMPARE(edited.zeroThreshold, 0.0);
        QCOMPARE(edited.sampleSize, std::uint64_t(0));
        QCOMPARE(edited.threads, 0);
        QCOMPARE(edited.sampleSeed, std::uint64_t(77)); // not a form field: kept

        auto *buttons = dialog.findChild<QDialogButtonBox *>(QStringLiteral("buttons"));
        QVERIFY(buttons);
        QTest::mouseClick(buttons->button(QDialogButtonBox::RestoreDefaults), Qt::LeftButton);
        const analysis::AnalysisOptions defaults;
        QCOMPARE(dialog.options().density, defaults.density);
        QCOMPARE(dialog.options().zeroThreshold, defaults.zeroThreshold);
        QCOMPARE(dialog.options().sampleSize, defaults.sampleSize);
        QCOMPARE(dialog.options().threads, defaults.threads);
    }

    void optionsPersistAndReachTheNextWindow()
    {
        analysis::AnalysisOptions chosen;
        chosen.density = 0.5;
        chosen.zeroThreshold = 1e-10;
        chosen.sampleSize = 4096;
        {
            MainWindow window;
            QVERIFY(window.findChild<QAction *>(QStringLiteral("analysisOptionsAction")));
            window.applyAnalysisOptions(chosen);
            QVERIFY(sameAnalysisOptions(window.session()->analysisOptions(), chosen));
        }
        MainWindow next;
        const analysis::AnalysisOptions restored = next.session()->analysisOptions();
        QCOMPARE(restored.density, 0.5);
        QCOMPARE(restored.zeroThreshold, 1e-10);
        QCOMPARE(restored.sampleSize, std::uint64_t(4096));
    }

    void badSavedValuesFallBackToDefaults()
    {
        QSettings settings;
        settings.setValue(QStringLiteral("analysis/density"), 7.0);
        settings.setValue(QStringLiteral("analysis/zeroThreshold"), 0.5);
        settings.setValue(QStringLiteral("analysis/sampleSize"), QStringLiteral("lots"));
        settings.setValue(QStringLiteral("analysis/threads"), -3);
        const analysis::AnalysisOptions loaded = AnalysisOptionsDialog::load();
        const analysis::AnalysisOptions defaults;
        QCOMPARE(loaded.density, defaults.density);
        QCOMPARE(loaded.zeroThreshold, defaults.zeroThreshold);
        QCOMPARE(loaded.sampleSize, defaults.sampleSize);
        QCOMPARE(loaded.threads, defaults.threads);
    }
};

QTEST_MAIN(TestAnalysisOptions)
#include "tst_analysisoptions.moc"
