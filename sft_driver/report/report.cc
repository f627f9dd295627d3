#include "sft_driver/report/report.h"

#include <filesystem>

#include <fmt/core.h>

#include "sft_driver/command_output.h"
#include "sft_driver/report/charts.h"
#include "sft_driver/report/markdown.h"
#include "sft_driver/report/results.h"
#include "sft_driver/report/tables.h"

namespace sxcoll::sft {

namespace {

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

nlohmann::json tool_versions() {
  nlohmann::json t;
  t["sxcoll"] = "0.1.0";
  t["gnuplot"] = on_path("gnuplot") ? first_line(run_command({"gnuplot", "--version"}, 20).output) : "not found";
  t["weasyprint"] =
      on_path("weasyprint") ? first_line(run_command({"weasyprint", "--version"}, 20).output) : "not found";
  return t;
}

}  // namespace

std::string html_to_pdf(const std::string& html, const std::string& pdf) {
  if (!on_path("weasyprint"))
    return "PDF not made: weasyprint not found (Debian: apt-get install weasyprint); the Markdown and HTML reports "
           "are written";
  const std::string tmp = pdf + ".tmp";
  auto r = run_command({"weasyprint", "--quiet", html, tmp}, 300);
  if (r.exit_code != 0 || !std::filesystem::exists(tmp))
    return fmt::format("PDF not made: weasyprint exit {}: {}", r.exit_code, first_line(r.output));
  std::filesystem::rename(tmp, pdf);
  return "";
}

ReportFiles write_report(const ResultsDir& dir) {
  const SweepResults results = load_results(dir);
  const nlohmann::json scaling = scaling_analysis(results);
  ReportFiles f;
  dir.write_file("metrics/performance_summary.csv", performance_csv(results));
  f.csv = dir.path() + "/metrics/performance_summary.csv";
  dir.write_file("reports/scaling_analysis.json", scaling.dump(2) + "\n");
  f.scaling = dir.path() + "/reports/scaling_analysis.json";
  const Charts charts = draw_charts(results, scaling, dir.path() + "/reports");
  const std::string md = markdown_report(results, scaling, charts, tool_versions());
  dir.write_file("reports/report.md", md);
  f.markdown = dir.path() + "/reports/report.md";
  dir.write_file("reports/report.html", markdown_to_html(md, "SFT throughput report"));
  f.html = dir.path() + "/reports/report.html";
  f.pdf = dir.path() + "/reports/report.pdf";
  f.pdf_error = html_to_pdf(f.html, f.pdf);
  return f;
}

}  // namespace sxcoll::sft
