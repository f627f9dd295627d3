// The GPU as the collectives and the bench see it: device memory, host memory the GPU
// reads and writes directly, synchronous copies and a stream-ordered StepQueue. Declared
// without CUDA so that everything builds without it: collectives/cuda/gpu.cc implements
// it, collectives/gpu_none.cc says that this build has no CUDA.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "collectives/step_queue.h"

namespace sxcoll::gpu {

// Memory freed by the allocator it came from.
using Memory = std::unique_ptr<char, void (*)(void*)>;

bool built_with_cuda();
// CUDA devices this process can use; 0 without a driver, a device or a CUDA build.
// Initializes CUDA in this process, after which a forked child cannot use it.
int device_count();
// The same, counted in a child process: for a parent that is about to fork ranks.
int probe_device_count();
// Makes `ordinal` this thread's device. Throws UsageError when there is no such device.
void use_device(int ordinal);
// "NVIDIA H200 (GPU 0, bus 0000:19:00.0)": for the bench header.
std::string describe_device(int ordinal);
// "0000:19:00.0": where the device sits on PCIe (the verbs rail nearest to it is the one to drive).
std::string pci_bus_id(int ordinal);

// Device memory (cudaMalloc), never zero-sized.
Memory alloc_device(size_t bytes);
// Pinned host memory mapped into the device's address space (one pointer serves both):
// what the network reads and writes while GPU kernels read and write it too.
Memory alloc_host_mapped(size_t bytes);
// Copies between any two of host and device memory, and waits for it.
void copy(void* dst, const void* src, size_t bytes);
// Reduction kernels and copies on a stream of the current device.
std::unique_ptr<StepQueue> make_queue();

}  // namespace sxcoll::gpu
