// Correctness data of the bench harness: what each rank puts in its allreduce input,
// and how the result is checked (nccl-tests' -c, for sxcoll's engines and NCCL alike).
//
// Element i of every rank belongs to one of 4096 "windows", by a hash of i / 64 plus
// i mod 64; the value of rank r at element i is a pseudo-random function of (window, r).
// So a chunk at the wrong offset lands in other windows, and a rank counted twice or
// missing changes the result. The values are exactly representable in the type and chosen so that every
// partial result of sum, prod, min and max is exact in any reduction order (up to 64
// ranks, the cluster's size): those results, like integer results, must match
// bit for bit. Only float avg rounds, in its last step (or, in NCCL, in every step).
#pragma once

#include <cstddef>
#include <string>

#include "collectives/dtype.h"

namespace sxcoll::bench {

// Writes rank's input of an allreduce over nranks ranks (count elements of type). With
// `first`, the elements [first, first + count) of a longer input: what a reduce-scatter's
// block holds, or an alltoall's block for one peer.
void fill_allreduce_input(void* buf, size_t count, DataType type, RedOp op, int rank, int nranks, size_t first = 0);

// Number of elements of an allreduce result that differ from the expected value:
// the fold of all nranks inputs with reduce()'s arithmetic (wraparound, rounding after
// each operation, finalize_avg for avg); exact for integer types, for float types
// within check_tolerance(type, op) * max(1, |expected|). With `first`, the elements
// [first, first + count) of the result (a reduce-scatter's block).
size_t count_allreduce_errors(const void* buf, size_t count, DataType type, RedOp op, int nranks, size_t first = 0);

// The collectives that only move data (allgather, broadcast, alltoall, sendrecv): rank's
// data, elements [first, first + count) of it, and how many elements of `buf` differ
// from it, exactly.
void fill_rank_data(void* buf, size_t count, DataType type, int rank, int nranks, size_t first = 0);
size_t count_rank_data_errors(const void* buf, size_t count, DataType type, int rank, int nranks, size_t first = 0);

// 0 for integer types and for float sum/prod/min/max; the avg allowance otherwise.
double check_tolerance(DataType type, RedOp op);

// One line for the bench header that states the rule above with its tolerances.
std::string describe_check();

}  // namespace sxcoll::bench
