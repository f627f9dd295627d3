#include "tuner/nccl_conf.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <optional>

#include <fmt/core.h>
#include <fmt/format.h>

namespace sxcoll::tune {

std::string nccl_conf_text(const EnvFile& f) {
  std::string out;
  for (const auto& line : f.header) out += "# " + line + "\n";
  out += "# NCCL reads this file itself: NCCL_CONF_FILE=<this file>, or copy it to ~/.nccl.conf or /etc/nccl.conf.\n";
  out += "# A variable set in the environment wins over this file.\n";
  for (const auto& fact : f.facts)
    if (!fact.value.empty() && fact.name.starts_with("NCCL_"))
      out += fmt::format("# detected: {}\n{}={}\n", fact.how, fact.name, fact.value);
  if (f.result != nullptr)
    for (const auto& k : f.result->knobs) {
      if (k.verdict != Verdict::Changed) continue;
      for (const auto& var : k.knob.env)
        if (var.starts_with("NCCL_")) out += fmt::format("# tuned: {}\n{}={}\n", verdict_text(k), var, k.to);
    }
  return out;
}

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// NCCL_ALGO's spelling to the plugin's: "NVLSTree" -> "nvls_tree", "CollnetDirect" -> "collnet_direct".
std::string plugin_algorithm(const std::string& v) {
  const std::string l = lower(v);
  if (l == "nvlstree") return "nvls_tree";
  if (l == "collnetdirect") return "collnet_direct";
  if (l == "collnetchain") return "collnet_chain";
  return l;
}

struct Measured {
  Settings settings;
  const std::vector<Sample>* samples;
};

std::optional<double> mean_busbw(const std::vector<Sample>& samples, size_t bytes) {
  double sum = 0;
  int n = 0;
  for (const auto& s : samples) {
    if (!s.ok) continue;
    for (const auto& z : s.sizes)
      if (z.bytes == bytes) {
        sum += z.busbw_gbps;
        ++n;
      }
  }
  if (n == 0) return std::nullopt;
  return sum / n;
}

std::string setting(const Settings& s, const std::string& name) {
  auto it = s.find(name);
  return it == s.end() ? std::string() : it->second;
}

}  // namespace

std::vector<TunerConfLine> tuner_conf_lines(const SearchResult& result, int ranks) {
  // Every measured setting, rebuilt in the search's order: a knob's candidates ran over the
  // settings left by the knobs before it.
  std::vector<Measured> measured{{result.defaults, &result.baseline}};
  bool any = false;
  Settings current = result.defaults;
  for (const auto& k : result.knobs) {
    const bool relevant = k.knob.name == "NCCL_ALGO" || k.knob.name == "NCCL_PROTO";
    for (const auto& c : k.candidates) {
      if (!relevant || !c.failure.empty()) continue;
      Settings s = current;
      s[k.knob.name] = c.value;
      measured.push_back({s, &c.samples});
      any = true;
    }
    current[k.knob.name] = k.to;
  }
  if (!any) return {};
  std::vector<size_t> sizes;
  for (const auto& m : measured)
    for (const auto& s : *m.samples)
      for (const auto& z : s.sizes) sizes.push_back(z.bytes);
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());

  std::vector<TunerConfLine> lines;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const Measured* best = nullptr;
    double best_bw = 0;
    for (const auto& m : measured)
      if (auto bw = mean_busbw(*m.samples, sizes[i]); bw && (best == nullptr || *bw > best_bw)) {
        best = &m;
        best_bw = *bw;
      }
    if (best == nullptr) continue;
    const std::string algo = setting(best->settings, "NCCL_ALGO"), proto = setting(best->settings, "NCCL_PROTO");
    if (algo.empty() || proto.empty()) continue;  // NCCL's own choice is part of the winner
    TunerConfLine line;
    line.min_bytes = i == 0 ? 0 : sizes[i - 1] + (sizes[i] - sizes[i - 1]) / 2 + 1;
    line.max_bytes = i + 1 == sizes.size() ? std::numeric_limits<size_t>::max()
                                           : sizes[i] + (sizes[i + 1] - sizes[i]) / 2;
    line.algorithm = plugin_algorithm(algo);
    line.protocol = lower(proto);
    if (const std::string ch = setting(best->settings, "NCCL_MIN/MAX_NCHANNELS"); !ch.empty()) line.channels = std::stoi(ch);
    line.ranks = ranks > 0 ? ranks : -1;
    if (!lines.empty()) {
      TunerConfLine& last = lines.back();
      if (last.max_bytes + 1 == line.min_bytes && last.algorithm == line.algorithm && last.protocol == line.protocol &&
          last.channels == line.channels) {
        last.max_bytes = line.max_bytes;
        continue;
      }
    }
    lines.push_back(line);
  }
  return lines;
}

std::string nccl_tuner_conf_text(const std::vector<TunerConfLine>& lines, const std::vector<std::string>& header) {
  std::string out;
  for (const auto& h : header) out += "# " + h + "\n";
  out += "# For NCCL's example tuner plugin (ext-tuner/example, NCCL 2.27+): NCCL_TUNER_PLUGIN=<its .so>\n";
  out += "# NCCL_TUNER_CONFIG_FILE=<this file>. Sizes without a line keep NCCL's own choice.\n";
  out += "# collective_type,min_bytes,max_bytes,algorithm,protocol,channels,nNodes,nRanks,numPipeOps,regBuff\n";
  for (const auto& l : lines)
    out += fmt::format("{},{},{},{},{},{},{},{},{},{}\n", l.collective, l.min_bytes, l.max_bytes, l.algorithm,
                       l.protocol, l.channels, l.nodes, l.ranks, l.pipe_ops, l.reg_buff);
  return out;
}

}  // namespace sxcoll::tune
