#include "catena/formats/archive.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <memory>

namespace catena::formats {
namespace {

struct FreeArchive {
  void operator()(archive* a) const { archive_read_free(a); }
};

std::string error_of(archive* a) {
  const char* text = archive_error_string(a);
  return text != nullptr ? text : "unknown error";
}

MemberType type_of(archive_entry* entry) {
  if (archive_entry_hardlink(entry) != nullptr) return MemberType::Hardlink;
  switch (archive_entry_filetype(entry)) {
    case AE_IFREG:
      return MemberType::File;
    case AE_IFDIR:
      return MemberType::Directory;
    case AE_IFLNK:
      return MemberType::Symlink;
    default:
      return MemberType::Other;
  }
}

}  // namespace

std::string_view archive_stop_name(ArchiveStop stop) {
  switch (stop) {
    case ArchiveStop::None:
      return "none";
    case ArchiveStop::Members:
      return "members";
    case ArchiveStop::MemberBytes:
      return "member-bytes";
    case ArchiveStop::TotalBytes:
      return "total-bytes";
    case ArchiveStop::Ratio:
      return "ratio";
    case ArchiveStop::Damaged:
      return "damaged";
  }
  return "none";
}

Result<ArchiveSummary> read_archive(std::span<const std::byte> bytes,
                                    const ArchiveLimits& limits,
                                    const std::function<void(ArchiveMember&&)>& visit) {
  std::unique_ptr<archive, FreeArchive> reader(archive_read_new());
  if (!reader) return make_error(ErrorCode::Io, "libarchive: out of memory");
  archive_read_support_filter_all(reader.get());
  archive_read_support_format_all(reader.get());
  // Last, so that it takes only a compressed stream that holds no archive.
  archive_read_support_format_raw(reader.get());
  if (archive_read_open_memory(reader.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    return make_error(ErrorCode::Unsupported, "not an archive: " + error_of(reader.get()));
  }
  ArchiveSummary summary;
  const auto stop = [&](ArchiveStop why, std::string detail) {
    summary.stop = why;
    summary.error = std::move(detail);
    return summary;
  };
  archive_entry* entry = nullptr;
  for (;;) {
    const int status = archive_read_next_header(reader.get(), &entry);
    if (status == ARCHIVE_EOF) break;
    if (summary.format.empty() && archive_format_name(reader.get()) != nullptr) {
      summary.format = archive_format_name(reader.get());
    }
    if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
      // The raw format accepts anything: with nothing read, this was no archive at all.
      if (summary.members == 0 && archive_format(reader.get()) == 0) {
        return make_error(ErrorCode::Unsupported, "not an archive: " + error_of(reader.get()));
      }
      return stop(ArchiveStop::Damaged, error_of(reader.get()));
    }
    if (summary.members == limits.max_members) {
      return stop(ArchiveStop::Members,
                  "more than " + std::to_string(limits.max_members) + " members");
    }
    ArchiveMember member;
    if (const char* name = archive_entry_pathname(entry); name != nullptr) member.name = name;
    member.type = type_of(entry);
    member.mode = static_cast<uint32_t>(archive_entry_perm(entry));
    member.mtime = archive_entry_mtime_is_set(entry) ? archive_entry_mtime(entry) : 0;
    if (const char* target = archive_entry_hardlink(entry); target != nullptr) {
      member.link_target = target;
    } else if (const char* link = archive_entry_symlink(entry); link != nullptr) {
      member.link_target = link;
    }
    if (member.type == MemberType::File) {
      // The declared size is the archive's word; the bytes are counted as they come.
      if (archive_entry_size_is_set(entry) &&
          static_cast<uint64_t>(archive_entry_size(entry)) > limits.max_member_bytes) {
        return stop(ArchiveStop::MemberBytes,
                    member.name + " declares " + std::to_string(archive_entry_size(entry)) +
                        " bytes, more than " + std::to_string(limits.max_member_bytes));
      }
      // Room for the declared size at once (a lie costs address space, not memory: pages
      // never written are never resident), so that a large member is not copied as it grows.
      if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0) {
        const uint64_t budget =
            limits.max_total_bytes - std::min(summary.expanded_bytes, limits.max_total_bytes);
        const uint64_t ratio_cap =
            std::max<uint64_t>(kRatioFloor, bytes.size() * std::max<uint64_t>(limits.max_ratio, 1));
        member.data.reserve(
            static_cast<size_t>(std::min({static_cast<uint64_t>(archive_entry_size(entry)), budget,
                                          limits.max_member_bytes, ratio_cap})));
      }
      constexpr size_t kChunk = 1 << 16;
      for (;;) {
        // libarchive writes straight into the member's bytes.
        const size_t had = member.data.size();
        if (member.data.capacity() - had < kChunk) {
          member.data.reserve(std::max(had * 2, had + kChunk));
        }
        la_ssize_t n = 0;
        member.data.resize_and_overwrite(had + kChunk, [&](char* p, size_t) {
          n = archive_read_data(reader.get(), p + had, kChunk);
          return had + static_cast<size_t>(std::max<la_ssize_t>(n, 0));
        });
        if (n == 0) break;
        if (n < 0) return stop(ArchiveStop::Damaged, member.name + ": " + error_of(reader.get()));
        const auto got = static_cast<uint64_t>(n);
        if (had + got > limits.max_member_bytes) {
          return stop(
              ArchiveStop::MemberBytes,
              member.name + " expands past " + std::to_string(limits.max_member_bytes) + " bytes");
        }
        if (summary.expanded_bytes + got > limits.max_total_bytes) {
          return stop(ArchiveStop::TotalBytes,
                      "expands past " + std::to_string(limits.max_total_bytes) + " bytes");
        }
        summary.expanded_bytes += got;
        if (summary.expanded_bytes > kRatioFloor &&
            summary.expanded_bytes / std::max<uint64_t>(bytes.size(), 1) > limits.max_ratio) {
          return stop(ArchiveStop::Ratio, std::to_string(bytes.size()) + " bytes expand past " +
                                              std::to_string(summary.expanded_bytes) +
                                              " (more than " + std::to_string(limits.max_ratio) +
                                              " times)");
        }
      }
    }
    ++summary.members;
    visit(std::move(member));
  }
  return summary;
}

std::string_view unsafe_member_name(std::string_view name) {
  if (name.empty()) return "empty";
  if (name.front() == '/' || name.front() == '\\' || (name.size() > 1 && name[1] == ':')) {
    return "absolute";
  }
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find_first_of("/\\", start);
    if (end == std::string_view::npos) end = name.size();
    if (name.substr(start, end - start) == "..") return "parent";
    start = end + 1;
  }
  return {};
}

}  // namespace catena::formats
