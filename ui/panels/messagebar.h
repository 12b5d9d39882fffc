// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QFrame>

class QLabel;
class QToolButton;

namespace basin::ui {

// A strip above the views that states an error or a notice in place, without a modal
// dialog: the user keeps working, tests keep running. Hidden while empty; the close
// button (or Escape with focus on it) dismisses it. Colours follow the palette.
class MessageBar : public QFrame {
    Q_OBJECT

public:
    enum class Kind { Information, Error };

    explicit MessageBar(QWidget *parent = nullptr);
    ~MessageBar() override;

    // Shows a message, replacing the previous one.
    void showMessage(const QString &text, Kind kind = Kind::Information);
    void showError(const QString &text) { showMessage(text, Kind::Error); }
    void dismiss();

    QString text() const;
    Kind kind() const { return m_kind; }
    // Messages shown since construction (tests, the Log dock counts them).
    int shownCount() const { return m_shown; }

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    QLabel *m_icon = nullptr;
    QLabel *m_text = nullptr;
    QToolButton *m_close = nullptr;
    Kind m_kind = Kind::Information;
    int m_shown = 0;
};

} // namespace basin::ui
