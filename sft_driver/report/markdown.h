// The human report in Markdown, and the small Markdown-to-HTML step that gives the HTML
// (and, through it, the PDF) exactly the same content.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "sft_driver/report/charts.h"
#include "sft_driver/report/results.h"

namespace sxcoll::sft {

std::string markdown_report(const SweepResults& results, const nlohmann::json& scaling, const Charts& charts,
                            const nlohmann::json& tools);

// Headings, paragraphs, "- " lists, pipe tables, ![images](src), `code` and **bold**: what
// markdown_report writes, nothing more.
std::string markdown_to_html(const std::string& markdown, const std::string& title);

}  // namespace sxcoll::sft
