#include "bench/knob_table.h"

#include <stdexcept>

#include <fmt/format.h>

namespace sxcoll::bench {

namespace {

EngineKnob integer(std::string_view flag, std::string_view sx, std::string_view nccl, std::string_view def,
                   long long min, long long max, std::string_view transport, std::string_view help) {
  EngineKnob k{flag, sx, nccl, def, KnobKind::Integer};
  k.min = min;
  k.max = max;
  k.transport = transport;
  k.help = help;
  return k;
}

EngineKnob choice(std::string_view flag, std::string_view sx, std::string_view def,
                  std::vector<std::string_view> choices, std::string_view transport, std::string_view help) {
  EngineKnob k{flag, sx, "", def, KnobKind::Choice};
  k.choices = std::move(choices);
  k.transport = transport;
  k.help = help;
  return k;
}

std::vector<EngineKnob> make_table() {
  // The ranges are the ones bench's validation enforces (transport/factory.cc,
  // collectives/communicator.cc); tests/unit/knob_table_test.cc holds them together.
  EngineKnob buffsize{"--buffsize", "SXCOLL_BUFFSIZE", "", "4M", KnobKind::Bytes};
  buffsize.min = 32768;
  buffsize.max = 1LL << 40;
  buffsize.multiple_of = 8;
  buffsize.help = "Receive buffer per link and channel, 8 pipeline slots (NCCL_BUFFSIZE)";
  EngineKnob hca{"--hca", "", "NCCL_IB_HCA", "", KnobKind::Text};
  hca.transport = "verbs";
  hca.help = "verbs: ports to use, NCCL_IB_HCA syntax (mlx5_0:1,mlx5_1:1; =exact; ^exclude); default every active "
             "RoCE port";
  EngineKnob rails{"--rails", "SXCOLL_RAILS", "", "auto", KnobKind::Text};
  rails.transport = "verbs";
  rails.help = "verbs: which rails a rank's links use: all, local (one per rank: the nearest to its GPU by PCIe, "
               "else split by local rank), a rail per local rank (0,0,1,1), or auto (local where a host has as many "
               "ranks as rails)";
  return {
      choice("--algo", "SXCOLL_ALGO", "auto", {"auto", "ring", "tree", "rd", "ring_topo", "hier"}, "",
             "ring, tree, rd (recursive doubling, 2^k ranks), ring_topo (ring host by host), hier (within hosts, then "
             "across; equal ranks per host) or auto (cost model per size)"),
      choice("--intra", "SXCOLL_INTRA", "auto", {"auto", "shm", "cuda_ipc", "net"}, "",
             "Transport between ranks of one host: shm (host buffers), cuda_ipc (GPU buffers), net (the --transport "
             "backend) or auto (shm or cuda_ipc by --mem)"),
      choice("--cuda-ipc", "SXCOLL_CUDA_IPC", "write", {"write", "read"}, "",
             "cuda_ipc: write (a sender copies into the receiver's GPU slots) or read (the receiver's reduction "
             "kernels read the sender's staging slots through the IPC mapping)"),
      integer("--nsocks", "SXCOLL_NSOCKS", "", "1", 1, 64, "tcp", "TCP sockets per peer, data striped over them"),
      choice("--tcp-io", "SXCOLL_TCP_IO", "auto", {"auto", "threads", "inline"}, "tcp",
             "tcp: threads (a sender and a receiver thread per socket), inline (all I/O on the rank's own thread) or "
             "auto (threads where each local rank has 4 cores or more)"),
      hca,
      rails,
      integer("--qps", "SXCOLL_QPS", "NCCL_IB_QPS_PER_CONNECTION", "1", 1, 64, "verbs",
              "verbs: QPs per connection and rail; large writes are split over them"),
      integer("--tc", "SXCOLL_TC", "NCCL_IB_TC", "0", 0, 255, "verbs", "verbs: GRH traffic class of every QP"),
      integer("--gid-index", "", "NCCL_IB_GID_INDEX", "-1", -1, 255, "verbs",
              "verbs: GID index; -1 picks the RoCE v2 GID of the port's IPv4 address"),
      integer("--channels", "SXCOLL_CHANNELS", "", "2", 1, 32, "", "Pipelines in flight (NCCL channels)"),
      buffsize,
  };
}

const char* non_empty(const char* v) { return v != nullptr && *v != '\0' ? v : nullptr; }

}  // namespace

const std::vector<EngineKnob>& engine_knobs() {
  static const std::vector<EngineKnob> table = make_table();
  return table;
}

const EngineKnob& engine_knob(std::string_view flag) {
  for (const auto& k : engine_knobs())
    if (k.flag == flag) return k;
  throw std::out_of_range(fmt::format("no engine knob {}", flag));
}

std::string KnobSetting::variable() const {
  const size_t eq = source.find('=');
  return eq == std::string::npos ? std::string() : source.substr(0, eq);
}

KnobSetting resolve_knob(const EngineKnob& knob, const std::string* flag_value, bool read_nccl, const EnvLookup& env) {
  if (flag_value != nullptr) return {*flag_value, "flag"};
  for (std::string_view name : {knob.sxcoll_env, read_nccl ? knob.nccl_env : std::string_view()}) {
    if (name.empty()) continue;
    const std::string var(name);
    if (const char* v = non_empty(env(var.c_str()))) return {v, fmt::format("{}={}", var, v)};
  }
  return {std::string(knob.default_value), "default"};
}

std::string describe_settings(const std::vector<std::pair<const EngineKnob*, KnobSetting>>& settings) {
  std::vector<std::string> parts;
  for (const auto& [knob, s] : settings) {
    if (knob->kind == KnobKind::Text && s.value.empty()) continue;  // --hca unset: every active port
    const std::string var = s.variable();
    parts.push_back(var.empty() ? fmt::format("{} {}", knob->flag, s.value)
                                : fmt::format("{} {} ({})", knob->flag, s.value, var));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace sxcoll::bench
