// Processes started together in one process group of their own, waited for with a deadline,
// and stopped together (SIGTERM, then SIGKILL) when they hang or whoever started them is
// stopped; children they leave behind in the group go with them. `sxcoll sft` starts the
// processes of a run this way, `sxcoll tune` the one of a trial.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

namespace sxcoll::process {

// One process to start.
struct Spec {
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> set_env;  // added to (or replacing in) ours
  std::vector<std::string> unset_env;                        // removed from ours
  // stderr goes to stdout's file when stderr_path is empty. An existing file is an error (a
  // run's log is never lost) unless `replace_existing`, which empties it.
  std::string stdout_path, stderr_path;
  bool replace_existing = false;
  // Sent by the kernel when the thread that started the process dies (PR_SET_PDEATHSIG), so
  // that a starter killed outright leaves nothing running; 0: none.
  int death_signal = 0;
  // When exec fails, the process writes `exec_failure`, argv[0] and, with
  // `exec_failure_says_why`, ": <reason>" to its stderr: the starter names itself there.
  std::string exec_failure = "cannot start ";
  bool exec_failure_says_why = true;
};

struct ExitStatus {
  int code = -1;   // exit code, or -1 when a signal ended it
  int signal = 0;  // the signal, when one did
};

struct GroupResult {
  std::vector<ExitStatus> exits;  // one per process, in order
  bool timed_out = false;
  bool interrupted = false;  // `stop` turned true
};

class ProcessGroup {
 public:
  // Starts every process, in order. Throws RunError when a file cannot be created or fork
  // fails, after stopping those already started.
  explicit ProcessGroup(const std::vector<Spec>& specs);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  // Waits until all have ended, or the timeout passes, or `stop` (may be empty) returns true;
  // then stops the group with `stop_grace`. When one process fails, the others get
  // `failure_grace` to end on their own (the peers of a lost rank report it) first.
  GroupResult wait(std::chrono::milliseconds timeout, std::chrono::milliseconds failure_grace,
                   const std::function<bool()>& stop,
                   std::chrono::milliseconds stop_grace = std::chrono::seconds(5));
  // SIGTERM to the group, SIGKILL after `grace`; reaps everything.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  void start(const Spec& spec);
  bool reap(bool block_until_all, std::chrono::milliseconds limit);
  pid_t pgid_ = 0;
  std::vector<pid_t> pids_;
  std::vector<ExitStatus> exits_;
  std::vector<bool> done_;
};

}  // namespace sxcoll::process
