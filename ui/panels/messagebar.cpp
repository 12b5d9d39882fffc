// SPDX-License-Identifier: GPL-3.0-or-later
#include "panels/messagebar.h"

#include "plots/plotcolors.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QStyle>
#include <QToolButton>

namespace basin::ui {

MessageBar::MessageBar(QWidget *parent) : QFrame(parent)
{
    setObjectName(QStringLiteral("messageBar"));
    setFrameShape(QFrame::StyledPanel);

    m_icon = new QLabel(this);
    m_text = new QLabel(this);
    m_text->setObjectName(QStringLiteral("messageText"));
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_close = new QToolButton(this);
    m_close->setObjectName(QStringLiteral("messageClose"));
    m_close->setAutoRaise(true);
    m_close->setIcon(style()->standardIcon(QStyle::SP_TitleBarCloseButton));
    m_close->setToolTip(tr("Dismiss this message"));
    connect(m_close, &QToolButton::clicked, this, &MessageBar::dismiss);

    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 4, 4);
    layout->addWidget(m_icon, 0, Qt::AlignTop);
    layout->addWidget(m_text, 1);
    layout->addWidget(m_close, 0, Qt::AlignTop);
    hide();
}

MessageBar::~MessageBar() = default;

void MessageBar::showMessage(const QString &text, Kind kind)
{
    m_kind = kind;
    ++m_shown;
    m_text->setText(text);
    const int size = style()->pixelMetric(QStyle::PM_SmallIconSize);
    m_icon->setPixmap(style()
                          ->standardIcon(kind == Kind::Error ? QStyle::SP_MessageBoxCritical
                                                             : QStyle::SP_MessageBoxInformation)
                          .pixmap(size, size));
    show();
    update();
}

void MessageBar::dismiss()
{
    m_text->clear();
    hide();
}

QString MessageBar::text() const
{
    return isHidden() ? QString() : m_text->text();
}

void MessageBar::paintEvent(QPaintEvent *event)
{
    // A tint of red or blue over the window colour reads in light and dark themes alike,
    // and recomputing it on every paint follows palette changes for free.
    const QColor accent = m_kind == Kind::Error ? QColor(220, 50, 47) : QColor(38, 139, 210);
    QPainter painter(this);
    painter.fillRect(rect(), plotcolors::blend(palette().color(QPalette::Window), accent, 0.18));
    painter.end();
    QFrame::paintEvent(event);
}

} // namespace basin::ui
