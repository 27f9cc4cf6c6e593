#include "support/browser.hpp"

#include <filesystem>
#include <vector>

#include "support/run.hpp"

namespace catena::test {

RenderedPage render_page(const std::string& page,
                         const std::string& work_dir,
                         const std::string& screenshot,
                         int height) {
  RenderedPage out;
  const std::filesystem::path work(work_dir);
  const std::string pdf = (work / "page.pdf").string();
  const auto chromium = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {
        "chromium",          "--headless",
        "--no-sandbox",      "--disable-gpu",
        "--hide-scrollbars", "--user-data-dir=" + (work / "chromium-profile").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("file://" + page);
    return run_command(argv);
  };
  std::filesystem::remove(pdf);
  const RunResult printed = chromium({"--no-pdf-header-footer", "--print-to-pdf=" + pdf});
  if (!std::filesystem::exists(pdf)) {
    out.error = "chromium printed no PDF: " + printed.err;
    return out;
  }
  const RunResult text = run_command({"pdftotext", "-layout", pdf, "-"});
  if (text.exit_code != 0) {
    out.error = "pdftotext: " + text.err;
    return out;
  }
  out.rendered = true;
  out.text = text.out;
  if (!screenshot.empty()) {
    const std::filesystem::path shots =
        std::filesystem::path(catena_binary()).parent_path() / "test-screenshots";
    std::filesystem::create_directories(shots);
    const std::string png = (shots / screenshot).string();
    std::filesystem::remove(png);
    const RunResult shot =
        chromium({"--window-size=1200," + std::to_string(height), "--screenshot=" + png});
    if (!std::filesystem::exists(png)) out.error = "no screenshot: " + shot.err;
  }
  return out;
}

}  // namespace catena::test
