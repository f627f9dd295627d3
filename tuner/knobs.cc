#include "tuner/knobs.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/core.h>
#include <fmt/format.h>

#include "bench/knob_table.h"
#include "bench/size_parse.h"
#include "transport/error.h"
#include "transport/split.h"

namespace sxcoll::tune {

namespace {

Knob integer(std::string name, Engine engine, Fabric fabric, std::vector<std::string> env, std::string def,
             std::vector<std::string> values, long long min, long long max, std::string what) {
  Knob k{std::move(name), engine, fabric, std::move(env), std::move(def), std::move(values)};
  k.kind = ValueKind::Integer;
  k.min = min;
  k.max = max;
  k.what = std::move(what);
  return k;
}

Knob bytes(std::string name, Engine engine, std::vector<std::string> env, std::string def,
           std::vector<std::string> values, long long min, long long multiple_of, std::string what) {
  Knob k{std::move(name), engine, Fabric::Any, std::move(env), std::move(def), std::move(values)};
  k.kind = ValueKind::Bytes;
  k.min = min;
  k.max = 1LL << 40;
  k.multiple_of = multiple_of;
  k.what = std::move(what);
  return k;
}

Knob choice(std::string name, Engine engine, std::vector<std::string> env, std::string def,
            std::vector<std::string> values, std::vector<std::string> choices, std::string what,
            Fabric fabric = Fabric::Any) {
  Knob k{std::move(name), engine, fabric, std::move(env), std::move(def), std::move(values)};
  k.kind = ValueKind::Choice;
  k.choices = std::move(choices);
  k.what = std::move(what);
  return k;
}

// A knob of sxcoll's engine as bench declares it (bench/knob_table.h): its default, range,
// variable and help come from there; only the candidates and the fabric are the tuner's.
Knob sxcoll_knob(std::string_view flag, Fabric fabric, std::vector<std::string> values) {
  const bench::EngineKnob& b = bench::engine_knob(flag);
  Knob k{std::string(b.flag), Engine::Sxcoll, fabric, {std::string(b.sxcoll_env)}, std::string(b.default_value),
         std::move(values)};
  k.min = b.min;
  k.max = b.max;
  k.multiple_of = b.multiple_of;
  k.what = std::string(b.help);
  switch (b.kind) {
    case bench::KnobKind::Integer: k.kind = ValueKind::Integer; break;
    case bench::KnobKind::Bytes:
      k.kind = ValueKind::Bytes;
      k.default_value = std::to_string(bench::parse_size(k.default_value, b.flag));  // "4M" -> "4194304"
      break;
    default:
      k.kind = ValueKind::Choice;
      for (auto c : b.choices) k.choices.emplace_back(c);
  }
  return k;
}

std::vector<Knob> make_table() {
  const Engine N = Engine::Nccl;
  const Fabric R = Fabric::Rdma, T = Fabric::Socket;
  return {
      // NCCL. Its defaults are left unset: NCCL picks them per topology and version.
      integer("NCCL_IB_QPS_PER_CONNECTION", N, R, {"NCCL_IB_QPS_PER_CONNECTION"}, "", {"2", "4", "8"}, 1, 128,
              "QPs per connection: more flows for ECMP to spread over the fabric"),
      integer("NCCL_NSOCKS_PERTHREAD", N, T, {"NCCL_NSOCKS_PERTHREAD"}, "", {"2", "4", "8"}, 1, 64,
              "sockets per helper thread (socket transport)"),
      integer("NCCL_SOCKET_NTHREADS", N, T, {"NCCL_SOCKET_NTHREADS"}, "", {"2", "4", "8"}, 1, 16,
              "helper threads per connection (socket transport); threads x sockets <= 64"),
      bytes("NCCL_BUFFSIZE", N, {"NCCL_BUFFSIZE"}, "", {"2097152", "8388608", "16777216"}, 65536, 1,
            "buffer per channel and peer for the Simple protocol (NCCL's default 4 MiB)"),
      integer("NCCL_MIN/MAX_NCHANNELS", N, Fabric::Any, {"NCCL_MIN_NCHANNELS", "NCCL_MAX_NCHANNELS"}, "",
              {"4", "8", "16", "32"}, 1, 64, "channels fixed at this number (both bounds set)"),
      integer("NCCL_IB_SPLIT_DATA_ON_QPS", N, R, {"NCCL_IB_SPLIT_DATA_ON_QPS"}, "", {"0", "1"}, 0, 1,
              "1: split each message over all QPs; 0: one QP per message, round robin"),
      integer("NCCL_IB_TC", N, R, {"NCCL_IB_TC"}, "", {"106"}, 0, 255,
              "GRH traffic class (DSCP << 2 | ECN): which switch queue and PFC priority RoCE uses"),
      choice("NCCL_ALGO", N, {"NCCL_ALGO"}, "", {"Ring", "Tree"},
             {"Ring", "Tree", "CollnetDirect", "CollnetChain", "NVLS", "NVLSTree", "PAT"},
             "allreduce algorithm, forced (default: NCCL's cost model picks per size)"),
      choice("NCCL_PROTO", N, {"NCCL_PROTO"}, "", {"Simple", "LL128", "LL"}, {"Simple", "LL128", "LL"},
             "protocol, forced (default: NCCL's cost model picks per size)"),
      // sxcoll's engine: sxcoll bench's flags and defaults.
      sxcoll_knob("--qps", R, {"2", "4", "8"}),
      sxcoll_knob("--nsocks", T, {"2", "4", "8"}),
      sxcoll_knob("--tcp-io", T, {"threads", "inline"}),
      sxcoll_knob("--buffsize", Fabric::Any, {"1048576", "2097152", "8388608", "16777216"}),
      sxcoll_knob("--channels", Fabric::Any, {"1", "4", "8"}),
      sxcoll_knob("--tc", R, {"106"}),
      sxcoll_knob("--algo", Fabric::Any, {"ring", "tree"}),
  };
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The knob a --knob name means: its table name, an NCCL variable it sets, or a sxcoll flag
// without its dashes.
const Knob* find_knob(const std::vector<Knob>& knobs, const std::string& name) {
  for (const auto& k : knobs) {
    if (k.name == name) return &k;
    if (k.engine == Engine::Nccl && std::find(k.env.begin(), k.env.end(), name) != k.env.end()) return &k;
    if (k.engine == Engine::Sxcoll && k.name == "--" + name) return &k;
  }
  return nullptr;
}

bool applies(const Knob& k, Fabric fabric) { return k.fabric == Fabric::Any || k.fabric == fabric; }

}  // namespace

std::string_view engine_name(Engine engine) { return engine == Engine::Nccl ? "nccl" : "sxcoll"; }

std::string_view fabric_name(Fabric fabric) {
  switch (fabric) {
    case Fabric::Rdma:
      return "RDMA";
    case Fabric::Socket:
      return "socket";
    default:
      return "any";
  }
}

const std::vector<Knob>& knob_table() {
  static const std::vector<Knob> table = make_table();
  return table;
}

std::vector<Knob> knobs_of(Engine engine) {
  std::vector<Knob> out;
  for (const auto& k : knob_table())
    if (k.engine == engine) out.push_back(k);
  return out;
}

Settings default_settings(const std::vector<Knob>& knobs) {
  Settings s;
  for (const auto& k : knobs) s[k.name] = k.default_value;
  return s;
}

std::string normalize_value(const Knob& knob, const std::string& text, std::string_view flag) {
  auto fail = [&](const std::string& expected) {
    return UsageError(fmt::format("{} {}={}: expected {}", flag, knob.name, text, expected));
  };
  switch (knob.kind) {
    case ValueKind::Integer: {
      long long v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < knob.min || v > knob.max)
        throw fail(fmt::format("an integer {}..{}", knob.min, knob.max));
      return std::to_string(v);
    }
    case ValueKind::Bytes: {
      const std::string expected = fmt::format(
          "a size in bytes (K/M/G suffix) of at least {}{}", bench::format_size(static_cast<size_t>(knob.min)),
          knob.multiple_of > 1 ? fmt::format(", a multiple of {}", knob.multiple_of) : "");
      size_t v = 0;
      try {
        v = bench::parse_size(text, flag);
      } catch (const UsageError&) {
        throw fail(expected);
      }
      if (v < static_cast<size_t>(knob.min) || v > static_cast<size_t>(knob.max) ||
          v % static_cast<size_t>(knob.multiple_of) != 0)
        throw fail(expected);
      return std::to_string(v);
    }
    case ValueKind::Choice:
      for (const auto& c : knob.choices)
        if (lower(c) == lower(text)) return c;
      throw fail(fmt::format("one of {}", fmt::join(knob.choices, ", ")));
  }
  return text;
}

std::string display_value(const Knob& knob, const std::string& value) {
  if (value.empty()) return "NCCL default";
  if (knob.kind == ValueKind::Bytes) return bench::format_size(std::stoull(value));
  return value;
}

KnobSelection select_knobs(Engine engine, Fabric fabric, const std::string& fabric_note,
                           const std::vector<std::string>& requests) {
  const auto all = knobs_of(engine);
  KnobSelection sel;
  auto why_not = [&](const Knob& k) { return fmt::format("{} knob; {}", fabric_name(k.fabric), fabric_note); };
  if (requests.empty()) {
    for (const auto& k : all) {
      if (applies(k, fabric))
        sel.searched.push_back(k);
      else
        sel.skipped.emplace_back(k.name, why_not(k));
    }
    return sel;
  }
  std::map<std::string, Knob> asked;
  for (const auto& request : requests) {
    const size_t eq = request.find('=');
    const std::string name = request.substr(0, eq);
    const Knob* knob = find_knob(all, name);
    if (knob == nullptr) {
      const Engine other = engine == Engine::Nccl ? Engine::Sxcoll : Engine::Nccl;
      if (find_knob(knobs_of(other), name) != nullptr)
        throw UsageError(fmt::format("--knob {}: a knob of --engine {}, not of --engine {}", name, engine_name(other),
                                     engine_name(engine)));
      std::vector<std::string> names;
      for (const auto& k : all) names.push_back(k.name);
      throw UsageError(fmt::format("--knob {}: unknown knob for --engine {} (known: {})", name, engine_name(engine),
                                   fmt::join(names, ", ")));
    }
    if (asked.count(knob->name) > 0) throw UsageError(fmt::format("--knob {}: given twice", knob->name));
    if (!applies(*knob, fabric))
      throw UsageError(fmt::format("--knob {}: does not apply here: {}", knob->name, why_not(*knob)));
    Knob chosen = *knob;
    if (eq != std::string::npos) {
      const std::string list = request.substr(eq + 1);
      if (list.empty())
        throw UsageError(fmt::format("--knob {}: empty value list (expected {}=V1,V2,...)", name, name));
      chosen.values.clear();
      for (std::string_view item : split_list(list)) {
        if (item.empty()) throw UsageError(fmt::format("--knob {}: empty value in '{}'", name, list));
        std::string v = normalize_value(*knob, std::string(item), "--knob");
        if (std::find(chosen.values.begin(), chosen.values.end(), v) == chosen.values.end()) chosen.values.push_back(v);
      }
    }
    asked.emplace(knob->name, std::move(chosen));
  }
  // The table's order (expected importance), whatever the order of the flags.
  for (const auto& k : all) {
    auto it = asked.find(k.name);
    if (it != asked.end())
      sel.searched.push_back(it->second);
    else
      sel.skipped.emplace_back(k.name, applies(k, fabric) ? "not asked for (--knob)" : why_not(k));
  }
  return sel;
}

}  // namespace sxcoll::tune
