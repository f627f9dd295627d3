// The peer of `sxcoll bench --coll X` on hosts without GPUs: OpenMPI's counterpart of each
// collective (MPI_Allreduce, MPI_Allgather, MPI_Reduce_scatter_block, MPI_Bcast,
// MPI_Reduce, MPI_Alltoall, MPI_Sendrecv to the next rank), float sum, with the counts,
// sizes and busbw factors of the bench's own plug-ins (bench/collective.h) and timed the
// way the bench times (barrier, n iterations, average over ranks), in mpi_allreduce_perf's
// columns. In place as MPI defines MPI_IN_PLACE for each. Run it under mpirun.
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/collective.h"
#include "bench/size_parse.h"

namespace {

using sxcoll::Collective;
using sxcoll::bench::CollCounts;

struct Buffers {
  std::vector<float> send, recv;
};

void call(Collective coll, Buffers& b, const CollCounts& c, bool in_place, int rank, int n, int root) {
  const int count = static_cast<int>(c.param);
  float* send = b.send.data();
  float* recv = b.recv.data();
  const void* in = in_place ? MPI_IN_PLACE : send;
  switch (coll) {
    case Collective::AllReduce:
      MPI_Allreduce(in, recv, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
      break;
    case Collective::AllGather:
      MPI_Allgather(in, count, MPI_FLOAT, recv, count, MPI_FLOAT, MPI_COMM_WORLD);
      break;
    case Collective::ReduceScatter:
      MPI_Reduce_scatter_block(in, recv, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
      break;
    case Collective::Broadcast:
      MPI_Bcast(rank == root ? send : recv, count, MPI_FLOAT, root, MPI_COMM_WORLD);
      break;
    case Collective::Reduce:
      MPI_Reduce(in_place && rank == root ? MPI_IN_PLACE : send, recv, count, MPI_FLOAT, MPI_SUM, root,
                 MPI_COMM_WORLD);
      break;
    case Collective::AllToAll:
      MPI_Alltoall(in, count, MPI_FLOAT, recv, count, MPI_FLOAT, MPI_COMM_WORLD);
      break;
    case Collective::SendRecv:
      if (in_place)
        MPI_Sendrecv_replace(recv, count, MPI_FLOAT, (rank + 1) % n, 0, (rank + n - 1) % n, 0, MPI_COMM_WORLD,
                             MPI_STATUS_IGNORE);
      else
        MPI_Sendrecv(send, count, MPI_FLOAT, (rank + 1) % n, 0, recv, count, MPI_FLOAT, (rank + n - 1) % n, 0,
                     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      break;
  }
}

double time_calls(Collective coll, Buffers& b, const CollCounts& c, int iters, bool in_place, int rank, int n,
                  int root) {
  MPI_Barrier(MPI_COMM_WORLD);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) call(coll, b, c, in_place, rank, n, root);
  double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / iters;
  double sum = 0;
  MPI_Allreduce(&us, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  return sum / n;
}

const char* mpi_name(Collective coll) {
  switch (coll) {
    case Collective::AllReduce: return "MPI_Allreduce";
    case Collective::AllGather: return "MPI_Allgather";
    case Collective::ReduceScatter: return "MPI_Reduce_scatter_block";
    case Collective::Broadcast: return "MPI_Bcast";
    case Collective::Reduce: return "MPI_Reduce";
    case Collective::AllToAll: return "MPI_Alltoall";
    case Collective::SendRecv: return "MPI_Sendrecv";
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, n = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  size_t min_bytes = 8, max_bytes = size_t{64} << 20;
  int iters = 20, warmup = 5, root = 0;
  Collective coll = Collective::AllReduce;
  try {
    for (int i = 1; i + 1 < argc; i += 2) {
      std::string flag = argv[i];
      if (flag == "-b") min_bytes = sxcoll::bench::parse_size(argv[i + 1], "-b");
      else if (flag == "-e") max_bytes = sxcoll::bench::parse_size(argv[i + 1], "-e");
      else if (flag == "-n") iters = std::atoi(argv[i + 1]);
      else if (flag == "-w") warmup = std::atoi(argv[i + 1]);
      else if (flag == "-r") root = std::atoi(argv[i + 1]);
      else if (flag == "--coll") {
        auto c = sxcoll::parse_collective(argv[i + 1]);
        if (!c) throw std::runtime_error(std::string("--coll '") + argv[i + 1] + "': unknown");
        coll = *c;
      } else {
        throw std::runtime_error("unknown flag " + flag + " (takes --coll -b -e -n -w -r)");
      }
    }
    if (min_bytes == 0 || min_bytes > max_bytes) throw std::runtime_error("-b must be positive and at most -e");
    if (root < 0 || root >= n) throw std::runtime_error("-r: not a rank");
  } catch (const std::exception& e) {
    if (rank == 0) std::fprintf(stderr, "mpi_coll_perf: %s\n", e.what());
    MPI_Finalize();
    return 2;
  }
  const sxcoll::bench::CollectiveTest& test = sxcoll::bench::collective_test(coll);
  Buffers b{std::vector<float>(max_bytes / sizeof(float) + 16, 1.0f), std::vector<float>(max_bytes / sizeof(float) + 16)};
  time_calls(coll, b, test.counts(max_bytes / sizeof(float), sizeof(float), n), warmup, false, rank, n, root);
  const double factor = test.bus_factor(n);
  if (rank == 0) {
    std::printf("# %s, float sum, %d ranks, root %d; time averaged over ranks\n", mpi_name(coll), n, root);
    std::printf("# %10s  %12s  %7s  %6s  %6s  %7s  %6s  %6s\n", "size", "count", "time", "algbw", "busbw", "time",
                "algbw", "busbw");
    std::printf("# %10s  %12s  %7s  %6s  %6s  %7s  %6s  %6s\n", "(B)", "(elements)", "(us)", "(GB/s)", "(GB/s)",
                "(us)", "(GB/s)", "(GB/s)");
  }
  for (size_t bytes = min_bytes; bytes <= max_bytes; bytes *= 2) {
    const CollCounts c = test.counts(bytes / sizeof(float), sizeof(float), n);
    const double size = static_cast<double>(std::max(c.send, c.recv) * sizeof(float));
    const double oop = time_calls(coll, b, c, iters, false, rank, n, root);
    const double ip = time_calls(coll, b, c, iters, true, rank, n, root);
    if (rank == 0)
      std::printf("%12.0f  %12zu  %7.1f  %6.2f  %6.2f  %7.1f  %6.2f  %6.2f\n", size, c.param, oop, size / oop / 1e3,
                  size / oop / 1e3 * factor, ip, size / ip / 1e3, size / ip / 1e3 * factor);
  }
  MPI_Finalize();
  return 0;
}
