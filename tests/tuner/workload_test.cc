// Which sizes count and how: --sizes lists and ranges, the training workloads, the score.
#include "tuner/workload.h"

#include <cmath>

#include <gtest/gtest.h>

#include "transport/error.h"

namespace sxcoll::tune {
namespace {

std::vector<size_t> bytes(const Workload& w) {
  std::vector<size_t> out;
  for (const auto& s : w.sizes) out.push_back(s.bytes);
  return out;
}

TEST(Workload, SizesListAndRange) {
  Workload list = parse_sizes("1M,64K,256K");
  EXPECT_EQ(bytes(list), (std::vector<size_t>{64 << 10, 256 << 10, 1 << 20}));
  EXPECT_EQ(list.aggregate, Aggregate::Geometric);
  EXPECT_DOUBLE_EQ(list.sizes[0].weight, 1.0 / 3);
  Workload range = parse_sizes("64K..1M");
  EXPECT_EQ(bytes(range), (std::vector<size_t>{64 << 10, 128 << 10, 256 << 10, 512 << 10, 1 << 20}));
  EXPECT_EQ(range.min_bytes(), size_t{64} << 10);
  EXPECT_EQ(range.max_bytes(), size_t{1} << 20);
}

TEST(Workload, SizesTheSweepCannotHitAreRefused) {
  EXPECT_THROW(parse_sizes("64K,100K"), UsageError);
  EXPECT_THROW(parse_sizes("64K,,1M"), UsageError);
  EXPECT_THROW(parse_sizes("1M..64K"), UsageError);
  EXPECT_THROW(parse_sizes("4"), UsageError);
  EXPECT_THROW(parse_sizes("12Q"), UsageError);
}

TEST(Workload, FsdpWeightsUnitsByTheBytesTheyMove) {
  // Llama-2 7B: a decoder layer is 202.4 M parameters = 404.8 MB of bf16, the root unit
  // (embeddings and lm_head) 524.3 MB: both are swept at 512M.
  Workload w = named_workload("fsdp:7b");
  EXPECT_EQ(w.aggregate, Aggregate::Harmonic);
  ASSERT_EQ(bytes(w), (std::vector<size_t>{512 << 20}));
  EXPECT_DOUBLE_EQ(w.sizes[0].weight, 1);
  EXPECT_NE(w.sizes[0].note.find("decoder layer 404.8 MB as 512M"), std::string::npos) << w.sizes[0].note;
  EXPECT_NE(w.sizes[0].note.find("root unit 524.3 MB as 512M"), std::string::npos) << w.sizes[0].note;
  // 70B: layers of 1.71 GB (2G), the root 1.05 GB (1G).
  EXPECT_EQ(bytes(named_workload("fsdp:70b")), (std::vector<size_t>{size_t{1} << 30, size_t{2} << 30}));
}

TEST(Workload, ZeroAndDdpBuckets) {
  EXPECT_EQ(bytes(named_workload("zero3:7b")), (std::vector<size_t>{32 << 20}));  // hidden^2 bf16 = 33.5 MB
  EXPECT_EQ(bytes(named_workload("zero3:llama2-70b")), (std::vector<size_t>{128 << 20}));
  Workload ddp = named_workload("ddp:13b");
  EXPECT_EQ(bytes(ddp), (std::vector<size_t>{1 << 20, 32 << 20}));  // first bucket, 25 MiB buckets
  EXPECT_LT(ddp.sizes[0].weight, 1e-4);
  EXPECT_THROW(named_workload("fsdp:8b"), UsageError);
  EXPECT_THROW(named_workload("megatron:7b"), UsageError);
}

TEST(Workload, ScoreIsTheGeometricOrTheHarmonicMean) {
  const std::vector<SizeSample> samples{{1024, 2, 1, "ring"}, {2048, 8, 1, "ring"}};
  Workload sizes = parse_sizes("1K,2K");
  EXPECT_NEAR(workload_busbw(sizes, samples), 4, 1e-12);  // sqrt(2 x 8)
  Workload time = sizes;
  time.aggregate = Aggregate::Harmonic;
  EXPECT_NEAR(workload_busbw(time, samples), 2 / (0.5 + 0.125), 1e-12);  // bytes / time
  EXPECT_EQ(workload_busbw(parse_sizes("1K,4K"), samples), 0);           // 4K missing
}

}  // namespace
}  // namespace sxcoll::tune
