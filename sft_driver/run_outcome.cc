#include "sft_driver/run_outcome.h"

#include <fmt/core.h>

namespace sxcoll::sft {

RunOutcome classify(const process::GroupResult& r, const WorkerMetrics& m, double timeout_s) {
  std::string codes;
  bool any_oom = false, any_usage = false, all_zero = !r.exits.empty();
  for (size_t i = 0; i < r.exits.size(); ++i) {
    const auto& e = r.exits[i];
    codes += (codes.empty() ? "" : " ") + (e.signal ? fmt::format("{}:signal {}", i, e.signal)
                                                     : fmt::format("{}:{}", i, e.code));
    any_oom = any_oom || e.code == 3;
    any_usage = any_usage || e.code == 2;
    all_zero = all_zero && e.code == 0 && e.signal == 0;
  }
  const std::string said = m.error ? " — " + m.error->value("message", std::string()) : "";
  if (r.interrupted) return {"interrupted", "stopped by a signal to sxcoll sft; log kept"};
  if (r.timed_out)
    return {"timeout", fmt::format("no end after {:.0f} s: process group killed, log kept ({} steps written)",
                                   timeout_s, m.steps)};
  if (any_oom || (m.error && m.error->value("kind", std::string()) == "oom"))
    return {"oom", "out of device memory (worker exit 3)" + said};
  if (any_usage) return {"bad-input", "the worker refused its input (exit 2; see the log)" + said};
  if (!all_zero) return {"failed", fmt::format("exit codes by process: {}{}", codes, said)};
  if (!m.summary) return {"failed", "every process exited 0 but no summary line was written"};
  return {"ok", ""};
}

}  // namespace sxcoll::sft
