#include "sft_driver/process_group.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <thread>

#include <fmt/core.h>

#include "transport/deadline.h"
#include "transport/error.h"

extern char** environ;

namespace sxcoll::sft {

namespace {

std::vector<std::string> merged_env(const Command& c) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& [k, v] : c.env) replaced = replaced || k == name;
    if (!replaced) env.push_back(entry);
  }
  for (const auto& [k, v] : c.env) env.push_back(k + "=" + v);
  return env;
}

}  // namespace

ProcessGroup::ProcessGroup(const std::vector<Command>& commands, const std::string& dir) {
  for (const auto& c : commands) {
    // Everything the child needs is prepared before fork: only async-signal-safe calls after it.
    std::string log = dir + "/" + c.log_name;
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      stop();
      throw RunError(fmt::format("cannot create {}: {}", log, errno_text(errno)));
    }
    auto env = merged_env(c);
    std::vector<char*> envp, argv;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = c.argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_t pid = ::fork();
    if (pid < 0) {
      ::close(fd);
      stop();
      throw RunError(fmt::format("fork for {}: {}", c.argv[0], errno_text(errno)));
    }
    if (pid == 0) {
      ::setpgid(0, pgid_);
      ::dup2(devnull, 0);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execvpe(argv[0], argv.data(), envp.data());
      const char* msg = "sxcoll sft: exec failed: ";
      (void)!::write(2, msg, std::strlen(msg));
      (void)!::write(2, argv[0], std::strlen(argv[0]));
      (void)!::write(2, "\n", 1);
      ::_exit(127);
    }
    ::setpgid(pid, pgid_);  // also in the parent: no race with the first kill
    if (pgid_ == 0) pgid_ = pid;
    ::close(fd);
    ::close(devnull);
    pids_.push_back(pid);
    exits_.emplace_back();
    done_.push_back(false);
  }
}

ProcessGroup::~ProcessGroup() { stop(std::chrono::seconds(2)); }

bool ProcessGroup::reap(bool block_until_all, std::chrono::milliseconds limit) {
  Deadline deadline(limit);
  while (true) {
    bool all = true;
    for (size_t i = 0; i < pids_.size(); ++i) {
      if (done_[i]) continue;
      int status = 0;
      pid_t r = ::waitpid(pids_[i], &status, WNOHANG);
      if (r == pids_[i] || (r < 0 && errno == ECHILD)) {
        done_[i] = true;
        if (r == pids_[i] && WIFEXITED(status)) exits_[i].code = WEXITSTATUS(status);
        if (r == pids_[i] && WIFSIGNALED(status)) exits_[i].signal = WTERMSIG(status);
      } else {
        all = false;
      }
    }
    if (all || !block_until_all || deadline.expired()) return all;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

GroupResult ProcessGroup::wait(std::chrono::milliseconds timeout, std::chrono::milliseconds failure_grace,
                               const std::atomic<bool>& stop_flag) {
  GroupResult result;
  Deadline deadline(timeout);
  std::optional<Deadline> after_failure;
  while (!reap(false, std::chrono::milliseconds(0))) {
    if (stop_flag.load()) {
      result.interrupted = true;
      break;
    }
    if (deadline.expired()) {
      result.timed_out = true;
      break;
    }
    if (!after_failure)
      for (size_t i = 0; i < pids_.size(); ++i)
        if (done_[i] && (exits_[i].code != 0)) after_failure.emplace(failure_grace);
    if (after_failure && after_failure->expired()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  stop();
  result.exits = exits_;
  return result;
}

void ProcessGroup::stop(std::chrono::milliseconds grace) {
  if (pgid_ == 0) return;
  if (reap(false, std::chrono::milliseconds(0))) {
    // Every direct child ended; children they left behind in the group go too.
    ::killpg(pgid_, SIGKILL);
    return;
  }
  ::killpg(pgid_, SIGTERM);
  if (!reap(true, grace)) {
    ::killpg(pgid_, SIGKILL);
    reap(true, std::chrono::seconds(10));
  }
  ::killpg(pgid_, SIGKILL);
}

}  // namespace sxcoll::sft
