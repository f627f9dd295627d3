// The double binary tree's shape: two spanning trees of every world size, each with one
// root, parent and child links that agree, shallow, NCCL's exact layout, and no rank a leaf
// in both. Also the link numbering the tree programs and the executor share.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <vector>

#include <fmt/core.h>

#include "collectives/allreduce_tree.h"
#include "collectives/tree_schedule.h"

namespace sxcoll {
namespace {

std::vector<int> world_sizes() {
  std::vector<int> sizes;
  for (int n = 1; n <= 64; ++n) sizes.push_back(n);
  for (int n : {65, 96, 100, 127, 128, 129, 255, 256, 257, 1000}) sizes.push_back(n);
  return sizes;
}

// All ranks' nodes of tree `t` (0 or 1).
std::vector<TreeNode> tree(int n, size_t t) {
  std::vector<TreeNode> nodes;
  for (int r = 0; r < n; ++r) nodes.push_back(double_binary_tree(n, r)[t]);
  return nodes;
}

int ceil_log2(int n) {
  int d = 0;
  while ((1 << d) < n) ++d;
  return d;
}

// NCCL's ncclGetBtree (src/graph/trees.cc), transcribed as the reference: note its loop
// recomputes down1 before halving lowbit.
TreeNode nccl_btree(int nranks, int rank) {
  TreeNode node;
  int bit;
  for (bit = 1; bit < nranks; bit <<= 1)
    if (bit & rank) break;
  if (rank == 0) {
    node.parent = -1;
    node.children = {-1, nranks > 1 ? bit >> 1 : -1};
    return node;
  }
  int up = (rank ^ bit) | (bit << 1);
  if (up >= nranks) up = rank ^ bit;
  node.parent = up;
  int lowbit = bit >> 1;
  node.children[0] = lowbit == 0 ? -1 : rank - lowbit;
  int down1 = lowbit == 0 ? -1 : rank + lowbit;
  while (down1 >= nranks) {
    down1 = lowbit == 0 ? -1 : rank + lowbit;
    lowbit >>= 1;
  }
  node.children[1] = down1;
  return node;
}

TEST(TreeShape, BothTreesSpanTheWorldWithConsistentLinks) {
  for (int n : world_sizes()) {
    for (size_t t = 0; t < 2; ++t) {
      SCOPED_TRACE(fmt::format("n {} tree {}", n, t));
      const auto nodes = tree(n, t);
      int roots = 0;
      size_t edges = 0;
      for (int r = 0; r < n; ++r) {
        const TreeNode& node = nodes[static_cast<size_t>(r)];
        if (node.parent < 0) {
          ++roots;
        } else {
          ASSERT_LT(node.parent, n) << "rank " << r;
          ASSERT_NE(node.parent, r) << "rank " << r;
          // The parent lists r as a child.
          const auto& siblings = nodes[static_cast<size_t>(node.parent)].children;
          EXPECT_EQ(std::count(siblings.begin(), siblings.end(), r), 1) << "rank " << r << " parent " << node.parent;
          ++edges;
        }
        EXPECT_EQ(node.child_count(), (node.children[0] >= 0) + (node.children[1] >= 0));
        for (int child : node.children) {
          if (child < 0) continue;
          ASSERT_LT(child, n) << "rank " << r;
          EXPECT_NE(child, r) << "rank " << r;
          EXPECT_NE(child, node.parent) << "rank " << r;
          EXPECT_EQ(nodes[static_cast<size_t>(child)].parent, r) << "rank " << r << " child " << child;
        }
        if (node.children[0] >= 0 && node.children[1] >= 0) {
          EXPECT_NE(node.children[0], node.children[1]) << "rank " << r;
        }
      }
      EXPECT_EQ(roots, 1);
      EXPECT_EQ(edges, static_cast<size_t>(n - 1));
      // Every rank reaches the root, in at most ceil(log2 n) hops (no cycle, shallow).
      for (int r = 0; r < n; ++r) {
        int hops = 0;
        int at = r;
        while (nodes[static_cast<size_t>(at)].parent >= 0 && hops <= n) {
          at = nodes[static_cast<size_t>(at)].parent;
          ++hops;
        }
        EXPECT_LT(hops, n) << "rank " << r << " is on a cycle";
        EXPECT_LE(hops, ceil_log2(n)) << "rank " << r;
      }
    }
  }
}

TEST(TreeShape, TreeZeroIsNcclsBinaryTree) {
  for (int n : world_sizes()) {
    for (int r = 0; r < n; ++r) {
      const TreeNode ours = binary_tree(n, r);
      const TreeNode nccl = nccl_btree(n, r);
      EXPECT_EQ(ours.parent, nccl.parent) << "n " << n << " rank " << r;
      EXPECT_EQ(ours.children, nccl.children) << "n " << n << " rank " << r;
      const TreeNode first = double_binary_tree(n, r)[0];
      EXPECT_EQ(first.parent, ours.parent) << "n " << n << " rank " << r;
      EXPECT_EQ(first.children, ours.children) << "n " << n << " rank " << r;
      // An in-order tree: smaller ranks on the left, larger on the right.
      if (ours.children[0] >= 0) {
        EXPECT_LT(ours.children[0], r) << "n " << n;
      }
      if (ours.children[1] >= 0) {
        EXPECT_GT(ours.children[1], r) << "n " << n;
      }
    }
  }
}

TEST(TreeShape, TreeOneMirrorsEvenWorldsAndShiftsOddOnes) {
  for (int n : world_sizes()) {
    auto map = [](int x, auto f) { return x < 0 ? -1 : f(x); };
    for (int r = 0; r < n; ++r) {
      const TreeNode second = double_binary_tree(n, r)[1];
      auto f = [n](int x) { return n % 2 == 0 ? n - 1 - x : (x + 1) % n; };
      const TreeNode base = nccl_btree(n, n % 2 == 0 ? n - 1 - r : (r - 1 + n) % n);
      EXPECT_EQ(second.parent, map(base.parent, f)) << "n " << n << " rank " << r;
      EXPECT_EQ(second.children[0], map(base.children[0], f)) << "n " << n << " rank " << r;
      EXPECT_EQ(second.children[1], map(base.children[1], f)) << "n " << n << " rank " << r;
    }
  }
}

// What holds exactly: tree 0's leaves are the odd ranks; tree 1's are the even ranks (even
// n) or the even ranks but 0 (odd n). So no rank is a leaf in both trees, and for even n
// every rank is a leaf in exactly one; for odd n rank 0 is an inner node of both.
TEST(TreeShape, NoRankIsALeafInBothTrees) {
  for (int n : world_sizes()) {
    if (n < 2) continue;  // one rank: no tree to speak of
    for (int r = 0; r < n; ++r) {
      const auto trees = double_binary_tree(n, r);
      const bool leaf0 = trees[0].child_count() == 0;
      const bool leaf1 = trees[1].child_count() == 0;
      EXPECT_EQ(leaf0, r % 2 == 1) << "n " << n << " rank " << r;
      EXPECT_FALSE(leaf0 && leaf1) << "n " << n << " rank " << r;
      if (n % 2 == 0 || r != 0) {
        EXPECT_NE(leaf0, leaf1) << "n " << n << " rank " << r << ": a leaf in exactly one tree";
      } else {
        EXPECT_TRUE(!leaf0 && !leaf1) << "n " << n << ": rank 0 is inner in both";
      }
    }
  }
}

TEST(TreeShape, TheTwoTreesDiffer) {
  for (int n : world_sizes()) {
    if (n < 2) continue;  // one rank: both trees are the rank alone
    SCOPED_TRACE(fmt::format("n {}", n));
    const auto t0 = tree(n, 0);
    const auto t1 = tree(n, 1);
    int root0 = -1, root1 = -1;
    for (int r = 0; r < n; ++r) {
      if (t0[static_cast<size_t>(r)].parent < 0) root0 = r;
      if (t1[static_cast<size_t>(r)].parent < 0) root1 = r;
    }
    EXPECT_EQ(root0, 0);
    EXPECT_EQ(root1, n % 2 == 0 ? n - 1 : 1);
    EXPECT_NE(root0, root1);
    // The root has one child (NCCL's root is a chain link, not a fork).
    EXPECT_EQ(t0[0].child_count(), 1);
    EXPECT_EQ(t1[static_cast<size_t>(root1)].child_count(), 1);
    // Different trees, not only different roots: the child-to-parent links differ.
    std::set<std::pair<int, int>> up0, up1;
    for (int r = 0; r < n; ++r) {
      up0.insert({r, t0[static_cast<size_t>(r)].parent});
      up1.insert({r, t1[static_cast<size_t>(r)].parent});
    }
    EXPECT_NE(up0, up1);
  }
}

TEST(TreeShape, TwelveRanksAsNcclDrawsThem) {
  // Tree 0: 0 -> 8; 8 -> 4, 10; 4 -> 2, 6; 10 -> 9, 11; 2 -> 1, 3; 6 -> 5, 7.
  const std::array<std::pair<int, std::array<int, 2>>, 12> expected = {{
      {-1, {-1, 8}},
      {2, {-1, -1}},
      {4, {1, 3}},
      {2, {-1, -1}},
      {8, {2, 6}},
      {6, {-1, -1}},
      {4, {5, 7}},
      {6, {-1, -1}},
      {0, {4, 10}},
      {10, {-1, -1}},
      {8, {9, 11}},
      {10, {-1, -1}},
  }};
  for (int r = 0; r < 12; ++r) {
    const TreeNode node = double_binary_tree(12, r)[0];
    EXPECT_EQ(node.parent, expected[static_cast<size_t>(r)].first) << "rank " << r;
    EXPECT_EQ(node.children, expected[static_cast<size_t>(r)].second) << "rank " << r;
  }
  // Tree 1 is the mirror: 11 -> 3; 3 -> 7, 1; 7 -> 9, 5.
  EXPECT_EQ(double_binary_tree(12, 11)[1].children, (std::array<int, 2>{-1, 3}));
  EXPECT_EQ(double_binary_tree(12, 3)[1].children, (std::array<int, 2>{7, 1}));
  EXPECT_EQ(double_binary_tree(12, 7)[1].children, (std::array<int, 2>{9, 5}));
  EXPECT_EQ(double_binary_tree(12, 3)[1].parent, 11);
}

TEST(TreeShape, SingleRankIsARootAlone) {
  for (const TreeNode& node : double_binary_tree(1, 0)) {
    EXPECT_EQ(node.parent, -1);
    EXPECT_EQ(node.child_count(), 0);
  }
}

TEST(TreeLinks, ChildrenFirstOnTheWayInParentFirstOnTheWayOut) {
  TreeNode inner;
  inner.parent = 8;
  inner.children = {2, 6};
  TreeLinks links = TreeLinks::of(inner);
  EXPECT_EQ(links.in_peers, (std::vector<int>{2, 6, 8}));
  EXPECT_EQ(links.out_peers, (std::vector<int>{8, 2, 6}));
  EXPECT_EQ(links.nchildren, 2);
  EXPECT_TRUE(links.has_parent);

  TreeNode root;  // NCCL's root: only the second child slot is used
  root.children = {-1, 8};
  links = TreeLinks::of(root);
  EXPECT_EQ(links.in_peers, (std::vector<int>{8}));
  EXPECT_EQ(links.out_peers, (std::vector<int>{8}));
  EXPECT_EQ(links.nchildren, 1);
  EXPECT_FALSE(links.has_parent);

  TreeNode leaf;
  leaf.parent = 3;
  links = TreeLinks::of(leaf);
  EXPECT_EQ(links.in_peers, (std::vector<int>{3}));
  EXPECT_EQ(links.out_peers, (std::vector<int>{3}));
  EXPECT_EQ(links.nchildren, 0);
}

TEST(TreeProgramSteps, UseTheLinksTheirNumberingPromises) {
  // Inner node: up folds both children (in 0, 1) and sends to the parent (out 0); down
  // takes the parent's (in 2) and sends to both children (out 1, 2).
  TreeNode inner;
  inner.parent = 8;
  inner.children = {2, 6};
  TreeUpProgram up(inner, Range{100, 50}, 16);
  TreeDownProgram down(inner, Range{100, 50}, 16);
  ASSERT_EQ(up.size(), 4u);
  ASSERT_EQ(down.size(), 4u);
  Step s = up.at(3);
  EXPECT_EQ(s.offset, 148u);
  EXPECT_EQ(s.count, 2u);
  EXPECT_EQ(s.nrecv, 2);
  EXPECT_EQ(s.recv[0], 0);
  EXPECT_EQ(s.recv[1], 1);
  EXPECT_TRUE(s.with_input);
  EXPECT_FALSE(s.send_input);
  EXPECT_EQ(s.nsend, 1);
  EXPECT_EQ(s.send[0], 0);
  EXPECT_FALSE(s.finalize);
  s = down.at(1);
  EXPECT_EQ(s.offset, 116u);
  EXPECT_EQ(s.count, 16u);
  EXPECT_EQ(s.nrecv, 1);
  EXPECT_EQ(s.recv[0], 2);
  EXPECT_EQ(s.nsend, 2);
  EXPECT_EQ(s.send[0], 1);
  EXPECT_EQ(s.send[1], 2);
  EXPECT_EQ(s.after, -1);

  // Root: up finalizes, sends nothing; down waits for up's same step and has no parent link.
  TreeNode root;
  root.children = {-1, 8};
  TreeUpProgram rup(root, Range{0, 10}, 4);
  TreeDownProgram rdown(root, Range{0, 10}, 4);
  s = rup.at(2);
  EXPECT_TRUE(s.finalize);
  EXPECT_EQ(s.nsend, 0);
  EXPECT_EQ(s.nrecv, 1);
  s = rdown.at(2);
  EXPECT_EQ(s.after, 2);
  EXPECT_EQ(s.nrecv, 0);
  EXPECT_EQ(s.nsend, 1);
  EXPECT_EQ(s.send[0], 0);

  // Leaf: up sends its input as it is; down only receives.
  TreeNode leaf;
  leaf.parent = 3;
  s = TreeUpProgram(leaf, Range{0, 10}, 4).at(0);
  EXPECT_TRUE(s.send_input);
  EXPECT_EQ(s.nrecv, 0);
  EXPECT_EQ(s.nsend, 1);
  s = TreeDownProgram(leaf, Range{0, 10}, 4).at(0);
  EXPECT_EQ(s.nrecv, 1);
  EXPECT_EQ(s.recv[0], 0);
  EXPECT_EQ(s.nsend, 0);
}

}  // namespace
}  // namespace sxcoll
