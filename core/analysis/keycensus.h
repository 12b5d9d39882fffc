// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace basin::analysis {

// How many elements of one chunk carry each exact |τ| key (topk.h's magnitudeKey) inside a
// model's TrimBand. bf16 task vectors put most of a band on a handful of exact values (whole
// multiples of ulp(B)), so counting them per chunk locates the exact top-k cut without
// keeping a candidate per element: the key from the totals, the index from one chunk's
// rescan. A census holds at most kMaxKeys distinct keys; past that add() fails and the
// caller finds the cut another way. Key 0 (exact zeros) is never counted.
class KeyCensus {
public:
    static constexpr std::size_t kMaxKeys = 64;

    struct Entry {
        std::uint64_t key = 0;
        std::uint32_t count = 0;
    };

    // Counts one element; false (and nothing counted) when key is new and the census full.
    bool add(std::uint64_t key)
    {
        std::size_t slot = (key * 0x9E3779B97F4A7C15ull) >> (64 - kSlotBits);
        while (true) {
            if (m_keys[slot] == key) {
                ++m_counts[slot];
                return true;
            }
            if (m_keys[slot] == 0) {
                if (m_used.size() == kMaxKeys)
                    return false;
                m_keys[slot] = key;
                m_counts[slot] = 1;
                m_used.push_back(static_cast<std::uint8_t>(slot));
                return true;
            }
            slot = (slot + 1) & (kSlots - 1);
        }
    }

    // The keys counted since the last clear(), in no particular order.
    template <typename Visit> void forEach(Visit visit) const
    {
        for (const std::uint8_t slot : m_used)
            visit(Entry{m_keys[slot], m_counts[slot]});
    }

    void clear()
    {
        for (const std::uint8_t slot : m_used) {
            m_keys[slot] = 0;
            m_counts[slot] = 0;
        }
        m_used.clear();
    }

private:
    // Twice kMaxKeys slots keep linear probing short.
    static constexpr int kSlotBits = 7;
    static constexpr std::size_t kSlots = std::size_t{1} << kSlotBits;
    std::array<std::uint64_t, kSlots> m_keys{};
    std::array<std::uint32_t, kSlots> m_counts{};
    std::vector<std::uint8_t> m_used;
};

} // namespace basin::analysis
