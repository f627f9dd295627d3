// Before the sweep: every host of the inventory checked through the launcher's own tool,
// and this host's GPUs counted; missing and excluded hosts are reported, not skipped silently.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sft_driver/inventory.h"
#include "sft_driver/launcher.h"

namespace sxcoll::sft {

struct HostState {
  Host host;
  std::string state;   // "ok", "excluded", "unreachable", "not checked (dry run)"
  std::string detail;  // the check's command and what it said
};

struct HostReport {
  std::string local_host;
  int local_gpus = 0;
  std::string local_gpu_text;  // "2 × NVIDIA H200" or "no GPU: CPU run"
  std::vector<HostState> hosts;

  std::vector<Host> usable() const;
  nlohmann::json to_json() const;
};

// nvidia-smi -L on this host (when present) and the launcher's check for each inventory host.
HostReport check_hosts(const Launcher& launcher, const std::optional<Inventory>& inventory, bool dry_run);

}  // namespace sxcoll::sft
