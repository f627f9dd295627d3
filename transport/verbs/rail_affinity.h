// Which rail a rank drives. On a node of 8 GPUs and 2 NICs every GPU should send through
// the NIC on its own PCIe switch (what NCCL does by default): a GPU whose bytes go to the
// far NIC crosses the CPU's interconnect, and two ranks sharing a NIC halve each other.
// The choice is a policy (--rails) over what sysfs shows of the PCIe tree; pure functions
// over a sysfs root, so that tests hold them against a fake tree.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sxcoll::transport::verbs {

inline constexpr const char* kSysfsPciDevices = "/sys/bus/pci/devices";

// --rails: "all" (every link spread over every rail), "local" (each rank drives one rail:
// the nearest to its GPU by PCIe, else local_rank * rails / local_size), "auto" (local
// where a host has at least as many ranks as rails, else all), or one rail index per
// local rank ("0,0,1,1").
struct RailPolicy {
  enum class Kind { Auto, All, Local, List };
  Kind kind = Kind::Auto;
  std::vector<int> by_local_rank;  // List

  // Throws UsageError naming `flag` for anything else.
  static RailPolicy parse(const std::string& text, const std::string& flag);
  std::string text() const;
};

// Hops between two PCI devices in the PCIe tree: up from each to their deepest common
// bridge. Devices under different host bridges (root complexes: across the CPU or its
// sockets) are kSystemHops apart; nullopt where either path is unknown.
inline constexpr int kSystemHops = 1000;
std::optional<int> pcie_hops(const std::filesystem::path& a, const std::filesystem::path& b);

// "0000:18:00.0" as sysfs spells it, from CUDA's or NVML's spelling ("00000000:18:00.0",
// upper case); empty when `bus_id` is not a PCI address.
std::string normalize_bus_id(const std::string& bus_id);

// The device folder of a PCI address (through the /sys/bus/pci/devices link) and of an
// RDMA device (/sys/class/infiniband/<dev>/device), resolved; empty when absent.
std::filesystem::path pci_device_path(const std::string& bus_id, const std::filesystem::path& pci_root);
std::filesystem::path rdma_device_path(const std::string& device, const std::filesystem::path& infiniband_root);

// The rail a rank drives under `policy`, or -1 for all of them. `hops_by_rail[r]` is the
// rank's GPU's distance to rail r where known (empty: no GPU, or sysfs does not say); ties
// among the nearest are broken by the local-rank split. Throws UsageError where a list
// names no rail for this local rank or a rail that does not exist.
struct RailChoice {
  int rail = -1;
  std::string why;  // "nearest to GPU 0000:18:00.0 (2 PCIe hops)", "local rank 1 of 4", ...
};
// Throws UsageError where a list names a rail beyond the `nrails` that --hca selects: bad
// input, found before any rank starts.
void check_rails_exist(const RailPolicy& policy, int nrails);
RailChoice choose_rail(const RailPolicy& policy, int local_rank, int local_size, int nrails,
                       const std::vector<std::optional<int>>& hops_by_rail);

}  // namespace sxcoll::transport::verbs
