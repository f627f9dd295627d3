#include "bench/node_checks.h"

#include <dlfcn.h>

#include <chrono>
#include <cstring>
#include <fstream>

#include <fmt/core.h>

#include "bench/gpu_checks.h"
#include "collectives/gpu.h"
#include "transport/memory.h"

namespace sxcoll::bench {

double cpu_memory_bandwidth_gbs(size_t bytes, int passes) {
  auto src = transport::allocate_pages(bytes);
  auto dst = transport::allocate_pages(bytes);
  std::memset(src.get(), 1, bytes);
  std::memset(dst.get(), 2, bytes);  // pages touched before the clock starts
  double best = 0;
  for (int p = 0; p < passes; ++p) {
    auto t0 = std::chrono::steady_clock::now();
    std::memcpy(dst.get(), src.get(), bytes);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // A copy reads and writes every byte (STREAM's "copy" counts both).
    if (s > 0) best = std::max(best, 2.0 * static_cast<double>(bytes) / s / 1e9);
  }
  return best;
}

namespace {

// NVML's C interface, the few calls used, loaded at run time: a node without the driver
// still validates its links.
struct Nvml {
  using Device = void*;
  int (*init)() = nullptr;
  int (*shutdown)() = nullptr;
  int (*count)(unsigned*) = nullptr;
  int (*handle)(unsigned, Device*) = nullptr;
  int (*name)(Device, char*, unsigned) = nullptr;
  int (*reasons)(Device, unsigned long long*) = nullptr;
  int (*clock)(Device, int, unsigned*) = nullptr;
  int (*max_clock)(Device, int, unsigned*) = nullptr;
  void* lib = nullptr;

  bool load() {
    lib = ::dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) return false;
    auto sym = [&](auto& f, const char* n) { f = reinterpret_cast<std::remove_reference_t<decltype(f)>>(::dlsym(lib, n)); return f != nullptr; };
    return sym(init, "nvmlInit_v2") && sym(shutdown, "nvmlShutdown") && sym(count, "nvmlDeviceGetCount_v2") &&
           sym(handle, "nvmlDeviceGetHandleByIndex_v2") && sym(name, "nvmlDeviceGetName") &&
           sym(reasons, "nvmlDeviceGetCurrentClocksThrottleReasons") && sym(clock, "nvmlDeviceGetClockInfo") &&
           sym(max_clock, "nvmlDeviceGetMaxClockInfo");
  }
};

// nvmlClocksThrottleReasons: the ones that cost speed (idle, application clocks and sync
// boost are settings, not faults).
constexpr struct {
  unsigned long long bit;
  const char* name;
} kReasons[] = {{0x4, "SW power cap"},        {0x8, "HW slowdown"},          {0x20, "SW thermal slowdown"},
                {0x40, "HW thermal slowdown"}, {0x80, "HW power brake"}};
constexpr int kClockSm = 1;

void keep_min(std::optional<double>& slot, std::optional<double> v) {
  if (v && (!slot || *v < *slot)) slot = v;
}

void gpu_part(NodeFigures& f) {
  const int count = gpu::probe_device_count();
  if (count == 0) {
    f.gpu_note = gpu::built_with_cuda() ? "GPU checks skipped: no CUDA device on this host"
                                        : "GPU checks skipped: this sxcoll was built without CUDA (CPU host)";
  } else {
    for (const auto& g : measure_gpus(count)) {
      keep_min(f.gpu_tflops, g.matmul_tflops);
      keep_min(f.gpu_mem_gbs, g.mem_gbs);
      keep_min(f.pcie_h2d_gbs, g.h2d_gbs);
      keep_min(f.pcie_d2h_gbs, g.d2h_gbs);
      f.gpus.push_back(fmt::format("GPU {} {}: bf16 matmul {} TFLOP/s, memory {:.0f} GB/s, PCIe h2d {:.1f} / d2h {:.1f} "
                                   "GB/s{}", g.device, g.name,
                                   g.matmul_tflops ? fmt::format("{:.0f}", *g.matmul_tflops) : std::string("-"),
                                   g.mem_gbs, g.h2d_gbs, g.d2h_gbs, g.note.empty() ? "" : " (" + g.note + ")"));
    }
  }
  Nvml nvml;
  if (!nvml.load()) {
    if (f.gpu_note.empty()) f.gpu_note = "GPU clocks skipped: libnvidia-ml.so.1 not found";
    return;
  }
  unsigned n = 0;
  if (nvml.init() != 0 || nvml.count(&n) != 0) {
    if (f.gpu_note.empty()) f.gpu_note = "GPU clocks skipped: nvmlInit failed";
    return;
  }
  for (unsigned i = 0; i < n; ++i) {
    Nvml::Device d = nullptr;
    if (nvml.handle(i, &d) != 0) continue;
    char name[96] = {};
    nvml.name(d, name, sizeof name);
    unsigned long long bits = 0;
    nvml.reasons(d, &bits);
    unsigned sm = 0, sm_max = 0;
    nvml.clock(d, kClockSm, &sm);
    nvml.max_clock(d, kClockSm, &sm_max);
    std::string active;
    for (const auto& r : kReasons)
      if (bits & r.bit) {
        active += active.empty() ? r.name : std::string(", ") + r.name;
        f.throttle.push_back(fmt::format("GPU {} {}", i, r.name));
      }
    f.gpus.push_back(fmt::format("GPU {} {}: SM {} / {} MHz{}", i, name, sm, sm_max, active.empty() ? "" : ", " + active));
  }
  nvml.shutdown();
}

}  // namespace

NodeFigures measure_node(size_t bytes, int passes) {
  NodeFigures f;
  f.cpu_mem_gbs = cpu_memory_bandwidth_gbs(bytes, passes);
  std::ifstream("/proc/sys/kernel/random/boot_id") >> f.boot_id;
  gpu_part(f);
  return f;
}

nlohmann::json to_json(const NodeFigures& f) {
  nlohmann::json j;
  j["cpu_mem_gbs"] = f.cpu_mem_gbs ? nlohmann::json(*f.cpu_mem_gbs) : nlohmann::json(nullptr);
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  j["gpu_tflops"] = opt(f.gpu_tflops);
  j["gpu_mem_gbs"] = opt(f.gpu_mem_gbs);
  j["pcie_h2d_gbs"] = opt(f.pcie_h2d_gbs);
  j["pcie_d2h_gbs"] = opt(f.pcie_d2h_gbs);
  j["throttle"] = f.throttle;
  j["gpus"] = f.gpus;
  j["gpu_note"] = f.gpu_note;
  j["boot_id"] = f.boot_id;
  return j;
}

NodeFigures node_figures_from_json(const nlohmann::json& j) {
  NodeFigures f;
  if (j.contains("cpu_mem_gbs") && j["cpu_mem_gbs"].is_number()) f.cpu_mem_gbs = j["cpu_mem_gbs"].get<double>();
  auto opt = [&](const char* key) {
    return j.contains(key) && j[key].is_number() ? std::optional<double>(j[key].get<double>()) : std::nullopt;
  };
  f.gpu_tflops = opt("gpu_tflops");
  f.gpu_mem_gbs = opt("gpu_mem_gbs");
  f.pcie_h2d_gbs = opt("pcie_h2d_gbs");
  f.pcie_d2h_gbs = opt("pcie_d2h_gbs");
  f.throttle = j.value("throttle", std::vector<std::string>{});
  f.gpus = j.value("gpus", std::vector<std::string>{});
  f.gpu_note = j.value("gpu_note", std::string());
  f.boot_id = j.value("boot_id", std::string());
  return f;
}

}  // namespace sxcoll::bench
