// What became of one attempt: ok, oom (worker exit 3), bad-input (2), failed, timeout, interrupted.
#pragma once

#include <string>

#include "process/process_group.h"
#include "sft_driver/worker_metrics.h"

namespace sxcoll::sft {

struct RunOutcome {
  std::string status;   // "ok", "oom", "bad-input", "failed", "timeout", "interrupted"
  std::string message;  // one line for the report
};

RunOutcome classify(const process::GroupResult& result, const WorkerMetrics& metrics, double timeout_s);

// Finished runs are skipped on resume; the others are retried up to the plan's limit.
inline bool is_finished(const std::string& status) { return status == "ok"; }

}  // namespace sxcoll::sft
