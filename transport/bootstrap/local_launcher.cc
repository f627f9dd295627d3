#include "transport/bootstrap/local_launcher.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include <fmt/core.h>

#include "transport/deadline.h"
#include "transport/error.h"
#include "transport/socket.h"

namespace sxcoll::bootstrap {

namespace {

std::string random_token() {
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  unsigned char bytes[16] = {};
  urandom.read(reinterpret_cast<char*>(bytes), sizeof bytes);
  std::string token = "sxcoll-local-";
  for (unsigned char b : bytes) token += fmt::format("{:02x}", b);
  return token;
}

volatile sig_atomic_t g_forward_signal = 0;
void remember_signal(int sig) { g_forward_signal = sig; }

[[noreturn]] void run_child(const LaunchInfo& info, const std::function<int(const LaunchInfo&)>& rank_main) {
  // Variables too, so that anything the rank starts (a worker, a tool) sees the same run.
  ::setenv(kEnvRank, std::to_string(info.rank).c_str(), 1);
  ::setenv(kEnvSize, std::to_string(info.size).c_str(), 1);
  ::setenv(kEnvLocalRank, std::to_string(info.local_rank).c_str(), 1);
  ::setenv(kEnvMaster, info.master->c_str(), 1);
  ::setenv(kEnvToken, info.token.c_str(), 1);
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  int code = 1;
  try {
    code = rank_main(info);
  } catch (const std::exception& e) {
    print_error(fmt::format("rank {}: {}", info.rank, e.what()));
  }
  std::cout.flush();
  std::fflush(nullptr);
  ::_exit(code);
}

}  // namespace

int launch_local(int nranks, const std::function<int(const LaunchInfo&)>& rank_main, std::chrono::milliseconds grace) {
  net::Fd listener = net::listen_tcp("127.0.0.1", 0);
  auto address = net::local_address(listener.get());
  std::string token = random_token();
  std::cout.flush();
  std::fflush(nullptr);

  std::map<pid_t, int> children;  // pid -> rank
  for (int rank = 0; rank < nranks; ++rank) {
    pid_t pid = ::fork();
    if (pid < 0) {
      for (auto& [p, r] : children) ::kill(p, SIGKILL);
      throw RunError(fmt::format("local launcher: fork() for rank {} failed: {}", rank, errno_text(errno)));
    }
    if (pid == 0) {
      LaunchInfo info;
      info.launcher = "sxcoll";
      info.rank = rank;
      info.size = nranks;
      info.local_rank = rank;
      info.master = address.str();
      info.token = token;
      if (rank == 0) {
        info.store_fd = listener.release();
      } else {
        listener.reset();
      }
      run_child(info, rank_main);
    }
    children[pid] = rank;
  }
  listener.reset();

  struct sigaction sa{};
  sa.sa_handler = remember_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  int result = 0;
  std::optional<Deadline> kill_deadline;
  while (!children.empty()) {
    if (g_forward_signal != 0) {
      for (auto& [pid, rank] : children) ::kill(pid, g_forward_signal);
      g_forward_signal = 0;
      if (!kill_deadline) kill_deadline.emplace(grace);
      if (result == 0) result = 130;
    }
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid == 0) {
      if (kill_deadline && kill_deadline->expired()) {
        for (auto& [p, rank] : children) {
          std::fprintf(stderr, "sxcoll: rank %d did not exit within %lld ms after the run failed; killing it\n", rank,
                       static_cast<long long>(grace.count()));
          ::kill(p, SIGKILL);
        }
        kill_deadline.emplace(std::chrono::hours(1));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    int rank = children[pid];
    children.erase(pid);
    int code = 0;
    if (WIFEXITED(status)) {
      code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      std::fprintf(stderr, "sxcoll: rank %d was killed by signal %d (%s)\n", rank, WTERMSIG(status),
                   strsignal(WTERMSIG(status)));
      code = 1;
    }
    if (code != 0 && result == 0) result = code;
    if (code != 0 && !kill_deadline) kill_deadline.emplace(grace);
  }
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  return result;
}

}  // namespace sxcoll::bootstrap
