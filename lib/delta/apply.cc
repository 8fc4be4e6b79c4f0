// ApplyFile and ReadDeltaInfo: check the header and the bases, then run the
// body into the output, and accept the output only if its size and SHA-256
// are the target's.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/statvfs.h>

#include <algorithm>

#include "lib/common/file.h"
#include "lib/delta/delta.h"
#include "lib/delta/format.h"
#include "lib/delta/numeric_segment.h"
#include "lib/delta/output_path.h"
#include "lib/delta/output_sink.h"
#include "lib/delta/zstd_frames.h"

namespace ferry::delta {
namespace {

std::string Describe(const Sha256Digest& digest) { return "sha256:" + ToHex(digest); }

// A base's bytes in the order the header lists them.
struct MappedBases {
  std::vector<MappedFile> files;
  std::vector<std::span<const uint8_t>> bytes;
};

Result<MappedBases> OpenBases(const DeltaHeader& header, std::span<const BaseFile> given,
                              bool verified) {
  MappedBases bases;
  for (const BaseRef& ref : header.bases) {
    const auto match = std::find_if(given.begin(), given.end(),
                                    [&](const BaseFile& file) { return file.name == ref.name; });
    if (match == given.end()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "the delta needs base " + ref.name + " (" + Describe(ref.sha256) +
                           "), which was not given: pass the files of the version the delta was "
                           "made from, or fetch full objects");
    }
    Result<MappedFile> map = MappedFile::Open(match->path);
    if (!map) return map.error();
    if (map->size() != ref.size || !verified) {
      const Sha256Digest actual = Sha256Of(map->bytes());
      if (map->size() != ref.size || actual != ref.sha256) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "delta expects base " + ref.name + " " + Describe(ref.sha256) + " (" +
                             std::to_string(ref.size) + " bytes); the file given (" +
                             match->path.string() + ") has " + Describe(actual) + " (" +
                             std::to_string(map->size()) +
                             " bytes): pull the version this delta was made from, or fetch full "
                             "objects");
      }
    }
    bases.bytes.push_back(map->bytes());
    bases.files.push_back(std::move(*map));
  }
  return bases;
}

// Checks that [offset, offset + length) lies in base `field` (index + 1).
Result<std::span<const uint8_t>> BaseRange(const MappedBases& bases, uint64_t field,
                                           uint64_t offset, uint64_t length) {
  if (field == kNoBaseField || field > bases.bytes.size()) {
    return CorruptDelta("a record names a base the header does not list");
  }
  std::span<const uint8_t> base = bases.bytes[field - 1];
  if (offset > base.size() || length > base.size() - offset) {
    return CorruptDelta("a record reads past the end of base " + std::to_string(field - 1));
  }
  return base.subspan(offset, length);
}

Result<Sha256Digest> ApplyRecords(WireReader& in, std::span<const uint8_t> delta,
                                  const MappedBases& bases, UniqueFd fd,
                                  const std::filesystem::path& out, uint64_t target_size) {
  OutputSink sink(std::move(fd), out, target_size);
  while (true) {
    const uint8_t tag = in.U8();
    if (!in.ok()) return CorruptDelta("it ends before its end record");
    if (tag == static_cast<uint8_t>(RecordTag::kEnd)) break;
    Status status;
    if (tag == static_cast<uint8_t>(RecordTag::kCopy)) {
      const uint64_t field = in.Varint(), offset = in.Varint(), length = in.Varint();
      if (!in.ok()) return CorruptDelta("a copy record ends early");
      Result<std::span<const uint8_t>> range = BaseRange(bases, field, offset, length);
      if (!range) return range.error();
      status = sink.Append(*range);
    } else if (tag == static_cast<uint8_t>(RecordTag::kZstd)) {
      const uint64_t field = in.Varint(), offset = in.Varint(), length = in.Varint();
      const uint64_t size = in.Varint();
      std::span<const uint8_t> frame = in.Bytes(in.Varint());
      if (!in.ok()) return CorruptDelta("a zstd record ends early");
      std::span<const uint8_t> prefix;
      if (field != kNoBaseField) {
        Result<std::span<const uint8_t>> range = BaseRange(bases, field, offset, length);
        if (!range) return range.error();
        prefix = *range;
      }
      status = DecompressSmallFrame(frame, prefix, size, sink);
    } else if (tag == static_cast<uint8_t>(RecordTag::kSegment)) {
      status = DecodeSegment(in, delta, bases.bytes, sink);
    } else {
      return CorruptDelta("unknown record tag " + std::to_string(tag));
    }
    if (!status) return status.error();
  }
  if (in.remaining() != 0) return CorruptDelta("bytes follow its end record");
  if (sink.size() != target_size) {
    return CorruptDelta("it rebuilds " + std::to_string(sink.size()) + " bytes of the " +
                        std::to_string(target_size) + " it declares");
  }
  return sink.Finish();
}

// The generic body decodes in one call into the output file's own pages.
Result<Sha256Digest> ApplyGeneric(WireReader& in, const MappedBases& bases, UniqueFd fd,
                                  const std::filesystem::path& out, uint64_t target_size) {
  const uint64_t field = in.Varint();
  std::span<const uint8_t> frame = in.Bytes(in.remaining());
  if (!in.ok() || field > bases.bytes.size()) return CorruptDelta("the generic body is malformed");
  std::span<const uint8_t> reference;
  if (field != kNoBaseField) reference = bases.bytes[field - 1];
  if (target_size == 0) {
    if (Status s = DecompressGenericFrame(frame, reference, {}); !s) return s.error();
    return Sha256Of(std::span<const uint8_t>());
  }
  // A shared writable mapping needs a descriptor open for reading too.
  UniqueFd file(::open(out.c_str(), O_RDWR | O_CLOEXEC));
  if (!file.valid()) return ErrnoError("open", out, errno);
  fd.Reset();
  // Allocated up front, so that a full disk fails here rather than as SIGBUS.
  if (const int error = ::posix_fallocate(file.get(), 0, static_cast<off_t>(target_size));
      error != 0) {
    return ErrnoError("allocate", out, error);
  }
  void* pages = ::mmap(nullptr, target_size, PROT_READ | PROT_WRITE, MAP_SHARED, file.get(), 0);
  if (pages == MAP_FAILED) return ErrnoError("mmap", out, errno);
  std::span<uint8_t> output(static_cast<uint8_t*>(pages), target_size);
  Status status = DecompressGenericFrame(frame, reference, output);
  const Sha256Digest digest = status ? Sha256Of(output) : Sha256Digest{};
  ::munmap(pages, target_size);
  if (!status) return status.error();
  return digest;
}

Result<DeltaHeader> ReadHeader(WireReader& in, const std::filesystem::path& path) {
  Result<DeltaHeader> header = ReadDeltaHeader(in);
  if (!header) return header.error().Wrap("delta " + path.string());
  return header;
}

// The size a delta declares is what it will write: before a byte is, it must
// be what the caller expects (the signed manifest's size and digest) and fit
// in the free space, so that a lying header fails at once instead of after
// filling the disk.
Status CheckDeclaredTarget(const DeltaHeader& header, const ApplyOptions& options,
                           const std::filesystem::path& out) {
  if (options.expected_size && header.target_size != *options.expected_size) {
    return CorruptDelta("it declares a target of " + std::to_string(header.target_size) +
                        " bytes, but " + std::to_string(*options.expected_size) +
                        " are expected: it was made for another file");
  }
  if (options.expected_sha256 && header.target_sha256 != *options.expected_sha256) {
    return CorruptDelta("it rebuilds " + Describe(header.target_sha256) + ", but " +
                        Describe(*options.expected_sha256) +
                        " is expected: it was made for another file");
  }
  const std::filesystem::path folder = out.parent_path().empty() ? "." : out.parent_path();
  struct statvfs space {};
  if (::statvfs(folder.c_str(), &space) == 0) {
    const uint64_t available = static_cast<uint64_t>(space.f_bavail) * space.f_frsize;
    if (header.target_size > available) {
      return MakeError(ErrorCode::kIo, "the rebuilt file needs " +
                                           std::to_string(header.target_size) + " bytes, " +
                                           folder.string() + " has " + std::to_string(available) +
                                           " free (free space there, or write elsewhere)");
    }
  }
  return OkStatus();
}

}  // namespace

Result<DeltaInfo> ReadDeltaInfo(const std::filesystem::path& path) {
  Result<MappedFile> delta = MappedFile::Open(path);
  if (!delta) return delta.error();
  WireReader in(delta->bytes());
  Result<DeltaHeader> header = ReadHeader(in, path);
  if (!header) return header.error();
  DeltaInfo info{
      header->target_size, header->target_sha256, {}, header->kind == DeltaKind::kTensor};
  for (const BaseRef& base : header->bases) info.bases.emplace_back(base.name, base.sha256);
  return info;
}

Result<ApplyResult> ApplyFile(std::span<const BaseFile> bases, const std::filesystem::path& delta,
                              const std::filesystem::path& out, const ApplyOptions& options) {
  std::vector<std::filesystem::path> inputs{delta};
  for (const BaseFile& base : bases) inputs.push_back(base.path);
  if (Status s = CheckNotAnInput(out, inputs); !s) return s.error();
  Result<MappedFile> delta_map = MappedFile::Open(delta);
  if (!delta_map) return delta_map.error();
  std::span<const uint8_t> bytes = delta_map->bytes();
  WireReader header_in(bytes);
  Result<DeltaHeader> header = ReadHeader(header_in, delta);
  if (!header) return header.error();
  const size_t body_start = header_in.offset();
  if (bytes.size() - body_start < kTrailerBytes) {
    return CorruptDelta("it is truncated").Wrap("apply " + delta.string());
  }
  std::span<const uint8_t> covered = bytes.first(bytes.size() - kTrailerBytes);
  const Sha256Digest checksum = Sha256Of(covered);
  if (!std::equal(checksum.begin(), checksum.end(), covered.end())) {
    return CorruptDelta("its checksum does not match (damaged or truncated)")
        .Wrap("apply " + delta.string());
  }
  WireReader in(covered);
  (void)in.Bytes(body_start);
  Result<MappedBases> mapped = OpenBases(*header, bases, options.bases_already_verified);
  if (!mapped) return mapped.error();

  if (Status s = CheckDeclaredTarget(*header, options, out); !s) {
    return s.error().Wrap("apply " + delta.string());
  }

  Result<UniqueFd> fd = CreateForWrite(out);
  if (!fd) return fd.error();
  ScopedRemoval removal(out);  // from here on, every failure removes what was created
  Result<Sha256Digest> digest =
      header->kind == DeltaKind::kTensor
          ? ApplyRecords(in, delta_map->bytes(), *mapped, std::move(*fd), out, header->target_size)
          : ApplyGeneric(in, *mapped, std::move(*fd), out, header->target_size);
  if (!digest) return digest.error().Wrap("apply " + delta.string());
  if (*digest != header->target_sha256) {
    return CorruptDelta("the rebuilt file has " + Describe(*digest) + ", the delta promises " +
                        Describe(header->target_sha256))
        .Wrap("apply " + delta.string());
  }
  removal.Keep();
  return ApplyResult{header->target_size, *digest};
}

}  // namespace ferry::delta
