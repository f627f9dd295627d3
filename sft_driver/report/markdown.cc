#include "sft_driver/report/markdown.h"

#include <set>

#include <fmt/core.h>

#include "sft_driver/report/engines.h"
#include "sft_driver/report/tables.h"

namespace sxcoll::sft {

namespace {

std::string cell(const std::optional<double>& v, int decimals) { return v ? fixed(*v, decimals) : "—"; }

std::string json_text(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "—";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

void fabric_section(std::string& md, const nlohmann::json& sweep) {
  md += "## Fabric\n\n";
  const auto& f = sweep.value("fabric", nlohmann::json());
  if (f.is_null()) {
    md += "Not measured for this report: no `sxcoll bench --json` file was given (`--fabric FILE`).\n\n";
    return;
  }
  md += fmt::format("From `{}` ({}): engine {}, {} ranks on {}, average bus bandwidth {} GB/s.\n\n",
                    sweep.value("fabric_file", ""), json_text(f, "tool"), json_text(f, "engine"),
                    json_text(f, "ranks"), json_text(f, "hosts"), json_text(f, "avg_busbw_gbps"));
  if (f.contains("results") && f["results"].is_array() && !f["results"].empty()) {
    const auto& last = f["results"].back();
    md += fmt::format("Largest message: {} bytes, out-of-place busbw {} GB/s.\n\n", json_text(last, "size_bytes"),
                      json_text(last.value("out_of_place", nlohmann::json::object()), "busbw_gbps"));
  }
}

}  // namespace

std::string markdown_report(const SweepResults& s, const nlohmann::json& scaling, const Charts& charts,
                            const nlohmann::json& tools) {
  const auto& sw = s.sweep;
  const bool gpu = s.any_gpu();
  const std::string per = gpu ? "GPU" : "rank";
  std::string md = fmt::format("# SFT throughput report: {}\n\n", sw["plan"].value("name", "sweep"));
  md += fmt::format("Results folder `{}`; launcher **{}**; sweep started {}; report made {}.\n\n", s.dir,
                    sw.value("launcher", "?"), sw.value("started", "?"), utc_now());
  if (sw.value("launcher", "") == "local")
    md += "The local launcher runs every rank on this one host: a plan's \"nodes\" are groups of ranks there, "
          "not separate machines.\n\n";
  if (!gpu) md += std::string("This was a CPU run: GPU utilization, memory and power are ") + kNoGpu +
                  ", MFU is not defined, and \"per GPU\" means per rank.\n\n";

  md += "## Results\n\nSteady state only: the worker's summary over the steps after warm-up.\n\n";
  md += fmt::format("| model | engine | nodes | {0}s | micro-batch | grad-accum | seq | status | samples/s | tokens/s | "
                    "tokens/s/{0} | MFU | GPU util | peak memory (GiB) |\n",
                    per);
  md += "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const auto& r : s.runs) {
    std::string util = !r.ok() ? "—" : r.gpu ? fixed(r.gpu->utilization_mean_pct, 1) + " %" : "n/a";
    std::string mfu_text = r.mfu ? fixed(*r.mfu * 100, 1) + " %" : "n/a";
    md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", r.model, r.engine,
                      r.nodes,
                      r.gpus > 0 ? r.gpus : r.ranks, r.micro_batch, r.grad_accum, r.seq_len, r.status,
                      cell(r.samples_per_s, 3), cell(r.tokens_per_s, 1), cell(r.tokens_per_s_per_gpu, 1),
                      r.ok() ? mfu_text : "—", util, r.peak_mem_bytes ? gib(*r.peak_mem_bytes) : "—");
  }
  md += "\n" + engine_comparison_markdown(s);
  md += "## Scaling\n\n";
  md += fmt::format("Efficiency = tokens/s per {0} at N nodes ÷ tokens/s per {0} at the model's smallest node "
                    "count; ideal = that smallest count's per-{0} rate × the {0}s at N. Per model (and sequence "
                    "length, where a model runs at several) and node count the fastest finished micro-batch "
                    "counts.\n\n",
                    per);
  md += fmt::format("| model | nodes | micro-batch | tokens/s | ideal tokens/s | tokens/s/{} | efficiency |\n", per);
  md += "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const auto& [model, m] : scaling["models"].items())
    for (const auto& [nodes, n] : m["nodes"].items()) {
      if (!n.contains("tokens_per_sec")) {
        md += fmt::format("| {} | {} | — | — | — | — | no finished run |\n", model, nodes);
        continue;
      }
      md += fmt::format("| {} | {} | {} | {} | {} | {} | {} % |\n", model, nodes, n["micro_batch"].get<int>(),
                        fixed(n["tokens_per_sec"].get<double>(), 1), fixed(n["ideal_tokens_per_sec"].get<double>(), 1),
                        fixed(n["tokens_per_sec_per_gpu"].get<double>(), 1),
                        fixed(100 * n["efficiency"].get<double>(), 1));
    }
  md += "\n## Charts\n\n";
  for (const auto& c : charts.charts) md += fmt::format("![{}]({})\n\n", c.title, c.file);
  for (const auto& n : charts.notes) md += "- " + n + "\n";
  if (!charts.notes.empty()) md += "\n";

  md += "## How the numbers are made\n\n";
  md += "- samples/s and tokens/s: steady-state steps only (warm-up steps left out), tokens = world × grad-accum × "
        "micro-batch × sequence length per step, time = the slowest rank's step time.\n";
  md += "- Model FLOPs per token = 6 N + 12 L d T (N = parameters without the input embedding table, L layers, "
        "d model width, T sequence length; attention over the full T × T matrix; recomputation by activation "
        "checkpointing not counted).\n";
  md += "- MFU = model FLOPs per token × tokens/s ÷ (GPUs × peak dense bf16 FLOP/s per GPU; H100 SXM and H200: "
        "989.4 TFLOP/s).\n";
  md += "- GPU utilization, memory and power: `nvidia-smi --query-gpu` once a second on every node while the run "
        "lasts (mean utilization, highest memory used, mean power over all GPUs and samples).\n\n";

  fabric_section(md, sw);
  md += "## NCCL settings\n\n";
  const auto& nccl = sw.value("nccl_env", nlohmann::json::object());
  if (nccl.value("file", "").empty()) {
    md += "No `nccl_env.sh` given (`--nccl-env FILE`): NCCL's defaults.\n\n";
  } else {
    md += fmt::format("From `{}`, set for every rank of every run:\n\n", nccl.value("file", ""));
    for (const auto& v : nccl.value("vars", nlohmann::json::array()))
      md += fmt::format("- `{}={}`\n", v[0].get<std::string>(), v[1].get<std::string>());
    md += "\n";
  }
  md += "## Hosts\n\n";
  const auto& hosts = sw.value("hosts", nlohmann::json::object());
  md += fmt::format("- this host `{}`: {}\n", hosts.value("local_host", "?"), hosts.value("local_gpu_text", "?"));
  for (const auto& h : hosts.value("hosts", nlohmann::json::array()))
    md += fmt::format("- `{}` ({}, {} GPUs): {}{}\n", h.value("name", ""), h.value("address", ""), h.value("gpus", 0),
                      h.value("state", ""), h.value("detail", "").empty() ? "" : " — " + h.value("detail", ""));
  md += "\n## Software\n\n";
  nlohmann::json config;
  for (const auto& r : s.runs)
    if (r.metrics.config) {
      config = *r.metrics.config;
      break;
    }
  for (const char* key : {"torch_version", "cuda_version", "nccl_version", "python_version", "device_name", "backend",
                          "parallel", "attention", "compile"})
    md += fmt::format("- {}: {}\n", key, json_text(config, key));
  for (const auto& [k, v] : tools.items()) md += fmt::format("- {}: {}\n", k, v.get<std::string>());
  md += "\n## Anomalies\n\n";
  size_t anomalies = 0;
  for (const auto& r : s.runs) {
    if (r.status != "ok")
      md += fmt::format("- run `{}`: **{}** after {} attempt(s){}\n", r.id, r.status, r.attempts,
                        r.message.empty() ? "" : ": " + r.message),
          ++anomalies;
    for (const auto& st : r.stragglers) md += fmt::format("- run `{}`: straggler: {}\n", r.id, st), ++anomalies;
    if (r.ok() && r.metrics.summary && r.metrics.summary->value("nonfinite_loss_steps", 0) > 0)
      md += fmt::format("- run `{}`: non-finite loss in {} steps\n", r.id,
                        r.metrics.summary->value("nonfinite_loss_steps", 0)),
          ++anomalies;
  }
  for (const auto& h : hosts.value("hosts", nlohmann::json::array()))
    if (h.value("state", "") != "ok")
      md += fmt::format("- host `{}`: {}\n", h.value("name", ""), h.value("state", "")), ++anomalies;
  if (anomalies == 0) md += "None: every run finished, no straggler, every host answered.\n";
  return md;
}

namespace {

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

std::string inline_html(const std::string& text) {
  std::string s = escape(text), out;
  bool code = false, bold = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '`') {
      out += code ? "</code>" : "<code>";
      code = !code;
    } else if (!code && s.compare(i, 2, "**") == 0) {
      out += bold ? "</strong>" : "<strong>";
      bold = !bold;
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> split_row(const std::string& line) {
  std::vector<std::string> cells;
  std::string t = line.substr(1, line.size() - (line.back() == '|' ? 2 : 1));
  size_t start = 0;
  while (true) {
    size_t bar = t.find('|', start);
    std::string c = t.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
    size_t b = c.find_first_not_of(' '), e = c.find_last_not_of(' ');
    cells.push_back(b == std::string::npos ? "" : c.substr(b, e - b + 1));
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  return cells;
}

}  // namespace

std::string markdown_to_html(const std::string& md, const std::string& title) {
  std::string html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + escape(title) +
                     "</title>\n<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;font-size:11pt}"
                     "table{border-collapse:collapse;font-size:9pt}td,th{border:1px solid #999;padding:3px 6px}"
                     "th{background:#eee}td{text-align:right}td:first-child{text-align:left}"
                     "img{max-width:100%}code{background:#f3f3f3}@page{size:A4 landscape;margin:1.5cm}</style>"
                     "</head><body>\n";
  std::vector<std::string> lines;
  for (size_t start = 0; start < md.size();) {
    size_t nl = md.find('\n', start);
    lines.push_back(md.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.empty()) continue;
    if (l.rfind("## ", 0) == 0) {
      html += "<h2>" + inline_html(l.substr(3)) + "</h2>\n";
    } else if (l.rfind("# ", 0) == 0) {
      html += "<h1>" + inline_html(l.substr(2)) + "</h1>\n";
    } else if (l.rfind("![", 0) == 0) {
      size_t close = l.find("](");
      html += "<p><img alt=\"" + escape(l.substr(2, close - 2)) + "\" src=\"" +
              escape(l.substr(close + 2, l.size() - close - 3)) + "\"></p>\n";
    } else if (l[0] == '|') {
      html += "<table>\n<tr>";
      for (const auto& c : split_row(l)) html += "<th>" + inline_html(c) + "</th>";
      html += "</tr>\n";
      for (i += 2; i < lines.size() && !lines[i].empty() && lines[i][0] == '|'; ++i) {
        html += "<tr>";
        for (const auto& c : split_row(lines[i])) html += "<td>" + inline_html(c) + "</td>";
        html += "</tr>\n";
      }
      html += "</table>\n";
      --i;
    } else if (l.rfind("- ", 0) == 0) {
      html += "<ul>\n";
      for (; i < lines.size() && lines[i].rfind("- ", 0) == 0; ++i) html += "<li>" + inline_html(lines[i].substr(2)) + "</li>\n";
      html += "</ul>\n";
      --i;
    } else {
      std::string para = l;
      while (i + 1 < lines.size() && !lines[i + 1].empty() && lines[i + 1][0] != '#' && lines[i + 1][0] != '|' &&
             lines[i + 1].rfind("- ", 0) != 0 && lines[i + 1].rfind("![", 0) != 0)
        para += " " + lines[++i];
      html += "<p>" + inline_html(para) + "</p>\n";
    }
  }
  return html + "</body></html>\n";
}

}  // namespace sxcoll::sft
