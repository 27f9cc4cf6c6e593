#pragma once
// SARIF 2.1.0 rendering (OASIS standard), private to the report module.
#include <string>

#include "catena/report/render.hpp"

namespace catena::report {

std::string sarif_document(const ScanReport& report);

}  // namespace catena::report
