// Slurm's host list expressions as Slurm prints them (SLURM_JOB_NODELIST, squeue), and the
// malformed ones that must be refused rather than guessed at.
#include <gtest/gtest.h>

#include "sft_driver/slurm_hostlist.h"
#include "transport/error.h"

namespace sxcoll::sft {
namespace {

using Names = std::vector<std::string>;

TEST(SlurmHostlist, TheSeedClusterWithItsGap) {
  EXPECT_EQ(expand_hostlist("fukushimadc-02-hgx-[0001-0007,0009]"),
            (Names{"fukushimadc-02-hgx-0001", "fukushimadc-02-hgx-0002", "fukushimadc-02-hgx-0003",
                   "fukushimadc-02-hgx-0004", "fukushimadc-02-hgx-0005", "fukushimadc-02-hgx-0006",
                   "fukushimadc-02-hgx-0007", "fukushimadc-02-hgx-0009"}));
  EXPECT_EQ(expand_hostlist("fukushimadc-02-hgx-[0001,0006-0007,0009]"),
            (Names{"fukushimadc-02-hgx-0001", "fukushimadc-02-hgx-0006", "fukushimadc-02-hgx-0007",
                   "fukushimadc-02-hgx-0009"}));
}

TEST(SlurmHostlist, PlainNamesListsAndSeveralGroups) {
  EXPECT_EQ(expand_hostlist("login1"), (Names{"login1"}));
  EXPECT_EQ(expand_hostlist("a,b[1-2],c"), (Names{"a", "b1", "b2", "c"}));
  EXPECT_EQ(expand_hostlist("gpu[8-10]"), (Names{"gpu8", "gpu9", "gpu10"}));
  EXPECT_EQ(expand_hostlist("r[1-2]n[01-02]"), (Names{"r1n01", "r1n02", "r2n01", "r2n02"}));
  EXPECT_EQ(expand_hostlist("x[07]-ib"), (Names{"x07-ib"}));
}

TEST(SlurmHostlist, MalformedIsAUsageErrorNamingTheList) {
  for (const std::string bad : {"", "a,,b", "n[1-", "n[3-1]", "n[a-b]", "n]1[", "n[1[2]]", "n[]"}) {
    try {
      expand_hostlist(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("host list '" + bad + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(SlurmHostlist, InventoryOfTheAllocation) {
  const auto inv = inventory_from_hostlist("n[1-2]", 0, "SLURM_JOB_NODELIST");
  ASSERT_EQ(inv.hosts.size(), 2u);
  EXPECT_EQ(inv.hosts[1].name, "n2");
  EXPECT_EQ(inv.hosts[1].address, "n2");
  EXPECT_EQ(inv.origin, "SLURM_JOB_NODELIST");
}

}  // namespace
}  // namespace sxcoll::sft
