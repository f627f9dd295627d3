#include "bench/collective.h"

namespace sxcoll::bench {

// One file per collective, as nccl-tests has them.
const CollectiveTest& allreduce_test();
const CollectiveTest& allgather_test();
const CollectiveTest& reduce_scatter_test();
const CollectiveTest& broadcast_test();
const CollectiveTest& reduce_test();
const CollectiveTest& alltoall_test();
const CollectiveTest& sendrecv_test();

const CollectiveTest& collective_test(Collective collective) {
  switch (collective) {
    case Collective::AllGather: return allgather_test();
    case Collective::ReduceScatter: return reduce_scatter_test();
    case Collective::Broadcast: return broadcast_test();
    case Collective::Reduce: return reduce_test();
    case Collective::AllToAll: return alltoall_test();
    case Collective::SendRecv: return sendrecv_test();
    case Collective::AllReduce: break;
  }
  return allreduce_test();
}

}  // namespace sxcoll::bench
