// Processes of one run in one process group: started together, waited for with a deadline,
// and stopped together (SIGTERM, then SIGKILL) when the run hangs or the driver is stopped.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include <sys/types.h>

#include "sft_driver/launcher.h"

namespace sxcoll::sft {

struct ExitStatus {
  int code = -1;    // exit code, or -1 when a signal ended it
  int signal = 0;   // the signal, when one did
};

struct GroupResult {
  std::vector<ExitStatus> exits;  // one per command, in order
  bool timed_out = false;
  bool interrupted = false;
};

class ProcessGroup {
 public:
  // Starts every command with stdout and stderr to dir/<log_name> (created, never overwritten).
  ProcessGroup(const std::vector<Command>& commands, const std::string& dir);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  // Waits until all have ended, or the timeout passes, or `stop` turns true. When one
  // process fails, the others get `failure_grace` to end on their own (the worker's peers
  // report the lost rank) before the group is stopped.
  GroupResult wait(std::chrono::milliseconds timeout, std::chrono::milliseconds failure_grace,
                   const std::atomic<bool>& stop);
  // SIGTERM to the group, SIGKILL after `grace`; reaps everything.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  bool reap(bool block_until_all, std::chrono::milliseconds limit);
  pid_t pgid_ = 0;
  std::vector<pid_t> pids_;
  std::vector<ExitStatus> exits_;
  std::vector<bool> done_;
};

}  // namespace sxcoll::sft
