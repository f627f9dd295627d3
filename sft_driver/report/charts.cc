#include "sft_driver/report/charts.h"

#include <filesystem>
#include <fstream>

#include <fmt/core.h>

#include "sft_driver/command_output.h"

namespace sxcoll::sft {

namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

std::string style() {
  return "set terminal pngcairo size 900,520 font 'sans,11' background '#ffffff'\n"
         "set grid\nset key outside right top\nset border 3\nset tics nomirror\n";
}

// Draws one chart; a note instead when gnuplot fails.
void plot(Charts& out, const std::string& dir, const std::string& name, const std::string& title,
          const std::string& script) {
  const std::string gp = dir + "/charts/" + name + ".gp";
  write(gp, style() + fmt::format("set output '{}/charts/{}.png'\nset title \"{}\"\n", dir, name, title) + script);
  auto r = run_command({"gnuplot", gp}, 60);
  if (r.exit_code == 0 && std::filesystem::exists(dir + "/charts/" + name + ".png"))
    out.charts.push_back({title, "charts/" + name + ".png"});
  else
    out.notes.push_back(fmt::format("chart '{}' not drawn: gnuplot exit {}: {}", title, r.exit_code,
                                    r.output.substr(0, r.output.find('\n'))));
}

}  // namespace

Charts draw_charts(const SweepResults& s, const nlohmann::json& scaling, const std::string& dir) {
  Charts out;
  if (!on_path("gnuplot")) {
    out.notes.push_back("charts not drawn: gnuplot not found (Debian: apt-get install gnuplot-nox)");
    return out;
  }
  std::filesystem::create_directories(dir + "/charts");
  const bool gpu = s.any_gpu();
  const std::string unit = gpu ? "GPU" : "rank";
  std::string tp, eff;
  int index = 0;
  for (const auto& [model, m] : scaling["models"].items()) {
    std::string data = "# nodes tokens_per_sec ideal_tokens_per_sec efficiency_pct\n";
    for (const auto& [nodes, n] : m["nodes"].items())
      if (n.contains("tokens_per_sec"))
        data += fmt::format("{} {} {} {}\n", nodes, n["tokens_per_sec"].get<double>(),
                            n["ideal_tokens_per_sec"].get<double>(), 100 * n["efficiency"].get<double>());
    const std::string file = fmt::format("{}/charts/scaling_{}.dat", dir, index++);
    write(file, data);
    tp += fmt::format("{}'{}' using 1:2 with linespoints lw 2 pt 7 title '{} measured', "
                      "'{}' using 1:3 with lines dt 2 lw 1 title '{} ideal'",
                      tp.empty() ? "plot " : ", ", file, model, file, model);
    eff += fmt::format("{}'{}' using 1:4 with linespoints lw 2 pt 7 title '{}'", eff.empty() ? "plot " : ", ",
                       file, model);
  }
  if (tp.empty()) {
    out.notes.push_back("no finished run: no charts");
    return out;
  }
  plot(out, dir, "throughput", "Throughput vs nodes (tokens/s, against ideal linear scaling)",
       "set xlabel 'nodes'\nset ylabel 'tokens/s'\nset xtics 1\nset yrange [0:*]\n" + tp + "\n");
  plot(out, dir, "efficiency", fmt::format("Scaling efficiency (per-{} throughput vs the smallest node count)", unit),
       "set xlabel 'nodes'\nset ylabel 'efficiency (%)'\nset xtics 1\nset yrange [0:120]\n" + eff + "\n");
  std::string mfu_data;
  for (const auto& r : s.runs)
    if (r.ok() && r.mfu) mfu_data += fmt::format("\"{} {}n mb{}\" {}\n", r.model_size, r.nodes, r.micro_batch, 100 * *r.mfu);
  if (mfu_data.empty()) {
    out.notes.push_back(std::string("MFU chart: ") + kNoGpu + " — MFU needs a GPU's peak FLOP/s");
  } else {
    write(dir + "/charts/mfu.dat", mfu_data);
    plot(out, dir, "mfu", "MFU per model and run (%)",
         "set style data histograms\nset style fill solid 0.7\nset boxwidth 0.8\nset ylabel 'MFU (%)'\n"
         "set yrange [0:100]\nset xtics rotate by -30\nunset key\nplot '" +
             dir + "/charts/mfu.dat' using 2:xtic(1)\n");
  }
  return out;
}

}  // namespace sxcoll::sft
