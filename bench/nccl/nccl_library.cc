#include "bench/nccl/nccl_library.h"

#include <dlfcn.h>
#include <link.h>

#include <cstdlib>

#include <fmt/core.h>

#include "bench/nccl/nccl_convert.h"
#include "transport/error.h"

namespace sxcoll::bench {

namespace nccl {

std::vector<LibraryCandidate> library_candidates(const char* sxcoll_nccl_library, const char* nccl_home) {
  if (sxcoll_nccl_library && *sxcoll_nccl_library) return {{sxcoll_nccl_library, "SXCOLL_NCCL_LIBRARY"}};
  std::vector<LibraryCandidate> candidates;
  if (nccl_home && *nccl_home) candidates.push_back({fmt::format("{}/lib/libnccl.so.2", nccl_home), "NCCL_HOME"});
  candidates.push_back({"libnccl.so.2", "the loader's search path"});
  return candidates;
}

}  // namespace nccl

namespace {

std::string loaded_path(void* handle, const std::string& fallback) {
  link_map* map = nullptr;
  if (::dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name && *map->l_name) return map->l_name;
  return fallback;
}

template <typename Fn>
void resolve(void* handle, const std::string& path, const char* name, Fn*& fn, bool required = true) {
  ::dlerror();
  fn = reinterpret_cast<Fn*>(::dlsym(handle, name));
  if (fn || !required) return;
  const char* why = ::dlerror();
  throw UsageError(fmt::format("nccl: {} has no {} (sxcoll needs NCCL 2.4 or newer): {}", path, name,
                               why ? why : "symbol not found"));
}

}  // namespace

NcclLibrary::NcclLibrary()
    : NcclLibrary(nccl::library_candidates(std::getenv("SXCOLL_NCCL_LIBRARY"), std::getenv("NCCL_HOME"))) {}

NcclLibrary::NcclLibrary(const std::vector<nccl::LibraryCandidate>& candidates) {
  void* handle = nullptr;
  std::string tried;
  for (const auto& c : candidates) {
    // RTLD_LOCAL: NCCL's symbols stay out of the global namespace of this process.
    handle = ::dlopen(c.file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle) {
      path_ = loaded_path(handle, c.file);
      break;
    }
    const char* why = ::dlerror();
    tried += fmt::format("{}{} ({})", tried.empty() ? "" : "; ", why ? why : c.file, c.source);
  }
  if (!handle)
    throw UsageError(fmt::format("nccl: cannot load libnccl: tried {}; set SXCOLL_NCCL_LIBRARY to the libnccl.so.2 "
                                 "file, or NCCL_HOME to the NCCL installation that holds lib/libnccl.so.2",
                                 tried));

  resolve(handle, path_, "ncclGetVersion", api_.ncclGetVersion);
  resolve(handle, path_, "ncclGetUniqueId", api_.ncclGetUniqueId);
  resolve(handle, path_, "ncclCommInitRank", api_.ncclCommInitRank);
  resolve(handle, path_, "ncclAllReduce", api_.ncclAllReduce);
  resolve(handle, path_, "ncclAllGather", api_.ncclAllGather);
  resolve(handle, path_, "ncclReduceScatter", api_.ncclReduceScatter);
  resolve(handle, path_, "ncclBroadcast", api_.ncclBroadcast);
  resolve(handle, path_, "ncclReduce", api_.ncclReduce);
  resolve(handle, path_, "ncclGroupStart", api_.ncclGroupStart);
  resolve(handle, path_, "ncclGroupEnd", api_.ncclGroupEnd);
  resolve(handle, path_, "ncclSend", api_.ncclSend, false);
  resolve(handle, path_, "ncclRecv", api_.ncclRecv, false);
  resolve(handle, path_, "ncclCommDestroy", api_.ncclCommDestroy);
  resolve(handle, path_, "ncclCommAbort", api_.ncclCommAbort);
  resolve(handle, path_, "ncclCommGetAsyncError", api_.ncclCommGetAsyncError);
  resolve(handle, path_, "ncclGetErrorString", api_.ncclGetErrorString);
  resolve(handle, path_, "ncclGetLastError", api_.ncclGetLastError, false);

  if (nccl::ncclResult_t r = api_.ncclGetVersion(&version_code_); r != nccl::ncclSuccess)
    throw UsageError(fmt::format("nccl: ncclGetVersion of {} failed: {}", path_, error_text(r)));
}

std::string NcclLibrary::version() const { return nccl::version_text(version_code_); }

std::string NcclLibrary::error_text(nccl::ncclResult_t result) const {
  std::string text = api_.ncclGetErrorString(result);
  const char* last = api_.ncclGetLastError ? api_.ncclGetLastError(nullptr) : nullptr;
  if (last && *last) {
    std::string_view message(last);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.remove_suffix(1);
    text += fmt::format("; NCCL's last error: {}", message);
  }
  return text;
}

}  // namespace sxcoll::bench
