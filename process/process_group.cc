#include "process/process_group.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <thread>

#include <fmt/core.h>

#include "transport/deadline.h"
#include "transport/error.h"

extern char** environ;

namespace sxcoll::process {

namespace {

constexpr std::chrono::milliseconds kPoll(20);

std::vector<std::string> child_env(const Spec& spec) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    const bool unset = std::find(spec.unset_env.begin(), spec.unset_env.end(), name) != spec.unset_env.end();
    const bool replaced =
        std::any_of(spec.set_env.begin(), spec.set_env.end(), [&](const auto& kv) { return kv.first == name; });
    if (!unset && !replaced) env.push_back(entry);
  }
  for (const auto& [k, v] : spec.set_env) env.push_back(k + "=" + v);
  return env;
}

// Closes the descriptor when it goes out of scope, so that no error path leaks one.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Fd create(const std::string& path, bool replace_existing) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (replace_existing ? O_TRUNC : O_EXCL);
  const int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) throw RunError(fmt::format("cannot create {}: {}", path, errno_text(errno)));
  return Fd(fd);
}

void write_text(const char* text) {
  if (text != nullptr) (void)!::write(2, text, std::strlen(text));
}

}  // namespace

ProcessGroup::ProcessGroup(const std::vector<Spec>& specs) {
  try {
    for (const auto& spec : specs) start(spec);
  } catch (...) {
    stop();
    throw;
  }
}

ProcessGroup::~ProcessGroup() { stop(std::chrono::seconds(2)); }

void ProcessGroup::start(const Spec& spec) {
  // Everything the child needs is prepared before fork: only async-signal-safe calls after it.
  auto env = child_env(spec);
  std::vector<char*> envp, argv;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = spec.argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const Fd out = create(spec.stdout_path, spec.replace_existing);
  const Fd err = spec.stderr_path.empty() ? Fd(-1) : create(spec.stderr_path, spec.replace_existing);
  const int err_fd = spec.stderr_path.empty() ? out.get() : err.get();
  const Fd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw RunError(fmt::format("fork for {}: {}", spec.argv.front(), errno_text(errno)));
  if (pid == 0) {
    ::setpgid(0, pgid_);
    if (spec.death_signal != 0) {
      ::prctl(PR_SET_PDEATHSIG, spec.death_signal);
      if (::getppid() != parent) ::_exit(127);  // the starter died before prctl took effect
    }
    // The starter's handlers would catch a stop that comes before exec, and it would be lost.
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::dup2(null.get(), 0);
    ::dup2(out.get(), 1);
    ::dup2(err_fd, 2);
    ::execvpe(argv[0], argv.data(), envp.data());
    const int why = errno;
    write_text(spec.exec_failure.c_str());
    write_text(argv[0]);
    if (spec.exec_failure_says_why) {
      write_text(": ");
      write_text(::strerrordesc_np(why));  // strerror's text without its locale lookup
    }
    write_text("\n");
    ::_exit(127);
  }
  ::setpgid(pid, pgid_);  // also in the parent: no race with the first kill
  if (pgid_ == 0) pgid_ = pid;
  pids_.push_back(pid);
  exits_.emplace_back();
  done_.push_back(false);
}

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
    std::this_thread::sleep_for(kPoll);
  }
}

GroupResult ProcessGroup::wait(std::chrono::milliseconds timeout, std::chrono::milliseconds failure_grace,
                               const std::function<bool()>& stop_requested, std::chrono::milliseconds stop_grace) {
  GroupResult result;
  Deadline deadline(timeout);
  std::optional<Deadline> after_failure;
  while (!reap(false, std::chrono::milliseconds(0))) {
    if (stop_requested && stop_requested()) {
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
    std::this_thread::sleep_for(kPoll);
  }
  stop(stop_grace);
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
    // SIGKILL cannot be caught: the children are reaped within a moment; the limit is a guard.
    reap(true, std::chrono::seconds(10));
  }
  ::killpg(pgid_, SIGKILL);
}

}  // namespace sxcoll::process
