// The GPU part of a node's checks (`sxcoll bench --validate`), one GPU at a time: bf16
// matmul TFLOP/s through cuBLAS (loaded at run time, as libcuda and libnvidia-ml are),
// device memory bandwidth (a device-to-device copy, read + write) and PCIe host<->device
// bandwidth (pinned host memory). Over collectives/gpu.h, so that it builds without CUDA;
// a build or a host without GPUs never calls it.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sxcoll::bench {

struct GpuFigures {
  int device = 0;
  std::string name;
  std::optional<double> matmul_tflops;  // nullopt: cuBLAS not found
  double mem_gbs = 0, h2d_gbs = 0, d2h_gbs = 0;
  std::string note;  // why a figure is missing
};

// Every GPU of this process, in turn. Throws RunError naming the GPU and the step.
std::vector<GpuFigures> measure_gpus(int count);

}  // namespace sxcoll::bench
