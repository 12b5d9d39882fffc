// SPDX-License-Identifier: GPL-3.0-or-later
// Issue 10: inputs the fuzz targets (tests/fuzz) found to misbehave, kept as regression
// rows. Each row names the target that found it. Under the sanitizer stage
// (packaging/ci-extra.sh asan) these also prove the UB report is gone.
#include "io/safetensorsheader.h"
#include "model/checkpoint.h"
#include "recipe/yamlreader.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QTemporaryDir>
#include <QTest>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

using namespace basin;

class TestFuzzRegressions : public QObject {
    Q_OBJECT

private slots:
    void checkpointOpen_data();
    void checkpointOpen();
    void emptyHeaderSpan();
    void recipeTerminates_data();
    void recipeTerminates();
};

void TestFuzzRegressions::checkpointOpen_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("code");
    // fuzz_checkpoint, first seconds: N = 0 made the header parser call memchr on the null
    // data pointer of an empty span (UBSan: null pointer passed as argument 1).
    QTest::newRow("fuzz_checkpoint N=0")
        << QByteArray(8, '\0') << static_cast<int>(ErrorCode::InvalidHeader);
}

void TestFuzzRegressions::checkpointOpen()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, code);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::filesystem::path path =
        std::filesystem::path(dir.path().toStdString()) / "fuzz.safetensors";
    std::ofstream(path, std::ios::binary).write(bytes.constData(), bytes.size());
    auto opened = Checkpoint::open(path);
    QVERIFY(!opened.ok());
    QCOMPARE(static_cast<int>(opened.error().code), code);
    QVERIFY2(opened.error().message.find("fuzz.safetensors") != std::string::npos,
             opened.error().message.c_str());
}

void TestFuzzRegressions::emptyHeaderSpan()
{
    // The pure parser on a default (null) span: an error, not UB.
    auto parsed = parseSafetensorsHeader(std::span<const std::byte>(), 0, "empty");
    QVERIFY(!parsed.ok());
    QCOMPARE(parsed.error().code, ErrorCode::InvalidHeader);
}

void TestFuzzRegressions::recipeTerminates_data()
{
    QTest::addColumn<QByteArray>("text");
    // fuzz_recipe, 60 s run: yaml-cpp 0.7's LoadAll() never returns on these (it keeps
    // appending null documents, jbeder/yaml-cpp#1040, fixed upstream by PR #1319; Debian 12
    // ships 0.7.0). The reader now counts documents with a capped event loop instead.
    QTest::newRow("fuzz_recipe timeout") << QByteArray(" &e_method:\x18l'n,ear\x06r\n");
    QTest::newRow("minimal") << QByteArray(" &a:l'n,e\n");
    QTest::newRow("control") << QByteArray("merge_method: linear\n");
}

void TestFuzzRegressions::recipeTerminates()
{
    QFETCH(QByteArray, text);
    // In a child process, so a hang costs two seconds instead of the whole suite.
    const pid_t child = ::fork();
    QVERIFY(child >= 0);
    if (child == 0) {
        recipe::ReadOptions options;
        options.checkPaths = false;
        auto recipe = recipe::readRecipeString(std::string_view(text.constData(), text.size()),
                                               "/nonexistent", options);
        ::_exit(recipe.ok() ? 0 : 1);
    }
    bool finished = false;
    for (int i = 0; i < 200 && !finished; ++i) {
        int status = 0;
        finished = ::waitpid(child, &status, WNOHANG) == child;
        if (!finished)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!finished) {
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
    }
    QVERIFY2(finished, "readRecipeString() did not return within 2 s");
}

QTEST_GUILESS_MAIN(TestFuzzRegressions)
#include "tst_fuzzregressions.moc"
