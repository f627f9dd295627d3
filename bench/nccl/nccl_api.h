// The part of NCCL's C ABI that sxcoll calls, declared here so that sxcoll builds without
// nccl.h and loads libnccl at run time (bench/nccl/nccl_library.h).
//
// Checked against NCCL's own header, src/nccl.h.in of NVIDIA/nccl (as of commit 021e804):
// ncclUniqueId is `struct { char internal[NCCL_UNIQUE_ID_BYTES = 128]; }`, ncclComm_t is
// `struct ncclComm*`, and the enum values below are NCCL's. These are ABI: NCCL keeps them
// across releases (new values are only ever appended), so a mismatch would be a bug here.
// cudaStream_t is `struct CUstream_st*` in CUDA's headers; a plain pointer has the same ABI.
#pragma once

#include <cstddef>

namespace sxcoll::bench::nccl {

inline constexpr size_t kUniqueIdBytes = 128;
struct ncclUniqueId {
  char internal[kUniqueIdBytes];
};

struct ncclComm;
using ncclComm_t = ncclComm*;
using Stream = void*;  // cudaStream_t

enum ncclResult_t : int {
  ncclSuccess = 0,
  ncclUnhandledCudaError = 1,
  ncclSystemError = 2,
  ncclInternalError = 3,
  ncclInvalidArgument = 4,
  ncclInvalidUsage = 5,
  ncclRemoteError = 6,
  ncclInProgress = 7,
  ncclTimeout = 8,
};

enum ncclDataType_t : int {
  ncclInt8 = 0,
  ncclUint8 = 1,
  ncclInt32 = 2,
  ncclUint32 = 3,
  ncclInt64 = 4,
  ncclUint64 = 5,
  ncclFloat16 = 6,
  ncclFloat32 = 7,
  ncclFloat64 = 8,
  ncclBfloat16 = 9,  // NCCL 2.10 and later
};

enum ncclRedOp_t : int {
  ncclSum = 0,
  ncclProd = 1,
  ncclMax = 2,
  ncclMin = 3,
  ncclAvg = 4,  // NCCL 2.10 and later
};

// The entry points, resolved by name from the loaded library.
struct Api {
  ncclResult_t (*ncclGetVersion)(int* version);
  ncclResult_t (*ncclGetUniqueId)(ncclUniqueId* id);
  ncclResult_t (*ncclCommInitRank)(ncclComm_t* comm, int nranks, ncclUniqueId id, int rank);
  ncclResult_t (*ncclAllReduce)(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t type,
                                ncclRedOp_t op, ncclComm_t comm, Stream stream);
  ncclResult_t (*ncclAllGather)(const void* sendbuff, void* recvbuff, size_t sendcount, ncclDataType_t type,
                                ncclComm_t comm, Stream stream);
  ncclResult_t (*ncclReduceScatter)(const void* sendbuff, void* recvbuff, size_t recvcount, ncclDataType_t type,
                                    ncclRedOp_t op, ncclComm_t comm, Stream stream);
  ncclResult_t (*ncclBroadcast)(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t type, int root,
                                ncclComm_t comm, Stream stream);
  ncclResult_t (*ncclReduce)(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t type, ncclRedOp_t op,
                             int root, ncclComm_t comm, Stream stream);
  ncclResult_t (*ncclGroupStart)();
  ncclResult_t (*ncclGroupEnd)();
  // NCCL 2.7 and later; null before (alltoall and sendrecv then fail with that reason).
  ncclResult_t (*ncclSend)(const void* sendbuff, size_t count, ncclDataType_t type, int peer, ncclComm_t comm,
                           Stream stream);
  ncclResult_t (*ncclRecv)(void* recvbuff, size_t count, ncclDataType_t type, int peer, ncclComm_t comm,
                           Stream stream);
  ncclResult_t (*ncclCommDestroy)(ncclComm_t comm);
  ncclResult_t (*ncclCommAbort)(ncclComm_t comm);
  ncclResult_t (*ncclCommGetAsyncError)(ncclComm_t comm, ncclResult_t* async_error);
  const char* (*ncclGetErrorString)(ncclResult_t result);
  const char* (*ncclGetLastError)(ncclComm_t comm);  // null before NCCL 2.13
};

}  // namespace sxcoll::bench::nccl
