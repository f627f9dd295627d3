// sxcoll's values in NCCL's terms and back: element types and operators, the version
// code, and the unique id as text for the bootstrap. Pure functions, no NCCL needed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "bench/nccl/nccl_api.h"
#include "collectives/dtype.h"

namespace sxcoll::bench::nccl {

ncclDataType_t to_nccl(DataType type);
ncclRedOp_t to_nccl(RedOp op);

// ncclGetVersion's code as "2.28.9". NCCL encodes major*10000 + minor*100 + patch since
// 2.9, and major*1000 + minor*100 + patch before (its NCCL_VERSION macro).
std::string version_text(int code);

// The 128 bytes of a unique id as 256 lowercase hex digits, and back (nullopt unless the
// text is exactly that).
std::string to_hex(const ncclUniqueId& id);
std::optional<ncclUniqueId> unique_id_from_hex(std::string_view hex);

}  // namespace sxcoll::bench::nccl
