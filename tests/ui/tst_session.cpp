// SPDX-License-Identifier: GPL-3.0-or-later
// The workbench session: opening models in the background, analysing the set, dropping
// stale results when the list changes, and refusing broken files without side effects.
#include "jobs/jobrunner.h"
#include "models/modellistmodel.h"
#include "workbench/session.h"

#include "model/checkpoint.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <cstring>
#include <limits>
#include <span>

using basin::ui::JobRunner;
using basin::ui::JobState;
using basin::ui::Session;

namespace {
QString family(const QString &member)
{
    return QDir::cleanPath(QStringLiteral(BASIN_TEST_DATA_DIR "/families/f32/") + member);
}
constexpr int kTimeout = 60000;

// A copy of ft1 with three problems: one tensor left out, the embedding one row longer,
// and a NaN in one weight. Written by hand (header + raw little-endian f32 data).
bool writeBrokenFineTune(const QString &file)
{
    auto ft1 =
        basin::Checkpoint::open(std::filesystem::path(family(QStringLiteral("ft1")).toStdString()));
    if (!ft1)
        return false;
    QJsonObject header;
    QByteArray data;
    for (const basin::TensorInfo &tensor : (*ft1)->tensors()) {
        if (tensor.name == "model.layers.0.mlp.up_proj.weight")
            continue;
        QByteArray bytes(qsizetype(tensor.byteSize), Qt::Uninitialized);
        if (!(*ft1)->readRaw(
                tensor, std::as_writable_bytes(std::span(bytes.data(), std::size_t(bytes.size())))))
            return false;
        std::vector<std::uint64_t> shape = tensor.shape;
        if (tensor.name == "model.embed_tokens.weight") {
            shape[0] += 1;
            bytes.append(QByteArray(qsizetype(shape[1] * 4), '\0'));
        }
        if (tensor.name == "model.layers.1.self_attn.q_proj.weight") {
            const float nan = std::numeric_limits<float>::quiet_NaN();
            std::memcpy(bytes.data() + 4 * 5, &nan, 4);
        }
        QJsonArray dims;
        for (const std::uint64_t d : shape)
            dims.append(qint64(d));
        header.insert(
            QString::fromStdString(tensor.name),
            QJsonObject{{QStringLiteral("dtype"), QStringLiteral("F32")},
                        {QStringLiteral("shape"), dims},
                        {QStringLiteral("data_offsets"),
                         QJsonArray{qint64(data.size()), qint64(data.size() + bytes.size())}}});
        data.append(bytes);
    }
    QByteArray json = QJsonDocument(header).toJson(QJsonDocument::Compact);
    while (json.size() % 8 != 0)
        json.append(' ');
    QFile out(file);
    if (!out.open(QIODevice::WriteOnly))
        return false;
    const quint64 length = quint64(json.size());
    char prefix[8];
    for (int i = 0; i < 8; ++i)
        prefix[i] = char((length >> (8 * i)) & 0xff);
    out.write(prefix, 8);
    out.write(json);
    out.write(data);
    return out.error() == QFile::NoError;
}
} // namespace

class TestSession : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("BasinTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_session"));
        QVERIFY(QFileInfo::exists(family(QStringLiteral("base"))));
    }

    void loadsAndAnalysesInRequestOrder()
    {
        Session session;
        QSignalSpy finished(&session, &Session::analysisFinished);
        QSignalSpy started(&session, &Session::analysisStarted);
        session.setBase(family(QStringLiteral("base")));
        session.addFineTunes({family(QStringLiteral("ft1")), family(QStringLiteral("ft2")),
                              family(QStringLiteral("ft3"))});
        QCOMPARE(session.pendingOpenCount(), 4);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
        // Four opens coalesce into one pass: no pass over a partial list.
        QCOMPARE(started.count(), 1);
        QCOMPARE(session.pendingOpenCount(), 0);
        QCOMPARE(session.modelPaths(),
                 QStringList({family(QStringLiteral("base")), family(QStringLiteral("ft1")),
                              family(QStringLiteral("ft2")), family(QStringLiteral("ft3"))}));
        const auto snapshot = session.snapshot();
        QVERIFY(snapshot);
        QCOMPARE(snapshot->fineTunes(), 3);
        QCOMPARE(snapshot->groups.size(), std::size_t(4 + 3)); // embed, L0-L3, norm, head
        QCOMPARE(session.base()->name, QStringLiteral("base"));
        QCOMPARE(session.base()->dtype, QStringLiteral("F32"));
        QVERIFY(session.base()->parameters > 0);
        QCOMPARE(session.base()->tensorCount, int(snapshot->tensors.size()));
        // The fixture family is clean.
        for (int m = 0; m < 4; ++m) {
            QVERIFY(session.problemsOf(m));
            QVERIFY2(!session.problemsOf(m)->any(), qPrintable(session.problemsOf(m)->summary()));
        }
    }

    void removingMidAnalysisCancelsAndRestarts()
    {
        Session session;
        QSignalSpy finished(&session, &Session::analysisFinished);
        QSignalSpy jobs(session.jobRunner(), &JobRunner::jobFinished);
        quint64 firstJob = 0;
        int starts = 0;
        // Remove a model the moment the first pass is submitted: its worker may be running
        // or even done, but its result has not been delivered.
        connect(&session, &Session::analysisStarted, this, [&] {
            if (++starts == 1) {
                firstJob = session.jobRunner()->currentJob(QStringLiteral("analysis"));
                QVERIFY(session.isAnalysing());
                session.removeFineTune(1); // ft2
                QVERIFY(!session.analysis());
            }
        });
        session.addModels({family(QStringLiteral("base")), family(QStringLiteral("ft1")),
                           family(QStringLiteral("ft2")), family(QStringLiteral("ft3"))});
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
        QTRY_VERIFY_WITH_TIMEOUT(!session.jobRunner()->isBusy(QStringLiteral("analysis")),
                                 kTimeout);
        QCOMPARE(starts, 2);
        QVERIFY(firstJob != 0);
        bool firstEndedUnseen = false;
        for (const QList<QVariant> &args : std::as_const(jobs)) {
            if (args.at(0).toULongLong() == firstJob) {
                const auto state = args.at(2).value<JobState>();
                firstEndedUnseen = state == JobState::Cancelled || state == JobState::Superseded;
            }
        }
        QVERIFY(firstEndedUnseen);
        // Only the result for the current list was shown.
        const auto snapshot = session.snapshot();
        QVERIFY(snapshot);
        QCOMPARE(int(snapshot->modelPaths.size()), session.fineTuneCount() + 1);
        QCOMPARE(snapshot->fineTunes(), 2);
        QCOMPARE(snapshot->modelNames.at(2), std::string("ft3"));
    }

    void reorderAndRemoveBase()
    {
        Session session;
        QSignalSpy finished(&session, &Session::analysisFinished);
        session.addModels({family(QStringLiteral("base")), family(QStringLiteral("ft1")),
                           family(QStringLiteral("ft2"))});
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
        const double cosine = session.snapshot()->total.pairs.at(0).dot;
        session.moveFineTune(1, 0);
        QVERIFY(!session.snapshot());
        QCOMPARE(session.fineTunes().front().name, QStringLiteral("ft2"));
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, kTimeout);
        QCOMPARE(session.snapshot()->modelNames.at(1), std::string("ft2"));
        QCOMPARE(session.snapshot()->total.pairs.at(0).dot, cosine); // symmetric
        QSignalSpy started(&session, &Session::analysisStarted);
        session.removeBase();
        QVERIFY(!session.canAnalyse());
        QTest::qWait(50);
        QCOMPARE(started.count(), 0);
        QVERIFY(!session.snapshot());
    }

    void corruptAndDuplicateFilesLeaveTheListUnchanged_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::newRow("too small") << QByteArray("\x01\x02", 2);
        QTest::newRow("header length beyond the file")
            << QByteArray("\xff\xff\xff\x00\x00\x00\x00\x00{}", 10);
        QTest::newRow("header not json") << QByteArray("\x04\x00\x00\x00\x00\x00\x00\x00oops", 12);
    }

    void corruptAndDuplicateFilesLeaveTheListUnchanged()
    {
        QFETCH(QByteArray, bytes);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString bad = dir.filePath(QStringLiteral("bad.safetensors"));
        QFile file(bad);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(bytes);
        file.close();

        Session session;
        QSignalSpy finished(&session, &Session::analysisFinished);
        QSignalSpy failed(&session, &Session::openFailed);
        session.addModels({family(QStringLiteral("base")), family(QStringLiteral("ft1"))});
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
        const QStringList before = session.modelPaths();

        QSignalSpy changed(&session, &Session::modelsChanged);
        session.addFineTunes({bad, family(QStringLiteral("ft1"))});
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 2, kTimeout);
        QCOMPARE(failed.at(0).at(0).toString(), bad);
        QVERIFY(!failed.at(0).at(1).toString().isEmpty());
        QVERIFY(failed.at(1).at(1).toString().contains(QStringLiteral("already loaded")));
        QCOMPARE(session.modelPaths(), before);
        QCOMPARE(changed.count(), 0);
        QVERIFY(session.snapshot()); // the analysis of the unchanged list stays
    }

    void problemsAreFoundAndShown()
    {
        QTemporaryDir dir;
        const QString broken = dir.filePath(QStringLiteral("broken.safetensors"));
        QVERIFY(writeBrokenFineTune(broken));
        Session session;
        basin::ui::ModelListModel list(&session);
        QSignalSpy finished(&session, &Session::analysisFinished);
        session.addModels({family(QStringLiteral("base")), family(QStringLiteral("ft2")), broken});
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
        QCOMPARE(session.fineTunes().back().name, QStringLiteral("broken.safetensors"));

        const basin::ui::ModelProblems *problems = session.problemsOf(2);
        QVERIFY(problems && problems->known);
        QCOMPARE(problems->missingTensors, 1);
        QCOMPARE(problems->shapeMismatches, 1);
        QCOMPARE(problems->nanValues, quint64(1));
        QCOMPARE(problems->infValues, quint64(0));
        QVERIFY(!session.problemsOf(1)->any());
        QVERIFY(!session.problemsOf(0)->any());

        // The Models dock shows a badge with the detail in the tooltip.
        const QModelIndex cell = list.index(2, basin::ui::ModelListModel::ProblemsColumn);
        QCOMPARE(cell.data().toString(), QStringLiteral("1 missing · 1 shape · NaN"));
        QVERIFY(cell.data(basin::ui::ModelListModel::HasProblemsRole).toBool());
        QVERIFY(!cell.data(Qt::DecorationRole).isNull());
        const QString tip = cell.data(Qt::ToolTipRole).toString();
        QVERIFY2(tip.contains(QStringLiteral("model.layers.0.mlp.up_proj.weight")),
                 qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("[129, 32]")), qPrintable(tip));
        QVERIFY(!list.index(1, basin::ui::ModelListModel::ProblemsColumn)
                     .data(basin::ui::ModelListModel::HasProblemsRole)
                     .toBool());
    }

    void familyFolderExpandsBaseFirst()
    {
        const QStringList expanded =
            Session::expandModelPaths({QStringLiteral(BASIN_TEST_DATA_DIR "/families/f32")});
        QCOMPARE(expanded,
                 QStringList({family(QStringLiteral("base")), family(QStringLiteral("ft1")),
                              family(QStringLiteral("ft2")), family(QStringLiteral("ft3"))}));
        // A model folder stays as it is.
        QCOMPARE(Session::expandModelPaths({family(QStringLiteral("ft2"))}),
                 QStringList{family(QStringLiteral("ft2"))});
    }

    void selectionIsClampedToTheSnapshot()
    {
        Session session;
        QSignalSpy finished(&session, &Session::analysisFinished);
        session.addModels({QStringLiteral(BASIN_TEST_DATA_DIR "/families/f32")});
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
        QSignalSpy selected(&session, &Session::selectedGroupChanged);
        session.setSelectedGroup(3);
        QCOMPARE(session.selectedGroup(), 3);
        session.setSelectedGroup(3);
        QCOMPARE(selected.count(), 1);
        session.setSelectedGroup(99);
        QCOMPARE(session.selectedGroup(), -1);
    }
};

QTEST_MAIN(TestSession)
#include "tst_session.moc"
