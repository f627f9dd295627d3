#include "tuner/workload.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/core.h>

#include "bench/size_parse.h"
#include "transport/error.h"
#include "transport/split.h"

namespace sxcoll::tune {

namespace {

struct ModelShape {
  const char* name;
  double hidden, layers, ffn, heads, kv_heads, vocab;
};

// Llama-2 (the models `sxcoll sft` trains), from their Hugging Face configs.
constexpr ModelShape kModels[] = {
    {"7b", 4096, 32, 11008, 32, 32, 32000},
    {"13b", 5120, 40, 13824, 40, 40, 32000},
    {"70b", 8192, 80, 28672, 64, 8, 32000},
};

constexpr double kBf16 = 2;

double layer_params(const ModelShape& m) {
  const double kv = m.hidden * m.kv_heads / m.heads;
  return 2 * m.hidden * m.hidden + 2 * m.hidden * kv + 3 * m.hidden * m.ffn + 2 * m.hidden;
}

double model_params(const ModelShape& m) { return m.layers * layer_params(m) + 2 * m.vocab * m.hidden + m.hidden; }

// The power of two nearest to `bytes` on a log scale: the trials sweep with -f 2.
size_t nearest_power_of_two(double bytes) {
  return size_t{1} << static_cast<int>(std::lround(std::log2(std::max(bytes, 8.0))));
}

std::string megabytes(double bytes) { return fmt::format("{:.1f} MB", bytes / 1e6); }

// Sizes rounded to powers of two, the weights of equal sizes summed.
Workload make(std::string name, std::string description, const std::vector<std::pair<double, std::string>>& units,
              const std::vector<double>& weights) {
  Workload w{std::move(name), std::move(description), Aggregate::Harmonic, {}};
  std::map<size_t, SizeWeight> by_size;
  for (size_t i = 0; i < units.size(); ++i) {
    const size_t rounded = nearest_power_of_two(units[i].first);
    auto& sw = by_size[rounded];
    sw.bytes = rounded;
    sw.weight += weights[i];
    const std::string note =
        fmt::format("{} {} as {}", units[i].second, megabytes(units[i].first), bench::format_size(rounded));
    sw.note += (sw.note.empty() ? "" : "; ") + note;
  }
  double total = 0;
  for (const auto& [bytes, sw] : by_size) total += sw.weight;
  for (auto& [bytes, sw] : by_size) {
    sw.weight /= total;
    w.sizes.push_back(sw);
  }
  return w;
}

const ModelShape* find_model(const std::string& name) {
  std::string n = name;
  if (n.rfind("llama2-", 0) == 0) n = n.substr(7);
  for (const auto& m : kModels)
    if (n == m.name) return &m;
  return nullptr;
}

}  // namespace

Workload parse_sizes(const std::string& text) {
  std::vector<size_t> sizes;
  const size_t dots = text.find("..");
  if (dots != std::string::npos) {
    const size_t lo = bench::parse_size(text.substr(0, dots), "--sizes");
    const size_t hi = bench::parse_size(text.substr(dots + 2), "--sizes");
    if (lo < 8) throw UsageError(fmt::format("--sizes {}: sizes start at 8 bytes", text));
    if (lo > hi) throw UsageError(fmt::format("--sizes {}: {} is larger than {}", text, lo, hi));
    for (size_t s = lo; s <= hi && s <= (size_t{1} << 50); s *= 2) sizes.push_back(s);
  } else {
    for (std::string_view item : split_list(text)) {
      if (item.empty()) throw UsageError(fmt::format("--sizes '{}': empty size in the list", text));
      sizes.push_back(bench::parse_size(item, "--sizes"));
    }
    std::sort(sizes.begin(), sizes.end());
    sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
    if (sizes.front() < 8) throw UsageError(fmt::format("--sizes {}: sizes start at 8 bytes", text));
    for (size_t s : sizes) {
      size_t ratio = s / sizes.front();
      if (s % sizes.front() != 0 || (ratio & (ratio - 1)) != 0)
        throw UsageError(
            fmt::format("--sizes {}: {} is not {} times a power of two (the trials sweep -b {} -e {} -f 2)", text,
                        bench::format_size(s), bench::format_size(sizes.front()), bench::format_size(sizes.front()),
                        bench::format_size(sizes.back())));
    }
  }
  Workload w;
  w.name = fmt::format("sizes {}", text);
  w.description = fmt::format("{} size(s) from {} to {}, each counted the same (geometric mean of busbw)", sizes.size(),
                              bench::format_size(sizes.front()), bench::format_size(sizes.back()));
  w.aggregate = Aggregate::Geometric;
  for (size_t s : sizes) w.sizes.push_back({s, 1.0 / static_cast<double>(sizes.size()), ""});
  return w;
}

std::string workload_choices() {
  return "fsdp:MODEL, zero3:MODEL or ddp:MODEL with MODEL 7b, 13b or 70b (Llama-2, bf16)";
}

Workload named_workload(const std::string& text) {
  const size_t colon = text.find(':');
  const std::string kind = text.substr(0, colon);
  const ModelShape* m = colon == std::string::npos ? nullptr : find_model(text.substr(colon + 1));
  if (m == nullptr || (kind != "fsdp" && kind != "zero3" && kind != "ddp"))
    throw UsageError(fmt::format("--workload '{}': expected {}", text, workload_choices()));
  const double layer = layer_params(*m) * kBf16, root = (2 * m->vocab * m->hidden + m->hidden) * kBf16;
  const double total = model_params(*m) * kBf16;
  const std::string model = fmt::format("Llama-2 {}", m->name);
  if (kind == "fsdp") {
    // One FSDP unit per decoder layer plus the root (embeddings, lm_head): each step gathers
    // every unit twice and reduce-scatters its gradient, the halves of an allreduce of its size.
    return make(text,
                fmt::format("{} FSDP full shard, one unit per decoder layer: {} layers of {} and the root unit of {}, "
                            "weighted by bytes moved (workload busbw = bytes / time)",
                            model, m->layers, megabytes(layer), megabytes(root)),
                {{layer, "decoder layer"}, {root, "root unit"}}, {m->layers * layer, root});
  }
  if (kind == "zero3") {
    // DeepSpeed ZeRO-3 with the Hugging Face "auto" buckets: reduce_bucket_size = hidden^2,
    // prefetch 0.9 x hidden^2 elements; every parameter and gradient byte moves at that size.
    const double bucket = m->hidden * m->hidden * kBf16;
    return make(text,
                fmt::format("{} DeepSpeed ZeRO-3, buckets of hidden^2 = {} (reduce) and 0.9 x that (prefetch)", model,
                            megabytes(bucket)),
                {{bucket, "reduce bucket"}, {0.9 * bucket, "prefetch bucket"}}, {total, total});
  }
  // PyTorch DDP: a first bucket of 1 MiB, then buckets of bucket_cap_mb = 25 MiB of gradients.
  const double first = 1 << 20, cap = 25 << 20;
  return make(text,
              fmt::format("{} PyTorch DDP, gradient buckets of 25 MiB (the first 1 MiB), {} of bf16 gradients per step",
                          model, megabytes(total)),
              {{first, "first bucket"}, {cap, "bucket"}}, {first, total - first});
}

double workload_busbw(const Workload& w, const std::vector<SizeSample>& sizes) {
  double weights = 0, acc = 0;
  for (const auto& sw : w.sizes) {
    auto it = std::find_if(sizes.begin(), sizes.end(), [&](const SizeSample& s) { return s.bytes == sw.bytes; });
    if (it == sizes.end() || !(it->busbw_gbps > 0)) return 0;
    weights += sw.weight;
    acc += w.aggregate == Aggregate::Harmonic ? sw.weight / it->busbw_gbps : sw.weight * std::log(it->busbw_gbps);
  }
  if (weights <= 0) return 0;
  return w.aggregate == Aggregate::Harmonic ? weights / acc : std::exp(acc / weights);
}

}  // namespace sxcoll::tune
