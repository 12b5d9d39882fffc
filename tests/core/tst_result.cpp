// SPDX-License-Identifier: GPL-3.0-or-later
#include "common/result.h"

#include <QtTest>

using namespace basin;

namespace {
Result<int> half(int value)
{
    if (value % 2 != 0)
        return makeError(ErrorCode::InvalidArgument, "odd value " + std::to_string(value));
    return value / 2;
}

Result<int> quarter(int value)
{
    auto first = half(value);
    if (!first)
        return first.takeError();
    return half(*first);
}

Result<void> check(int value)
{
    BASIN_TRY(half(value));
    return {};
}
} // namespace

class TestResult : public QObject {
    Q_OBJECT

private slots:
    void valueAndError()
    {
        const auto ok = half(8);
        QVERIFY(ok.ok());
        QCOMPARE(*ok, 4);
        const auto bad = quarter(6);
        QVERIFY(!bad.ok());
        QCOMPARE(bad.error().code, ErrorCode::InvalidArgument);
        QCOMPARE(QString::fromStdString(bad.error().message), QStringLiteral("odd value 3"));
    }

    void tryMacroPropagates()
    {
        QVERIFY(check(2).ok());
        const auto failed = check(3);
        QVERIFY(!failed.ok());
        QCOMPARE(failed.error().code, ErrorCode::InvalidArgument);
    }

    void codeNamesAreDistinct()
    {
        QSet<QString> names;
        for (int code = 0; code <= static_cast<int>(ErrorCode::MergeFailed); ++code) {
            const auto name = codeName(static_cast<ErrorCode>(code));
            QVERIFY2(name != "unknown", "every code needs a name");
            names.insert(QString::fromLatin1(name.data(), qsizetype(name.size())));
        }
        QCOMPARE(names.size(), static_cast<int>(ErrorCode::MergeFailed) + 1);
    }
};

QTEST_GUILESS_MAIN(TestResult)
#include "tst_result.moc"
