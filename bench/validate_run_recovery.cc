// A host lost mid-validation, and the others going on without it.
//
// Who is lost must be the same on every survivor, whichever error each met first (its
// link to the dead host, a peer that gave up after it, the bootstrap). The store's word is:
// it saw the dead process's liveness connection close without a goodbye and told every
// other rank "rank N lost: ..." (or, where rank 0 itself died, every rank finds its store
// gone: "rank 0 lost: ..."). The survivors then meet again in a new bootstrap, on the
// listener their new rank 0 bound at the start (its port known to all), and repeat the
// steps from the state they share: finished figures are kept, pairs with a lost end skipped.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <regex>
#include <thread>

#include <fmt/core.h>
#include <fmt/ostream.h>

#include "bench/validate_run.h"
#include "transport/deadline.h"
#include "transport/error.h"

namespace sxcoll::bench {

namespace {

// How long a survivor waits for the store to name the dead rank after its own error: the
// store hears of a death as soon as the kernel closes the dead process's sockets.
constexpr auto kLossWord = std::chrono::seconds(3);

}  // namespace

bool Validation::survive_loss(const std::string& what) {
  static const std::regex lost_re(R"(^rank (\d+) lost: )");
  std::optional<std::string> reason;
  std::smatch m;
  for (Deadline deadline(kLossWord); !deadline.expired();) {
    reason = boot_->poll_abort();
    if (reason) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!reason || !std::regex_search(*reason, m, lost_re)) return false;
  const int lost_rank = std::stoi(m[1].str());
  if (lost_rank < 0 || lost_rank >= boot_->size()) return false;
  const size_t lost_node = static_cast<size_t>(node_of_[static_cast<size_t>(lost_rank)]);
  const std::string& lost_host = nodes_[lost_node];

  std::vector<int> survivors;
  for (int r = 0; r < boot_->size(); ++r)
    if (static_cast<size_t>(node_of_[static_cast<size_t>(r)]) != lost_node) survivors.push_back(r);
  // Nobody on another host to go on with (one node): rank 0 reports what it has.
  if (survivors.empty()) return false;
  if (static_cast<size_t>(node_of_[static_cast<size_t>(boot_->rank())]) == lost_node)
    throw RunError(fmt::format("validate: this host {} leaves the validation: {}", lost_host, *reason));

  data_.lost[lost_node] = *reason;
  const int new_rank = static_cast<int>(std::find(survivors.begin(), survivors.end(), boot_->rank()) - survivors.begin());
  const size_t master = static_cast<size_t>(survivors.front());
  bootstrap::LaunchInfo info = boot_->launch();
  info.rank = new_rank;
  info.size = static_cast<int>(survivors.size());
  info.token = fmt::format("{}/without-{}", info.token, lost_host);
  info.master = rank_addresses_[master] + ":" + spare_ports_[master];
  info.store_fd = new_rank == 0 ? spare_listener_.release() : -1;
  std::unique_ptr<bootstrap::Bootstrap> next;
  try {
    next = std::make_unique<bootstrap::Bootstrap>(info, o_.comm.timeout);
  } catch (const std::exception& e) {
    throw RunError(fmt::format("validate: the {} survivors of {}'s loss could not meet again: {}", survivors.size(),
                               lost_host, e.what()));
  }
  // An earlier survivors' bootstrap ends here; its store has nothing left to wait for.
  if (survivors_) survivors_->abort(fmt::format("{} lost", lost_host));
  survivors_ = std::move(next);
  boot_ = survivors_.get();
  const bool was_root = root_;
  root_ = boot_->rank() == 0;
  adopt_world();
  share_state();
  if (root_ && !was_root) {
    fmt::print(std::cout, "# validate: rank 0's host {} was lost: this rank, on {}, reports from here\n", lost_host,
               nodes_[static_cast<size_t>(node_of_[0])]);
    state_ = StateFile(v_.out_dir);
    header();
  }
  progress(fmt::format("{} lost ({}); first error seen here: {}", lost_host, *reason, what));
  progress(fmt::format("going on with the {} other nodes ({} ranks): their steps not yet finished, no pair with {}",
                       nodes_.size() - static_cast<size_t>(std::count_if(leader_.begin(), leader_.end(),
                                                                         [](int l) { return l < 0; })),
                       boot_->size(), lost_host));
  return true;
}

}  // namespace sxcoll::bench
