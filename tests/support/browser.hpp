#pragma once
// An HTML page as a person sees it: rendered by headless Chromium, printed to PDF and read back
// as text by pdftotext, and a screenshot kept in the build tree (test-screenshots/) to look at.
#include <string>

namespace catena::test {

struct RenderedPage {
  bool rendered = false;  // false: Chromium could not print the page (`error` says why)
  std::string text;       // the printed page as text (pdftotext -layout)
  std::string error;
};

/// Renders `page` (an HTML file) with a profile and the PDF in `work_dir`; when `screenshot`
/// is not empty, also saves test-screenshots/`screenshot` (PNG) beside the catena binary, at
/// 1200 × `height` pixels.
RenderedPage render_page(const std::string& page,
                         const std::string& work_dir,
                         const std::string& screenshot = "",
                         int height = 1800);

}  // namespace catena::test
