// The report's charts, drawn by gnuplot (Debian: gnuplot-nox) as PNG: throughput against
// nodes with the ideal line, scaling efficiency, and MFU per model.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sft_driver/report/results.h"

namespace sxcoll::sft {

struct Chart {
  std::string title;
  std::string file;  // relative to reports/
};

struct Charts {
  std::vector<Chart> charts;
  std::vector<std::string> notes;  // charts not drawn, and why
};

// Writes data, scripts and SVGs under `reports_dir`/charts.
Charts draw_charts(const SweepResults& results, const nlohmann::json& scaling, const std::string& reports_dir);

}  // namespace sxcoll::sft
