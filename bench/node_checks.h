// A node's own figures for `sxcoll bench --validate`: CPU memory bandwidth everywhere; on
// a node with NVIDIA GPUs their clocks and throttle reasons from NVML (loaded at run time,
// as transport/cuda_driver.cc loads libcuda).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sxcoll::bench {

struct NodeFigures {
  std::optional<double> cpu_mem_gbs;         // memcpy, best of several passes
  // The slowest GPU's figures (bench/gpu_checks.h); nullopt without GPUs.
  std::optional<double> gpu_tflops, gpu_mem_gbs, pcie_h2d_gbs, pcie_d2h_gbs;
  std::vector<std::string> throttle;         // active clock throttle reasons of any GPU
  // Per GPU a line of its figures, and (with NVML) one of its SM clock / max and reasons.
  std::vector<std::string> gpus;
  std::string gpu_note;                      // why the GPU part was skipped, if it was
  // The kernel's boot id: nodes that share one (namespaces, containers on one machine)
  // share their memory too, so their CPU memory bandwidth cannot tell them apart.
  std::string boot_id;
};

// Copies `bytes` `passes` times and keeps the best; a loaded machine then still shows what
// its memory can do.
double cpu_memory_bandwidth_gbs(size_t bytes, int passes);

NodeFigures measure_node(size_t bytes, int passes);

nlohmann::json to_json(const NodeFigures& f);
NodeFigures node_figures_from_json(const nlohmann::json& j);

}  // namespace sxcoll::bench
