// SPDX-License-Identifier: GPL-3.0-or-later
#include "workbench/analysisoptionsdialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QThread>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace basin::ui {

namespace {
const QString kDensityKey = QStringLiteral("analysis/density");
const QString kZeroKey = QStringLiteral("analysis/zeroThreshold");
const QString kSampleKey = QStringLiteral("analysis/sampleSize");
const QString kThreadsKey = QStringLiteral("analysis/threads");

constexpr int kMaxSample = 1 << 20;
constexpr int kMaxThreads = 256;

int thresholdRow(double value)
{
    const QList<double> &all = AnalysisOptionsDialog::zeroThresholds();
    for (int i = 0; i < all.size(); ++i) {
        if (all[i] == value)
            return i;
    }
    return -1;
}
} // namespace

bool sameAnalysisOptions(const analysis::AnalysisOptions &a, const analysis::AnalysisOptions &b)
{
    return a.zeroThreshold == b.zeroThreshold && a.density == b.density &&
           a.sampleSize == b.sampleSize && a.sampleSeed == b.sampleSeed && a.threads == b.threads;
}

const QList<double> &AnalysisOptionsDialog::zeroThresholds()
{
    static const QList<double> values = {0.0, 1e-12, 1e-10, 1e-8, 1e-6, 1e-4};
    return values;
}

AnalysisOptionsDialog::AnalysisOptionsDialog(const analysis::AnalysisOptions &current,
                                             QWidget *parent)
    : QDialog(parent), m_base(current)
{
    setObjectName(QStringLiteral("analysisOptionsDialog"));
    setWindowTitle(tr("Analysis Settings"));

    m_density = new QDoubleSpinBox(this);
    m_density->setObjectName(QStringLiteral("densitySpin"));
    m_density->setRange(0.01, 1.0);
    m_density->setSingleStep(0.05);
    m_density->setDecimals(2);
    m_density->setToolTip(tr("Share of each task vector TIES keeps (largest |τ|) when the "
                             "trimmed disagreement is measured"));

    m_zeroThreshold = new QComboBox(this);
    m_zeroThreshold->setObjectName(QStringLiteral("zeroThresholdCombo"));
    for (double value : zeroThresholds()) {
        QString text = value == 0.0 ? tr("0 (exact zeros only)") : QString::number(value, 'g', 2);
        if (value == analysis::AnalysisOptions{}.zeroThreshold)
            text += tr(" (default)");
        m_zeroThreshold->addItem(text, value);
    }
    m_zeroThreshold->setToolTip(tr("|τ| below this counts as unchanged: it has no sign in the "
                                   "sign-conflict and TIES statistics"));

    m_sampleSize = new QSpinBox(this);
    m_sampleSize->setObjectName(QStringLiteral("sampleSizeSpin"));
    m_sampleSize->setRange(0, kMaxSample);
    m_sampleSize->setSingleStep(4096);
    m_sampleSize->setSpecialValueText(tr("off (no sampled previews)"));
    m_sampleSize->setSuffix(tr(" coordinates"));
    m_sampleSize->setToolTip(tr("Coordinates per tensor kept for sampled previews of TIES, "
                                "DARE and the other sparsifying methods; more is more exact "
                                "and uses more memory"));

    m_threads = new QSpinBox(this);
    m_threads->setObjectName(QStringLiteral("threadsSpin"));
    m_threads->setRange(0, kMaxThreads);
    m_threads->setSpecialValueText(tr("automatic (%1)").arg(QThread::idealThreadCount()));
    m_threads->setToolTip(tr("Threads of the analysis pass; results do not depend on it"));

    auto *form = new QFormLayout;
    form->addRow(tr("TIES trim &density:"), m_density);
    form->addRow(tr("&Zero threshold:"), m_zeroThreshold);
    form->addRow(tr("&Sample cache:"), m_sampleSize);
    form->addRow(tr("&Threads:"), m_threads);

    auto *note = new QLabel(tr("Changing these runs the analysis again."), this);
    note->setWordWrap(true);

    auto *buttons = new QDialogButtonBox(
        QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::RestoreDefaults, this);
    buttons->setObjectName(QStringLiteral("buttons"));
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    QPushButton *defaults = buttons->button(QDialogButtonBox::RestoreDefaults);
    defaults->setToolTip(tr("Put back Basin's default settings"));
    connect(defaults, &QPushButton::clicked, this,
            [this] { setOptions(analysis::AnalysisOptions{}); });

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(note);
    layout->addWidget(buttons);
    setOptions(current);
}

analysis::AnalysisOptions AnalysisOptionsDialog::options() const
{
    analysis::AnalysisOptions options = m_base;
    options.density = m_density->value();
    options.zeroThreshold = m_zeroThreshold->currentData().toDouble();
    options.sampleSize = static_cast<std::uint64_t>(m_sampleSize->value());
    options.threads = m_threads->value();
    return options;
}

void AnalysisOptionsDialog::setOptions(const analysis::AnalysisOptions &options)
{
    m_density->setValue(options.density);
    const int row = thresholdRow(options.zeroThreshold);
    m_zeroThreshold->setCurrentIndex(row >= 0 ? row : thresholdRow(1e-8));
    m_sampleSize->setValue(
        static_cast<int>(std::min<std::uint64_t>(options.sampleSize, kMaxSample)));
    m_threads->setValue(std::clamp(options.threads, 0, kMaxThreads));
}

analysis::AnalysisOptions AnalysisOptionsDialog::load()
{
    const analysis::AnalysisOptions defaults;
    analysis::AnalysisOptions options;
    QSettings settings;
    bool ok = false;
    const double density = settings.value(kDensityKey, defaults.density).toDouble(&ok);
    options.density = ok && density >= 0.01 && density <= 1.0 ? density : defaults.density;
    const double zero = settings.value(kZeroKey, defaults.zeroThreshold).toDouble(&ok);
    options.zeroThreshold = ok && thresholdRow(zero) >= 0 ? zero : defaults.zeroThreshold;
    const qulonglong sample =
        settings.value(kSampleKey, qulonglong(defaults.sampleSize)).toULongLong(&ok);
    options.sampleSize = ok && sample <= kMaxSample ? sample : defaults.sampleSize;
    const int threads = settings.value(kThreadsKey, defaults.threads).toInt(&ok);
    options.threads = ok && threads >= 0 && threads <= kMaxThreads ? threads : defaults.threads;
    return options;
}

void AnalysisOptionsDialog::save(const analysis::AnalysisOptions &options)
{
    QSettings settings;
    settings.setValue(kDensityKey, options.density);
    settings.setValue(kZeroKey, options.zeroThreshold);
    settings.setValue(kSampleKey, qulonglong(options.sampleSize));
    settings.setValue(kThreadsKey, options.threads);
}

} // namespace basin::ui
