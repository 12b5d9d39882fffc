// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "merge/method.h"

#include <QWidget>

#include <optional>

class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QSlider;
class QSpinBox;
class QToolButton;

namespace basin::ui {

// The field for one declared parameter, generated from its ParamDecl: a slider + spin box
// for numbers, a spin box for integers, a check box for booleans, and a reset button that
// removes the value so the default applies. The widget only reports edits; the dock turns
// them into undo commands and sets the state back from the recipe.
class ParamEditor : public QWidget {
    Q_OBJECT

public:
    // Slider positions across the slider range.
    static constexpr int kSliderSteps = 1000;

    explicit ParamEditor(const merge::ParamDecl &decl, QWidget *parent = nullptr);
    ~ParamEditor() override;

    const merge::ParamDecl &decl() const { return m_decl; }

    // Shows the recipe's value: a number, nothing (the default or a starting value is
    // shown, marked "default"), or "per layer" when the value is a gradient or filter list
    // (then edited in the per-layer editor; the field is read-only).
    void setState(std::optional<double> value, bool perLayer);
    // The value shown.
    double value() const;
    bool isPerLayer() const { return m_perLayer; }

    // The spin box range: the declared range with unbounded sides (±1e30) limited to ±1e9.
    static double spinMinimum(const merge::ParamDecl &decl);
    static double spinMaximum(const merge::ParamDecl &decl);
    // The slider range: the declared range, or for ranges wider than 10 the practical span
    // [max(min, −1), min(max, max(lo, 0) + 2)] (weights: −1 … 2).
    static double sliderMinimum(const merge::ParamDecl &decl);
    static double sliderMaximum(const merge::ParamDecl &decl);

    QDoubleSpinBox *doubleSpinBox() const { return m_doubleSpin; } // Number only
    QSpinBox *intSpinBox() const { return m_intSpin; }             // Integer only
    QSlider *slider() const { return m_slider; }                   // Number only
    QCheckBox *checkBox() const { return m_check; }                // Boolean only
    QToolButton *resetButton() const { return m_reset; }

signals:
    void valueEdited(double value);
    void dragStarted();
    void dragFinished();
    void resetRequested();

private:
    void onSliderMoved(int position);
    int sliderPosition(double value) const;
    double sliderValue(int position) const;

    merge::ParamDecl m_decl;
    QDoubleSpinBox *m_doubleSpin = nullptr;
    QSpinBox *m_intSpin = nullptr;
    QSlider *m_slider = nullptr;
    QCheckBox *m_check = nullptr;
    QToolButton *m_reset = nullptr;
    QLabel *m_note = nullptr;
    bool m_perLayer = false;
};

} // namespace basin::ui
