// Which transports NCCL connected, read from NCCL's own log: it reports them nowhere else
// ("Channel 00/0 : 0[0] -> 1[1] via P2P/CUMEM/read"), and since NCCL 2.22 only once a
// collective has run, because it connects lazily.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sxcoll::bench::nccl {

// The distinct transports named by the "Channel ... via X" and "CollNet ... via X" INFO
// lines of `log`, in order of first appearance. Detail that differs from peer to peer is
// dropped, so that one transport is one entry: the proxy rank of PXN ("NET/IB/0(3)/GDRDMA"
// gives "NET/IB/0/GDRDMA") and the GPU that an indirect P2P path goes through
// ("P2P/indirect/1[1]/read" gives "P2P/indirect/read").
std::vector<std::string> parse_transports(std::string_view log);

// NCCL's log (level INFO, subsystem INIT), routed into a file that only this process reads.
// NCCL reads NCCL_DEBUG, NCCL_DEBUG_SUBSYS and NCCL_DEBUG_FILE once, at its first log line,
// so there is one capture per process: the first engine arms it and later ones share it.
// INIT alone carries every "via" line: NCCL logs them under NCCL_INIT|NCCL_P2P (p2p.cc),
// NCCL_INIT|NCCL_SHM (shm.cc) and NCCL_INIT|NCCL_NET (net.cc, coll_net.cc), and a message
// is written when any of its flags is in the mask; NET would add the network plugin's
// messages while the benchmark runs. Without NCCL_DEBUG NCCL prints nothing at all, so
// nothing the user would have seen goes missing. A user who set NCCL_DEBUG keeps NCCL's log
// where they sent it, and no transport is parsed. Not thread-safe: one thread drives NCCL.
class LogCapture {
 public:
  static LogCapture& process();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Before the first NCCL call that may log (ncclGetUniqueId, ncclCommInitRank); once the
  // process has decided, a no-op.
  void arm();
  // Once that call has returned: NCCL has opened the file, so the environment goes back to
  // what it was and the file loses its name (nothing is left behind however the process
  // ends). A no-op unless armed.
  void settle();

  bool capturing() const { return fd_ >= 0; }
  // Why NCCL's lines don't come here, when they don't.
  const std::string& why_not() const { return why_not_; }
  // Where the log ends now, and the whole lines written since `offset`.
  uint64_t end() const;
  std::string read_since(uint64_t offset) const;

 private:
  LogCapture() = default;

  enum class State { Fresh, Armed, Settled, Off };
  State state_ = State::Fresh;
  int fd_ = -1;
  std::string path_;  // empty once unlinked
  std::string why_not_ = "NCCL has not been started";
  std::optional<std::string> saved_subsys_, saved_file_;
};

}  // namespace sxcoll::bench::nccl
