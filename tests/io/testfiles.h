// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Helpers the io tests share: build safetensors bytes by hand and write files.

#include <QByteArray>
#include <QFile>
#include <QString>

#include <cstdint>
#include <filesystem>
#include <span>

namespace basin::test {

// 8-byte little-endian length, the header text, then `dataBytes` bytes (value i & 0xff).
inline QByteArray safetensorsBytes(const QByteArray &header, qint64 dataBytes,
                                   std::uint64_t lengthField = ~0ull)
{
    const std::uint64_t n =
        lengthField == ~0ull ? static_cast<std::uint64_t>(header.size()) : lengthField;
    QByteArray out;
    for (int i = 0; i < 8; ++i)
        out.append(static_cast<char>((n >> (8 * i)) & 0xff));
    out.append(header);
    for (qint64 i = 0; i < dataBytes; ++i)
        out.append(static_cast<char>(i & 0xff));
    return out;
}

inline bool writeBytes(const std::filesystem::path &path, const QByteArray &bytes)
{
    QFile file(QString::fromStdString(path.string()));
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    return file.write(bytes) == bytes.size();
}

inline QByteArray readBytes(const std::filesystem::path &path)
{
    QFile file(QString::fromStdString(path.string()));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

inline std::span<const std::byte> asBytes(const QByteArray &bytes)
{
    return {reinterpret_cast<const std::byte *>(bytes.constData()),
            static_cast<std::size_t>(bytes.size())};
}

inline std::filesystem::path toPath(const QString &path)
{
    return std::filesystem::path(path.toStdString());
}

} // namespace basin::test
