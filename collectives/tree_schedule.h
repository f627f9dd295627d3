// NCCL's double binary tree. Tree 0 is a binary tree over ranks in which every odd rank is
// a leaf; tree 1 mirrors it (even n) or shifts it by one (odd n), so a rank that is a leaf
// in one tree is an inner node in the other and both trees together use every link's
// bandwidth in both directions.
#pragma once

#include <array>

namespace sxcoll {

struct TreeNode {
  int parent = -1;                   // -1 at the root
  std::array<int, 2> children{-1, -1};  // -1 where absent
  int child_count() const { return (children[0] >= 0) + (children[1] >= 0); }
};

TreeNode binary_tree(int nranks, int rank);
std::array<TreeNode, 2> double_binary_tree(int nranks, int rank);

}  // namespace sxcoll
