// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The analysis snapshot of a fixture family (tests/data/families/NAME: base, ft1–ft3), for
// the preview and curves tests.

#include "analysis/analysispass.h"
#include "model/checkpoint.h"
#include "model/modelset.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

// Null when a model does not open or the pass fails (the caller's QVERIFY then says so).
inline std::shared_ptr<const basin::analysis::AnalysisSnapshot>
analyseFamily(const std::string &family, std::uint64_t sampleSize = 65536)
{
    using namespace basin;
    std::vector<std::shared_ptr<const Checkpoint>> models;
    for (const char *name : {"base", "ft1", "ft2", "ft3"}) {
        auto checkpoint = Checkpoint::open(std::filesystem::path(BASIN_TEST_DATA_DIR) / "families" /
                                           family / name);
        if (!checkpoint)
            return nullptr;
        models.push_back(*checkpoint);
    }
    auto set = ModelSet::create(models);
    if (!set)
        return nullptr;
    analysis::AnalysisOptions options;
    options.sampleSize = sampleSize;
    auto snapshot = analysis::analyse(**set, options);
    return snapshot ? *snapshot : nullptr;
}
