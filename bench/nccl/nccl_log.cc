#include "bench/nccl/nccl_log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::bench::nccl {

namespace {

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// Length of the run of digits at the start of `s`.
size_t digits(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && is_digit(s[n])) ++n;
  return n;
}

// Length of a PXN proxy rank, "(3)", at the start of `s`; 0 if there is none.
size_t proxy_rank_length(std::string_view s) {
  if (s.empty() || s[0] != '(') return 0;
  const size_t n = digits(s.substr(1));
  return n > 0 && 1 + n < s.size() && s[1 + n] == ')' ? n + 2 : 0;
}

// Length of the intermediate GPU of an indirect P2P path, "/1[1]", at the start of `s`.
size_t intermediate_gpu_length(std::string_view s) {
  if (s.empty() || s[0] != '/') return 0;
  const size_t rank = digits(s.substr(1));
  size_t i = 1 + rank;
  if (rank == 0 || i >= s.size() || s[i] != '[') return 0;
  const size_t device = digits(s.substr(i + 1));
  i += 1 + device;
  return device > 0 && i < s.size() && s[i] == ']' ? i + 1 : 0;
}

std::string without_peer_detail(std::string_view transport) {
  std::string out;
  for (size_t i = 0; i < transport.size();) {
    const size_t skip = std::max(proxy_rank_length(transport.substr(i)), intermediate_gpu_length(transport.substr(i)));
    if (skip > 0) {
      i += skip;
    } else {
      out += transport[i++];
    }
  }
  return out;
}

// "host:pid:tid [dev] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/CUMEM/read" gives
// "P2P/CUMEM/read"; a line of any other kind gives nothing.
std::optional<std::string> transport_of(std::string_view line) {
  constexpr std::string_view kInfo = " NCCL INFO ", kVia = " via ";
  const size_t info = line.find(kInfo);
  if (info == std::string_view::npos) return std::nullopt;
  const std::string_view message = line.substr(info + kInfo.size());
  if (!message.starts_with("Channel ") && !message.starts_with("CollNet ")) return std::nullopt;
  const size_t via = message.find(kVia);
  if (via == std::string_view::npos) return std::nullopt;
  std::string_view transport = message.substr(via + kVia.size());
  while (!transport.empty() && std::isspace(static_cast<unsigned char>(transport.back()))) transport.remove_suffix(1);
  if (transport.empty()) return std::nullopt;
  return without_peer_detail(transport);
}

std::optional<std::string> getenv_string(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::optional<std::string>(value) : std::nullopt;
}

void restore_env(const char* name, const std::optional<std::string>& value) {
  if (value)
    ::setenv(name, value->c_str(), 1);
  else
    ::unsetenv(name);
}

// NCCL_DEBUG_FILE expands %h and %p; a literal '%' is written "%%".
std::string escape_percent(const std::string& path) {
  std::string out;
  for (char c : path) out += c == '%' ? std::string("%%") : std::string(1, c);
  return out;
}

}  // namespace

std::vector<std::string> parse_transports(std::string_view log) {
  std::vector<std::string> found;
  while (!log.empty()) {
    const size_t eol = log.find('\n');
    const std::string_view line = log.substr(0, eol);
    log = eol == std::string_view::npos ? std::string_view() : log.substr(eol + 1);
    auto transport = transport_of(line);
    if (transport && std::find(found.begin(), found.end(), *transport) == found.end()) found.push_back(*transport);
  }
  return found;
}

LogCapture& LogCapture::process() {
  static LogCapture capture;
  return capture;
}

LogCapture::~LogCapture() {
  if (!path_.empty()) ::unlink(path_.c_str());
  if (fd_ >= 0) ::close(fd_);
}

void LogCapture::arm() {
  if (state_ != State::Fresh) return;
  state_ = State::Off;
  if (std::getenv("NCCL_DEBUG")) {
    why_not_ = "NCCL_DEBUG is set, so NCCL's log goes where the user sent it";
    return;
  }
  const char* tmpdir = std::getenv("TMPDIR");
  std::string path = fmt::format("{}/sxcoll-nccl-log-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
  const int fd = ::mkstemp(path.data());
  if (fd < 0) {
    why_not_ = fmt::format("cannot create {}: {}", path, errno_text(errno));
    return;
  }
  fd_ = fd;
  path_ = path;
  saved_subsys_ = getenv_string("NCCL_DEBUG_SUBSYS");
  saved_file_ = getenv_string("NCCL_DEBUG_FILE");
  ::setenv("NCCL_DEBUG", "INFO", 1);
  ::setenv("NCCL_DEBUG_SUBSYS", "INIT", 1);
  ::setenv("NCCL_DEBUG_FILE", escape_percent(path_).c_str(), 1);
  why_not_.clear();
  state_ = State::Armed;
}

void LogCapture::settle() {
  if (state_ != State::Armed) return;
  state_ = State::Settled;
  ::unsetenv("NCCL_DEBUG");
  restore_env("NCCL_DEBUG_SUBSYS", saved_subsys_);
  restore_env("NCCL_DEBUG_FILE", saved_file_);
  // An empty file means NCCL has not opened it yet; its name stays until exit, or NCCL
  // would create a new file of that name that nobody reads.
  if (end() > 0 && ::unlink(path_.c_str()) == 0) path_.clear();
}

uint64_t LogCapture::end() const {
  struct stat st {};
  if (fd_ < 0 || ::fstat(fd_, &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_size);
}

std::string LogCapture::read_since(uint64_t offset) const {
  std::string text;
  const uint64_t size = end();
  if (size <= offset) return text;
  text.resize(size - offset);
  size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::pread(fd_, text.data() + got, text.size() - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  // NCCL may be in the middle of a line.
  const size_t last_newline = text.rfind('\n');
  text.resize(last_newline == std::string::npos ? 0 : last_newline + 1);
  return text;
}

}  // namespace sxcoll::bench::nccl
