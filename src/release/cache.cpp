#include "catena/release/cache.hpp"

#include <bit>
#include <cstring>
#include <map>
#include <memory>

namespace catena::release {
namespace {

constexpr std::string_view kMagic = "catena-inspection-part\x01";

class Writer {
 public:
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void flag(bool v) { out_.push_back(v ? '\1' : '\0'); }
  void text(std::string_view s) {
    u64(s.size());
    out_.append(s);
  }
  template <size_t N>
  void digest(const std::optional<std::array<uint8_t, N>>& d) {
    flag(d.has_value());
    if (d) out_.append(reinterpret_cast<const char*>(d->data()), N);
  }
  void texts(const std::vector<std::string>& items) {
    u64(items.size());
    for (const std::string& item : items) text(item);
  }
  std::string take() { return std::move(out_); }
  std::string& raw() { return out_; }

 private:
  std::string out_;
};

// Every read is checked against what is left; a count can never exceed the bytes left, since
// each element takes at least one.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool at_end() const { return in_.empty(); }
  bool expect(std::string_view magic) {
    if (!in_.starts_with(magic)) return ok_ = false;
    in_.remove_prefix(magic.size());
    return true;
  }
  uint64_t u64() {
    if (in_.size() < 8) return fail();
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(in_[i])} << (8 * i);
    in_.remove_prefix(8);
    return v;
  }
  uint64_t count() {
    const uint64_t n = u64();
    return n <= in_.size() ? n : fail();
  }
  bool flag() {
    if (in_.empty()) return fail() != 0;
    const char c = in_[0];
    in_.remove_prefix(1);
    if (c != '\0' && c != '\1') return fail() != 0;
    return c == '\1';
  }
  std::string text() {
    const uint64_t n = u64();
    if (n > in_.size()) {
      fail();
      return {};
    }
    std::string out(in_.substr(0, n));
    in_.remove_prefix(n);
    return out;
  }
  template <size_t N>
  std::optional<std::array<uint8_t, N>> digest() {
    if (!flag()) return std::nullopt;
    if (in_.size() < N) {
      fail();
      return std::nullopt;
    }
    std::array<uint8_t, N> out{};
    std::memcpy(out.data(), in_.data(), N);
    in_.remove_prefix(N);
    return out;
  }
  std::vector<std::string> texts() {
    std::vector<std::string> out(ok_ ? count() : 0);
    for (std::string& item : out) item = text();
    return out;
  }

 private:
  uint64_t fail() {
    ok_ = false;
    in_ = {};
    return 0;
  }
  std::string_view in_;
  bool ok_ = true;
};

void write_binary(Writer& w, const content::BinaryFacts& b) {
  w.u64(b.version.size());
  for (const auto& [key, value] : b.version) {
    w.text(key);
    w.text(value);
  }
  w.texts(b.libraries);
  w.texts(b.imports);
  w.texts(b.exports);
  w.u64(b.sections.size());
  for (const content::SectionFacts& s : b.sections) {
    w.text(s.name);
    w.u64(s.size);
    w.u64(std::bit_cast<uint64_t>(s.entropy));
    w.flag(s.code);
  }
  w.texts(b.network_strings);
  w.flag(b.network_strings_truncated);
  w.text(b.authenticode_sha256);
  w.text(b.rebuild_sha256);
}

content::BinaryFacts read_binary(Reader& r) {
  content::BinaryFacts b;
  for (uint64_t n = r.count(); n > 0 && r.ok(); --n) {
    std::string key = r.text();
    b.version[std::move(key)] = r.text();
  }
  b.libraries = r.texts();
  b.imports = r.texts();
  b.exports = r.texts();
  b.sections.resize(r.ok() ? r.count() : 0);
  for (content::SectionFacts& s : b.sections) {
    s.name = r.text();
    s.size = r.u64();
    s.entropy = std::bit_cast<double>(r.u64());
    s.code = r.flag();
  }
  b.network_strings = r.texts();
  b.network_strings_truncated = r.flag();
  b.authenticode_sha256 = r.text();
  b.rebuild_sha256 = r.text();
  return b;
}

}  // namespace

std::string encode_part(const InspectionPart& part) {
  Writer w;
  w.raw().append(kMagic);
  w.u64(part.archives);
  w.u64(part.expanded_bytes);
  w.u64(part.budget_bytes);
  w.u64(part.files.size());
  for (size_t i = 0; i < part.files.size(); ++i) {
    const ReleaseFile& f = part.files[i];
    w.text(f.path);
    w.text(f.type);
    w.u64(f.size);
    w.digest(f.sha256);
    w.text(f.format);
    w.text(f.link_target);
    w.u64(f.depth);
    w.text(f.archive);
    w.u64(f.members);
    w.text(f.opaque);
    w.text(f.signature);
    w.text(f.signer);
    const DigestValues none;
    const DigestValues& d = i < part.digests.size() ? part.digests[i] : none;
    w.digest(d.md5);
    w.digest(d.sha1);
    w.flag(f.binary != nullptr);
    if (f.binary) write_binary(w, *f.binary);
  }
  w.u64(part.findings.size());
  for (const Finding& f : part.findings) {
    w.text(f.rule);
    w.u64(static_cast<uint64_t>(f.severity));
    w.text(f.path);
    w.digest(f.sha256);
    w.text(f.message);
    w.u64(f.evidence.size());
    for (const auto& [key, value] : f.evidence) {
      w.text(key);
      w.text(value);
    }
  }
  return w.take();
}

Result<InspectionPart> decode_part(std::string_view bytes) {
  Reader r(bytes);
  if (!r.expect(kMagic)) return make_error(ErrorCode::Parse, "not an inspection part");
  InspectionPart part;
  part.archives = r.u64();
  part.expanded_bytes = r.u64();
  part.budget_bytes = r.u64();
  const uint64_t files = r.count();
  part.files.reserve(files);
  part.digests.reserve(files);
  // Binary facts are shared by the files of one content, as a fresh inspection shares them.
  std::map<Sha256, std::shared_ptr<const content::BinaryFacts>> shared;
  for (uint64_t i = 0; i < files && r.ok(); ++i) {
    ReleaseFile f;
    f.path = r.text();
    f.type = r.text();
    f.size = r.u64();
    f.sha256 = r.digest<32>();
    f.format = r.text();
    f.link_target = r.text();
    f.depth = static_cast<unsigned>(r.u64());
    f.archive = r.text();
    f.members = r.u64();
    f.opaque = r.text();
    f.signature = r.text();
    f.signer = r.text();
    DigestValues d{.sha256 = f.sha256, .md5 = r.digest<16>(), .sha1 = r.digest<20>()};
    if (r.flag()) {
      auto binary = std::make_shared<const content::BinaryFacts>(read_binary(r));
      f.binary = f.sha256 ? shared.try_emplace(*f.sha256, binary).first->second : binary;
    }
    part.files.push_back(std::move(f));
    part.digests.push_back(d);
  }
  const uint64_t findings = r.count();
  for (uint64_t i = 0; i < findings && r.ok(); ++i) {
    Finding f;
    f.rule = r.text();
    const uint64_t severity = r.u64();
    if (severity > static_cast<uint64_t>(Severity::Critical)) break;
    f.severity = static_cast<Severity>(severity);
    f.path = r.text();
    f.sha256 = r.digest<32>();
    f.message = r.text();
    for (uint64_t n = r.count(); n > 0 && r.ok(); --n) {
      std::string key = r.text();
      f.add_evidence(std::move(key), r.text());
    }
    part.findings.push_back(std::move(f));
  }
  if (!r.ok() || !r.at_end() || part.findings.size() != findings || part.files.empty()) {
    return make_error(ErrorCode::Parse, "a damaged inspection part");
  }
  return part;
}

}  // namespace catena::release
