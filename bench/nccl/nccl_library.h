// libnccl, loaded at run time with dlopen: one sxcoll binary serves machines with NCCL and
// machines without it, and needs neither nccl.h nor libnccl to build.
#pragma once

#include <string>
#include <vector>

#include "bench/nccl/nccl_api.h"

namespace sxcoll::bench {

namespace nccl {

struct LibraryCandidate {
  std::string file;    // what dlopen is given
  std::string source;  // where that came from, for the error message
};

// Where to look, in order. $SXCOLL_NCCL_LIBRARY, when set, is the only candidate: the user
// named a file, and another NCCL found instead would be a silent surprise. Otherwise
// $NCCL_HOME/lib/libnccl.so.2 when NCCL_HOME is set, then "libnccl.so.2" through the
// dynamic loader's search (LD_LIBRARY_PATH, the ld.so cache). Arguments are the variables'
// values, null when unset.
std::vector<LibraryCandidate> library_candidates(const char* sxcoll_nccl_library, const char* nccl_home);

}  // namespace nccl

class NcclLibrary {
 public:
  // Loads the first of `candidates` that opens (by default: library_candidates() of this
  // process's environment) and resolves the entry points of nccl::Api. Throws UsageError,
  // in one line, naming each file tried with the loader's reason and how to point sxcoll
  // at NCCL; or naming the entry point that the library lacks.
  NcclLibrary();
  explicit NcclLibrary(const std::vector<nccl::LibraryCandidate>& candidates);
  // The library stays loaded for the life of the process: NCCL leaves threads and exit
  // handlers behind that must not outlive its code.
  ~NcclLibrary() = default;
  NcclLibrary(const NcclLibrary&) = delete;
  NcclLibrary& operator=(const NcclLibrary&) = delete;

  const nccl::Api& api() const { return api_; }
  // The file that was loaded, as the loader resolved it.
  const std::string& path() const { return path_; }
  int version_code() const { return version_code_; }
  std::string version() const;  // "2.28.9"

  // NCCL's text for `result`, followed by its last error message where it has one.
  std::string error_text(nccl::ncclResult_t result) const;

 private:
  nccl::Api api_{};
  std::string path_;
  int version_code_ = 0;
};

}  // namespace sxcoll::bench
