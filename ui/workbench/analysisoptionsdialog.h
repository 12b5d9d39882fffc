// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "analysis/analysisoptions.h"

#include <QDialog>

class QComboBox;
class QDoubleSpinBox;
class QSpinBox;

namespace basin::ui {

// Analysis ▸ Settings: the options of the analysis pass a user may want to change — the
// TIES trim density of the disagreement statistics, the zero threshold of sign counts, the
// sample-cache size (sampled previews) and the thread count. The sample seed stays fixed so
// previews are comparable between sessions. Values persist in QSettings.
class AnalysisOptionsDialog : public QDialog {
    Q_OBJECT

public:
    explicit AnalysisOptionsDialog(const analysis::AnalysisOptions &current,
                                   QWidget *parent = nullptr);

    // The options the form shows (the seed is the one passed in).
    analysis::AnalysisOptions options() const;
    void setOptions(const analysis::AnalysisOptions &options);

    // The zero thresholds offered (the default, 1e-8, among them).
    static const QList<double> &zeroThresholds();

    // Persisted options (defaults where nothing was saved or a value is out of range).
    static analysis::AnalysisOptions load();
    static void save(const analysis::AnalysisOptions &options);

private:
    analysis::AnalysisOptions m_base;
    QDoubleSpinBox *m_density = nullptr;
    QComboBox *m_zeroThreshold = nullptr;
    QSpinBox *m_sampleSize = nullptr;
    QSpinBox *m_threads = nullptr;
};

// True when two option sets give the same snapshot (every field compared).
bool sameAnalysisOptions(const analysis::AnalysisOptions &a, const analysis::AnalysisOptions &b);

} // namespace basin::ui
