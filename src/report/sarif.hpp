#pragma once
// SARIF 2.1.0 rendering (OASIS standard), private to the report module.
#include <cstdio>

#include "catena/report/render.hpp"

namespace catena::report {

// Writes the document, its results read from the report's findings as they are written.
[[nodiscard]] Status write_sarif(std::FILE* out, const ScanReport& report);

}  // namespace catena::report
