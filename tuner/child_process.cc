#include "tuner/child_process.h"

#include <signal.h>

#include <fstream>

#include <fmt/core.h>
#include <fmt/format.h>

#include "process/shell_quote.h"
#include "transport/deadline.h"

namespace sxcoll::tune {

ChildOutcome run_child(const ChildSpec& spec, std::chrono::milliseconds timeout, const std::function<bool()>& stop,
                       std::chrono::milliseconds grace) {
  process::Spec child = spec;
  // The session never names two trials' files alike; a caller that does gets them replaced.
  child.replace_existing = true;
  child.death_signal = SIGTERM;
  child.exec_failure = "sxcoll tune: cannot start ";
  child.exec_failure_says_why = true;
  const auto started = Clock::now();
  process::ProcessGroup group({child});
  // One process: no peers to wait for after a failure.
  const process::GroupResult r = group.wait(timeout, std::chrono::milliseconds(0), stop, grace);
  ChildOutcome out;
  out.exit_code = r.exits.front().code;
  out.signal = r.exits.front().signal;
  out.timed_out = r.timed_out;
  out.stopped = r.interrupted;
  out.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return out;
}

std::string last_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) last = line;
  }
  return last;
}

std::string shell_line(const ChildSpec& spec) {
  std::vector<std::string> words;
  if (!spec.unset_env.empty()) words.push_back("env");
  for (const auto& name : spec.unset_env) {
    words.push_back("-u");
    words.push_back(name);
  }
  for (const auto& [k, v] : spec.set_env) words.push_back(fmt::format("{}={}", k, process::shell_quote(v)));
  for (const auto& a : spec.argv) words.push_back(process::shell_quote(a));
  return fmt::format("{}", fmt::join(words, " "));
}

}  // namespace sxcoll::tune
