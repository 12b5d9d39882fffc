// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "model/checkpoint.h"

#include <QString>
#include <QStringList>

#include <memory>

namespace basin::ui {

// Findings about one model of the current set. Known only after the set was aligned and
// analysed (NaN/Inf counts come from the analysis pass, which reads every value anyway).
struct ModelProblems {
    bool known = false;         // false until an analysis of the current set finished
    int missingTensors = 0;     // tensors of the set this model lacks
    int shapeMismatches = 0;    // tensors whose shape differs from the base's
    int unsupportedTensors = 0; // tensors of a dtype the analysis cannot decode
    quint64 nanValues = 0;
    quint64 infValues = 0;
    QStringList details; // one line per finding, for the tooltip

    bool any() const
    {
        return missingTensors > 0 || shapeMismatches > 0 || unsupportedTensors > 0 ||
               nanValues > 0 || infValues > 0;
    }
    // "3 missing · 1 shape · NaN"; empty when there is nothing to report.
    QString summary() const;
};

// One opened model: the header-only checkpoint plus what the Models dock shows.
struct ModelEntry {
    QString path;
    QString name;
    QString dtype; // "BF16", or "BF16 + F32" for mixed storage
    quint64 parameters = 0;
    int tensorCount = 0;
    quint64 bytes = 0;
    QStringList warnings; // non-fatal findings of the reader
    std::shared_ptr<const Checkpoint> checkpoint;

    // Fills the display fields from an opened checkpoint (headers only; no tensor data).
    static ModelEntry fromCheckpoint(const QString &path,
                                     std::shared_ptr<const Checkpoint> checkpoint);
};

} // namespace basin::ui
