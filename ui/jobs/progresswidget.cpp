// SPDX-License-Identifier: GPL-3.0-or-later
#include "jobs/progresswidget.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>

#include <cmath>

namespace basin::ui {

namespace {
constexpr int kBarSteps = 1000; // 0.1 % per step, the throttle's resolution
}

ProgressWidget::ProgressWidget(JobRunner *runner, QWidget *parent)
    : QWidget(parent), m_runner(runner)
{
    m_phaseLabel = new QLabel(this);
    m_phaseLabel->setObjectName(QStringLiteral("phaseLabel"));
    m_bar = new QProgressBar(this);
    m_bar->setObjectName(QStringLiteral("progressBar"));
    m_bar->setRange(0, kBarSteps);
    m_bar->setTextVisible(false);
    m_bar->setMaximumWidth(200);
    m_etaLabel = new QLabel(this);
    m_etaLabel->setObjectName(QStringLiteral("etaLabel"));
    m_cancelButton = new QPushButton(tr("Cancel"), this);
    m_cancelButton->setObjectName(QStringLiteral("cancelButton"));
    m_cancelButton->setToolTip(tr("Stop this job"));

    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_phaseLabel);
    layout->addWidget(m_bar);
    layout->addWidget(m_etaLabel);
    layout->addWidget(m_cancelButton);

    connect(m_cancelButton, &QPushButton::clicked, this, &ProgressWidget::cancelTracked);
    if (runner) {
        connect(runner, &JobRunner::jobStarted, this, &ProgressWidget::onStarted);
        connect(runner, &JobRunner::jobProgress, this, &ProgressWidget::onProgress);
        connect(runner, &JobRunner::jobFinished, this, &ProgressWidget::onFinished);
    }
    setVisible(false);
}

ProgressWidget::~ProgressWidget() = default;

QString ProgressWidget::formatEta(double seconds)
{
    if (!(seconds >= 0.0))
        return {};
    const qint64 s = qint64(std::llround(seconds));
    if (s < 60)
        return tr("%1 s left").arg(s);
    if (s < 3600)
        return tr("%1 min %2 s left").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    return tr("%1 h %2 min left").arg(s / 3600).arg((s % 3600) / 60);
}

QString ProgressWidget::phaseName(const QString &phase)
{
    if (phase == QLatin1String("reading"))
        return tr("Reading");
    if (phase == QLatin1String("analysing"))
        return tr("Analysing");
    if (phase == QLatin1String("merging"))
        return tr("Merging");
    if (phase == QLatin1String("writing"))
        return tr("Writing");
    if (phase.isEmpty())
        return tr("Working");
    return phase.at(0).toUpper() + phase.mid(1);
}

void ProgressWidget::onStarted(quint64 id, const QString &channel)
{
    if (!m_channel.isEmpty() && channel != m_channel)
        return;
    m_tracked = id;
    m_phaseLabel->setText(tr("Starting…"));
    m_bar->setRange(0, 0); // busy until the first report says how much there is to do
    m_etaLabel->clear();
    m_cancelButton->setEnabled(true);
    setVisible(true);
}

void ProgressWidget::onProgress(quint64 id, const QString &, const JobProgress &progress)
{
    if (id != m_tracked)
        return;
    QString text = phaseName(progress.phase);
    if (progress.itemsTotal > 0)
        text = tr("%1 (%2 of %3)").arg(text).arg(progress.itemsDone).arg(progress.itemsTotal);
    if (!m_cancelButton->isEnabled())
        text = tr("Cancelling…");
    m_phaseLabel->setText(text);
    if (progress.fraction >= 0.0) {
        m_bar->setRange(0, kBarSteps);
        m_bar->setValue(int(std::lround(progress.fraction * kBarSteps)));
    } else {
        m_bar->setRange(0, 0);
    }
    m_etaLabel->setText(formatEta(progress.etaSeconds));
}

void ProgressWidget::onFinished(quint64 id, const QString &, JobState, const QString &)
{
    if (id != m_tracked)
        return;
    m_tracked = 0;
    setVisible(false);
}

void ProgressWidget::cancelTracked()
{
    if (m_runner && m_tracked != 0)
        m_runner->cancelJob(m_tracked);
    m_cancelButton->setEnabled(false);
    m_phaseLabel->setText(tr("Cancelling…"));
}

} // namespace basin::ui
