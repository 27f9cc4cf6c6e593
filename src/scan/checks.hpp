#pragma once
// Per-entry checks that need only what the walk already has (lstat and the path). Each rule is
// documented in docs/rules.md.
#include <sys/stat.h>

#include <string>
#include <vector>

#include "catena/core/finding.hpp"

namespace catena::scan {

void check_file_metadata(const std::string& path, const struct stat& st, std::vector<Finding>& out);
void check_directory_metadata(const std::string& path,
                              const struct stat& st,
                              std::vector<Finding>& out);

}  // namespace catena::scan
