// Tree allreduce as two step programs per channel, run side by side: "up" reduces each
// chunk from the leaves to the root, "down" broadcasts the result back. A channel follows
// one tree of the double binary tree; even channels tree 0, odd channels tree 1.
#pragma once

#include <vector>

#include "collectives/partition.h"
#include "collectives/step.h"
#include "collectives/tree_schedule.h"

namespace sxcoll {

// Link numbering of a tree channel. In-links: one per child, then the parent's.
// Out-links: the parent's, then one per child. Absent peers take no index.
struct TreeLinks {
  std::vector<int> in_peers;   // children..., parent
  std::vector<int> out_peers;  // parent, children...
  int nchildren = 0;
  bool has_parent = false;
  static TreeLinks of(const TreeNode& node);
};

// One chunk per step over a channel's slice; the two directions differ only in their steps.
class TreeProgram : public StepProgram {
 public:
  TreeProgram(const TreeNode& node, Range slice, size_t chunk)
      : links_(TreeLinks::of(node)), slice_(slice), chunk_(chunk) {}
  size_t size() const override { return (slice_.count + chunk_ - 1) / chunk_; }

 protected:
  // A step covering chunk `index` of the slice, with no links yet.
  Step chunk_step(size_t index) const;

  TreeLinks links_;

 private:
  Range slice_;
  size_t chunk_;
};

class TreeUpProgram final : public TreeProgram {
 public:
  using TreeProgram::TreeProgram;
  Step at(size_t index) const override;
};

class TreeDownProgram final : public TreeProgram {
 public:
  using TreeProgram::TreeProgram;
  Step at(size_t index) const override;
};

}  // namespace sxcoll
