#include "collectives/communicator.h"

#include <algorithm>
#include <cstdlib>
#include <cmath>
#include <cstring>
#include <sstream>

#include <fmt/core.h>

#include "collectives/algorithm_layout.h"
#include "collectives/gpu.h"
#include "collectives/link_latency.h"
#include "collectives/partition.h"
#include "collectives/reduce.h"
#include "transport/error.h"

namespace sxcoll {

void validate_options(const CommunicatorOptions& o) {
  if (o.channels < 1 || o.channels > 32) throw UsageError(fmt::format("--channels {}: must be 1..32", o.channels));
  // Two at least: a ring step needs a free slot downstream while the rank downstream holds
  // its own slot for the same step, so with one slot every rank waits for the next.
  if (o.slots < 2 || (o.slots & (o.slots - 1)) != 0 || o.slots > 64)
    throw UsageError(fmt::format("slots per buffer {}: must be a power of two, 2..64", o.slots));
  if (o.buffsize < size_t{o.slots} * 4096 || o.buffsize % o.slots != 0)
    throw UsageError(fmt::format("--buffsize {}: must be a multiple of {} and at least {} bytes", o.buffsize, o.slots,
                                 size_t{o.slots} * 4096));
  if (o.timeout.count() <= 0) throw UsageError("--timeout must be positive");
}

namespace {

std::chrono::microseconds spin_budget(const CommunicatorOptions& options, const bootstrap::Bootstrap& bootstrap) {
  if (options.spin.count() >= 0) return options.spin;
  return bootstrap.cores_per_local_rank() >= 1 ? std::chrono::microseconds(50) : std::chrono::microseconds(0);
}

}  // namespace

Communicator::Communicator(bootstrap::Bootstrap& bootstrap, transport::Context& context,
                           const CommunicatorOptions& options)
    : bootstrap_(bootstrap),
      context_(context),
      options_(options),
      topology_(Topology::from_hostnames(options.hostnames.empty() ? bootstrap.hostnames() : options.hostnames)),
      engine_(context, bootstrap, options.timeout, spin_budget(options, bootstrap)) {
  validate_options(options_);
  // GPU buffers: the GPU reduces; what a pair cannot reach there is staged (stages()).
  if (on_gpu()) use_step_queue(gpu::make_queue(), false);
  if (topology_.size() != size())
    throw std::logic_error(fmt::format("rank {}: {} hostnames for {} ranks", rank(), topology_.size(), size()));
  // Where every rank drives one rail (verbs --rails), ring_topo keeps each channel's host
  // crossings on one rail: the ranks must agree on the rails before the peers are chosen.
  std::vector<int> rails = context_.driven_rails();
  if (!rails.empty() && std::all_of(rails.begin(), rails.end(), [](int r) { return r >= 0; }))
    topology_.set_rails(std::move(rails));
  peers_ = peers_to_connect(topology_, rank(), options_.channels);
  context_.connect(peers_);
  cost_ = options_.cost;
  registers_buffers_ = some_link_writes_from_buffers();
}

const CostModel& Communicator::cost() {
  if (!cost_) cost_ = cost_from_links();
  return *cost_;
}

CostModel Communicator::cost_from_links() {
  // Each level's slowest link on this rank; a level without links keeps the default.
  const CostModel defaults;
  double level[2][2] = {{0, HUGE_VAL}, {0, HUGE_VAL}};  // [intra, inter][alpha, beta]
  for (int peer : peers_) {
    const transport::LinkCost c = context_.pair(peer).cost();
    auto& l = level[topology_.host_of(peer) == topology_.host_of(rank()) ? 0 : 1];
    l[0] = std::max(l[0], c.alpha_us);
    l[1] = std::min(l[1], c.beta_bytes_per_us);
  }
  // Every rank must pick the same algorithm: all take the slowest over the ranks.
  const auto words = bootstrap_.allgather(fmt::format("{} {} {} {}", level[0][0], level[0][1], level[1][0], level[1][1]));
  for (const auto& word : words) {
    std::istringstream in(word);
    double theirs[2][2];
    in >> theirs[0][0] >> theirs[0][1] >> theirs[1][0] >> theirs[1][1];
    for (int l = 0; l < 2; ++l) {
      level[l][0] = std::max(level[l][0], theirs[l][0]);
      level[l][1] = std::min(level[l][1], theirs[l][1]);
    }
  }
  // The latencies as measured here and now: a step's cost depends on this run's cores and
  // network as much as on the transport (TCP: 20 us over loopback, ~100 us between the
  // namespace hosts of tests/netns on 2 cores).
  const LevelLatency measured = measure_level_latency(context_, bootstrap_, topology_, options_.timeout,
                                                       [this](const transport::Completion& c) { engine_.accept(c); });
  if (measured.intra_us > 0 && level[0][0] > 0) level[0][0] = measured.intra_us;
  if (measured.inter_us > 0 && level[1][0] > 0) level[1][0] = std::max(measured.inter_us, ring_step_us());
  // A network link's rate is its host's (tcp: the host's interface, verbs: all its rails):
  // what the model's inter level means, a host's budget that its crossing links share.
  const bool intra = level[0][0] > 0, inter = level[1][0] > 0;
  CostModel m;
  m.alpha_us = intra ? level[0][0] : defaults.alpha_us;
  m.beta_bytes_per_us = intra ? level[0][1] : defaults.beta_bytes_per_us;
  m.inter_alpha_us = inter ? level[1][0] : defaults.inter_alpha_us;
  m.inter_beta_bytes_per_us = inter ? level[1][1] : defaults.inter_beta_bytes_per_us;
  return m;
}

double Communicator::ring_step_us() {
  // The notify ping-pong times a link; a step of the engine over it (a write, its arrival,
  // the reduction, a credit back) costs more, several times more where ranks share cores
  // (tests/netns on 2 cores: 19 us for the ping-pong, ~130 us a step). A flat ring
  // allreduce of one element per rank has 2(n-1) steps, each as slow as the slowest link
  // in the ring, which here crosses hosts: its time over the steps is the inter-host step.
  const size_t count = static_cast<size_t>(size());
  const size_t bytes = count * sizeof(float);
  std::vector<float> host_in(count, 1.0f), host_out(count);
  gpu::Memory dev_in(nullptr, [](void*) {}), dev_out(nullptr, [](void*) {});
  void* in = host_in.data();
  void* out = host_out.data();
  if (on_gpu()) {
    dev_in = gpu::alloc_device(bytes);
    dev_out = gpu::alloc_device(bytes);
    gpu::copy(dev_in.get(), host_in.data(), bytes);
    in = dev_in.get();
    out = dev_out.get();
  }
  constexpr int kWarmUp = 2, kTimed = 9;
  bootstrap_.barrier();
  std::vector<double> us;
  for (int i = 0; i < kWarmUp + kTimed; ++i) {
    const auto start = std::chrono::steady_clock::now();
    allreduce(in, out, count, DataType::Float32, RedOp::Sum, Algorithm::Ring);
    const std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - start;
    if (i >= kWarmUp) us.push_back(took.count());
  }
  std::sort(us.begin(), us.end());
  double slowest = 0;
  for (const auto& word : bootstrap_.allgather(fmt::format("{}", us[us.size() / 2])))
    slowest = std::max(slowest, std::stod(word));
  return slowest / (2.0 * (size() - 1));
}

Algorithm Communicator::resolve(Algorithm algorithm, size_t bytes) {
  // A loop of calls asks for the same algorithm and size each time: answered once.
  if (last_resolved_.asked == algorithm && last_resolved_.bytes == bytes) return last_resolved_.chosen;
  check_algorithm(algorithm, topology_);
  const Algorithm chosen = algorithm == Algorithm::Auto ? choose_algorithm(topology_, bytes, cost()) : algorithm;
  last_resolved_ = Resolved{algorithm, bytes, chosen};
  return chosen;
}

bool Communicator::stages(const transport::Pair& pair) const {
  // Where the receiver reads, what is sent waits in our staging slots for it.
  return stage_all_ || (on_gpu() && (pair.gpu_direct().empty() || pair.receiver_reads()));
}

std::string Communicator::data_path() const {
  if (!on_gpu()) return "host";
  // One entry per backend in use: "gdr: staged", or "cuda_ipc: gdr: cuda_ipc, tcp: gdr: staged".
  std::map<std::string, std::string> paths;
  for (int peer : peers_) {
    const transport::Pair& pair = context_.pair(peer);
    paths[std::string(pair.transport())] =
        "gdr: " + (pair.receiver_reads() ? pair.gpu_direct() + " read" : stages(pair) ? std::string("staged") : pair.gpu_direct());
  }
  if (paths.size() == 1) return paths.begin()->second;
  std::string text;
  for (const auto& [transport, path] : paths) text += fmt::format("{}{}: {}", text.empty() ? "" : ", ", transport, path);
  return text.empty() ? "gdr: none (one rank)" : text;
}

std::string Communicator::routes() const {
  const auto& hosts = bootstrap_.hostnames();
  std::map<std::pair<bool, std::string>, int> counts;  // (other host, transport) -> peers
  for (int peer : peers_) {
    const bool other_host = hosts[static_cast<size_t>(peer)] != hosts[static_cast<size_t>(rank())];
    ++counts[{other_host, std::string(context_.pair(peer).transport())}];
  }
  std::string text;
  for (const auto& [key, n] : counts)
    text += fmt::format("{}{} to {} rank{} of {}", text.empty() ? "" : ", ", key.second, n, n == 1 ? "" : "s",
                        key.first ? "other hosts" : "this host");
  return text.empty() ? "none (one rank)" : text;
}

void Communicator::use_step_queue(std::unique_ptr<StepQueue> queue, bool stage_sends) {
  if (!plans_.empty()) throw std::logic_error("use_step_queue after the first collective");
  queue_ = std::move(queue);
  stage_all_ = stage_sends;
  registers_buffers_ = some_link_writes_from_buffers();
}

bool Communicator::some_link_writes_from_buffers() const {
  // stages() is true for every pair where a test asked every link to stage.
  return std::any_of(peers_.begin(), peers_.end(), [&](int peer) { return !stages(context_.pair(peer)); });
}

SlotMemory Communicator::allocate_slots(size_t bytes, const transport::Pair& pair, bool staging,
                                        std::shared_ptr<transport::MemoryRegion>& region) {
  using transport::MemoryKind;
  SlotMemory memory;
  MemoryKind kind = MemoryKind::Host;
  if (!on_gpu()) {
    // Host pages a peer of this host can map where the pair is shared memory.
    memory = context_.allocate_host(bytes);
  } else if ((!stages(pair) && !staging) || (staging && pair.receiver_reads())) {
    // The peer (a NIC, or a GPU of this host) writes into GPU memory; the kernels read it
    // there. Or, where the receiver reads: our staging slots, which its kernels read.
    memory = gpu::alloc_device(bytes);
    kind = MemoryKind::Cuda;
  } else {
    // The transport reads and writes host memory; the kernels reach it over PCIe.
    memory = gpu::alloc_host_mapped(bytes);
  }
  region = context_.register_memory(memory.get(), bytes, kind);
  return memory;
}

void Communicator::build_links(Plan& plan) {
  std::vector<std::vector<int>> in_peers, out_peers;
  for (int c = 0; c < plan.layout->channels(); ++c) {
    in_peers.push_back(plan.layout->links(c).in_peers);
    out_peers.push_back(plan.layout->links(c).out_peers);
  }
  const uint32_t nslots = options_.slots;
  const size_t slot_bytes = options_.buffsize / nslots;
  std::ostringstream mine;
  for (size_t c = 0; c < in_peers.size(); ++c) {
    auto channel = std::make_unique<Channel>();
    channel->nslots = nslots;
    channel->slot_bytes = slot_bytes;
    channel->id = engine_.register_channel(channel.get());
    for (int peer : in_peers[c]) {
      InLink link;
      link.peer = peer;
      link.pair = &context_.pair(peer);
      link.slot_bytes = slot_bytes;
      link.window = RecvWindow(nslots);
      // Where the receiver reads, the slots are the sender's staging, mapped below.
      if (!link.pair->receiver_reads()) {
        link.slots = allocate_slots(nslots * slot_bytes, *link.pair, false, link.region);
        mine << "slots " << channel->id << ' ' << peer << ' ' << link.region->remote.encode() << '\n';
      }
      channel->in.push_back(std::move(link));
    }
    for (int peer : out_peers[c]) {
      OutLink link;
      link.peer = peer;
      link.pair = &context_.pair(peer);
      link.window = SendWindow(nslots);
      if (stages(*link.pair))
        link.staging = allocate_slots(nslots * slot_bytes, *link.pair, true, link.staging_region);
      if (link.pair->receiver_reads()) {
        // The staging slots are the receiver's slots: a write names them as its destination.
        link.remote = link.staging_region->remote;
        mine << "staging " << channel->id << ' ' << peer << ' ' << link.remote.encode() << '\n';
      }
      channel->out.push_back(std::move(link));
    }
    plan.channels.push_back(std::move(channel));
  }
  // Each receiver published where its slots are, each sender that its receiver reads where
  // its staging is; each rank picks the lines meant for it.
  auto all = bootstrap_.allgather(mine.str());
  for (int from = 0; from < size(); ++from) {
    std::istringstream lines(all[static_cast<size_t>(from)]);
    std::string kind, word;
    uint32_t id;
    int to;
    while (lines >> kind >> id >> to >> word) {
      if (to != rank()) continue;
      for (auto& channel : plan.channels) {
        if (channel->id != id) continue;
        if (kind == "slots") {
          if (OutLink* link = channel->out_to(from)) link->remote = transport::RemoteRegion::decode(word);
        } else if (InLink* link = channel->in_from(from)) {
          // Not ours to free: the sender's memory, mapped for as long as the pair lives.
          link->slots = SlotMemory(static_cast<char*>(link->pair->map_peer(transport::RemoteRegion::decode(word))),
                                   [](char*) {});
        }
      }
    }
  }
}

Communicator::Plan& Communicator::plan(Algorithm algorithm) {
  const PlanKey key{Collective::AllReduce, algorithm, -1};
  if (auto it = plans_.find(key); it != plans_.end()) return it->second;
  Plan& plan = plans_[key];
  plan.layout = std::make_unique<AlgorithmLayout>(algorithm, topology_, rank(),
                                                  layout_channels(algorithm, options_.channels));
  plan.name = fmt::format("allreduce ({})", algorithm_name(algorithm));
  build_links(plan);
  return plan;
}

std::vector<Machine>& Communicator::machines_for(Plan& p, size_t count, size_t esize) {
  if (p.count == count && p.esize == esize && !p.machines.empty()) return p.machines;
  const size_t align = alignment_elements(esize);
  const size_t chunk = p.layout->chunk_for(chunk_elements(options_.buffsize / options_.slots, esize, align), count, align);
  p.programs.clear();
  p.machines.clear();
  std::vector<int> partners;  // index into machines, -1 for none
  for (size_t c = 0; c < p.channels.size(); ++c) {
    const size_t first = p.programs.size();
    for (ChannelProgram& cp : p.layout->programs(static_cast<int>(c), count, chunk, align)) {
      p.machines.push_back(Machine{p.channels[c].get(), cp.program.get(), nullptr});
      partners.push_back(cp.partner < 0 ? -1 : static_cast<int>(first) + cp.partner);
      p.programs.push_back(std::move(cp));
    }
  }
  // Partners point into `machines`, which no longer grows.
  for (size_t i = 0; i < p.machines.size(); ++i)
    if (partners[i] >= 0) p.machines[i].partner = &p.machines[static_cast<size_t>(partners[i])];
  p.count = count;
  p.esize = esize;
  return p.machines;
}

void Communicator::copy_alone(const void* input, void* output, size_t bytes) {
  if (input == output) return;
  if (on_gpu())
    gpu::copy(output, input, bytes);
  else
    std::memcpy(output, input, bytes);
}

void Communicator::allreduce(const void* input, void* output, size_t count, DataType type, RedOp op,
                             Algorithm algorithm) {
  const size_t esize = dtype_size(type);
  const size_t bytes = count * esize;
  if (count == 0) return;
  if (size() == 1) return copy_alone(input, output, bytes);
  const Algorithm algo = resolve(algorithm, bytes);
  run_plan(plan(algo), input, output, count, type, op, bytes, bytes, 0);
}

void Communicator::run_plan(Plan& p, const void* input, void* output, size_t count, DataType type, RedOp op,
                            size_t in_bytes, size_t out_bytes, size_t scratch_bytes) {
  std::vector<Machine>& machines = machines_for(p, count, dtype_size(type));
  CollectiveCall call;
  call.name = p.name;
  call.input = input;
  call.output = output;
  call.type = type;
  call.op = op;
  call.nranks = size();
  call.queue = queue_.get();
  // Staged buffers never meet the transport: only links that write from them register them.
  if (scratch_bytes > 0) call.scratch = scratch(scratch_bytes);
  if (registers_buffers_) {
    call.input_region = context_.register_memory(const_cast<void*>(input), in_bytes, options_.memory);
    call.output_region = context_.register_memory(output, out_bytes, options_.memory);
    if (call.scratch) call.scratch_region = context_.register_memory(call.scratch, scratch_bytes_, options_.memory);
  }
  engine_.run(machines, call);
}

}  // namespace sxcoll
