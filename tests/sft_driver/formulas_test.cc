#include <gtest/gtest.h>

#include "sft_driver/formulas.h"

namespace sxcoll::sft {
namespace {

TEST(Formulas, Llama2_7bFlopsPerTokenMatchesTheWorkersReadme) {
  // N = 6,738,415,616 - 131,072,000 = 6,607,343,616; 32 layers, d 4096, T 4096.
  EXPECT_DOUBLE_EQ(model_flops_per_token(6607343616.0, 32, 4096, 4096), 46086512640.0);
}

TEST(Formulas, MfuByHand) {
  // 46.0865e9 FLOPs/token x 10,000 tokens/s/GPU x 2 GPUs / (2 x 989.4e12) = 0.465803...
  auto m = mfu(46086512640.0, 20000.0, 2, 989.4e12);
  ASSERT_TRUE(m);
  EXPECT_NEAR(*m, 46086512640.0 * 10000.0 / 989.4e12, 1e-12);
  EXPECT_NEAR(*m, 0.4658026, 1e-6);
}

TEST(Formulas, MfuUndefinedWithoutGpusOrPeak) {
  EXPECT_FALSE(mfu(1e9, 1e4, 0, 989.4e12));
  EXPECT_FALSE(mfu(1e9, 1e4, 8, std::nullopt));
}

TEST(Formulas, ScalingEfficiencyAndIdeal) {
  // 2 nodes x 8 GPUs at 3,000 tokens/s/GPU; 4 nodes at 2,700: 90 %; ideal at 32 GPUs 96,000.
  EXPECT_DOUBLE_EQ(scaling_efficiency(2700.0, 3000.0), 0.9);
  EXPECT_DOUBLE_EQ(ideal_throughput(3000.0, 32), 96000.0);
  EXPECT_DOUBLE_EQ(scaling_efficiency(5.0, 0.0), 0.0);
}

}  // namespace
}  // namespace sxcoll::sft
