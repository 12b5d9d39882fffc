// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace basin {

// SHA-256 (FIPS 180-4), incremental. Used for fixture checksums and the model card.
class Sha256 {
public:
    using Digest = std::array<std::uint8_t, 32>;

    Sha256();
    // Feeds more bytes; any split of the input gives the same digest.
    void update(std::span<const std::byte> data);
    void update(std::string_view text);
    // Pads, returns the digest and resets the object for a new message.
    Digest finish();

    // Lower-case hex of a digest (64 characters).
    static std::string hex(const Digest &digest);
    // One-shot convenience: hex digest of `data`.
    static std::string hexOf(std::span<const std::byte> data);

private:
    void reset();
    void compress(const std::uint8_t *block);

    std::array<std::uint32_t, 8> m_state{};
    std::array<std::uint8_t, 64> m_buffer{};
    std::size_t m_buffered = 0;
    std::uint64_t m_length = 0; // bytes fed so far
};

} // namespace basin
