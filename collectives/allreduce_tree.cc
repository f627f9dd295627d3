#include "collectives/allreduce_tree.h"

#include <algorithm>

namespace sxcoll {

TreeLinks TreeLinks::of(const TreeNode& node) {
  TreeLinks links;
  if (node.parent >= 0) links.out_peers.push_back(node.parent);
  for (int child : node.children) {
    if (child < 0) continue;
    links.in_peers.push_back(child);
    links.out_peers.push_back(child);
    ++links.nchildren;
  }
  if (node.parent >= 0) links.in_peers.push_back(node.parent);
  links.has_parent = node.parent >= 0;
  return links;
}

Step TreeProgram::chunk_step(size_t index) const {
  const size_t begin = index * chunk_;
  Step step;
  step.offset = slice_.offset + begin;
  step.count = std::min(chunk_, slice_.count - begin);
  return step;
}

Step TreeUpProgram::at(size_t index) const {
  Step step = chunk_step(index);
  // A binary tree: at most two children, which is all a Step holds (the bound also tells
  // g++ 13's -Wstringop-overflow so).
  const size_t children = std::min<size_t>(static_cast<size_t>(links_.nchildren), step.recv.size());
  step.nrecv = static_cast<uint8_t>(children);
  for (size_t c = 0; c < children; ++c) step.recv[c] = static_cast<uint8_t>(c);
  if (links_.nchildren == 0) {
    step.send_input = true;  // a leaf's contribution is its input
  } else {
    step.with_input = true;
  }
  if (links_.has_parent) {
    step.nsend = 1;
    step.send[0] = 0;
  } else {
    step.finalize = true;  // the root holds the sum of everyone
  }
  return step;
}

Step TreeDownProgram::at(size_t index) const {
  Step step = chunk_step(index);
  if (links_.has_parent) {
    step.nrecv = 1;
    step.recv[0] = static_cast<uint8_t>(links_.nchildren);  // the parent's in-link follows the children's
  } else {
    step.after = static_cast<int64_t>(index);  // the root sends what its up program finished
  }
  const uint8_t first_child_out = links_.has_parent ? 1 : 0;
  const size_t children = std::min<size_t>(static_cast<size_t>(links_.nchildren), step.send.size());
  step.nsend = static_cast<uint8_t>(children);
  for (size_t c = 0; c < children; ++c) step.send[c] = static_cast<uint8_t>(first_child_out + c);
  return step;
}

}  // namespace sxcoll
