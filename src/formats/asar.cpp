#include "catena/formats/asar.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "catena/core/bytes.hpp"

namespace catena::formats {
namespace {

constexpr uint64_t kMaxHeaderBytes = 64ULL << 20;

struct Header {
  uint64_t data_start = 0;
  std::string_view json;
};

std::optional<Header> header_of(std::span<const std::byte> bytes) {
  const ByteReader reader(bytes);
  auto four = reader.read_le<uint32_t>(0);
  auto pickle_size = reader.read_le<uint32_t>(4);
  auto payload = reader.read_le<uint32_t>(8);
  auto length = reader.read_le<uint32_t>(12);
  if (!four || *four != 4 || !pickle_size || !payload || !length) return std::nullopt;
  if (*pickle_size > kMaxHeaderBytes || *length > *pickle_size || *payload > *pickle_size) {
    return std::nullopt;
  }
  if (16 + static_cast<uint64_t>(*length) > bytes.size()) return std::nullopt;
  return Header{
      .data_start = 8 + static_cast<uint64_t>(*pickle_size),
      .json = std::string_view(reinterpret_cast<const char*>(bytes.data()) + 16, *length)};
}

// A JSON number or decimal string (asar writes offsets as strings: they pass 2^53).
std::optional<uint64_t> number_of(const nlohmann::json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (!value.is_string()) return std::nullopt;
  const std::string& text = value.get_ref<const std::string&>();
  if (text.empty() || text.size() > 19 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoull(text);
}

struct Walk {
  std::span<const std::byte> bytes;
  uint64_t data_start = 0;
  const ArchiveLimits& limits;
  const std::function<void(ArchiveMember&&)>& visit;
  ArchiveSummary summary;

  // False once reading stops (summary.stop says why).
  bool directory(const nlohmann::json& files, const std::string& prefix, size_t depth) {
    if (!files.is_object()) return damaged(prefix + ": \"files\" is not an object");
    if (depth > kAsarMaxDepth) return damaged(prefix + ": directories nested too deeply");
    for (const auto& [name, node] : files.items()) {
      if (summary.members == limits.max_members) {
        summary.stop = ArchiveStop::Members;
        summary.error = "more than " + std::to_string(limits.max_members) + " members";
        return false;
      }
      const std::string path = prefix.empty() ? name : prefix + "/" + name;
      if (!node.is_object()) return damaged(path + ": not an object");
      ArchiveMember member{.name = path};
      if (const auto sub = node.find("files"); sub != node.end()) {
        member.type = MemberType::Directory;
        ++summary.members;
        visit(std::move(member));
        if (!directory(*sub, path, depth + 1)) return false;
        continue;
      }
      if (const auto link = node.find("link"); link != node.end()) {
        member.type = MemberType::Symlink;
        if (link->is_string()) member.link_target = link->get<std::string>();
        ++summary.members;
        visit(std::move(member));
        continue;
      }
      const auto size = node.contains("size") ? number_of(node["size"]) : std::nullopt;
      if (!size) return damaged(path + ": no size");
      if (node.value("executable", false)) member.mode = 0755;
      member.outside = node.value("unpacked", false);
      member.size = *size;
      if (!member.outside) {
        const auto offset = node.contains("offset") ? number_of(node["offset"]) : std::nullopt;
        if (!offset) return damaged(path + ": no offset");
        if (*size > limits.max_member_bytes) {
          summary.stop = ArchiveStop::MemberBytes;
          summary.error = path + " declares " + std::to_string(*size) + " bytes";
          return false;
        }
        const uint64_t start = data_start + *offset;
        if (start < data_start || start > bytes.size() || *size > bytes.size() - start) {
          return damaged(path + ": its bytes lie outside the archive");
        }
        if (summary.expanded_bytes + *size > limits.max_total_bytes) {
          summary.stop = ArchiveStop::TotalBytes;
          summary.error = "expands past " + std::to_string(limits.max_total_bytes) + " bytes";
          return false;
        }
        summary.expanded_bytes += *size;
        member.data.assign(reinterpret_cast<const char*>(bytes.data()) + start, *size);
      }
      ++summary.members;
      visit(std::move(member));
    }
    return true;
  }

  bool damaged(std::string why) {
    summary.stop = ArchiveStop::Damaged;
    summary.error = std::move(why);
    return false;
  }
};

}  // namespace

bool looks_like_asar(std::span<const std::byte> head) {
  const auto header = header_of(head);
  if (!header) return false;
  std::string_view json = header->json;
  while (!json.empty() && (json.front() == ' ' || json.front() == '\n')) json.remove_prefix(1);
  return json.starts_with("{\"files\"");
}

Result<ArchiveSummary> read_asar(std::span<const std::byte> bytes,
                                 const ArchiveLimits& limits,
                                 const std::function<void(ArchiveMember&&)>& visit) {
  const auto header = header_of(bytes);
  if (!header) return make_error(ErrorCode::Parse, "not an asar header");
  const nlohmann::json doc = nlohmann::json::parse(header->json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("files")) {
    return make_error(ErrorCode::Parse, "the asar header is not JSON with \"files\"");
  }
  Walk walk{.bytes = bytes, .data_start = header->data_start, .limits = limits, .visit = visit};
  walk.summary.format = "asar";
  (void)walk.directory(doc["files"], "", 0);
  return walk.summary;
}

}  // namespace catena::formats
