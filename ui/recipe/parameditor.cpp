// SPDX-License-Identifier: GPL-3.0-or-later
#include "recipe/parameditor.h"

#include "recipe/recipeedits.h"

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QSpinBox>
#include <QToolButton>

#include <algorithm>
#include <climits>
#include <cmath>
#include <utility>

namespace basin::ui {

namespace {

constexpr double kSpinLimit = 1e9;

} // namespace

double ParamEditor::spinMinimum(const merge::ParamDecl &decl)
{
    return std::max(decl.minValue, -kSpinLimit);
}

double ParamEditor::spinMaximum(const merge::ParamDecl &decl)
{
    return std::min(decl.maxValue, kSpinLimit);
}

namespace {

// Declared ranges are validation bounds (weight: ±100); a slider across all of that would
// be useless, so wide ranges get the span where merges actually live.
std::pair<double, double> practicalRange(const merge::ParamDecl &decl)
{
    double lo = decl.minValue, hi = decl.maxValue;
    if (hi - lo > 10.0) {
        lo = std::max(lo, -1.0);
        hi = std::min(hi, std::max(lo, 0.0) + 2.0);
    }
    return {lo, hi};
}

} // namespace

double ParamEditor::sliderMinimum(const merge::ParamDecl &decl)
{
    return practicalRange(decl).first;
}

double ParamEditor::sliderMaximum(const merge::ParamDecl &decl)
{
    return practicalRange(decl).second;
}

ParamEditor::ParamEditor(const merge::ParamDecl &decl, QWidget *parent)
    : QWidget(parent), m_decl(decl)
{
    setObjectName(QString::fromUtf8(decl.name.data(), qsizetype(decl.name.size())));
    setToolTip(QString::fromUtf8(decl.help.data(), qsizetype(decl.help.size())));
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);

    switch (decl.kind) {
    case merge::ParamKind::Number: {
        m_slider = new QSlider(Qt::Horizontal, this);
        m_slider->setRange(0, kSliderSteps);
        m_slider->setObjectName(QStringLiteral("slider"));
        m_doubleSpin = new QDoubleSpinBox(this);
        m_doubleSpin->setObjectName(QStringLiteral("spin"));
        // Tiny defaults (eps 1e-8, tol 1e-5) must stay readable and exact.
        int decimals = 4;
        if (decl.defaultValue && *decl.defaultValue > 0.0 && *decl.defaultValue < 1e-3)
            decimals = int(std::ceil(-std::log10(*decl.defaultValue))) + 2;
        m_doubleSpin->setDecimals(decimals);
        m_doubleSpin->setRange(spinMinimum(decl), spinMaximum(decl));
        m_doubleSpin->setSingleStep(
            std::max(0.001, (sliderMaximum(decl) - sliderMinimum(decl)) / 100.0));
        m_doubleSpin->setKeyboardTracking(false);
        layout->addWidget(m_slider, 1);
        layout->addWidget(m_doubleSpin);
        connect(m_slider, &QSlider::sliderPressed, this, &ParamEditor::dragStarted);
        connect(m_slider, &QSlider::sliderReleased, this, &ParamEditor::dragFinished);
        connect(m_slider, &QSlider::valueChanged, this, &ParamEditor::onSliderMoved);
        connect(m_doubleSpin, &QDoubleSpinBox::valueChanged, this, [this](double v) {
            const QSignalBlocker block(m_slider);
            m_slider->setValue(sliderPosition(v));
            emit valueEdited(v);
        });
        break;
    }
    case merge::ParamKind::Integer:
        m_intSpin = new QSpinBox(this);
        m_intSpin->setObjectName(QStringLiteral("spin"));
        m_intSpin->setRange(int(std::max(spinMinimum(decl), double(INT_MIN))),
                            int(std::min(spinMaximum(decl), double(INT_MAX))));
        m_intSpin->setKeyboardTracking(false);
        layout->addWidget(m_intSpin, 1);
        connect(m_intSpin, &QSpinBox::valueChanged, this,
                [this](int v) { emit valueEdited(double(v)); });
        break;
    case merge::ParamKind::Boolean:
        m_check = new QCheckBox(this);
        m_check->setObjectName(QStringLiteral("check"));
        layout->addWidget(m_check, 1);
        connect(m_check, &QCheckBox::toggled, this,
                [this](bool on) { emit valueEdited(on ? 1.0 : 0.0); });
        break;
    }

    m_note = new QLabel(this);
    m_note->setEnabled(false); // greyed: it annotates, it is not a value
    layout->addWidget(m_note);
    m_reset = new QToolButton(this);
    m_reset->setObjectName(QStringLiteral("reset"));
    m_reset->setText(QStringLiteral("↺"));
    m_reset->setToolTip(decl.defaultValue
                            ? tr("Remove the value: the default %1 applies").arg(*decl.defaultValue)
                            : tr("Remove the value from the recipe"));
    layout->addWidget(m_reset);
    connect(m_reset, &QToolButton::clicked, this, &ParamEditor::resetRequested);
}

ParamEditor::~ParamEditor() = default;

void ParamEditor::setState(std::optional<double> value, bool perLayer)
{
    m_perLayer = perLayer;
    const double shown = value ? *value : recipeedits::startingValue(m_decl);
    if (m_doubleSpin) {
        const QSignalBlocker b1(m_doubleSpin);
        const QSignalBlocker b2(m_slider);
        m_doubleSpin->setValue(shown);
        // Do not move the slider under the user's hand: during a drag it already shows
        // the value it reported.
        if (!m_slider->isSliderDown())
            m_slider->setValue(sliderPosition(shown));
        m_doubleSpin->setEnabled(!perLayer);
        m_slider->setEnabled(!perLayer);
    } else if (m_intSpin) {
        const QSignalBlocker block(m_intSpin);
        m_intSpin->setValue(int(std::lround(shown)));
        m_intSpin->setEnabled(!perLayer);
    } else if (m_check) {
        const QSignalBlocker block(m_check);
        m_check->setChecked(shown != 0.0);
        m_check->setEnabled(!perLayer);
    }
    if (perLayer)
        m_note->setText(tr("per layer"));
    else if (!value)
        m_note->setText(m_decl.defaultValue ? tr("default") : tr("not set"));
    else
        m_note->clear();
    m_reset->setEnabled(value.has_value() || perLayer);
}

double ParamEditor::value() const
{
    if (m_doubleSpin)
        return m_doubleSpin->value();
    if (m_intSpin)
        return m_intSpin->value();
    return m_check && m_check->isChecked() ? 1.0 : 0.0;
}

void ParamEditor::onSliderMoved(int position)
{
    const double v = sliderValue(position);
    {
        const QSignalBlocker block(m_doubleSpin);
        m_doubleSpin->setValue(v);
    }
    emit valueEdited(m_doubleSpin->value()); // rounded to the spin box's decimals
}

int ParamEditor::sliderPosition(double value) const
{
    const double lo = sliderMinimum(m_decl), hi = sliderMaximum(m_decl);
    if (hi <= lo)
        return 0;
    return int(std::lround(std::clamp((value - lo) / (hi - lo), 0.0, 1.0) * kSliderSteps));
}

double ParamEditor::sliderValue(int position) const
{
    const double lo = sliderMinimum(m_decl), hi = sliderMaximum(m_decl);
    return lo + (hi - lo) * double(position) / kSliderSteps;
}

} // namespace basin::ui
