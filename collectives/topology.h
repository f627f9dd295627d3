// Where the ranks of a run are: which host each rank is on and which rail (NIC) it drives.
// Built from every rank's hostname, so that algorithms can keep traffic inside a host and
// cross host boundaries as rarely as possible, whatever order the launcher gave the ranks.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace sxcoll {

class Topology {
 public:
  // `hostnames[r]` is rank r's host. Hosts are numbered in order of first appearance, each
  // host's ranks in rank order (local rank 0 is its lowest rank).
  static Topology from_hostnames(const std::vector<std::string>& hostnames);
  // `nranks` ranks on one host.
  static Topology single_host(int nranks);
  // `hosts` hosts of `local_size` ranks each, rank = host * local_size + local rank (how
  // mpirun and srun place ranks by default).
  static Topology blocked(int hosts, int local_size);

  Topology() = default;

  int size() const { return static_cast<int>(host_.size()); }
  int hosts() const { return static_cast<int>(ranks_.size()); }
  const std::string& host_name(int host) const { return names_[static_cast<size_t>(host)]; }
  // The ranks of one host, in rank order: ranks_on(h)[local_rank] is the rank.
  const std::vector<int>& ranks_on(int host) const { return ranks_[static_cast<size_t>(host)]; }
  int host_of(int rank) const { return host_[static_cast<size_t>(rank)]; }
  int local_rank(int rank) const { return local_[static_cast<size_t>(rank)]; }
  int local_size(int host) const { return static_cast<int>(ranks_[static_cast<size_t>(host)].size()); }
  int local_size_of(int rank) const { return local_size(host_of(rank)); }
  int rank_at(int host, int local_rank) const { return ranks_on(host)[static_cast<size_t>(local_rank)]; }
  // Every host has the same number of ranks.
  bool uniform() const { return uniform_; }

  // The rail (0..nrails-1) a rank drives: local_rank * nrails / local_size by default, so
  // that a host's ranks split evenly over its NICs in local-rank order; set_rails replaces
  // that (e.g. a mapping by PCIe distance), one entry per rank.
  int rail_of(int rank, int nrails) const;
  // Throws std::invalid_argument unless there is one rail per rank, each 0 or more.
  void set_rails(std::vector<int> rail_by_rank);
  // Rails given by set_rails: how many (the largest + 1); 0 when none were set.
  int rails_set() const { return rails_.empty() ? 0 : *std::max_element(rails_.begin(), rails_.end()) + 1; }

 private:
  std::vector<std::string> names_;      // [host]
  std::vector<std::vector<int>> ranks_;  // [host][local rank] -> rank
  std::vector<int> host_;               // [rank]
  std::vector<int> local_;              // [rank]
  std::vector<int> rails_;              // [rank]; empty: the default mapping
  bool uniform_ = true;
};

}  // namespace sxcoll
