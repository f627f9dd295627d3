#include "tuner/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <thread>

#include <fmt/core.h>
#include <fmt/format.h>

#include "transport/deadline.h"
#include "transport/error.h"

extern char** environ;

namespace sxcoll::tune {

namespace {

std::vector<std::string> child_env(const ChildSpec& spec) {
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

int create(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw RunError(fmt::format("cannot create {}: {}", path, errno_text(errno)));
  return fd;
}

// Reaps the child if it has ended; true then.
bool reaped(pid_t pid, ChildOutcome& out) {
  int status = 0;
  const pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r != pid) return r < 0 && errno == ECHILD;
  if (WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) out.signal = WTERMSIG(status);
  return true;
}

std::string quote(const std::string& word) {
  if (!word.empty() &&
      word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+=/.,:@%") ==
          std::string::npos)
    return word;
  std::string out = "'";
  for (char c : word) {
    if (c == '\'')
      out.append("'\\''");
    else
      out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace

ChildOutcome run_child(const ChildSpec& spec, std::chrono::milliseconds timeout, const std::function<bool()>& stop,
                       std::chrono::milliseconds grace) {
  // Everything the child needs is prepared before fork: only async-signal-safe calls after it.
  auto env = child_env(spec);
  std::vector<char*> envp, argv;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = spec.argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int out_fd = create(spec.stdout_path);
  const int err_fd = create(spec.stderr_path);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();
  const auto started = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(out_fd);
    ::close(err_fd);
    ::close(null_fd);
    throw RunError(fmt::format("fork for {}: {}", spec.argv.front(), errno_text(err)));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);  // the tuner died before prctl took effect
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::dup2(null_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execvpe(argv[0], argv.data(), envp.data());
    const char* msg = "sxcoll tune: cannot start ";
    (void)!::write(2, msg, std::strlen(msg));
    (void)!::write(2, argv[0], std::strlen(argv[0]));
    (void)!::write(2, ": ", 2);
    const char* why = ::strerror(errno);
    (void)!::write(2, why, std::strlen(why));
    (void)!::write(2, "\n", 1);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also in the parent: no race with a kill of the group
  ::close(out_fd);
  ::close(err_fd);
  ::close(null_fd);

  ChildOutcome out;
  Deadline deadline(timeout);
  while (!reaped(pid, out)) {
    out.stopped = stop && stop();
    out.timed_out = !out.stopped && deadline.expired();
    if (out.stopped || out.timed_out) {
      ::killpg(pid, SIGTERM);
      Deadline after(grace);
      while (!reaped(pid, out) && !after.expired()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ::killpg(pid, SIGKILL);
      // SIGKILL cannot be caught: the child is reaped within a moment; the deadline is a guard.
      Deadline reap(std::chrono::seconds(10));
      while (!reaped(pid, out) && !reap.expired()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::killpg(pid, SIGKILL);  // ranks the child left behind in its group go with it
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
  for (const auto& [k, v] : spec.set_env) words.push_back(fmt::format("{}={}", k, quote(v)));
  for (const auto& a : spec.argv) words.push_back(quote(a));
  return fmt::format("{}", fmt::join(words, " "));
}

}  // namespace sxcoll::tune
