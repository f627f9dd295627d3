#include "transport/shm/segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::transport::shm {

std::string segment_name(uint64_t run, int rank, uint64_t serial) {
  return fmt::format("sxcoll.{:x}.{}.{}", run, rank, serial);
}

Segment::Segment(size_t bytes, const std::string& name, std::string_view what) {
  bytes_ = bytes == 0 ? 4096 : (bytes + 4095) / 4096 * 4096;
  fd_ = ::memfd_create(name.c_str(), MFD_CLOEXEC);
  if (fd_ < 0) throw RunError(fmt::format("{}: memfd_create: {}", what, errno_text(errno)));
  if (::ftruncate(fd_, static_cast<off_t>(bytes_)) != 0) {
    const int err = errno;
    ::close(fd_);
    throw RunError(fmt::format("{}: cannot size a {}-byte shared segment: {}", what, bytes_, errno_text(err)));
  }
  void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    ::close(fd_);
    throw RunError(fmt::format("{}: cannot map a {}-byte shared segment: {}", what, bytes_, errno_text(err)));
  }
  data_ = static_cast<char*>(p);
}

Segment::~Segment() {
  ::munmap(data_, bytes_);
  ::close(fd_);
}

PeerMapping::PeerMapping(pid_t pid, int fd, const std::string& name, std::string_view what) {
  const std::string path = fmt::format("/proc/{}/fd/{}", pid, fd);
  const int local = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (local < 0)
    throw RunError(fmt::format("{}: cannot open {}: {} (has the process exited, or is /proc/<pid>/fd of another "
                               "process closed to this one?)",
                               what, path, errno_text(errno)));
  // Our descriptor reads "/memfd:NAME (deleted)" when it is the segment the peer published.
  char link[256];
  const ssize_t n = ::readlink(fmt::format("/proc/self/fd/{}", local).c_str(), link, sizeof link - 1);
  const std::string expect = "/memfd:" + name + " ";
  if (n < 0 || std::string_view(link, static_cast<size_t>(n)).substr(0, expect.size()) != expect) {
    ::close(local);
    throw RunError(fmt::format("{}: {} is '{}', not the segment {} (a stale descriptor?)", what, path,
                               n < 0 ? std::string_view("?") : std::string_view(link, static_cast<size_t>(n)), name));
  }
  struct stat st {};
  if (::fstat(local, &st) != 0 || st.st_size <= 0) {
    const int err = errno;
    ::close(local);
    throw RunError(fmt::format("{}: cannot size {}: {}", what, path, errno_text(err)));
  }
  void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, local, 0);
  const int err = errno;
  ::close(local);  // the mapping keeps the memory
  if (p == MAP_FAILED) throw RunError(fmt::format("{}: cannot map {}: {}", what, path, errno_text(err)));
  data_ = static_cast<char*>(p);
  bytes_ = static_cast<size_t>(st.st_size);
}

PeerMapping::~PeerMapping() {
  if (data_ != nullptr) ::munmap(data_, bytes_);
}

PeerMapping::PeerMapping(PeerMapping&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}

PeerMapping& PeerMapping::operator=(PeerMapping&& o) noexcept {
  if (this != &o) {
    if (data_ != nullptr) ::munmap(data_, bytes_);
    data_ = std::exchange(o.data_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

}  // namespace sxcoll::transport::shm
