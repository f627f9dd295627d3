// Shared segments: memory of one process that the other processes of its host map.
//
// A segment is a memfd (anonymous, nothing in /dev/shm, gone with the last process that
// holds it, killed ones included) mapped MAP_SHARED. A peer maps it by opening the owner's
// /proc/<pid>/fd/<fd>, which the kernel allows between processes of one user; the memfd's
// name carries a serial number that the peer checks, so that a descriptor number the owner
// closed and reused is never taken for the segment it used to be.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sxcoll::transport::shm {

// One of ours: created, mapped, closed and unmapped with the object.
class Segment {
 public:
  // Zeroed pages of at least `bytes` (a page at least). Throws RunError naming `what`.
  Segment(size_t bytes, const std::string& name, std::string_view what);
  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  char* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  char* data_ = nullptr;
  size_t bytes_ = 0;
};

// A peer's segment, mapped here until the object goes.
class PeerMapping {
 public:
  PeerMapping() = default;
  // Opens /proc/<pid>/fd/<fd>, checks that it is the memfd named `name`, maps all of it.
  // Throws RunError starting with `what`.
  PeerMapping(pid_t pid, int fd, const std::string& name, std::string_view what);
  ~PeerMapping();
  PeerMapping(PeerMapping&& o) noexcept;
  PeerMapping& operator=(PeerMapping&& o) noexcept;

  char* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  char* data_ = nullptr;
  size_t bytes_ = 0;
};

// The memfd names: "sxcoll.<run>.<rank>.<serial>"; serial 0 is the rank's mailbox.
std::string segment_name(uint64_t run, int rank, uint64_t serial);

}  // namespace sxcoll::transport::shm
