// SPDX-License-Identifier: GPL-3.0-or-later
#include "panels/plotpanel.h"

#include "workbench/session.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QStackedWidget>
#include <QVBoxLayout>

namespace basin::ui {

PlotPanel::PlotPanel(Session *session, const QString &heading, QWidget *parent)
    : QWidget(parent), m_session(session)
{
    setAccessibleName(heading);
    m_controls = new QHBoxLayout;
    m_controls->setContentsMargins(0, 0, 0, 0);
    m_controls->setSpacing(6);

    m_placeholder = new QLabel(this);
    m_placeholder->setAlignment(Qt::AlignCenter);
    m_placeholder->setWordWrap(true);
    m_placeholder->setEnabled(false);
    m_placeholder->setMargin(12);
    m_stack = new QStackedWidget(this);
    m_stack->addWidget(m_placeholder);
    m_note = new QLabel(this);
    m_note->setObjectName(QStringLiteral("plotNote"));
    m_note->setWordWrap(true);
    m_note->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont small = m_note->font();
    small.setPointSizeF(small.pointSizeF() * 0.9);
    m_note->setFont(small);
    m_note->hide();

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 4, 6, 2);
    layout->setSpacing(2);
    layout->addLayout(m_controls);
    layout->addWidget(m_stack, 1);
    layout->addWidget(m_note);

    connect(session, &Session::analysisChanged, this, &PlotPanel::reload);
    const auto freshState = [this] {
        m_lastState.clear();
        updatePlaceholder();
    };
    connect(session, &Session::modelsChanged, this, freshState);
    connect(session, &Session::analysisStarted, this, freshState);
    connect(session, &Session::pendingOpensChanged, this, &PlotPanel::updatePlaceholder);
    connect(session, &Session::analysisCancelled, this, [this] {
        m_lastState = tr("Analysis cancelled. Press F5 (Analysis ▸ Analyse) to run it again.");
        updatePlaceholder();
    });
    connect(session, &Session::analysisFailed, this, [this](const QString &message) {
        m_lastState = tr("The analysis failed: %1").arg(message);
        updatePlaceholder();
    });
}

PlotPanel::~PlotPanel() = default;

QString PlotPanel::placeholderText() const
{
    return m_stack->currentWidget() == m_placeholder ? m_placeholder->text() : QString();
}

void PlotPanel::setContent(QWidget *content)
{
    // Controls sit left, in the order the subclass added them.
    m_controls->addStretch(1);
    m_stack->addWidget(content);
}

QString PlotPanel::note() const
{
    return m_note->isHidden() ? QString() : m_note->text();
}

void PlotPanel::setNote(const QString &text)
{
    m_note->setText(text);
    m_note->setVisible(!text.isEmpty());
}

void PlotPanel::showPlaceholder(const QString &text)
{
    setNote({});
    m_placeholder->setText(text);
    m_stack->setCurrentWidget(m_placeholder);
}

void PlotPanel::showContent()
{
    if (m_stack->count() > 1)
        m_stack->setCurrentIndex(1);
}

void PlotPanel::reload()
{
    if (m_session->analysis())
        showContent();
    else
        updatePlaceholder();
    refresh();
}

void PlotPanel::updatePlaceholder()
{
    if (m_session->analysis())
        return;
    QString text;
    if (!m_lastState.isEmpty())
        text = m_lastState;
    else if (m_session->pendingOpenCount() > 0)
        text = tr("Opening models…");
    else if (!m_session->base())
        text = tr("Set a base model and add fine-tunes to see where they interfere.\n"
                  "Drop model folders on the window, or try File ▸ Open Demo Family.");
    else if (m_session->fineTuneCount() == 0)
        text = tr("Add at least one fine-tune of %1.").arg(m_session->base()->name);
    else
        text = tr("Analysing %n model(s)… (progress in the status bar)", nullptr,
                  m_session->fineTuneCount() + 1);
    showPlaceholder(text);
}

} // namespace basin::ui
