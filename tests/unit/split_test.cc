// Comma lists (transport/split.h): empty items are kept, so callers can name them as mistakes.
#include "transport/split.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sxcoll {
namespace {

using ::testing::ElementsAre;

TEST(SplitList, ItemsInOrder) {
  EXPECT_THAT(split_list("mlx5_0:1,mlx5_1:1"), ElementsAre("mlx5_0:1", "mlx5_1:1"));
  EXPECT_THAT(split_list("float"), ElementsAre("float"));
  EXPECT_THAT(split_list("a;b", ';'), ElementsAre("a", "b"));
}

TEST(SplitList, EmptyItemsAreKept) {
  EXPECT_THAT(split_list(""), ElementsAre(""));
  EXPECT_THAT(split_list("a,,b"), ElementsAre("a", "", "b"));
  EXPECT_THAT(split_list(",a,"), ElementsAre("", "a", ""));
}

}  // namespace
}  // namespace sxcoll
