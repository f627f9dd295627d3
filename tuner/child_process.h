// One trial's processes: a child (sxcoll bench, or the launcher in front of it) in a process
// group of its own, stdout and stderr to files, waited for with a deadline. At the deadline,
// or when the tuner is stopped, the group gets SIGTERM and, after a grace period, SIGKILL.
// If the tuner itself dies, the child gets SIGTERM from the kernel (PR_SET_PDEATHSIG).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "process/process_group.h"

namespace sxcoll::tune {

// argv, set_env, unset_env, stdout_path and stderr_path (both set) are the trial's; run_child
// sets the rest: existing files are replaced, the death signal is SIGTERM.
using ChildSpec = process::Spec;

struct ChildOutcome {
  int exit_code = -1;  // -1 when a signal ended it
  int signal = 0;
  bool timed_out = false;  // killed at the deadline
  bool stopped = false;    // killed because `stop` turned true
  double seconds = 0;
};

// Throws RunError when the child cannot be started (the files cannot be created, fork fails).
ChildOutcome run_child(const ChildSpec& spec, std::chrono::milliseconds timeout, const std::function<bool()>& stop,
                       std::chrono::milliseconds grace = std::chrono::seconds(5));

// The last non-empty line of a file ("" when none), for error messages.
std::string last_line(const std::string& path);

// "NAME=value ... argv", quoted where needed, as one could paste it into a shell.
std::string shell_line(const ChildSpec& spec);

}  // namespace sxcoll::tune
