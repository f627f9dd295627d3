// The Communicator's collectives besides allreduce: each a CollectiveLayout run by the
// same engine, on plans kept per collective (and root).
#include <algorithm>
#include <stdexcept>

#include <fmt/core.h>

#include "collectives/collective_layout.h"
#include "collectives/communicator.h"
#include "collectives/gpu.h"
#include "transport/error.h"

namespace sxcoll {

Communicator::Plan& Communicator::plan(const PlanKey& key) {
  if (auto it = plans_.find(key); it != plans_.end()) return it->second;
  Plan& plan = plans_[key];
  plan.layout = std::make_unique<CollectiveLayout>(key.collective, size(), rank(), options_.channels, key.root);
  plan.name = key.root >= 0 ? fmt::format("{} ({}, root {})", collective_name(key.collective),
                                          collective_algorithm(key.collective), key.root)
                            : fmt::format("{} ({})", collective_name(key.collective),
                                          collective_algorithm(key.collective));
  // alltoall reaches every rank, which the allreduce's algorithms need not. Connecting is
  // collective, so every rank connects here whether or not it lacks a peer.
  const std::vector<int> peers = plan.layout->peers();
  context_.connect(peers);
  std::vector<int> all = peers_;
  all.insert(all.end(), peers.begin(), peers.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  peers_ = all;
  registers_buffers_ = some_link_writes_from_buffers();
  build_links(plan);
  return plan;
}

void* Communicator::scratch(size_t bytes) {
  if (bytes > scratch_bytes_) {
    scratch_bytes_ = std::max(bytes, 2 * scratch_bytes_);
    scratch_.push_back(on_gpu() ? transport::Allocation(gpu::alloc_device(scratch_bytes_))
                                : transport::allocate_pages(scratch_bytes_));
  }
  return scratch_.back().get();
}

namespace {

void check_root(int root, int nranks, std::string_view what) {
  if (root < 0 || root >= nranks)
    throw UsageError(fmt::format("{}: root {} is not a rank (0..{})", what, root, nranks - 1));
}

}  // namespace

void Communicator::allgather(const void* input, void* output, size_t count, DataType type) {
  const size_t bytes = count * dtype_size(type);
  if (count == 0) return;
  if (size() == 1) return copy_alone(input, output, bytes);
  run_plan(plan(PlanKey{Collective::AllGather}), input, output, count, type, RedOp::Sum, bytes,
           bytes * static_cast<size_t>(size()), 0);
}

void Communicator::reduce_scatter(const void* input, void* output, size_t count, DataType type, RedOp op) {
  const size_t bytes = count * dtype_size(type);
  if (count == 0) return;
  if (size() == 1) return copy_alone(input, output, bytes);
  run_plan(plan(PlanKey{Collective::ReduceScatter}), input, output, count, type, op,
           bytes * static_cast<size_t>(size()), bytes, bytes);
}

void Communicator::broadcast(const void* input, void* output, size_t count, DataType type, int root) {
  check_root(root, size(), "broadcast");
  const size_t bytes = count * dtype_size(type);
  if (count == 0) return;
  if (size() == 1) return copy_alone(input, output, bytes);
  run_plan(plan(PlanKey{Collective::Broadcast, Algorithm::Auto, root}), input, output, count, type, RedOp::Sum, bytes,
           bytes, 0);
}

void Communicator::reduce(const void* input, void* output, size_t count, DataType type, RedOp op, int root) {
  check_root(root, size(), "reduce");
  const size_t bytes = count * dtype_size(type);
  if (count == 0) return;
  if (size() == 1) return copy_alone(input, output, bytes);
  run_plan(plan(PlanKey{Collective::Reduce, Algorithm::Auto, root}), input, output, count, type, op, bytes, bytes,
           bytes);
}

void Communicator::alltoall(const void* input, void* output, size_t count, DataType type) {
  const size_t bytes = count * dtype_size(type) * static_cast<size_t>(size());
  if (count == 0) return;
  if (size() == 1) return copy_alone(input, output, bytes);
  run_plan(plan(PlanKey{Collective::AllToAll}), input, output, count, type, RedOp::Sum, bytes, bytes, 0);
}

void Communicator::sendrecv(const void* input, void* output, size_t count, DataType type) {
  const size_t bytes = count * dtype_size(type);
  if (count == 0) return;
  if (size() == 1) return copy_alone(input, output, bytes);
  run_plan(plan(PlanKey{Collective::SendRecv}), input, output, count, type, RedOp::Sum, bytes, bytes, 0);
}

}  // namespace sxcoll
