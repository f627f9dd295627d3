// The peer that `sxcoll bench` is measured against on hosts without GPUs: MPI_Allreduce
// timed the way the bench times (barrier, n iterations, average over ranks), printed in
// the same columns. Build needs MPI; run it under mpirun, e.g. with `--mca btl tcp,self`.
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/size_parse.h"

namespace {

double time_allreduce(std::vector<float>& send, std::vector<float>& recv, size_t count, int iters, bool in_place) {
  MPI_Barrier(MPI_COMM_WORLD);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) {
    if (in_place)
      MPI_Allreduce(MPI_IN_PLACE, send.data(), static_cast<int>(count), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    else
      MPI_Allreduce(send.data(), recv.data(), static_cast<int>(count), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  }
  double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / iters;
  double sum = 0;
  MPI_Allreduce(&us, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return sum / n;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, n = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  size_t min_bytes = 8, max_bytes = size_t{64} << 20;
  int iters = 20, warmup = 5;
  try {
    for (int i = 1; i + 1 < argc; i += 2) {
      std::string flag = argv[i];
      if (flag == "-b") min_bytes = sxcoll::bench::parse_size(argv[i + 1], "-b");
      else if (flag == "-e") max_bytes = sxcoll::bench::parse_size(argv[i + 1], "-e");
      else if (flag == "-n") iters = std::atoi(argv[i + 1]);
      else if (flag == "-w") warmup = std::atoi(argv[i + 1]);
      else throw std::runtime_error("unknown flag " + flag + " (takes -b -e -n -w)");
    }
  } catch (const std::exception& e) {
    if (rank == 0) std::fprintf(stderr, "mpi_allreduce_perf: %s\n", e.what());
    MPI_Finalize();
    return 2;
  }
  std::vector<float> send(max_bytes / sizeof(float) + 1, 1.0f), recv(send.size());
  time_allreduce(send, recv, max_bytes / sizeof(float), warmup, false);
  const double factor = n > 1 ? 2.0 * (n - 1) / n : 0.0;
  if (rank == 0) {
    std::printf("# MPI_Allreduce, float sum, %d ranks; time averaged over ranks\n", n);
    std::printf("# %10s  %12s  %7s  %6s  %6s  %7s  %6s  %6s\n", "size", "count", "time", "algbw", "busbw", "time",
                "algbw", "busbw");
    std::printf("# %10s  %12s  %7s  %6s  %6s  %7s  %6s  %6s\n", "(B)", "(elements)", "(us)", "(GB/s)", "(GB/s)",
                "(us)", "(GB/s)", "(GB/s)");
  }
  for (size_t bytes = min_bytes; bytes <= max_bytes; bytes *= 2) {
    size_t count = bytes / sizeof(float);
    double oop = time_allreduce(send, recv, count, iters, false);
    double ip = time_allreduce(send, recv, count, iters, true);
    if (rank == 0)
      std::printf("%12zu  %12zu  %7.1f  %6.2f  %6.2f  %7.1f  %6.2f  %6.2f\n", count * sizeof(float), count, oop,
                  count * 4 / oop / 1e3, count * 4 / oop / 1e3 * factor, ip, count * 4 / ip / 1e3,
                  count * 4 / ip / 1e3 * factor);
    if (bytes == 0) break;
  }
  MPI_Finalize();
  return 0;
}
