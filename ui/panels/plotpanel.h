// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QWidget>

class QHBoxLayout;
class QLabel;
class QStackedWidget;

namespace basin::ui {

class Session;

// Common frame of the analysis views: a row of controls above a plot, an optional
// footnote under it, and a placeholder that says why the plot is empty (nothing loaded,
// analysing, cancelled, failed) until the session has an analysis. The plot's own title
// names the view, so the frame spends no room on a heading (`heading` is the accessible
// name). Subclasses add controls to controlsLayout(), set their plot
// with setContent() and redraw in refresh(), which runs whenever the analysis changes.
class PlotPanel : public QWidget {
    Q_OBJECT

public:
    explicit PlotPanel(Session *session, const QString &heading, QWidget *parent = nullptr);
    ~PlotPanel() override;

    // Text of the placeholder shown instead of the plot ("" while the plot shows).
    QString placeholderText() const;
    // The footnote under the plot ("" when none).
    QString note() const;

protected:
    Session *session() const { return m_session; }
    QHBoxLayout *controlsLayout() const { return m_controls; }
    void setContent(QWidget *content);
    // Redraws from session()->analysis(); called on every analysis change. The base shows
    // the placeholder when there is no analysis and the content otherwise.
    virtual void refresh() = 0;
    // Subclasses that cannot draw even with an analysis (e.g. one fine-tune and a pair
    // metric) show a placeholder of their own.
    void showPlaceholder(const QString &text);
    void showContent();
    // A line of small print under the plot (counts left out of it, caveats); "" hides it.
    void setNote(const QString &text);
    // Placeholder or content by the session's state, then refresh(). Subclass constructors
    // call it once their widgets exist.
    void reload();

private:
    void updatePlaceholder();

    Session *m_session = nullptr;
    QHBoxLayout *m_controls = nullptr;
    QStackedWidget *m_stack = nullptr;
    QLabel *m_placeholder = nullptr;
    QLabel *m_note = nullptr;
    QString m_lastState;
};

} // namespace basin::ui
