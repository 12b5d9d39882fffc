// SPDX-License-Identifier: GPL-3.0-or-later
// Codecs against references computed here independently, with ldexp and nearbyint in
// double precision (exact for every value involved).
#include "io/codecs.h"

#include <QTest>

#include <bit>
#include <cfenv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using namespace basin;

namespace {

// Reference decode of a float format with `exponentBits`/`mantissaBits`, IEEE-style
// Inf/NaN when `ieeeSpecials`.
double referenceDecode(std::uint32_t code, int exponentBits, int mantissaBits, bool ieeeSpecials)
{
    const std::uint32_t sign = code >> (exponentBits + mantissaBits);
    const std::uint32_t exponent = (code >> mantissaBits) & ((1u << exponentBits) - 1);
    const std::uint32_t mantissa = code & ((1u << mantissaBits) - 1);
    const int bias = (1 << (exponentBits - 1)) - 1;
    double value = 0;
    if (ieeeSpecials && exponent == (1u << exponentBits) - 1)
        value = mantissa == 0 ? std::numeric_limits<double>::infinity()
                              : std::numeric_limits<double>::quiet_NaN();
    else if (exponent == 0)
        value = std::ldexp(static_cast<double>(mantissa), 1 - bias - mantissaBits);
    else
        value = std::ldexp(static_cast<double>((1u << mantissaBits) | mantissa),
                           static_cast<int>(exponent) - bias - mantissaBits);
    return sign ? -value : value;
}

// Reference f32 → narrow format rounding (RNE), as a double; ±Inf past the maximum.
double referenceRound(float x, int mantissaBits, int minExponent, double maxFinite)
{
    const double v = x;
    if (v == 0.0 || std::isinf(v))
        return v;
    int e = std::ilogb(v);
    if (e < minExponent)
        e = minExponent; // subnormal range: fixed quantum
    const double quantum = std::ldexp(1.0, e - mantissaBits);
    const double rounded = std::nearbyint(v / quantum) * quantum; // FE_TONEAREST
    if (std::fabs(rounded) > maxFinite)
        return std::copysign(std::numeric_limits<double>::infinity(), v);
    return rounded;
}

bool sameFloat(float a, double b)
{
    if (std::isnan(b))
        return std::isnan(a);
    return static_cast<double>(a) == b && std::signbit(a) == std::signbit(b);
}

float fromBits(std::uint32_t bits)
{
    return std::bit_cast<float>(bits);
}

} // namespace

class TestCodecs : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QCOMPARE(std::fegetround(), FE_TONEAREST); }

    void decodeAllBf16()
    {
        std::vector<std::byte> raw(65536 * 2);
        for (std::uint32_t code = 0; code < 65536; ++code) {
            const double expected = referenceDecode(code, 8, 7, true);
            const float got = bf16ToF32(static_cast<std::uint16_t>(code));
            if (!sameFloat(got, expected))
                QFAIL(qPrintable(
                    QStringLiteral("bf16 code 0x%1").arg(code, 4, 16, QLatin1Char('0'))));
            const auto h = static_cast<std::uint16_t>(code);
            std::memcpy(raw.data() + 2 * code, &h, 2);
        }
        std::vector<float> bulk(65536);
        decodeBf16(raw, bulk);
        for (std::uint32_t code = 0; code < 65536; ++code)
            QVERIFY(std::bit_cast<std::uint32_t>(bulk[code]) == code << 16);
    }

    void decodeAllF16()
    {
        std::vector<std::byte> raw(65536 * 2);
        for (std::uint32_t code = 0; code < 65536; ++code) {
            const double expected = referenceDecode(code, 5, 10, true);
            const float got = f16ToF32(static_cast<std::uint16_t>(code));
            if (!sameFloat(got, expected))
                QFAIL(
                    qPrintable(QStringLiteral("f16 code 0x%1").arg(code, 4, 16, QLatin1Char('0'))));
            const auto h = static_cast<std::uint16_t>(code);
            std::memcpy(raw.data() + 2 * code, &h, 2);
        }
        // The bulk path (vectorised) must agree bit for bit, NaN payloads included.
        std::vector<float> bulk(65536);
        decodeF16(raw, bulk);
        for (std::uint32_t code = 0; code < 65536; ++code)
            QCOMPARE(std::bit_cast<std::uint32_t>(bulk[code]),
                     std::bit_cast<std::uint32_t>(f16ToF32(static_cast<std::uint16_t>(code))));
        // Spot values everyone knows.
        QCOMPARE(f16ToF32(0x3c00), 1.0f);
        QCOMPARE(f16ToF32(0x7bff), 65504.0f);
        QCOMPARE(f16ToF32(0x0001), std::ldexp(1.0f, -24));
        QCOMPARE(f16ToF32(0x03ff), std::ldexp(1023.0f, -24));
        QVERIFY(std::isinf(f16ToF32(0xfc00)) && f16ToF32(0xfc00) < 0);
    }

    void decodeAllF8()
    {
        std::vector<std::byte> raw(256);
        for (std::uint32_t code = 0; code < 256; ++code)
            raw[code] = static_cast<std::byte>(code);
        std::vector<float> e4m3(256), e5m2(256);
        decodeF8E4M3(raw, e4m3);
        decodeF8E5M2(raw, e5m2);
        for (std::uint32_t code = 0; code < 256; ++code) {
            // E4M3FN: no Inf, only S.1111.111 is NaN.
            const bool nan = (code & 0x7f) == 0x7f;
            const double expected43 =
                nan ? std::numeric_limits<double>::quiet_NaN() : referenceDecode(code, 4, 3, false);
            QVERIFY2(sameFloat(f8e4m3ToF32(static_cast<std::uint8_t>(code)), expected43),
                     qPrintable(QString::number(code)));
            QVERIFY(sameFloat(e4m3[code], expected43));
            const double expected52 = referenceDecode(code, 5, 2, true);
            QVERIFY2(sameFloat(f8e5m2ToF32(static_cast<std::uint8_t>(code)), expected52),
                     qPrintable(QString::number(code)));
            QVERIFY(sameFloat(e5m2[code], expected52));
        }
        QCOMPARE(f8e4m3ToF32(0x7e), 448.0f);
        QCOMPARE(f8e5m2ToF32(0x7b), 57344.0f);
    }

    void roundTripEveryFiniteCode()
    {
        for (std::uint32_t code = 0; code < 65536; ++code) {
            const auto h = static_cast<std::uint16_t>(code);
            bool overflow = false;
            if (!std::isnan(bf16ToF32(h))) {
                QCOMPARE(f32ToBf16(bf16ToF32(h), overflow), h);
            }
            if (!std::isnan(f16ToF32(h))) {
                QCOMPARE(f32ToF16(f16ToF32(h), overflow), h);
            }
            QVERIFY(!overflow); // ±Inf inputs are not overflows
        }
    }

    void encodeBf16Cases_data()
    {
        QTest::addColumn<float>("input");
        QTest::addColumn<quint16>("expected");
        QTest::addColumn<bool>("overflow");
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (down).
        QTest::newRow("tie-to-even-down")
            << (1.0f + std::ldexp(1.0f, -8)) << quint16(0x3f80) << false;
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6: up.
        QTest::newRow("tie-to-even-up")
            << (1.0f + 3 * std::ldexp(1.0f, -8)) << quint16(0x3f82) << false;
        QTest::newRow("above-tie") << fromBits(0x3f808001) << quint16(0x3f81) << false;
        QTest::newRow("below-tie") << fromBits(0x3f807fff) << quint16(0x3f80) << false;
        QTest::newRow("negative-tie") << -(1.0f + std::ldexp(1.0f, -8)) << quint16(0xbf80) << false;
        QTest::newRow("+inf") << std::numeric_limits<float>::infinity() << quint16(0x7f80) << false;
        QTest::newRow("-inf") << -std::numeric_limits<float>::infinity() << quint16(0xff80)
                              << false;
        QTest::newRow("largest-finite") << fromBits(0x7f7f0000) << quint16(0x7f7f) << false;
        // Rounds up past the largest finite bf16.
        QTest::newRow("overflow") << std::numeric_limits<float>::max() << quint16(0x7f80) << true;
        QTest::newRow("overflow-negative")
            << -std::numeric_limits<float>::max() << quint16(0xff80) << true;
        QTest::newRow("just-below-overflow") << fromBits(0x7f7f7fff) << quint16(0x7f7f) << false;
        QTest::newRow("smallest-subnormal") << fromBits(0x00010000) << quint16(0x0001) << false;
        QTest::newRow("subnormal-tie") << fromBits(0x00008000) << quint16(0x0000) << false;
        QTest::newRow("f32-smallest-subnormal") << fromBits(0x00000001) << quint16(0x0000) << false;
        QTest::newRow("negative-zero") << -0.0f << quint16(0x8000) << false;
    }

    void encodeBf16Cases()
    {
        QFETCH(float, input);
        QFETCH(quint16, expected);
        QFETCH(bool, overflow);
        bool overflowed = false;
        QCOMPARE(f32ToBf16(input, overflowed), expected);
        QCOMPARE(overflowed, overflow);
    }

    void encodeF16Cases_data()
    {
        QTest::addColumn<float>("input");
        QTest::addColumn<quint16>("expected");
        QTest::addColumn<bool>("overflow");
        QTest::newRow("one") << 1.0f << quint16(0x3c00) << false;
        QTest::newRow("tie-to-even-down")
            << (1.0f + std::ldexp(1.0f, -11)) << quint16(0x3c00) << false;
        QTest::newRow("tie-to-even-up")
            << (1.0f + 3 * std::ldexp(1.0f, -11)) << quint16(0x3c02) << false;
        QTest::newRow("largest-finite") << 65504.0f << quint16(0x7bff) << false;
        QTest::newRow("below-overflow-tie") << 65519.99f << quint16(0x7bff) << false;
        QTest::newRow("overflow-tie") << 65520.0f << quint16(0x7c00) << true;
        QTest::newRow("overflow") << 1e6f << quint16(0x7c00) << true;
        QTest::newRow("overflow-negative") << -70000.0f << quint16(0xfc00) << true;
        QTest::newRow("+inf") << std::numeric_limits<float>::infinity() << quint16(0x7c00) << false;
        QTest::newRow("-inf") << -std::numeric_limits<float>::infinity() << quint16(0xfc00)
                              << false;
        QTest::newRow("smallest-normal") << std::ldexp(1.0f, -14) << quint16(0x0400) << false;
        QTest::newRow("largest-subnormal") << std::ldexp(1023.0f, -24) << quint16(0x03ff) << false;
        QTest::newRow("subnormal-rounds-to-normal")
            << std::ldexp(1023.5f, -24) << quint16(0x0400) << false;
        QTest::newRow("smallest-subnormal") << std::ldexp(1.0f, -24) << quint16(0x0001) << false;
        QTest::newRow("half-smallest-subnormal-tie")
            << std::ldexp(1.0f, -25) << quint16(0x0000) << false;
        QTest::newRow("above-half-smallest")
            << std::ldexp(1.0f + std::ldexp(1.0f, -20), -25) << quint16(0x0001) << false;
        QTest::newRow("subnormal-tie-odd-up") << std::ldexp(3.0f, -25) << quint16(0x0002) << false;
        QTest::newRow("subnormal-tie-even-down")
            << std::ldexp(5.0f, -25) << quint16(0x0002) << false;
        QTest::newRow("negative-subnormal") << -std::ldexp(1.0f, -24) << quint16(0x8001) << false;
        QTest::newRow("f32-subnormal-to-zero") << fromBits(0x00000010) << quint16(0x0000) << false;
        QTest::newRow("negative-zero") << -0.0f << quint16(0x8000) << false;
    }

    void encodeF16Cases()
    {
        QFETCH(float, input);
        QFETCH(quint16, expected);
        QFETCH(bool, overflow);
        bool overflowed = false;
        QCOMPARE(f32ToF16(input, overflowed), expected);
        QCOMPARE(overflowed, overflow);
    }

    void nanStaysNan()
    {
        // A NaN whose payload sits only in the low 16 bits would round into Inf if rounding
        // ran before the NaN check.
        const std::vector<std::uint32_t> nans{0x7f800001, 0x7fffffff, 0xff800001,
                                              0x7fc00000, 0x7f80ffff, 0xffc00001};
        for (const std::uint32_t bits : nans) {
            bool overflowed = false;
            const std::uint16_t b = f32ToBf16(fromBits(bits), overflowed);
            QVERIFY2(std::isnan(bf16ToF32(b)), qPrintable(QString::number(bits, 16)));
            QCOMPARE(b >> 15, static_cast<int>(bits >> 31));
            const std::uint16_t h = f32ToF16(fromBits(bits), overflowed);
            QVERIFY2(std::isnan(f16ToF32(h)), qPrintable(QString::number(bits, 16)));
            QCOMPARE(h >> 15, static_cast<int>(bits >> 31));
            QVERIFY(!overflowed);
        }
    }

    // Random bit patterns plus every exponent boundary, scalar and bulk, against the
    // nearbyint reference.
    void encodeMatchesReference()
    {
        std::mt19937_64 rng(12345);
        std::vector<float> inputs;
        for (int i = 0; i < 400000; ++i)
            inputs.push_back(fromBits(static_cast<std::uint32_t>(rng())));
        for (std::uint32_t e = 0; e < 256; ++e) {
            for (std::uint32_t m : {0u, 1u, 0x7fffu, 0x8000u, 0x8001u, 0xfffu, 0x1000u, 0x1001u,
                                    0x7fffffu, 0x3fffffu, 0x400000u})
                inputs.push_back(fromBits((e << 23) | m));
        }
        std::vector<std::byte> bf(inputs.size() * 2), hf(inputs.size() * 2);
        const std::uint64_t bfOverflows = encodeBf16(inputs, bf);
        const std::uint64_t hfOverflows = encodeF16(inputs, hf);
        std::uint64_t expectBf = 0, expectHf = 0;
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            const float x = inputs[i];
            std::uint16_t b, h;
            std::memcpy(&b, bf.data() + 2 * i, 2);
            std::memcpy(&h, hf.data() + 2 * i, 2);
            if (std::isnan(x)) {
                QVERIFY(std::isnan(bf16ToF32(b)) && std::isnan(f16ToF32(h)));
                continue;
            }
            const double refB = referenceRound(x, 7, -126, 3.3895313892515355e38);
            const double refH = referenceRound(x, 10, -14, 65504.0);
            if (!sameFloat(bf16ToF32(b), refB))
                QFAIL(qPrintable(
                    QStringLiteral("bf16 of 0x%1").arg(std::bit_cast<std::uint32_t>(x), 8, 16)));
            if (!sameFloat(f16ToF32(h), refH))
                QFAIL(qPrintable(
                    QStringLiteral("f16 of 0x%1").arg(std::bit_cast<std::uint32_t>(x), 8, 16)));
            expectBf += std::isinf(refB) && !std::isinf(x);
            expectHf += std::isinf(refH) && !std::isinf(x);
        }
        QCOMPARE(bfOverflows, expectBf);
        QCOMPARE(hfOverflows, expectHf);
        QVERIFY(hfOverflows > 1000); // the sample really exercises overflow
    }

    void dispatch()
    {
        std::vector<float> out(2);
        std::vector<std::byte> raw(16);
        Result<void> r = decodeToF32(Dtype::I64, raw, std::span<float>(out.data(), 2));
        QVERIFY(!r);
        QCOMPARE(r.error().code, ErrorCode::UnsupportedDtype);
        QVERIFY(r.error().message.find("I64") != std::string::npos);
        r = decodeToF32(Dtype::F32, std::span<const std::byte>(raw.data(), 12), out);
        QVERIFY(!r);
        QCOMPARE(r.error().code, ErrorCode::InvalidArgument);
        const double twoValues[2] = {1.5, -1e300};
        std::memcpy(raw.data(), twoValues, 16);
        QVERIFY(decodeToF32(Dtype::F64, raw, out).ok());
        QCOMPARE(out[0], 1.5f);
        QVERIFY(std::isinf(out[1]) && out[1] < 0);
        Result<std::uint64_t> enc = encodeFromF32(Dtype::I8, out, raw);
        QVERIFY(!enc);
        QCOMPARE(enc.error().code, ErrorCode::UnsupportedDtype);
    }
};

QTEST_GUILESS_MAIN(TestCodecs)
#include "tst_codecs.moc"
