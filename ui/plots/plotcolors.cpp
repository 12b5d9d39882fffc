// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/plotcolors.h"

#include <array>
#include <cmath>

namespace basin::ui::plotcolors {

QColor blend(const QColor &from, const QColor &to, double t)
{
    const auto mix = [t](double a, double b) { return a + (b - a) * t; };
    return QColor::fromRgbF(
        float(mix(from.redF(), to.redF())), float(mix(from.greenF(), to.greenF())),
        float(mix(from.blueF(), to.blueF())), float(mix(from.alphaF(), to.alphaF())));
}

QColor seriesColor(int index)
{
    // Mid-lightness, well separated hues: readable on white and on near-black.
    static constexpr std::array<QRgb, 8> kColors = {
        0x3b78c2, 0xe0712c, 0x3a9e5a, 0xc8453f, 0x8a63c9, 0x9a6b4f, 0xd65fa8, 0x2aa5b0,
    };
    const auto i = static_cast<std::size_t>(index < 0 ? -index : index) % kColors.size();
    return QColor::fromRgb(kColors[i]);
}

QCPColorGradient divergingGradient()
{
    QCPColorGradient gradient;
    gradient.clearColorStops();
    gradient.setColorStopAt(0.0, QColor(0x1f, 0x4e, 0x9a));
    gradient.setColorStopAt(0.25, QColor(0x6f, 0xa3, 0xd6));
    gradient.setColorStopAt(0.5, QColor(0xf5, 0xf5, 0xf2));
    gradient.setColorStopAt(0.75, QColor(0xe8, 0x8a, 0x6c));
    gradient.setColorStopAt(1.0, QColor(0xa8, 0x1c, 0x2c));
    gradient.setColorInterpolation(QCPColorGradient::ciRGB);
    gradient.setLevelCount(256);
    return gradient;
}

QCPColorGradient sequentialGradient()
{
    QCPColorGradient gradient;
    gradient.clearColorStops();
    gradient.setColorStopAt(0.0, QColor(0xfb, 0xf6, 0xd0));
    gradient.setColorStopAt(0.3, QColor(0x9f, 0xd8, 0xa4));
    gradient.setColorStopAt(0.6, QColor(0x3a, 0x9c, 0xb8));
    gradient.setColorStopAt(1.0, QColor(0x2b, 0x1d, 0x6e));
    gradient.setColorInterpolation(QCPColorGradient::ciRGB);
    gradient.setLevelCount(256);
    return gradient;
}

QColor noValueColor(const QPalette &palette)
{
    return blend(palette.color(QPalette::Base), palette.color(QPalette::Text), 0.4);
}

QColor contrastingTextColor(const QColor &background)
{
    const auto linear = [](double c) {
        return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
    };
    const double luminance = 0.2126 * linear(background.redF()) +
                             0.7152 * linear(background.greenF()) +
                             0.0722 * linear(background.blueF());
    // 0.179 is where black and white text have equal contrast ratios.
    return luminance > 0.179 ? QColor(Qt::black) : QColor(Qt::white);
}

} // namespace basin::ui::plotcolors
