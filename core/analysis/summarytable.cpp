// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/summarytable.h"

#include "analysis/metrics.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <numbers>

namespace basin::analysis {

namespace {

std::string format(const char *pattern, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char *pattern, ...)
{
    char buffer[512];
    va_list args;
    va_start(args, pattern);
    std::vsnprintf(buffer, sizeof buffer, pattern, args);
    va_end(args);
    return buffer;
}

// A value in a fixed-width cell; "-" where undefined.
std::string cell(std::optional<double> value, const char *pattern, int width)
{
    std::string text = value && std::isfinite(*value) ? format(pattern, *value) : "-";
    if (static_cast<int>(text.size()) < width)
        text.insert(0, static_cast<std::size_t>(width) - text.size(), ' ');
    return text;
}

std::string padRight(std::string text, std::size_t width)
{
    if (text.size() < width)
        text.append(width - text.size(), ' ');
    return text;
}

std::string withThousands(std::uint64_t value)
{
    const std::string digits = std::to_string(value);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0)
            out.push_back(',');
        out.push_back(digits[i]);
    }
    return out;
}

std::string rowText(const AnalysisSnapshot &snapshot, const std::string &label, const StatsBlock &s,
                    const std::string &flags, std::size_t labelWidth)
{
    std::string line = padRight(label, labelWidth);
    for (int t = 0; t < snapshot.fineTunes(); ++t)
        line += cell(relL2(s.models[static_cast<std::size_t>(t)]), "%.3e", 11);
    line += cell(meanPairCosine(s), "%+.3f", 10);
    line += cell(meanSignConflict(s), "%.3f", 11);
    line += cell(tiesConflictFrac(s), "%.3f", 11);
    line += "  " + flags + "\n";
    return line;
}

} // namespace

std::string summaryTable(const AnalysisSnapshot &snapshot, const FlagRule &rule)
{
    const int T = snapshot.fineTunes();
    std::string out;
    out +=
        "Base: " + (snapshot.modelPaths.empty() ? std::string("?") : snapshot.modelPaths[0]) + "\n";
    for (int t = 0; t < T; ++t)
        out +=
            format("ft%d:  ", t + 1) + snapshot.modelPaths[static_cast<std::size_t>(t + 1)] + "\n";
    out += format("%zu tensors, ", snapshot.tensors.size()) +
           withThousands(snapshot.total.set.numel) + " weights per model, " +
           format("%d fine-tune%s\n\n", T, T == 1 ? "" : "s");

    std::size_t labelWidth = 6;
    for (const GroupEntry &group : snapshot.groups)
        labelWidth = std::max(labelWidth, group.label.size() + 2);
    std::string header = padRight("row", labelWidth);
    for (int t = 0; t < T; ++t) {
        const std::string name = format("rho ft%d", t + 1);
        header += std::string(name.size() < 11 ? 11 - name.size() : 1, ' ') + name;
    }
    header += "  mean cos  sign conf  TIES conf  flags\n";
    out += header;

    std::vector<std::string> flagged;
    for (const GroupEntry &group : snapshot.groups) {
        const std::string flags = groupFlags(snapshot, group, rule);
        if (!flags.empty())
            flagged.push_back(group.label + " (" + flags + ")");
        out += rowText(snapshot, group.label, group.stats, flags, labelWidth);
    }
    bool skipped = false;
    for (const TensorEntry &tensor : snapshot.tensors) {
        for (const bool present : tensor.present)
            skipped = skipped || !present;
    }
    out += rowText(snapshot, "total", snapshot.total, flagsFor(snapshot.total, skipped, rule),
                   labelWidth);

    out += "\nrho = ||tau|| / ||base|| (tau = fine-tune - base); mean cos = mean cosine of the\n"
           "task vectors over pairs; sign conf = mean share of weights changed by both of a\n"
           "pair with opposite signs; TIES conf = share of changed weights where some\n"
           "fine-tune disagrees with the elected sign sgn(sum of tau).\n";
    out += flagLegend(rule);
    if (flagged.empty()) {
        out += "No row flagged.\n";
    } else {
        out += "Flagged rows:";
        for (const std::string &row : flagged)
            out += " " + row;
        out += "\n";
    }
    if (!snapshot.skipped.empty())
        out += format("%zu tensor copies were skipped (missing, other shape or dtype); "
                      "--json lists them.\n",
                      snapshot.skipped.size());
    return out;
}

std::string tensorDetail(const AnalysisSnapshot &snapshot, const TensorEntry &tensor)
{
    const StatsBlock &s = tensor.stats;
    const int T = snapshot.fineTunes();
    std::string out = "Tensor " + tensor.name + "\n";
    std::string shape = "[";
    for (std::size_t i = 0; i < tensor.shape.size(); ++i)
        shape += (i ? ", " : "") + std::to_string(tensor.shape[i]);
    shape += "]";
    out += "  shape " + shape + ", " + withThousands(tensor.numel) + " weights, kind " +
           std::string(tensorKindName(tensor.nameInfo.kind)) +
           (tensor.nameInfo.layer ? format(", layer %d", *tensor.nameInfo.layer) : "") + "\n";
    out += "  dtypes:";
    for (std::size_t m = 0; m < tensor.dtypes.size(); ++m)
        out += (m == 0 ? std::string(" base ") : format(", ft%zu ", m)) +
               (tensor.dtypes[m].empty() ? std::string("missing") : tensor.dtypes[m]);
    out += format("\n  ||base|| = %.6g", baseL2(s));
    if (s.set.baseNanCount + s.set.baseInfCount > 0)
        out += format(", base has %llu NaN and %llu Inf",
                      static_cast<unsigned long long>(s.set.baseNanCount),
                      static_cast<unsigned long long>(s.set.baseInfCount));
    out += "\n\n";

    for (int t = 0; t < T; ++t) {
        const ModelAccum &m = s.models[static_cast<std::size_t>(t)];
        const std::string label = snapshot.fineTuneLabel(t);
        out += format("ft%d", t + 1);
        if (label != format("ft%d", t + 1))
            out += " (" + label + ")";
        if (!tensor.present[static_cast<std::size_t>(t)]) {
            out += ": skipped\n";
            continue;
        }
        out += "\n";
        out += "  ||tau|| " + cell(l2(m), "%.6g", 0) + "   rho " + cell(relL2(m), "%.6g", 0) +
               "   mean " + cell(mean(m), "%.6g", 0) + "   std " + cell(stddev(m), "%.6g", 0) +
               "\n";
        out += "  max |tau| " + cell(maxAbs(m), "%.6g", 0) + "   zero share " +
               cell(zeroFrac(m), "%.4f", 0) + "   |tau| p50 " +
               cell(quantileAbs(m, 0.5), "%.3g", 0) + "  p90 " +
               cell(quantileAbs(m, 0.9), "%.3g", 0) + "  p99 " +
               cell(quantileAbs(m, 0.99), "%.3g", 0) + "\n";
        out += "  TIES disagreement " + cell(tiesDroppedFrac(m), "%.4f", 0) + " (of |tau| mass " +
               cell(tiesDroppedL1Frac(m), "%.4f", 0) + "), after trimming to density " +
               format("%g", snapshot.options.density) + ": " + cell(tiesTrimmedFrac(m), "%.4f", 0) +
               "\n";
        if (const auto &slerp = tensor.slerp[static_cast<std::size_t>(t)])
            out += format("  slerp base->ft%d: angle %.4g deg, cos %.8f%s\n", t + 1,
                          slerp->angle * 180.0 / std::numbers::pi, slerp->cosine,
                          slerp->lerpFallback ? " (falls back to lerp: |cos| > 0.9995)" : "");
        if (m.ulpValid) {
            out += "  bf16 steps from base:";
            for (int b = 0; b < UlpHistogram::kBins; ++b)
                out += format(
                    " %s:%llu", std::string(UlpHistogram::binLabel(b)).c_str(),
                    static_cast<unsigned long long>(m.ulp.counts[static_cast<std::size_t>(b)]));
            out += "   one-step share of changed weights " + cell(m.ulp.oneStepShare(), "%.3f", 0) +
                   "\n";
        }
        if (m.nanCount + m.infCount > 0)
            out += format("  non-finite: %llu NaN, %llu Inf\n",
                          static_cast<unsigned long long>(m.nanCount),
                          static_cast<unsigned long long>(m.infCount));
    }
    if (T >= 2) {
        out += "\npair       cosine  both changed  sign conflict  TIES disagree\n";
        for (int i = 0; i < T; ++i) {
            for (int j = i + 1; j < T; ++j) {
                out += padRight(format("ft%d-ft%d", i + 1, j + 1), 9) +
                       cell(cosine(s, i, j), "%+.4f", 9) +
                       cell(bothNonzeroFrac(s, i, j), "%.4f", 14) +
                       cell(signConflict(s, i, j), "%.4f", 15) +
                       cell(pairTiesDisagree(s, i, j), "%.4f", 15) + "\n";
            }
        }
    }
    out += "\nTIES conflict share " + cell(tiesConflictFrac(s), "%.4f", 0) + ", after trimming " +
           cell(tiesTrimmedConflictFrac(s), "%.4f", 0) + "\n";
    if (tensor.modelStock)
        out += format("Model Stock: mean cosine %.4f, t = %.4f (N = %d)\n",
                      tensor.modelStock->cosine, tensor.modelStock->t, tensor.modelStock->n);
    return out;
}

} // namespace basin::analysis
