#include "collectives/tree_schedule.h"

namespace sxcoll {

// As ncclGetBtree: a rank's lowest set bit gives its level; its parent clears that bit and
// sets the next one (or only clears it, near the top of a non-power-of-two tree).
TreeNode binary_tree(int n, int rank) {
  TreeNode node;
  int bit = 1;
  while (bit < n && (bit & rank) == 0) bit <<= 1;
  if (rank == 0) {
    node.children[1] = n > 1 ? bit >> 1 : -1;
    return node;
  }
  int up = (rank ^ bit) | (bit << 1);
  if (up >= n) up = rank ^ bit;
  node.parent = up;
  int lowbit = bit >> 1;
  node.children[0] = lowbit == 0 ? -1 : rank - lowbit;
  int down1 = lowbit == 0 ? -1 : rank + lowbit;
  while (down1 >= n) {
    lowbit >>= 1;
    down1 = lowbit == 0 ? -1 : rank + lowbit;
  }
  node.children[1] = down1;
  return node;
}

std::array<TreeNode, 2> double_binary_tree(int n, int rank) {
  TreeNode first = binary_tree(n, rank);
  TreeNode second;
  auto map = [](int r, auto f) { return r < 0 ? -1 : f(r); };
  if (n % 2 == 1) {
    auto shift = [n](int r) { return (r + 1) % n; };
    TreeNode t = binary_tree(n, (rank - 1 + n) % n);
    second.parent = map(t.parent, shift);
    second.children = {map(t.children[0], shift), map(t.children[1], shift)};
  } else {
    auto mirror = [n](int r) { return n - 1 - r; };
    TreeNode t = binary_tree(n, n - 1 - rank);
    second.parent = map(t.parent, mirror);
    second.children = {map(t.children[0], mirror), map(t.children[1], mirror)};
  }
  return {first, second};
}

}  // namespace sxcoll
