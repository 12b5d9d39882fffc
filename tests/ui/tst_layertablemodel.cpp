// SPDX-License-Identifier: GPL-3.0-or-later
// The Layers table model and the Models list model under QAbstractItemModelTester, sorting
// through the proxy, and TSV copies that read back to the exact values.
#include "analysis/abshistogram.h"
#include "analysis/analysispass.h"
#include "analysis/metrics.h"
#include "analysis/ulphistogram.h"
#include "models/layertablemodel.h"
#include "models/modellistmodel.h"
#include "panels/layerspanel.h"
#include "plots/tsv.h"
#include "workbench/distribution.h"
#include "workbench/session.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QClipboard>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QtTest>

#include <cmath>

using namespace basin;
using namespace basin::ui;

namespace {
std::shared_ptr<const analysis::AnalysisSnapshot> analyseFamily(const char *name)
{
    std::vector<std::shared_ptr<const Checkpoint>> models;
    for (const char *member : {"base", "ft1", "ft2", "ft3"}) {
        auto opened = Checkpoint::open(std::filesystem::path(BASIN_TEST_DATA_DIR) / "families" /
                                       name / member);
        if (!opened)
            return nullptr;
        models.push_back(*opened);
    }
    auto set = ModelSet::create(models);
    if (!set)
        return nullptr;
    auto snapshot = analysis::analyse(**set, analysis::AnalysisOptions{});
    return snapshot ? *snapshot : nullptr;
}

int columnOf(const QAbstractItemModel &model, const QString &header)
{
    for (int c = 0; c < model.columnCount(); ++c) {
        if (model.headerData(c, Qt::Horizontal).toString() == header)
            return c;
    }
    return -1;
}
} // namespace

class TestLayerTableModel : public QObject {
    Q_OBJECT

private:
    std::shared_ptr<const analysis::AnalysisSnapshot> m_f32;
    std::shared_ptr<const analysis::AnalysisSnapshot> m_bf16;

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        m_f32 = analyseFamily("f32");
        m_bf16 = analyseFamily("bf16");
        QVERIFY(m_f32 && m_bf16);
    }

    void passesTheModelTester()
    {
        LayerTableModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(model.rowCount(), 0);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        model.setSnapshot(m_f32);
        QCOMPARE(reset.count(), 1);
        QCOMPARE(model.rowCount(), int(m_f32->groups.size()));
        // Three fine-tunes: 10 per-model statistics, 2 per pair, plus the fixed columns.
        QCOMPARE(model.columnCount(), 2 + 3 * 10 + 3 * 2 + 2 + 2);
        model.setSnapshot(m_bf16); // bf16 adds the one-step share per model
        QCOMPARE(model.columnCount(), 2 + 3 * 11 + 3 * 2 + 2 + 2);
        model.setSnapshot(nullptr);
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(model.columnCount(), 0);
    }

    void valuesComeFromTheSnapshot()
    {
        LayerTableModel model;
        model.setSnapshot(m_f32);
        const int rho2 = columnOf(model, QStringLiteral("ρ ft2"));
        const int cos13 = columnOf(model, QStringLiteral("cos ft1·ft3"));
        const int p90 = columnOf(model, QStringLiteral("p90|τ| ft1"));
        QVERIFY(rho2 > 0 && cos13 > 0 && p90 > 0);
        for (int row = 0; row < model.rowCount(); ++row) {
            const auto &s = m_f32->groups[std::size_t(row)].stats;
            QCOMPARE(model.index(row, 0).data().toString(),
                     QString::fromStdString(m_f32->groups[std::size_t(row)].label));
            QCOMPARE(model.value(row, rho2), analysis::relL2(s.models[1]).value());
            const auto cosine = analysis::cosine(s, 0, 2);
            if (cosine)
                QCOMPARE(model.value(row, cos13), *cosine);
            else
                QVERIFY(std::isnan(model.value(row, cos13)));
            QCOMPARE(model.index(row, p90).data(LayerTableModel::ValueRole).toDouble(),
                     analysis::quantileAbs(s.models[0], 0.9).value());
            QCOMPARE(model.index(row, 0).data(LayerTableModel::GroupRole).toInt(), row);
        }
        // ft3 changes only the MLP of layers >= 2: no cosine with it in layer 0.
        QCOMPARE(model.index(1, cos13).data().toString(), QStringLiteral("–"));
    }

    void sortsThroughTheProxy()
    {
        LayerTableModel model;
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setSortRole(LayerTableModel::SortRole);
        QAbstractItemModelTester tester(&proxy,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setSnapshot(m_f32);
        const int rho1 = columnOf(model, QStringLiteral("ρ ft1"));
        proxy.sort(rho1, Qt::DescendingOrder);
        double previous = std::numeric_limits<double>::infinity();
        for (int r = 0; r < proxy.rowCount(); ++r) {
            const double v = proxy.index(r, rho1).data(LayerTableModel::ValueRole).toDouble();
            QVERIFY(v <= previous);
            previous = v;
        }
        const int topGroup = proxy.index(0, 0).data(LayerTableModel::GroupRole).toInt();
        double best = 0;
        int bestGroup = -1;
        for (int g = 0; g < model.rowCount(); ++g) {
            if (model.value(g, rho1) > best) {
                best = model.value(g, rho1);
                bestGroup = g;
            }
        }
        QCOMPARE(topGroup, bestGroup);
        // Back to layer order.
        proxy.sort(0, Qt::AscendingOrder);
        for (int r = 0; r < proxy.rowCount(); ++r)
            QCOMPARE(proxy.index(r, 0).data(LayerTableModel::GroupRole).toInt(), r);
        // Undefined values sort first ascending (cosine with ft3 is undefined outside the MLP).
        const int cos13 = columnOf(model, QStringLiteral("cos ft1·ft3"));
        proxy.sort(cos13, Qt::AscendingOrder);
        QVERIFY(std::isnan(proxy.index(0, cos13).data(LayerTableModel::ValueRole).toDouble()));
        QVERIFY(!std::isnan(
            proxy.index(proxy.rowCount() - 1, cos13).data(LayerTableModel::ValueRole).toDouble()));
    }

    void copiesSelectedRowsAsExactTsv()
    {
        Session session; // empty: the panel gets its snapshot below
        LayersPanel panel(&session);
        panel.model()->setSnapshot(m_f32);
        panel.view()->selectionModel()->select(
            panel.proxy()->index(2, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
        panel.view()->selectionModel()->select(
            panel.proxy()->index(4, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
        QCOMPARE(panel.selectedGroups(), (std::vector<int>{2, 4}));
        const QString text = panel.selectionAsTsv();
        const QStringList lines = text.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 3);
        const QStringList header = lines.at(0).split(QLatin1Char('\t'));
        QCOMPARE(header, panel.model()->headerLabels());
        const QStringList row = lines.at(1).split(QLatin1Char('\t'));
        QCOMPARE(row.at(0), QStringLiteral("L1"));
        const int rho1 = int(header.indexOf(QStringLiteral("ρ ft1")));
        QCOMPARE(row.at(rho1).toDouble(), panel.model()->value(2, rho1)); // exact round trip
        panel.copySelection();
        QCOMPARE(QApplication::clipboard()->text(), text);
    }

    void modelListPassesTheModelTester()
    {
        Session session;
        ModelListModel model(&session);
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy finished(&session, &Session::analysisFinished);
        session.addModels({QStringLiteral(BASIN_TEST_DATA_DIR "/families/bf16")});
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        QCOMPARE(model.rowCount(), 4);
        QCOMPARE(model.index(0, ModelListModel::DtypeColumn).data().toString(),
                 QStringLiteral("BF16"));
        QCOMPARE(model.index(3, ModelListModel::RoleColumn).data().toString(),
                 QStringLiteral("fine-tune #3"));
        QCOMPARE(model.rowOfFineTune(0), 1);
        session.removeBase();
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.rowOfFineTune(0), 0);
        QCOMPARE(model.index(0, ModelListModel::ProblemsColumn).data().toString(),
                 QStringLiteral("…"));
    }

    void distributionsComeFromTheExactHistograms()
    {
        const std::string name = "model.layers.2.mlp.down_proj.weight";
        const analysis::TensorEntry *bf16 = m_bf16->findTensor(name);
        const analysis::TensorEntry *f32 = m_f32->findTensor(name);
        QVERIFY(bf16 && f32);
        // bf16 steps: only where base and fine-tune are stored in bf16.
        QVERIFY(hasUlpHistogram(*bf16, {0, 1, 2}));
        QVERIFY(!hasUlpHistogram(*f32, {0, 1, 2}));
        const Distribution ulp = ulpHistogram(*m_bf16, *bf16, {0, 2});
        QCOMPARE(int(ulp.histogram.series.size()), 2);
        QCOMPARE(ulp.histogram.series[1].name, QStringLiteral("ft3"));
        for (int bin = 0; bin < analysis::UlpHistogram::kBins; ++bin)
            QCOMPARE(ulp.histogram.series[1].counts[std::size_t(bin)],
                     double(bf16->stats.models[2].ulp.counts[std::size_t(bin)]));
        QVERIFY(ulp.note.contains(QStringLiteral("ft1")));
        QCOMPARE(ulpBinLabels().size(), analysis::UlpHistogram::kBins);

        // log |τ|: every changed value lands in a bin; the unchanged ones are in the note.
        const Distribution logAbs = absTauHistogram(*m_f32, *f32, {0, 1, 2});
        QCOMPARE(int(logAbs.histogram.series.size()), 3);
        const auto &edges = logAbs.histogram.series[0].edges;
        for (std::size_t i = 1; i < edges.size(); ++i)
            QVERIFY(edges[i] > edges[i - 1]);
        for (int t = 0; t < 3; ++t) {
            double sum = 0;
            for (const double c : logAbs.histogram.series[std::size_t(t)].counts)
                sum += c;
            const analysis::AbsHistogram &h = f32->stats.models[std::size_t(t)].absHist;
            std::uint64_t below = 0; // whole bf16 buckets under the zero threshold
            for (std::size_t i = 0; i < h.counts().size(); ++i) {
                if (analysis::AbsHistogram::binLowerEdge(std::uint32_t(h.firstBin() + i) + 1) <=
                    m_f32->options.zeroThreshold)
                    below += h.counts()[i];
            }
            QCOMPARE(quint64(sum), quint64(h.total() - below));
        }
    }

    void formatsCounts()
    {
        QCOMPARE(ModelListModel::formatCount(999), QStringLiteral("999"));
        QCOMPARE(ModelListModel::formatCount(12'345), QStringLiteral("12.3 k"));
        QCOMPARE(ModelListModel::formatCount(7'340'032), QStringLiteral("7.3 M"));
        QCOMPARE(ModelListModel::formatCount(1'230'000'000), QStringLiteral("1.23 B"));
    }
};

QTEST_MAIN(TestLayerTableModel)
#include "tst_layertablemodel.moc"
