// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/samplecache.h"

#include <algorithm>
#include <numeric>

namespace basin::analysis {

namespace {
std::uint64_t mix(std::uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}
} // namespace

std::uint64_t nameHash(std::string_view name)
{
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : name) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

std::uint64_t coordinateHash(std::uint64_t seed, std::uint64_t name, std::uint64_t index)
{
    return mix(mix(seed ^ mix(name)) + index * 0x9e3779b97f4a7c15ULL);
}

std::vector<std::uint64_t> sampleIndices(std::uint64_t seed, std::string_view name,
                                         std::uint64_t numel, std::uint64_t limit)
{
    std::vector<std::uint64_t> indices;
    // Keeps k·r below 2^64 in start(); a larger sample would not fit in memory anyway.
    limit = std::min<std::uint64_t>(limit, 0xFFFFFFFFull);
    if (limit == 0 || numel == 0)
        return indices;
    if (numel <= limit) {
        indices.resize(numel);
        std::iota(indices.begin(), indices.end(), std::uint64_t{0});
        return indices;
    }
    const std::uint64_t key = nameHash(name);
    // floor(k·numel/limit) without overflow: numel = q·limit + r.
    const std::uint64_t q = numel / limit;
    const std::uint64_t r = numel % limit;
    const auto start = [&](std::uint64_t k) { return k * q + (k * r) / limit; };
    indices.reserve(limit);
    for (std::uint64_t k = 0; k < limit; ++k) {
        const std::uint64_t lo = start(k);
        const std::uint64_t size = start(k + 1) - lo; // >= 1 since numel > limit
        indices.push_back(lo + coordinateHash(seed, key, k) % size);
    }
    return indices;
}

} // namespace basin::analysis
