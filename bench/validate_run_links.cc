#include <fmt/core.h>
#include <fmt/ranges.h>

#include "bench/link_tester.h"
#include "bench/validate_analysis.h"
#include "bench/validate_run.h"
#include "bench/validate_state.h"
#include "transport/error.h"
#include "transport/factory.h"

namespace sxcoll::bench {

void Validation::links() {
  auto& done = state_json_["links"];
  if (done.is_null()) done = nlohmann::json::object();
  const auto rounds = round_robin_rounds(static_cast<int>(nodes_.size()));
  const size_t pairs = nodes_.size() * (nodes_.size() - 1) / 2;
  // A pair is measured once, and never with a lost end.
  auto pending = [&](const std::string& rail, int a, int b) {
    return !done.contains(link_key(rail, nodes_[static_cast<size_t>(a)], nodes_[static_cast<size_t>(b)])) &&
           leader_[static_cast<size_t>(a)] >= 0 && leader_[static_cast<size_t>(b)] >= 0;
  };
  auto rails = transport::per_rail(o_.transport);
  for (const auto& rail_options : rails) {
    auto context = transport::make_network_context(*boot_, rail_options);
    std::vector<int> others;
    for (int r = 0; r < boot_->size(); ++r)
      if (r != boot_->rank()) others.push_back(r);
    context->connect(others);
    auto info = transport::link_info(*context);
    const std::string rail = info.empty() ? rail_options.name : info.front().name;
    P2pOptions p2p;
    LinkTester tester(o_, p2p, *boot_, *context);
    size_t left = 0;
    for (const auto& round : rounds)
      for (auto [a, b] : round) left += pending(rail, a, b) ? 1 : 0;
    for (size_t k = 0; k < rounds.size(); ++k) {
      std::vector<int> partner(static_cast<size_t>(boot_->size()), -1);
      std::vector<std::string> names;
      std::vector<std::pair<int, int>> measured;
      for (auto [a, b] : rounds[k]) {
        if (!pending(rail, a, b)) continue;
        measured.emplace_back(a, b);
        partner[static_cast<size_t>(leader_[static_cast<size_t>(a)])] = leader_[static_cast<size_t>(b)];
        partner[static_cast<size_t>(leader_[static_cast<size_t>(b)])] = leader_[static_cast<size_t>(a)];
        names.push_back(fmt::format("{} <-> {}", nodes_[static_cast<size_t>(a)], nodes_[static_cast<size_t>(b)]));
      }
      if (names.empty()) continue;
      progress(fmt::format("rail {} round {} of {}: {} at {} B ({} of {} pairs left)", rail, k + 1, rounds.size(),
                           fmt::join(names, ", "), o_.max_bytes, left, pairs));
      uint64_t wrong = 0;
      auto received = tester.rounds_one_way(partner, o_.max_bytes, wrong);
      uint64_t total_wrong = 0;
      for (const auto& w : boot_->allgather(std::to_string(wrong))) total_wrong += std::stoull(w);
      if (total_wrong > 0)
        throw RunError(fmt::format("validate: {} bytes arrived wrong in round {} on rail {}", total_wrong, k + 1, rail));
      for (auto [a, b] : measured) {
        const std::string key = link_key(rail, nodes_[static_cast<size_t>(a)], nodes_[static_cast<size_t>(b)]);
        const double to_a = received[static_cast<size_t>(leader_[static_cast<size_t>(a)])];
        const double to_b = received[static_cast<size_t>(leader_[static_cast<size_t>(b)])];
        done[key] = {{"rail", rail}, {"a", nodes_[static_cast<size_t>(a)]}, {"b", nodes_[static_cast<size_t>(b)]},
                     {"to_a_gbps", to_a}, {"to_b_gbps", to_b}, {"gbps", std::min(to_a, to_b)}};
        --left;
        progress(fmt::format("  {} <-> {}: {:.3f} Gb/s to {}, {:.3f} Gb/s to {}", nodes_[static_cast<size_t>(a)],
                             nodes_[static_cast<size_t>(b)], to_a, nodes_[static_cast<size_t>(a)], to_b,
                             nodes_[static_cast<size_t>(b)]));
      }
      save_state();
    }
    retest_lone_links(rail, tester);
  }
}

// The links measured so far (this run's and a resumed run's) between nodes of this run.
std::vector<LinkSample> Validation::measured_links() {
  std::vector<LinkSample> out;
  const auto& links = state_json_["links"];
  if (!links.is_object()) return out;
  for (const auto& [key, l] : links.items()) {
    auto a = std::find(nodes_.begin(), nodes_.end(), l["a"].get<std::string>());
    auto b = std::find(nodes_.begin(), nodes_.end(), l["b"].get<std::string>());
    if (a == nodes_.end() || b == nodes_.end()) continue;  // a node not in this run
    out.push_back({l["rail"].get<std::string>(), static_cast<int>(a - nodes_.begin()),
                   static_cast<int>(b - nodes_.begin()), l["gbps"].get<double>()});
  }
  return out;
}

// A slow link is measured again, alone (twice at most), keeping the best, unless one of
// its ends is slow on every link: on a busy machine, or a switch shared by the round's
// other pairs, a healthy link can measure low once; a bad cable or port stays slow.
// Every rank holds the same figures, so all pick the same links.
void Validation::retest_lone_links(const std::string& rail, LinkTester& tester) {
  auto& done = state_json_["links"];
  for (int attempt = 1; attempt <= 2; ++attempt) {
    ValidationData d;
    d.nodes = nodes_;
    for (const auto& l : measured_links())
      if (l.rail == rail) d.links.push_back(l);
    const Verdict verdict = analyse(d, v_.threshold);
    // A node slow on every one of its links is what it is; one slow on only some may
    // have met a busy moment, and those links are measured again.
    std::vector<bool> slow_everywhere(nodes_.size(), false);
    for (size_t i = 0; i < verdict.nodes.size(); ++i)
      for (const auto& r : verdict.nodes[i].rails)
        if (r.rail == rail && r.fail && r.slow_links == r.links) slow_everywhere[i] = true;
    bool any = false;
    for (const auto& lv : verdict.links) {
      const size_t a = static_cast<size_t>(lv.sample.a), b = static_cast<size_t>(lv.sample.b);
      if (!lv.slow || slow_everywhere[a] || slow_everywhere[b] || leader_[a] < 0 || leader_[b] < 0) continue;
      any = true;
      const std::string key = link_key(rail, nodes_[a], nodes_[b]);
      progress(fmt::format("rail {}: {} <-> {} again, alone ({} of 2): {:.3f} Gb/s is {:.0f} % below the baseline",
                           rail, nodes_[a], nodes_[b], attempt, lv.sample.gbps, -lv.deviation_pct));
      std::vector<int> partner(static_cast<size_t>(boot_->size()), -1);
      partner[static_cast<size_t>(leader_[a])] = leader_[b];
      partner[static_cast<size_t>(leader_[b])] = leader_[a];
      uint64_t wrong = 0;
      auto received = tester.rounds_one_way(partner, o_.max_bytes, wrong);
      const double gbps = std::min(received[static_cast<size_t>(leader_[a])], received[static_cast<size_t>(leader_[b])]);
      progress(fmt::format("  {} <-> {}: {:.3f} Gb/s", nodes_[a], nodes_[b], gbps));
      if (gbps > done[key]["gbps"].get<double>()) {
        done[key]["gbps"] = gbps;
        done[key]["retested"] = attempt;
      }
    }
    if (!any) break;
    save_state();
  }
}

}  // namespace sxcoll::bench
