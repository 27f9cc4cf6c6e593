#pragma once
// What the configured apt repositories offer, from the package lists apt downloaded
// (<root>/var/lib/apt/lists/*_Packages, plain or compressed as apt keeps them).
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "catena/core/finding.hpp"
#include "catena/pkg/control.hpp"
#include "catena/pkg/database.hpp"

namespace catena::pkg {

/// A cap on one decompressed Packages index; Debian's main index is about 100 MB.
inline constexpr uint64_t kMaxPackagesIndexBytes = 1024ull * 1024 * 1024;

/// A cap on one paragraph of an index: a stanza is a few KB, a file with no blank line is not one.
inline constexpr size_t kMaxParagraphBytes = 16u << 20;

/// Calls `consume` with the content of a file, in order, a chunk at a time, decompressed by
/// whichever filter libarchive recognises (plain files pass through). LimitExceeded past
/// kMaxPackagesIndexBytes; the first error `consume` returns ends the read.
[[nodiscard]] Result<void> for_each_decompressed_chunk(
    const std::string& path, const std::function<Result<void>(std::string_view)>& consume);

/// The whole content of a file, decompressed as above.
[[nodiscard]] Result<std::string> read_maybe_compressed(const std::string& path);

/// Each deb822 paragraph of a (possibly compressed) file, parsed as the file is decompressed:
/// the memory is one chunk and one paragraph, whatever the file's size.
[[nodiscard]] Result<void> for_each_paragraph_of_file(
    const std::string& path, const std::function<bool(const Paragraph&)>& on_paragraph);

struct AptIndex {
  /// Reads every Packages index in `lists_dir`. Never fails: an index it cannot read is named
  /// in `unreadable`, and no index at all leaves `files` at 0.
  /// With `only`, keeps just those package names (what is installed): Debian's indexes name
  /// some 60,000 packages, a host has a few hundred.
  static AptIndex load(const std::string& lists_dir,
                       const std::unordered_set<std::string_view>* only = nullptr);

  bool offers(const std::string& name, const std::string& version, const std::string& arch) const;

  size_t files = 0;
  std::vector<std::string> unreadable;      // "path: reason"
  std::unordered_set<std::string> offered;  // name '\0' version '\0' architecture
  std::unordered_map<std::string, std::vector<std::string>> versions;  // name -> versions
};

/// PKG_NOT_FROM_REPOSITORY for each installed package whose version no index offers, or one
/// PKG_REPOSITORY_UNKNOWN when there are no readable indexes to judge by.
std::vector<Finding> packages_not_from_repository(
    const std::vector<const InstalledPackage*>& packages, const AptIndex& index);

}  // namespace catena::pkg
