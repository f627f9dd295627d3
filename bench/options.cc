#include "bench/options.h"

#include <unistd.h>

#include <filesystem>
#include <limits>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::bench {

std::vector<size_t> sweep_sizes(const BenchOptions& o) {
  std::vector<size_t> sizes;
  for (size_t s = o.min_bytes; s <= o.max_bytes;) {
    sizes.push_back(s);
    const size_t limit = std::numeric_limits<size_t>::max();
    if (o.step_bytes > 0 ? s > limit - o.step_bytes : s > limit / o.step_factor) break;  // the next would wrap
    size_t next = o.step_bytes > 0 ? s + o.step_bytes : s * o.step_factor;
    if (next <= s) break;  // a sweep of one size (-b 0 -f 2)
    s = next;
  }
  return sizes;
}

namespace {

void check_output_path(const std::string& path, std::string_view flag) {
  if (path.empty()) return;
  namespace fs = std::filesystem;
  if (fs::exists(path))
    throw UsageError(fmt::format("{} {}: the file exists; results are never overwritten (choose another name)", flag, path));
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir)) throw UsageError(fmt::format("{} {}: directory {} does not exist", flag, path, dir.string()));
  if (::access(dir.c_str(), W_OK) != 0) throw UsageError(fmt::format("{} {}: directory {} is not writable", flag, path, dir.string()));
}

}  // namespace

void validate(const BenchOptions& o) {
  if (o.min_bytes > o.max_bytes)
    throw UsageError(fmt::format("-b {} is larger than -e {}: the sweep would be empty", o.min_bytes, o.max_bytes));
  if (o.step_bytes == 0 && o.step_factor < 2 && o.min_bytes != o.max_bytes)
    throw UsageError(fmt::format("-f {}: the step factor must be at least 2 (or give -i BYTES)", o.step_factor));
  if (o.step_bytes == 0 && o.min_bytes == 0 && o.max_bytes > 0)
    throw UsageError("-b 0 with a step factor never grows; give -b > 0 or -i BYTES");
  if (o.iters < 1) throw UsageError(fmt::format("-n {}: need at least one iteration", o.iters));
  if (o.warmup_iters < 0) throw UsageError(fmt::format("-w {}: cannot be negative", o.warmup_iters));
  if (o.types.empty()) throw UsageError("-d: no data type given");
  if (o.ops.empty()) throw UsageError("-o: no reduction given");
  transport::validate(o.transport);
  validate_options(o.comm);
  if (o.engine != EngineChoice::Sxcoll && o.comm.memory != transport::MemoryKind::Cuda)
    throw UsageError("--engine nccl and --engine both need --mem cuda (NCCL reduces GPU buffers)");
  check_output_path(o.json_path, "--json");
  check_output_path(o.csv_path, "--csv");
  if (!o.nccl_json_path.empty())
    for (Collective c : o.collectives) check_output_path(nccl_json_path_for(o, c), "-J");
  if (o.collectives.empty()) throw UsageError("--coll: no collective given");
  if (o.root < 0) throw UsageError(fmt::format("-r {}: the root is a rank, 0 or more", o.root));
  if (!o.json_path.empty() && o.json_path == o.csv_path) throw UsageError("--json and --csv name the same file");
  if (!o.nccl_json_path.empty() && (o.nccl_json_path == o.json_path || o.nccl_json_path == o.csv_path))
    throw UsageError(fmt::format("-J {}: --json or --csv names the same file", o.nccl_json_path));
  if (!o.nccl_json_path.empty() && o.engine == EngineChoice::Both)
    throw UsageError("-J writes nccl-tests' schema, one engine's table: give --engine sxcoll or nccl (--json holds both)");
}

std::string nccl_json_path_for(const BenchOptions& o, Collective collective) {
  if (o.collectives.size() < 2 || o.nccl_json_path.empty()) return o.nccl_json_path;
  std::filesystem::path path(o.nccl_json_path);
  std::string name(nccl_tests_program(collective));
  name.resize(name.size() - std::string_view("_perf").size());
  const std::string extension = path.extension().string();
  path.replace_extension();
  return path.string() + "." + name + extension;
}

}  // namespace sxcoll::bench
