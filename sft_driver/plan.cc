#include "sft_driver/plan.h"

#include <fstream>
#include <set>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::sft {

namespace {

const std::set<std::string> kModels = {"tiny", "tiny-gqa", "llama2-7b", "llama2-13b", "llama2-70b"};
const std::set<std::string> kRunKeys = {"seq_len", "steps", "warmup_steps", "precision", "activation_checkpointing",
                                        "engine", "ranks_per_node", "device", "data", "timeout_s", "env",
                                        "extra_args", "micro_batch", "grad_accum", "nodes", "zero_stage",
                                        "offload_optimizer"};
const std::set<std::string> kTopKeys = {"name", "python", "max_attempts", "master_port", "defaults", "models"};

std::string join(const std::set<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// Reads fields with their path, so that every message says where the bad value sits.
class Fields {
 public:
  Fields(std::string origin, std::string path) : origin_(std::move(origin)), path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what, const nlohmann::json& got) const {
    throw UsageError(fmt::format("plan {}: {}{}: {}, got {}", origin_, path_, key, what, got.dump()));
  }
  int positive_int(const std::string& key, const nlohmann::json& v, int min = 1) const {
    if (!v.is_number_integer() || v.get<long long>() < min || v.get<long long>() > 1000000)
      fail(key, fmt::format("expected an integer of at least {}", min), v);
    return v.get<int>();
  }
  std::vector<int> int_list(const std::string& key, const nlohmann::json& v) const {
    if (!v.is_array()) return {positive_int(key, v)};
    if (v.empty()) fail(key, "expected a positive integer or a non-empty list of them", v);
    std::vector<int> out;
    for (const auto& item : v) out.push_back(positive_int(key, item));
    return out;
  }
  std::string choice(const std::string& key, const nlohmann::json& v, const std::set<std::string>& options) const {
    if (!v.is_string() || !options.count(v.get<std::string>())) fail(key, "expected one of " + join(options), v);
    return v.get<std::string>();
  }
  std::string text(const std::string& key, const nlohmann::json& v) const {
    if (!v.is_string() || v.get<std::string>().empty()) fail(key, "expected a non-empty string", v);
    return v.get<std::string>();
  }
  void check_keys(const nlohmann::json& obj, const std::set<std::string>& known) const {
    if (!obj.is_object()) throw UsageError(fmt::format("plan {}: {}: expected an object, got {}", origin_, path_, obj.dump()));
    for (const auto& [k, v] : obj.items())
      if (!known.count(k))
        throw UsageError(fmt::format("plan {}: {}{}: unknown key (known: {})", origin_, path_, k, join(known)));
  }

 private:
  std::string origin_, path_;
};

std::string model_size(const std::string& model) {
  if (model.rfind("llama2-", 0) == 0) {
    std::string s = model.substr(7);
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }
  return model;
}

// Applies one object's keys (defaults, then a model entry) onto the run and the lists.
void apply(const nlohmann::json& obj, const Fields& f, RunSpec& r, std::vector<int>& mbs, std::vector<int>& nodes) {
  for (const auto& [k, v] : obj.items()) {
    if (k == "seq_len") r.seq_len = f.positive_int(k, v);
    else if (k == "steps") r.steps = f.positive_int(k, v);
    else if (k == "warmup_steps") r.warmup_steps = f.positive_int(k, v, 0);
    else if (k == "precision") r.precision = f.choice(k, v, {"bf16", "fp32"});
    else if (k == "activation_checkpointing") {
      if (!v.is_boolean()) f.fail(k, "expected true or false", v);
      r.activation_checkpointing = v.get<bool>();
    } else if (k == "engine") r.engine = f.choice(k, v, {"fsdp", "ddp", "auto", "deepspeed"});
    else if (k == "zero_stage") {
      if (!v.is_number_integer() || (v.get<long long>() != 2 && v.get<long long>() != 3))
        f.fail(k, "expected 2 or 3 (DeepSpeed ZeRO stage)", v);
      r.zero_stage = v.get<int>();
    } else if (k == "offload_optimizer") {
      if (!v.is_boolean()) f.fail(k, "expected true or false", v);
      r.offload_optimizer = v.get<bool>();
    } else if (k == "ranks_per_node") r.ranks_per_node = f.positive_int(k, v);
    else if (k == "device") r.device = f.choice(k, v, {"auto", "cuda", "cpu"});
    else if (k == "data") r.data = f.text(k, v);
    else if (k == "timeout_s") {
      if (!v.is_number() || v.get<double>() <= 0) f.fail(k, "expected a positive number of seconds", v);
      r.timeout_s = v.get<double>();
    } else if (k == "env") {
      if (!v.is_object()) f.fail(k, "expected an object of NAME: \"value\"", v);
      for (const auto& [name, value] : v.items()) {
        if (!value.is_string()) f.fail(k + "." + name, "expected a string", value);
        r.env[name] = value.get<std::string>();
      }
    } else if (k == "extra_args") {
      if (!v.is_array()) f.fail(k, "expected a list of strings", v);
      r.extra_args.clear();
      for (const auto& a : v) {
        if (!a.is_string()) f.fail(k, "expected a list of strings", v);
        r.extra_args.push_back(a.get<std::string>());
      }
    } else if (k == "micro_batch") mbs = f.int_list(k, v);
    else if (k == "grad_accum") r.grad_accum = f.positive_int(k, v);
    else if (k == "nodes") nodes = f.int_list(k, v);
  }
}

}  // namespace

SweepPlan parse_plan(const nlohmann::json& j, const std::string& origin) {
  Fields top(origin, "");
  top.check_keys(j, kTopKeys);
  SweepPlan plan;
  plan.source = j;
  plan.name = j.contains("name") ? top.text("name", j["name"]) : "sweep";
  if (j.contains("python")) plan.python = top.text("python", j["python"]);
  if (j.contains("max_attempts")) plan.max_attempts = top.positive_int("max_attempts", j["max_attempts"]);
  if (j.contains("master_port")) {
    plan.master_port = top.positive_int("master_port", j["master_port"], 1024);
    if (plan.master_port > 65535) top.fail("master_port", "expected a TCP port 1024..65535", j["master_port"]);
  }
  RunSpec base;
  std::vector<int> base_mbs, base_nodes;
  if (j.contains("defaults")) {
    Fields f(origin, "defaults.");
    f.check_keys(j["defaults"], kRunKeys);
    apply(j["defaults"], f, base, base_mbs, base_nodes);
  }
  if (!j.contains("models") || !j["models"].is_array() || j["models"].empty())
    throw UsageError(fmt::format("plan {}: models: expected a non-empty list of model entries", origin));
  std::set<std::string> ids;
  for (size_t i = 0; i < j["models"].size(); ++i) {
    const auto& entry = j["models"][i];
    Fields f(origin, fmt::format("models[{}].", i));
    f.check_keys(entry, [] { auto k = kRunKeys; k.insert("model"); return k; }());
    if (!entry.contains("model")) f.fail("model", "missing (one of " + join(kModels) + ")", nullptr);
    RunSpec r = base;
    r.model = f.choice("model", entry["model"], kModels);
    r.model_size = model_size(r.model);
    std::vector<int> mbs = base_mbs, nodes = base_nodes;
    apply(entry, f, r, mbs, nodes);
    if (mbs.empty()) f.fail("micro_batch", "missing (a positive integer or a list)", nullptr);
    if (nodes.empty()) f.fail("nodes", "missing (a positive integer or a list)", nullptr);
    if (r.warmup_steps >= r.steps)
      f.fail("warmup_steps", fmt::format("must be less than steps ({})", r.steps), r.warmup_steps);
    for (int n : nodes)
      for (int mb : mbs) {
        RunSpec run = r;
        run.nodes = n;
        run.micro_batch = mb;
        run.id = fmt::format("{}-n{}-mb{}-ga{}", r.model, n, mb, r.grad_accum);
        // Runs of the other engines keep their names; a DeepSpeed run of the same shape gets its own.
        if (r.engine == "deepspeed")
          run.id += fmt::format("-zero{}{}", r.zero_stage, r.offload_optimizer ? "-offload" : "");
        if (!ids.insert(run.id).second)
          throw UsageError(fmt::format("plan {}: models[{}]: run {} appears twice", origin, i, run.id));
        plan.runs.push_back(std::move(run));
      }
  }
  return plan;
}

SweepPlan load_plan(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(fmt::format("plan {}: cannot open", path));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw UsageError(fmt::format("plan {}: not valid JSON: {}", path, e.what()));
  }
  return parse_plan(j, path);
}

std::string RunSpec::engine_label() const {
  if (engine != "deepspeed") return engine;
  return fmt::format("deepspeed ZeRO-{}{}", zero_stage, offload_optimizer ? " + optimizer offload" : "");
}

std::string deepspeed_config_path(const std::string& metrics_path) {
  const size_t slash = metrics_path.rfind('/');
  return (slash == std::string::npos ? std::string() : metrics_path.substr(0, slash + 1)) + "ds_config.json";
}

std::vector<std::string> worker_args(const RunSpec& r, const std::string& metrics_path) {
  std::vector<std::string> a = {"-m", "sxcoll_worker", "--model", r.model,
                                "--seq-len", std::to_string(r.seq_len), "--micro-batch", std::to_string(r.micro_batch),
                                "--grad-accum", std::to_string(r.grad_accum), "--steps", std::to_string(r.steps),
                                "--warmup-steps", std::to_string(r.warmup_steps), "--precision", r.precision,
                                "--parallel", r.engine, "--device", r.device, "--data", r.data};
  if (r.engine == "deepspeed") {
    a.push_back("--deepspeed-config");
    a.push_back(deepspeed_config_path(metrics_path));
  }
  if (r.activation_checkpointing) a.push_back("--activation-checkpointing");
  a.insert(a.end(), r.extra_args.begin(), r.extra_args.end());
  a.push_back("--metrics");
  a.push_back(metrics_path);
  return a;
}

}  // namespace sxcoll::sft
