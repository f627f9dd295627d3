#include "sft_driver/host_check.h"

#include <unistd.h>

#include <fmt/core.h>

#include "sft_driver/command_output.h"
#include "sft_driver/gpu_samples.h"

namespace sxcoll::sft {

std::vector<Host> HostReport::usable() const {
  std::vector<Host> out;
  for (const auto& h : hosts)
    if (h.state == "ok" || h.state == "not checked (dry run)") out.push_back(h.host);
  return out;
}

nlohmann::json HostReport::to_json() const {
  nlohmann::json j{{"local_host", local_host}, {"local_gpus", local_gpus}, {"local_gpu_text", local_gpu_text}};
  j["hosts"] = nlohmann::json::array();
  for (const auto& h : hosts)
    j["hosts"].push_back({{"name", h.host.name}, {"address", h.host.address}, {"gpus", h.host.gpus},
                          {"tags", h.host.tags}, {"state", h.state}, {"detail", h.detail}});
  return j;
}

HostReport check_hosts(const Launcher& launcher, const std::optional<Inventory>& inventory, bool dry_run) {
  HostReport r;
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  r.local_host = name;
  r.local_gpu_text = "no GPU: CPU run";
  if (!dry_run && on_path("nvidia-smi")) {
    auto out = run_command({"nvidia-smi", "-L"}, 30);
    std::string first;
    size_t pos = 0;
    while ((pos = out.output.find("GPU ", pos)) != std::string::npos) {
      if (pos == 0 || out.output[pos - 1] == '\n') {
        if (first.empty()) {
          size_t colon = out.output.find(": ", pos), paren = out.output.find(" (", pos);
          if (colon != std::string::npos && paren != std::string::npos && paren > colon)
            first = out.output.substr(colon + 2, paren - colon - 2);
        }
        ++r.local_gpus;
      }
      pos += 4;
    }
    if (r.local_gpus > 0) r.local_gpu_text = fmt::format("{} × {}", r.local_gpus, first);
  }
  if (!inventory || launcher.is_local()) return r;
  for (const auto& h : inventory->hosts) {
    HostState s{h, "ok", ""};
    if (h.exclude) {
      s.state = "excluded";
      s.detail = h.exclude_reason.empty() ? "excluded in the hosts file" : h.exclude_reason;
    } else if (auto check = launcher.host_check(h)) {
      s.detail = shell_line(*check);
      if (dry_run) {
        s.state = "not checked (dry run)";
      } else {
        auto out = run_command(check->argv, 30);
        if (out.exit_code != 0) {
          s.state = "unreachable";
          std::string said = out.output.substr(0, out.output.find('\n'));
          s.detail += fmt::format(": exit {}{}", out.exit_code, said.empty() ? "" : ": " + said);
        }
      }
    }
    r.hosts.push_back(std::move(s));
  }
  return r;
}

}  // namespace sxcoll::sft
