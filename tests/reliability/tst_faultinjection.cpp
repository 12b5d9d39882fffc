// SPDX-License-Identifier: GPL-3.0-or-later
// Issue 10 (reliability): export under injected faults. Every row checks the same four
// promises of FORMATS.md's hostile-input table: a clear error, nothing at the destination,
// no temporary files left, and the input checkpoints byte-identical (SHA-256) afterwards.
#include "engine/mergerunner.h"
#include "io/faultinjection.h"
#include "io/sha256.h"
#include "recipe/yamlreader.h"

#include <QTemporaryDir>
#include <QTest>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

namespace fs = std::filesystem;
using namespace basin;

namespace {

const char *kRecipe = R"(models:
  - model: ft1
    parameters: {weight: 0.6}
  - model: ft2
    parameters: {weight: 0.4}
merge_method: task_arithmetic
base_model: base
dtype: float32
)";

std::string readBytes(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// relative path → SHA-256 of every file under `root`.
std::map<std::string, std::string> checksums(const fs::path &root)
{
    std::map<std::string, std::string> sums;
    for (const auto &entry : fs::recursive_directory_iterator(root)) {
        if (!entry.is_regular_file())
            continue;
        const std::string bytes = readBytes(entry.path());
        sums[fs::relative(entry.path(), root).string()] =
            Sha256::hexOf(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
    }
    return sums;
}

const char *opName(fault::Op op)
{
    switch (op) {
    case fault::Op::Write:
        return "write";
    case fault::Op::Sync:
        return "fsync";
    case fault::Op::Rename:
        return "rename";
    case fault::Op::Mkdir:
        return "mkdir";
    }
    return "?";
}

} // namespace

class TestFaultInjection : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void seamCountsWithoutFailing();
    void injectedFault_data();
    void injectedFault();
    void destinationRemovedMidExport();
    void shardTruncatedBetweenOpenAndRead();
    void cancelAtRandomTensor_data();
    void cancelAtRandomTensor();
    void cleanupTestCase();

private:
    // Runs the recipe into m_outParent/merged with small shards (several files, many writes).
    Result<engine::MergeReport> merge(const ProgressSink &progress = {},
                                      const CancelFlag *cancel = nullptr);
    // The promises every failed export keeps.
    void verifyNothingLost();

    QTemporaryDir m_tmp;
    fs::path m_in;
    fs::path m_outParent;
    fs::path m_dest;
    std::map<std::string, std::string> m_inputSums;
    std::map<fault::Op, std::uint64_t> m_calls;
    std::size_t m_tensorCount = 0;
    int m_faultsInjected = 0;
};

void TestFaultInjection::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    const fs::path root = m_tmp.path().toStdString();
    m_in = root / "in";
    m_outParent = root / "out";
    m_dest = m_outParent / "merged";
    fs::create_directories(m_in);
    for (const char *model : {"base", "ft1", "ft2"})
        fs::copy(fs::path(BASIN_TEST_DATA_DIR) / "families" / "f32" / model, m_in / model,
                 fs::copy_options::recursive);
    m_inputSums = checksums(m_in);
    QVERIFY(m_inputSums.size() >= 3);

    // Counting run: the seam armed with nth = 0 counts every call and fails none.
    fs::create_directories(m_outParent);
    fault::arm(fault::Op::Write, 0, 0);
    Result<engine::MergeReport> report = merge();
    fault::disarm();
    QVERIFY2(report.ok(), report.ok() ? "" : report.error().message.c_str());
    QVERIFY(report->shards.size() >= 2); // several files, so faults land between them
    m_tensorCount = report->tensors.size();
    for (fault::Op op : {fault::Op::Write, fault::Op::Sync, fault::Op::Rename, fault::Op::Mkdir})
        m_calls[op] = fault::calls(op);
    QVERIFY(m_calls[fault::Op::Write] >= 3);
    QVERIFY(m_calls[fault::Op::Sync] >= 2);
    QVERIFY(m_calls[fault::Op::Rename] >= 2);
    QVERIFY(m_calls[fault::Op::Mkdir] >= 1);
    QCOMPARE(fault::fired(), std::uint64_t(0));
    fs::remove_all(m_dest);
}

void TestFaultInjection::cleanup()
{
    fault::disarm();
    std::error_code ec;
    fs::remove_all(m_outParent, ec);
    fs::create_directories(m_outParent);
}

Result<engine::MergeReport> TestFaultInjection::merge(const ProgressSink &progress,
                                                      const CancelFlag *cancel)
{
    static CancelFlag never{false};
    recipe::ReadOptions readOptions;
    readOptions.sourceName = "fault.yml";
    Result<recipe::Recipe> recipe = recipe::readRecipeString(kRecipe, m_in, readOptions);
    if (!recipe)
        return recipe.takeError();
    engine::MergeRequest request{std::move(*recipe), m_dest, {}};
    request.options.maxShardBytes = 48 * 1024;
    request.options.prefetchBytes = 1; // one tensor ahead: reads stay interleaved with writes
    return engine::runMerge(request, progress, cancel ? *cancel : never);
}

void TestFaultInjection::verifyNothingLost()
{
    QVERIFY2(!fs::exists(m_dest), "partial output left at the destination");
    if (fs::exists(m_outParent)) {
        for (const auto &entry : fs::directory_iterator(m_outParent))
            QFAIL(("left behind: " + entry.path().filename().string()).c_str());
    }
    QCOMPARE(checksums(m_in), m_inputSums);
}

void TestFaultInjection::seamCountsWithoutFailing()
{
    // The counting run of initTestCase succeeded; a second run unarmed gives the same bytes
    // as an armed-but-never-firing one, so the seam changes nothing when it does not fire.
    Result<engine::MergeReport> plain = merge();
    QVERIFY(plain.ok());
    const auto plainSums = checksums(m_dest);
    fs::remove_all(m_dest);
    fault::arm(fault::Op::Write, m_calls[fault::Op::Write] + 1, ENOSPC);
    Result<engine::MergeReport> armed = merge();
    QVERIFY(armed.ok());
    QCOMPARE(fault::fired(), std::uint64_t(0));
    QCOMPARE(checksums(m_dest), plainSums);
}

void TestFaultInjection::injectedFault_data()
{
    QTest::addColumn<int>("op");
    QTest::addColumn<qulonglong>("nth");
    QTest::addColumn<int>("err");
    QTest::addColumn<int>("code");
    QTest::addColumn<bool>("afterCommit");
    struct Kind {
        fault::Op op;
        int err;
        ErrorCode code;
    };
    const Kind kinds[] = {
        {fault::Op::Write, ENOSPC, ErrorCode::NoSpace}, // disk full mid-export
        {fault::Op::Write, EIO, ErrorCode::IoError},
        {fault::Op::Sync, EIO, ErrorCode::IoError},
        {fault::Op::Rename, EACCES, ErrorCode::PermissionDenied},
        {fault::Op::Mkdir, ENOSPC, ErrorCode::NoSpace},
    };
    for (const Kind &k : kinds) {
        const std::uint64_t total = m_calls[k.op];
        // Every call when there are few; otherwise 40 spread over the run, first and last included.
        const std::uint64_t rows = std::min<std::uint64_t>(total, 40);
        for (std::uint64_t r = 0; r < rows; ++r) {
            const std::uint64_t nth = rows == 1 ? 1 : 1 + r * (total - 1) / (rows - 1);
            const std::string name = std::string(opName(k.op)) + " #" + std::to_string(nth) +
                                     " errno " + std::to_string(k.err);
            // The last fsync is the one of the parent folder after the rename into place.
            const bool afterCommit = k.op == fault::Op::Sync && nth == total;
            QTest::newRow(name.c_str()) << static_cast<int>(k.op) << qulonglong(nth) << k.err
                                        << static_cast<int>(k.code) << afterCommit;
        }
    }
}

void TestFaultInjection::injectedFault()
{
    QFETCH(int, op);
    QFETCH(qulonglong, nth);
    QFETCH(int, err);
    QFETCH(int, code);
    QFETCH(bool, afterCommit);
    fault::arm(static_cast<fault::Op>(op), nth, err);
    Result<engine::MergeReport> report = merge();
    const std::uint64_t fired = fault::fired();
    fault::disarm();
    QCOMPARE(fired, std::uint64_t(1));
    ++m_faultsInjected;
    if (afterCommit) {
        // The model was complete and already renamed into place when syncing the parent
        // folder failed: success, with a warning that names the folder.
        QVERIFY2(report.ok(), report.ok() ? "" : report.error().message.c_str());
        QVERIFY(fs::exists(m_dest / "README.md"));
        QVERIFY(!report->warnings.empty());
        QVERIFY2(report->warnings.back().find("power loss") != std::string::npos,
                 report->warnings.back().c_str());
        QCOMPARE(checksums(m_in), m_inputSums);
        fs::remove_all(m_dest);
        return;
    }
    QVERIFY2(!report.ok(), "the merge reported success although a write failed");
    QCOMPARE(static_cast<int>(report.error().code), code);
    verifyNothingLost();
    // A clear message names the file (the destination or its temporary sibling).
    QVERIFY2(report.error().message.find("merged") != std::string::npos,
             report.error().message.c_str());
}

void TestFaultInjection::destinationRemovedMidExport()
{
    bool removed = false;
    ProgressSink progress = [&](const Progress &p) {
        if (!removed && p.phase == "merging" && p.itemsDone >= 2) {
            fs::remove_all(m_outParent);
            removed = true;
        }
    };
    Result<engine::MergeReport> report = merge(progress);
    QVERIFY(removed);
    QVERIFY2(!report.ok(), "the merge succeeded into a removed folder");
    QVERIFY(!report.error().message.empty());
    // Nothing recreated the removed folder behind the user's back.
    QVERIFY(!fs::exists(m_outParent));
    QCOMPARE(checksums(m_in), m_inputSums);
}

void TestFaultInjection::shardTruncatedBetweenOpenAndRead()
{
    const fs::path victim = m_in / "ft1" / "model.safetensors";
    const std::string original = readBytes(victim);
    bool truncated = false;
    ProgressSink progress = [&](const Progress &p) {
        if (!truncated && p.phase == "merging") {
            fs::resize_file(victim, 4096); // header intact, almost every tensor's bytes gone
            truncated = true;
        }
    };
    Result<engine::MergeReport> report = merge(progress);
    QVERIFY(truncated);
    const bool failed = !report.ok();
    const std::string message = failed ? report.error().message : std::string();
    std::ofstream(victim, std::ios::binary | std::ios::trunc) << original;
    QVERIFY2(failed, "the merge succeeded on a truncated shard");
    QCOMPARE(report.error().code, ErrorCode::IoError);
    QVERIFY2(message.find("model.safetensors") != std::string::npos, message.c_str());
    verifyNothingLost();
}

void TestFaultInjection::cancelAtRandomTensor_data()
{
    QTest::addColumn<int>("at");
    for (unsigned seed = 1; seed <= 50; ++seed) {
        std::mt19937 rng(seed);
        const int at =
            static_cast<int>(rng() % (m_tensorCount + 1)); // m_tensorCount: before commit
        QTest::newRow(("seed " + std::to_string(seed)).c_str()) << at;
    }
}

void TestFaultInjection::cancelAtRandomTensor()
{
    QFETCH(int, at);
    CancelFlag cancel{false};
    ProgressSink progress = [&](const Progress &p) {
        if (p.phase == "merging" && p.itemsDone >= static_cast<std::uint64_t>(at))
            cancel.store(true);
    };
    Result<engine::MergeReport> report = merge(progress, &cancel);
    QVERIFY(cancel.load());
    QVERIFY2(!report.ok(), "the merge finished although it was cancelled");
    QCOMPARE(report.error().code, ErrorCode::Cancelled);
    verifyNothingLost();
}

void TestFaultInjection::cleanupTestCase()
{
    fault::disarm();
    qInfo("faults injected: %d; cancels: 50", m_faultsInjected);
}

QTEST_GUILESS_MAIN(TestFaultInjection)
#include "tst_faultinjection.moc"
