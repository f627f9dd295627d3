// Writes every output of a sweep folder from what it holds: the CSV, the scaling JSON, the
// charts, the Markdown, the HTML and the PDF. Run after the sweep and by --report-only.
#pragma once

#include <string>

#include "sft_driver/results_dir.h"

namespace sxcoll::sft {

struct ReportFiles {
  std::string csv, scaling, markdown, html, pdf;
  std::string pdf_error;  // why the PDF was not made ("" when it was)
};

ReportFiles write_report(const ResultsDir& dir);

// HTML -> PDF through WeasyPrint (Debian: weasyprint); "" on success, else the reason.
std::string html_to_pdf(const std::string& html, const std::string& pdf);

}  // namespace sxcoll::sft
