// SPDX-License-Identifier: GPL-3.0-or-later
#include "io/safetensorsfilewriter.h"

#include "io/atomicfile.h"
#include "io/faultinjection.h"
#include "io/mappedfile.h"

#include <cerrno>
#include <cstring>
#include <new>

#include <fcntl.h>
#include <unistd.h>

namespace basin {

namespace {
// Small tensors (norms) are coalesced; large appends bypass the buffer.
constexpr std::size_t kBufferBytes = 4u << 20;
} // namespace

Result<std::unique_ptr<SafetensorsFileWriter>>
SafetensorsFileWriter::create(const std::filesystem::path &finalPath,
                              const std::vector<HeaderEntry> &entries,
                              const std::map<std::string, std::string> *metadata)
{
    std::uint64_t expected = 0;
    for (const HeaderEntry &e : entries) {
        if (e.begin != expected || e.end < e.begin || e.end - e.begin != e.byteSize)
            return makeError(ErrorCode::InvalidArgument,
                             finalPath.string() + ": tensor '" + e.name +
                                 "' is not placed right after the previous one");
        expected = e.end;
    }
    BASIN_TRY(checkReplaceable(finalPath));
    std::unique_ptr<SafetensorsFileWriter> writer(new SafetensorsFileWriter());
    writer->m_final = finalPath;
    writer->m_temp = temporarySibling(finalPath);
    writer->m_expected = expected;
    try {
        writer->m_buffer.resize(kBufferBytes);
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::IoError, finalPath.string() + ": out of memory");
    }
    writer->m_fd = ::open(writer->m_temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (writer->m_fd < 0)
        return errnoError(errno, finalPath, "cannot create");

    const std::string header = serializeSafetensorsHeader(entries, metadata);
    const std::string prefix = headerLengthPrefix(header.size());
    BASIN_TRY(writer->writeAll(reinterpret_cast<const std::byte *>(prefix.data()), prefix.size()));
    BASIN_TRY(writer->writeAll(reinterpret_cast<const std::byte *>(header.data()), header.size()));
    return writer;
}

SafetensorsFileWriter::~SafetensorsFileWriter()
{
    if (!m_done)
        abort();
}

Result<void> SafetensorsFileWriter::flush()
{
    std::size_t done = 0;
    while (done < m_buffered) {
        const ssize_t n = fault::write(m_fd, m_buffer.data() + done, m_buffered - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errnoError(errno, m_final, "write failed");
        }
        done += static_cast<std::size_t>(n);
    }
    m_buffered = 0;
    return {};
}

Result<void> SafetensorsFileWriter::writeAll(const std::byte *data, std::size_t size)
{
    if (m_fd < 0)
        return makeError(ErrorCode::IoError, m_final.string() + ": writer is closed");
    if (size < m_buffer.size() - m_buffered) {
        std::memcpy(m_buffer.data() + m_buffered, data, size);
        m_buffered += size;
        return {};
    }
    BASIN_TRY(flush());
    if (size < m_buffer.size()) {
        std::memcpy(m_buffer.data(), data, size);
        m_buffered = size;
        return {};
    }
    std::size_t done = 0;
    while (done < size) {
        const ssize_t n = fault::write(m_fd, data + done, size - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errnoError(errno, m_final, "write failed");
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Result<void> SafetensorsFileWriter::append(std::span<const std::byte> bytes)
{
    if (bytes.size() > m_expected - m_written)
        return makeError(ErrorCode::InvalidArgument,
                         m_final.string() + ": " + std::to_string(bytes.size()) +
                             " more bytes would pass the " + std::to_string(m_expected) +
                             " bytes the header announced");
    Result<void> written = writeAll(bytes.data(), bytes.size());
    if (!written) {
        abort();
        return written;
    }
    m_written += bytes.size();
    return {};
}

Result<void> SafetensorsFileWriter::finish()
{
    if (m_done)
        return makeError(ErrorCode::IoError, m_final.string() + ": writer already finished");
    if (m_written != m_expected) {
        const std::uint64_t written = m_written;
        abort();
        return makeError(ErrorCode::IncompleteBuffer,
                         m_final.string() + ": only " + std::to_string(written) + " of " +
                             std::to_string(m_expected) + " data bytes were written");
    }
    auto fail = [&](Error error) -> Result<void> {
        abort();
        return error;
    };
    if (Result<void> flushed = flush(); !flushed)
        return fail(flushed.takeError());
    if (fault::fsync(m_fd) != 0)
        return fail(errnoError(errno, m_final, "sync failed"));
    const int fd = m_fd;
    m_fd = -1;
    if (::close(fd) != 0)
        return fail(errnoError(errno, m_final, "close failed"));
    if (Result<void> replaceable = checkReplaceable(m_final); !replaceable)
        return fail(replaceable.takeError());
    if (fault::rename(m_temp.c_str(), m_final.c_str()) != 0)
        return fail(errnoError(errno, m_final, "cannot rename into place"));
    m_done = true;
    return syncFolder(m_final.parent_path());
}

void SafetensorsFileWriter::abort()
{
    if (m_fd >= 0) {
        ::close(m_fd);
        m_fd = -1;
    }
    if (!m_done && !m_temp.empty())
        ::unlink(m_temp.c_str());
    m_done = true;
}

} // namespace basin
