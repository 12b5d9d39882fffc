// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/snapshotcsv.h"

#include "analysis/metrics.h"

#include <cmath>
#include <cstdio>

namespace basin::analysis {

namespace {
std::string number(std::optional<double> value)
{
    if (!value || !std::isfinite(*value))
        return {};
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.17g", *value);
    return buffer;
}

std::string quoted(const std::string &text)
{
    if (text.find_first_of(",\"\n") == std::string::npos)
        return text;
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"')
            out += '"';
        out += c;
    }
    return out + "\"";
}
} // namespace

std::string layerPairCsv(const AnalysisSnapshot &snapshot)
{
    std::string out = "row,kind,layer,i,j,model_i,model_j,cosine,both_nonzero_frac,"
                      "sign_conflict,ties_disagree,rel_l2_i,rel_l2_j,ties_conflict_frac\n";
    const int T = snapshot.fineTunes();
    for (const GroupEntry &group : snapshot.groups) {
        const StatsBlock &s = group.stats;
        for (int i = 0; i < T; ++i) {
            for (int j = i + 1; j < T; ++j) {
                out +=
                    quoted(group.label) + ',' + std::string(groupKindName(group.kind)) + ',' +
                    (group.kind == GroupKind::Layer ? std::to_string(group.layer) : std::string()) +
                    ',' + std::to_string(i + 1) + ',' + std::to_string(j + 1) + ',' +
                    quoted(snapshot.fineTuneLabel(i)) + ',' + quoted(snapshot.fineTuneLabel(j)) +
                    ',' + number(cosine(s, i, j)) + ',' + number(bothNonzeroFrac(s, i, j)) + ',' +
                    number(signConflict(s, i, j)) + ',' + number(pairTiesDisagree(s, i, j)) + ',' +
                    number(relL2(s.models[static_cast<std::size_t>(i)])) + ',' +
                    number(relL2(s.models[static_cast<std::size_t>(j)])) + ',' +
                    number(tiesConflictFrac(s)) + '\n';
            }
        }
    }
    return out;
}

} // namespace basin::analysis
