// A stand-in for libnccl.so.2 that exports the entry points sxcoll resolves, so that the
// loader is tested where there is no NCCL. Built three ways (see CMakeLists.txt): as a
// current NCCL, as one older than 2.13 (no ncclGetLastError), and as one without
// ncclCommAbort. It runs nothing: every communicator call fails.
#include "bench/nccl/nccl_api.h"

using namespace sxcoll::bench::nccl;

extern "C" {

ncclResult_t ncclGetVersion(int* version) {
  *version = SXCOLL_FAKE_NCCL_VERSION;
  return ncclSuccess;
}
ncclResult_t ncclGetUniqueId(ncclUniqueId*) { return ncclSystemError; }
ncclResult_t ncclCommInitRank(ncclComm_t*, int, ncclUniqueId, int) { return ncclSystemError; }
ncclResult_t ncclAllReduce(const void*, void*, size_t, ncclDataType_t, ncclRedOp_t, ncclComm_t, Stream) {
  return ncclInvalidUsage;
}
ncclResult_t ncclAllGather(const void*, void*, size_t, ncclDataType_t, ncclComm_t, Stream) { return ncclInvalidUsage; }
ncclResult_t ncclReduceScatter(const void*, void*, size_t, ncclDataType_t, ncclRedOp_t, ncclComm_t, Stream) {
  return ncclInvalidUsage;
}
ncclResult_t ncclBroadcast(const void*, void*, size_t, ncclDataType_t, int, ncclComm_t, Stream) {
  return ncclInvalidUsage;
}
ncclResult_t ncclReduce(const void*, void*, size_t, ncclDataType_t, ncclRedOp_t, int, ncclComm_t, Stream) {
  return ncclInvalidUsage;
}
ncclResult_t ncclGroupStart() { return ncclSuccess; }
ncclResult_t ncclGroupEnd() { return ncclSuccess; }
ncclResult_t ncclSend(const void*, size_t, ncclDataType_t, int, ncclComm_t, Stream) { return ncclInvalidUsage; }
ncclResult_t ncclRecv(void*, size_t, ncclDataType_t, int, ncclComm_t, Stream) { return ncclInvalidUsage; }
ncclResult_t ncclCommDestroy(ncclComm_t) { return ncclSuccess; }
#ifndef SXCOLL_FAKE_NCCL_NO_ABORT
ncclResult_t ncclCommAbort(ncclComm_t) { return ncclSuccess; }
#endif
ncclResult_t ncclCommGetAsyncError(ncclComm_t, ncclResult_t* error) {
  *error = ncclSuccess;
  return ncclSuccess;
}
// NCCL's own text for this code.
const char* ncclGetErrorString(ncclResult_t result) {
  return result == ncclSystemError ? "unhandled system error (run with NCCL_DEBUG=INFO for details)" : "fake error";
}
#ifndef SXCOLL_FAKE_NCCL_NO_LAST_ERROR
const char* ncclGetLastError(ncclComm_t) { return "socketStartConnect: Connect to 10.0.0.2<43221> failed : Connection refused\n"; }
#endif

}  // extern "C"
