// SPDX-License-Identifier: GPL-3.0-or-later
#include "model/checkpoint.h"

#include "io/codecs.h"
#include "io/jsontext.h"
#include "io/mappedfile.h"
#include "io/safetensorsheader.h"
#include "io/shardindex.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <new>
#include <set>
#include <stdexcept>
#include <system_error>
#include <unordered_map>

namespace fs = std::filesystem;

namespace basin {

struct Checkpoint::Impl {
    fs::path path;
    std::vector<fs::path> files;
    std::vector<std::unique_ptr<MappedFile>> mapped;
    std::vector<TensorInfo> tensors;
    std::map<std::string, std::size_t, std::less<>> byName;
    std::map<std::string, std::string> metadata;
    nlohmann::json config;
    std::vector<fs::path> sideFiles;
    std::vector<std::string> warnings;
    std::uint64_t parameterCount = 0;
    std::uint64_t totalBytes = 0;
};

namespace {

// Files copied next to an exported model; README.md is not one (the export writes its own model
// card).
constexpr std::array kSideFileNames{
    std::string_view("generation_config.json"),
    std::string_view("tokenizer.json"),
    std::string_view("tokenizer_config.json"),
    std::string_view("special_tokens_map.json"),
    std::string_view("tokenizer.model"),
    std::string_view("added_tokens.json"),
    std::string_view("vocab.json"),
    std::string_view("merges.txt"),
    std::string_view("chat_template.jinja"),
};

constexpr std::uint64_t kMaxConfigBytes = 64ull << 20;

std::string quotedName(std::string_view text)
{
    std::string out(1, '\'');
    out += printableSnippet(text, 200);
    out += '\'';
    return out;
}

// Where symlinks in `folder` may point: the folder itself, or for a Hugging Face cache snapshot
// (…/models--org--name/snapshots/REV) the repository root holding blobs/.
fs::path containmentRoot(const fs::path &canonicalFolder)
{
    const fs::path parent = canonicalFolder.parent_path();
    if (parent.filename() == "snapshots" && parent.has_parent_path())
        return parent.parent_path();
    return canonicalFolder;
}

bool isInside(const fs::path &candidate, const fs::path &root)
{
    auto rootIt = root.begin();
    auto candIt = candidate.begin();
    for (; rootIt != root.end(); ++rootIt, ++candIt) {
        if (candIt == candidate.end() || *candIt != *rootIt)
            return false;
    }
    return candIt != candidate.end();
}

// Resolves `folder/name` and checks it stays inside `root`. Returns the canonical path, NotFound
// when missing (dangling links included), UnsafePath when it escapes.
Result<fs::path> resolveContained(const fs::path &folder, const std::string &name,
                                  const fs::path &root)
{
    std::error_code ec;
    const fs::path candidate = folder / name;
    const fs::path resolved = fs::canonical(candidate, ec);
    if (ec)
        return makeError(ErrorCode::NotFound, candidate.string() + ": not found");
    if (!isInside(resolved, root))
        return makeError(ErrorCode::UnsafePath, candidate.string() + ": resolves to " +
                                                    resolved.string() +
                                                    ", outside the model folder " + root.string());
    return resolved;
}

Result<std::string> readSmallFile(const fs::path &path, std::uint64_t limit, ErrorCode tooLarge)
{
    Result<std::unique_ptr<MappedFile>> file = MappedFile::open(path);
    if (!file)
        return file.takeError();
    if ((*file)->size() > limit)
        return makeError(tooLarge, path.string() + ": " + std::to_string((*file)->size()) +
                                       " bytes is larger than the limit of " +
                                       std::to_string(limit));
    std::string text(static_cast<std::size_t>((*file)->size()), '\0');
    Result<void> read =
        (*file)->readAt(0, std::as_writable_bytes(std::span<char>(text.data(), text.size())));
    if (!read)
        return read.takeError();
    return text;
}

struct OpenedFile {
    std::unique_ptr<MappedFile> mapped;
    SafetensorsHeader header;
    std::uint64_t dataStart = 0;
};

// Rules 1–8 on one file: the header is read with pread, never through the mapping.
Result<OpenedFile> openSafetensorsFile(const fs::path &path)
{
    Result<std::unique_ptr<MappedFile>> mapped = MappedFile::open(path);
    if (!mapped)
        return mapped.takeError();
    OpenedFile opened;
    opened.mapped = std::move(*mapped);
    const std::string label = path.string();
    const std::uint64_t size = opened.mapped->size();

    std::array<std::byte, 8> prefix{};
    if (size >= 8) {
        Result<void> read = opened.mapped->readAt(0, prefix);
        if (!read)
            return read.takeError();
    }
    Result<std::uint64_t> n = checkHeaderLength(prefix, size, label);
    if (!n)
        return n.takeError();
    std::vector<std::byte> headerBytes(static_cast<std::size_t>(*n));
    Result<void> read = opened.mapped->readAt(8, headerBytes);
    if (!read)
        return read.takeError();
    Result<SafetensorsHeader> header = parseSafetensorsHeader(headerBytes, size - 8 - *n, label);
    if (!header)
        return header.takeError();
    opened.header = std::move(*header);
    opened.dataStart = 8 + *n;
    return opened;
}

void addTensors(Checkpoint::Impl &impl, OpenedFile &file, int fileIndex,
                const std::set<std::string, std::less<>> *keep)
{
    for (HeaderEntry &e : file.header.tensors) {
        if (keep && keep->count(e.name) == 0)
            continue;
        TensorInfo info;
        info.name = std::move(e.name);
        info.dtype = e.dtype;
        info.shape = std::move(e.shape);
        info.numel = e.numel;
        info.byteSize = e.byteSize;
        info.fileIndex = fileIndex;
        info.fileOffset = file.dataStart + e.begin;
        impl.tensors.push_back(std::move(info));
    }
}

std::string listNames(const std::vector<std::string> &names)
{
    std::string out;
    const std::size_t shown = std::min<std::size_t>(names.size(), 10);
    for (std::size_t i = 0; i < shown; ++i)
        out += (i ? ", " : "") + names[i];
    if (names.size() > shown)
        out += " and " + std::to_string(names.size() - shown) + " more";
    return out;
}

Result<void> openSharded(Checkpoint::Impl &impl, const fs::path &folder, const fs::path &root)
{
    const fs::path indexPath = folder / std::string(kIndexFileName);
    Result<fs::path> resolvedIndex = resolveContained(folder, std::string(kIndexFileName), root);
    if (!resolvedIndex)
        return resolvedIndex.takeError();
    Result<std::string> text =
        readSmallFile(*resolvedIndex, kMaxIndexBytes, ErrorCode::InvalidIndex);
    if (!text)
        return text.takeError();
    Result<ShardIndex> index = parseShardIndex(*text, indexPath.string());
    if (!index)
        return index.takeError();

    std::vector<std::string> missing;
    std::vector<fs::path> resolved;
    for (const std::string &name : index->shardFiles) {
        Result<fs::path> shard = resolveContained(folder, name, root);
        if (!shard) {
            if (shard.error().code == ErrorCode::NotFound) {
                missing.push_back(name);
                continue;
            }
            return makeError(shard.error().code, indexPath.string() + ": shard " +
                                                     quotedName(name) + ": " +
                                                     shard.error().message);
        }
        resolved.push_back(*shard);
    }
    if (!missing.empty())
        return makeError(ErrorCode::MissingShard,
                         indexPath.string() + ": " + std::to_string(missing.size()) +
                             " shard(s) named in the index are missing: " + listNames(missing));

    std::vector<OpenedFile> opened;
    opened.reserve(resolved.size());
    for (std::size_t i = 0; i < resolved.size(); ++i) {
        Result<OpenedFile> file = openSafetensorsFile(folder / index->shardFiles[i]);
        if (!file)
            return file.takeError();
        opened.push_back(std::move(*file));
    }

    // Where each tensor really is, across every shard header.
    std::unordered_map<std::string_view, int> location;
    location.reserve(index->weightMap.size());
    for (std::size_t i = 0; i < opened.size(); ++i) {
        for (const HeaderEntry &e : opened[i].header.tensors) {
            const auto [it, inserted] = location.emplace(e.name, static_cast<int>(i));
            if (!inserted)
                return makeError(ErrorCode::TensorInTwoShards,
                                 folder.string() + ": tensor " + quotedName(e.name) +
                                     " is in two shards: " + index->shardFiles[it->second] +
                                     " and " + index->shardFiles[i]);
        }
    }
    std::uint64_t indexedBytes = 0;
    std::set<std::string, std::less<>> listed;
    for (const auto &[tensor, file] : index->weightMap) {
        const auto it = location.find(tensor);
        if (it == location.end() || index->shardFiles[it->second] != file)
            return makeError(ErrorCode::TensorMissingFromShard,
                             indexPath.string() + ": tensor " + quotedName(tensor) +
                                 " is listed in shard " + file +
                                 " but that shard does not hold it");
        listed.insert(tensor);
    }
    std::size_t unlisted = 0;
    std::string firstUnlisted;
    for (const OpenedFile &file : opened) {
        for (const HeaderEntry &e : file.header.tensors) {
            if (listed.count(e.name) != 0) {
                indexedBytes += e.byteSize;
            } else if (unlisted++ == 0) {
                firstUnlisted = e.name;
            }
        }
    }
    if (unlisted > 0)
        impl.warnings.push_back(std::to_string(unlisted) +
                                " tensor(s) in the shards are not listed in the index and are "
                                "ignored (first: " +
                                quotedName(firstUnlisted) + ")");
    if (index->totalSize && *index->totalSize != indexedBytes)
        impl.warnings.push_back("index metadata.total_size is " +
                                std::to_string(*index->totalSize) + " but the tensors hold " +
                                std::to_string(indexedBytes) + " bytes");

    // Shards in the folder the index does not name.
    std::vector<std::string> extra;
    std::error_code ec;
    for (const fs::directory_entry &entry : fs::directory_iterator(folder, ec)) {
        const std::string name = entry.path().filename().string();
        if (!name.ends_with(".safetensors") || name == kSingleFileName)
            continue;
        if (!std::binary_search(index->shardFiles.begin(), index->shardFiles.end(), name))
            extra.push_back(name);
    }
    std::sort(extra.begin(), extra.end());
    if (!extra.empty())
        impl.warnings.push_back("shard file(s) not referenced by the index are ignored: " +
                                listNames(extra));

    for (std::size_t i = 0; i < opened.size(); ++i) {
        if (i == 0)
            impl.metadata = opened[i].header.metadata;
        impl.files.push_back(folder / index->shardFiles[i]);
        addTensors(impl, opened[i], static_cast<int>(i), &listed);
        impl.mapped.push_back(std::move(opened[i].mapped));
    }
    return {};
}

Result<void> openSingle(Checkpoint::Impl &impl, const fs::path &file)
{
    Result<OpenedFile> opened = openSafetensorsFile(file);
    if (!opened)
        return opened.takeError();
    impl.metadata = opened->header.metadata;
    impl.files.push_back(file);
    addTensors(impl, *opened, 0, nullptr);
    impl.mapped.push_back(std::move(opened->mapped));
    return {};
}

void readFolderExtras(Checkpoint::Impl &impl, const fs::path &folder, const fs::path &root)
{
    std::error_code ec;
    if (fs::exists(folder / "config.json", ec)) {
        Result<fs::path> resolved = resolveContained(folder, "config.json", root);
        if (!resolved) {
            impl.warnings.push_back("config.json ignored: " + resolved.error().message);
        } else {
            Result<std::string> text =
                readSmallFile(*resolved, kMaxConfigBytes, ErrorCode::InvalidMetadata);
            Result<nlohmann::json> config =
                text ? parseJsonStrict(*text, (folder / "config.json").string(),
                                       ErrorCode::InvalidMetadata)
                     : Result<nlohmann::json>(text.takeError());
            if (!config)
                impl.warnings.push_back("config.json ignored: " + config.error().message);
            else if (!config->is_object())
                impl.warnings.push_back("config.json ignored: not a JSON object");
            else
                impl.config = std::move(*config);
        }
    }
    for (std::string_view name : kSideFileNames) {
        const fs::path candidate = folder / std::string(name);
        if (!fs::exists(candidate, ec))
            continue;
        Result<fs::path> resolved = resolveContained(folder, std::string(name), root);
        if (!resolved)
            impl.warnings.push_back(std::string(name) + " ignored: " + resolved.error().message);
        else
            impl.sideFiles.push_back(candidate);
    }
}

void finishCatalog(Checkpoint::Impl &impl)
{
    std::stable_sort(impl.tensors.begin(), impl.tensors.end(),
                     [](const TensorInfo &a, const TensorInfo &b) {
                         if (a.fileIndex != b.fileIndex)
                             return a.fileIndex < b.fileIndex;
                         return a.fileOffset < b.fileOffset;
                     });
    for (std::size_t i = 0; i < impl.tensors.size(); ++i) {
        impl.byName.emplace(impl.tensors[i].name, i);
        impl.parameterCount += impl.tensors[i].numel;
        impl.totalBytes += impl.tensors[i].byteSize;
    }
    const bool tied = impl.config.is_object() && impl.config.value("tie_word_embeddings", false);
    if (impl.byName.count("model.embed_tokens.weight") && !impl.byName.count("lm_head.weight") &&
        !tied && impl.config.is_object())
        impl.warnings.push_back("no lm_head.weight and config.json does not set "
                                "tie_word_embeddings: true");
}

Result<void> openImpl(const fs::path &path, Checkpoint::Impl *impl)
{
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status))
        return makeError(ErrorCode::NotFound, path.string() + ": not found");
    impl->path = path;

    if (fs::is_regular_file(status)) {
        BASIN_TRY(openSingle(*impl, path));
        // A lone file still picks up config.json and tokenizer files beside it.
        const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
        const fs::path canonicalFolder = fs::canonical(folder, ec);
        if (!ec)
            readFolderExtras(*impl, folder, containmentRoot(canonicalFolder));
    } else if (fs::is_directory(status)) {
        const fs::path canonicalFolder = fs::canonical(path, ec);
        if (ec)
            return makeError(ErrorCode::IoError, path.string() + ": cannot resolve folder");
        const fs::path root = containmentRoot(canonicalFolder);
        const bool hasIndex = fs::exists(path / std::string(kIndexFileName), ec);
        const bool hasSingle = fs::exists(path / std::string(kSingleFileName), ec);
        if (hasIndex) {
            BASIN_TRY(openSharded(*impl, path, root));
            if (hasSingle)
                impl->warnings.push_back("folder has both model.safetensors and "
                                         "model.safetensors.index.json; the index wins");
        } else if (hasSingle) {
            Result<fs::path> file = resolveContained(path, std::string(kSingleFileName), root);
            if (!file)
                return file.takeError();
            BASIN_TRY(openSingle(*impl, path / std::string(kSingleFileName)));
        } else {
            return makeError(ErrorCode::NotFound, path.string() + ": no model.safetensors or " +
                                                      std::string(kIndexFileName) +
                                                      " in this folder");
        }
        readFolderExtras(*impl, path, root);
    } else {
        return makeError(ErrorCode::IoError, path.string() + ": not a file or folder");
    }
    finishCatalog(*impl);
    return {};
}

} // namespace

Checkpoint::Checkpoint(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Checkpoint::~Checkpoint() = default;

Result<std::shared_ptr<const Checkpoint>> Checkpoint::open(const fs::path &path)
{
    try {
        auto impl = std::make_unique<Impl>();
        Result<void> status = openImpl(path, impl.get());
        if (!status)
            return status.takeError();
        return std::shared_ptr<const Checkpoint>(new Checkpoint(std::move(impl)));
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::IoError, path.string() + ": out of memory while opening");
    } catch (const std::length_error &) {
        return makeError(ErrorCode::IoError, path.string() + ": too large to open");
    } catch (const std::exception &ex) {
        return makeError(ErrorCode::IoError, path.string() + ": " + ex.what());
    }
}

const fs::path &Checkpoint::path() const
{
    return m_impl->path;
}

std::string Checkpoint::displayName() const
{
    fs::path p = m_impl->path;
    if (!p.has_filename())
        p = p.parent_path();
    return p.filename().string();
}

const std::vector<fs::path> &Checkpoint::files() const
{
    return m_impl->files;
}

const std::vector<TensorInfo> &Checkpoint::tensors() const
{
    return m_impl->tensors;
}

const TensorInfo *Checkpoint::find(std::string_view name) const
{
    const auto it = m_impl->byName.find(name);
    return it == m_impl->byName.end() ? nullptr : &m_impl->tensors[it->second];
}

const std::map<std::string, std::string> &Checkpoint::metadata() const
{
    return m_impl->metadata;
}

const nlohmann::json &Checkpoint::config() const
{
    return m_impl->config;
}

const std::vector<fs::path> &Checkpoint::sideFiles() const
{
    return m_impl->sideFiles;
}

const std::vector<std::string> &Checkpoint::warnings() const
{
    return m_impl->warnings;
}

std::uint64_t Checkpoint::parameterCount() const
{
    return m_impl->parameterCount;
}

std::uint64_t Checkpoint::totalBytes() const
{
    return m_impl->totalBytes;
}

namespace {

// The mapped bytes [begin, begin + length) of a tensor's data (checked against the file).
Result<std::span<const std::byte>> tensorBytes(const Checkpoint::Impl &impl,
                                               const TensorInfo &tensor, std::uint64_t begin,
                                               std::uint64_t length)
{
    if (tensor.fileIndex < 0 || static_cast<std::size_t>(tensor.fileIndex) >= impl.mapped.size())
        return makeError(ErrorCode::InvalidArgument, "tensor " + quotedName(tensor.name) +
                                                         " does not belong to " +
                                                         impl.path.string());
    Result<std::span<const std::byte>> bytes =
        begin > tensor.byteSize || length > tensor.byteSize - begin
            ? Result<std::span<const std::byte>>(
                  makeError(ErrorCode::InvalidArgument, "range outside the tensor"))
            : impl.mapped[static_cast<std::size_t>(tensor.fileIndex)]->view(
                  tensor.fileOffset + begin, length);
    if (!bytes)
        return makeError(bytes.error().code, bytes.error().message + " (reading tensor " +
                                                 quotedName(tensor.name) + ")");
    return bytes;
}

// The file holding a tensor's data, for messages (the checkpoint's path if none does).
std::string fileOf(const Checkpoint::Impl &impl, const TensorInfo &tensor)
{
    return tensor.fileIndex >= 0 && static_cast<std::size_t>(tensor.fileIndex) < impl.files.size()
               ? impl.files[static_cast<std::size_t>(tensor.fileIndex)].string()
               : impl.path.string();
}

Error unsupportedDtype(const std::string &file, const TensorInfo &tensor)
{
    return makeError(ErrorCode::UnsupportedDtype,
                     file + ": tensor " + quotedName(tensor.name) + " has dtype " +
                         std::string(dtypeName(tensor.dtype)) +
                         ", which Basin cannot merge (it reads F32, F16, BF16, F8_E4M3, "
                         "F8_E5M2, F64)");
}

} // namespace

Result<void> Checkpoint::readF32(const TensorInfo &tensor, std::span<float> out) const
{
    if (out.size() != tensor.numel) {
        const std::string file = fileOf(*m_impl, tensor);
        return makeError(ErrorCode::InvalidArgument, file + ": tensor " + quotedName(tensor.name) +
                                                         " has " + std::to_string(tensor.numel) +
                                                         " elements, buffer holds " +
                                                         std::to_string(out.size()));
    }
    return readF32(tensor, 0, out);
}

Result<void> Checkpoint::readF32(const TensorInfo &tensor, std::uint64_t firstElement,
                                 std::span<float> out) const
{
    const std::string file = fileOf(*m_impl, tensor);
    if (!dtypeDecodable(tensor.dtype))
        return unsupportedDtype(file, tensor);
    if (firstElement > tensor.numel || out.size() > tensor.numel - firstElement)
        return makeError(ErrorCode::InvalidArgument,
                         file + ": tensor " + quotedName(tensor.name) + " has " +
                             std::to_string(tensor.numel) + " elements; range [" +
                             std::to_string(firstElement) + ", +" + std::to_string(out.size()) +
                             ") is outside it");
    const std::uint64_t elementBytes = dtypeBits(tensor.dtype) / 8;
    // Only the requested range is checked and mapped in, so chunked passes stay cheap.
    Result<std::span<const std::byte>> bytes =
        tensorBytes(*m_impl, tensor, firstElement * elementBytes, out.size() * elementBytes);
    if (!bytes)
        return bytes.takeError();
    // One thread: the decode runs at memory speed already (it reads half of what it writes), and an
    // OpenMP team here fought the engine's own threads and halved the throughput on a busy machine
    // (bench_io).
    return decodeToF32(tensor.dtype, *bytes, out);
}

Result<void> Checkpoint::gatherF32(const TensorInfo &tensor, std::span<const std::uint64_t> indices,
                                   std::span<float> out) const
{
    const std::string file = fileOf(*m_impl, tensor);
    if (indices.size() != out.size())
        return makeError(ErrorCode::InvalidArgument, file + ": tensor " + quotedName(tensor.name) +
                                                         ": " + std::to_string(indices.size()) +
                                                         " indices but room for " +
                                                         std::to_string(out.size()) + " values");
    if (!dtypeDecodable(tensor.dtype))
        return unsupportedDtype(file, tensor);
    for (const std::uint64_t index : indices) {
        if (index >= tensor.numel)
            return makeError(ErrorCode::InvalidArgument,
                             file + ": tensor " + quotedName(tensor.name) + " has " +
                                 std::to_string(tensor.numel) + " elements; index " +
                                 std::to_string(index) + " is outside it");
    }
    Result<std::span<const std::byte>> bytes = tensorBytes(*m_impl, tensor, 0, tensor.byteSize);
    if (!bytes)
        return bytes.takeError();
    const std::uint64_t elementBytes = dtypeBits(tensor.dtype) / 8;
    for (std::size_t j = 0; j < indices.size(); ++j) {
        BASIN_TRY(decodeToF32(tensor.dtype, bytes->subspan(indices[j] * elementBytes, elementBytes),
                              out.subspan(j, 1)));
    }
    return {};
}

Result<void> Checkpoint::readRaw(const TensorInfo &tensor, std::span<std::byte> out) const
{
    if (out.size() != tensor.byteSize)
        return makeError(ErrorCode::InvalidArgument, "tensor " + quotedName(tensor.name) + " has " +
                                                         std::to_string(tensor.byteSize) +
                                                         " bytes, buffer holds " +
                                                         std::to_string(out.size()));
    Result<std::span<const std::byte>> bytes = tensorBytes(*m_impl, tensor, 0, tensor.byteSize);
    if (!bytes)
        return bytes.takeError();
    if (!out.empty())
        std::memcpy(out.data(), bytes->data(), out.size());
    return {};
}

void Checkpoint::release(const TensorInfo &tensor) const
{
    if (tensor.fileIndex >= 0 && static_cast<std::size_t>(tensor.fileIndex) < m_impl->mapped.size())
        m_impl->mapped[static_cast<std::size_t>(tensor.fileIndex)]->release(tensor.fileOffset,
                                                                            tensor.byteSize);
}

void Checkpoint::release(const TensorInfo &tensor, std::uint64_t firstElement,
                         std::uint64_t count) const
{
    const std::uint64_t elementBytes = dtypeBits(tensor.dtype) / 8;
    if (elementBytes == 0 || firstElement > tensor.numel || count > tensor.numel - firstElement)
        return;
    if (tensor.fileIndex >= 0 && static_cast<std::size_t>(tensor.fileIndex) < m_impl->mapped.size())
        m_impl->mapped[static_cast<std::size_t>(tensor.fileIndex)]->release(
            tensor.fileOffset + firstElement * elementBytes, count * elementBytes);
}

void Checkpoint::prefetch(const TensorInfo &tensor) const
{
    if (tensor.fileIndex >= 0 && static_cast<std::size_t>(tensor.fileIndex) < m_impl->mapped.size())
        m_impl->mapped[static_cast<std::size_t>(tensor.fileIndex)]->prefetch(tensor.fileOffset,
                                                                             tensor.byteSize);
}

} // namespace basin
