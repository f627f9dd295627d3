#include "bench/p2p.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include <fmt/core.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include "bench/harness.h"
#include "transport/memory.h"
#include "transport/deadline.h"
#include "transport/error.h"
#include "transport/factory.h"

namespace sxcoll::bench {

namespace {

// Bytes that tell who wrote them and at which size: stale or misplaced data shows.
uint8_t pattern(size_t k, size_t size, int sender) {
  return static_cast<uint8_t>((k * 7 + size * 3 + static_cast<size_t>(sender) * 17) % 251);
}

struct Point {
  size_t bytes = 0;
  double uni_ab = 0, uni_ba = 0, bidi = 0;  // Gb/s
  double lat_us = -1;                       // one way: half the round trip; -1: not measured
  uint64_t wrong = 0;
};

struct LinkResult {
  std::string rail;
  double rate_gbps = 0;
  int a = 0, b = 0;
  std::vector<Point> points;
  double ratio = 0;  // to the rail's median, at the largest size
  bool flagged = false;
};

constexpr auto kAbortPoll = std::chrono::milliseconds(100);
// Latency is a small-message figure (ib_write_lat's); above this the ping-pong only
// repeats the bandwidth test, slowly.
constexpr size_t kLatencyMaxBytes = size_t{64} << 10;

// Drives one context for the measurements of one rail. Every method is collective: all
// ranks call it, the two ranks of the link act, the others wait at the bootstrap.
class LinkTester {
 public:
  LinkTester(const BenchOptions& o, const P2pOptions& p, bootstrap::Bootstrap& boot, transport::Context& ctx)
      : o_(o), p_(p), boot_(boot), ctx_(ctx), src_(transport::allocate_pages(o.max_bytes)), dst_(ctx.allocate_host(o.max_bytes)) {
    const size_t bytes = std::max<size_t>(o.max_bytes, 1);
    src_region_ = ctx_.register_memory(src_.get(), bytes, transport::MemoryKind::Host);
    dst_region_ = ctx_.register_memory(dst_.get(), bytes, transport::MemoryKind::Host);
    for (const auto& word : boot_.allgather(dst_region_->remote.encode()))
      remote_.push_back(transport::RemoteRegion::decode(word));
  }

  Point measure(int a, int b, size_t size) {
    Point pt;
    pt.bytes = size;
    const int me = boot_.rank();
    if (me == a || me == b)
      for (size_t k = 0; k < size; ++k) src_.get()[k] = static_cast<char>(pattern(k, size, me));
    uint64_t wrong = 0;
    pt.uni_ab = one_way(a, b, size, wrong);
    pt.uni_ba = one_way(b, a, size, wrong);
    pt.bidi = both_ways(a, b, size, wrong);
    if (size <= kLatencyMaxBytes) pt.lat_us = latency(a, b, size);
    uint64_t total = 0;
    for (const auto& w : boot_.allgather(std::to_string(wrong))) total += std::stoull(w);
    pt.wrong = total;
    return pt;
  }

 private:
  uint64_t verify(int sender, size_t size) const {
    if (!o_.check) return 0;
    uint64_t wrong = 0;
    for (size_t k = 0; k < size; ++k)
      if (static_cast<uint8_t>(dst_.get()[k]) != pattern(k, size, sender)) ++wrong;
    return wrong;
  }

  // Progress once; counts our completions. Fails on a peer that stays silent past the
  // timeout or on an abort from another rank.
  void pump(int peer, bool block, const char* what) {
    comps_.clear();
    ctx_.progress(comps_, block ? 50 : 0);
    for (const auto& c : comps_) {
      if (c.type == transport::Completion::Type::Sent) {
        ++sent_;
      } else {
        if (c.peer != peer)
          throw RunError(fmt::format("rank {}: p2p: data from rank {} while measuring with rank {}", boot_.rank(),
                                     c.peer, peer));
        ++arrived_;
      }
    }
    const auto now = Clock::now();
    if (!comps_.empty()) {
      last_progress_ = now;
      return;
    }
    if (now - last_abort_poll_ > kAbortPoll) {
      last_abort_poll_ = now;
      if (auto reason = boot_.poll_abort())
        throw RunError(fmt::format("rank {}: p2p aborted: {}", boot_.rank(), *reason));
    }
    if (now - last_progress_ > o_.comm.timeout)
      throw RunError(fmt::format("rank {}: p2p: no progress for {} ms {} rank {} ({} writes posted, {} done, {} "
                                 "arrived)",
                                 boot_.rank(), o_.comm.timeout.count(), what, peer, posted_, sent_, arrived_));
  }

  void reset() {
    sent_ = arrived_ = posted_ = 0;
    last_progress_ = last_abort_poll_ = Clock::now();
  }

  void post(int peer, size_t size) {
    ctx_.pair(peer).write(*src_region_, 0, size, remote_[static_cast<size_t>(peer)], 0,
                          static_cast<uint32_t>(posted_ & 0xffffff), posted_ + 1);
    ++posted_;
  }

  // Keeps `window` writes in flight until `writes` of them (counted from reset()) have
  // completed and `arrivals` writes of the peer have landed.
  void stream(int peer, size_t size, uint64_t writes, uint64_t arrivals) {
    while (sent_ < writes || arrived_ < arrivals) {
      while (posted_ < writes && posted_ - sent_ < p_.window) post(peer, size);
      pump(peer, false, "writing to");
    }
  }

  void receive(int peer, uint64_t arrivals) {
    while (arrived_ < arrivals) pump(peer, true, "waiting for writes from");
  }

  double gbps(size_t size, double seconds, uint64_t ways) const {
    return seconds > 0 ? static_cast<double>(size) * 8.0 * static_cast<double>(o_.iters * ways) / seconds / 1e9 : 0;
  }

  // Seconds a given rank measured, through the bootstrap.
  double time_of(double mine, int rank) {
    auto all = boot_.allgather(fmt::format("{}", mine));
    return std::stod(all[static_cast<size_t>(rank)]);
  }

  struct Round {
    int me;
    uint64_t warmup, iters;
  };
  // Every measurement starts with all ranks in step and the counters at zero.
  Round begin_round() {
    boot_.barrier();
    reset();
    return {boot_.rank(), static_cast<uint64_t>(o_.warmup_iters), static_cast<uint64_t>(o_.iters)};
  }

  double one_way(int from, int to, size_t size, uint64_t& wrong) {
    const auto [me, warmup, iters] = begin_round();
    double seconds = 0;
    if (me == from) {
      stream(to, size, warmup, 0);
      auto t0 = Clock::now();
      stream(to, size, warmup + iters, 0);
      seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    } else if (me == to) {
      receive(from, warmup + iters);
      wrong += verify(from, size);
    }
    return gbps(size, time_of(seconds, from), 1);
  }

  double both_ways(int a, int b, size_t size, uint64_t& wrong) {
    const auto [me, warmup, iters] = begin_round();
    double seconds = 0;
    if (me == a || me == b) {
      const int peer = me == a ? b : a;
      stream(peer, size, warmup, warmup);
      auto t0 = Clock::now();
      stream(peer, size, warmup + iters, warmup + iters);
      seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      wrong += verify(peer, size);
    }
    auto all = boot_.allgather(fmt::format("{}", seconds));
    double slowest = std::max(std::stod(all[static_cast<size_t>(a)]), std::stod(all[static_cast<size_t>(b)]));
    return gbps(size, slowest, 2);
  }

  double latency(int a, int b, size_t size) {
    const auto [me, warmup, iters] = begin_round();
    double seconds = 0;
    if (me == a || me == b) {
      const int peer = me == a ? b : a;
      Clock::time_point t0 = Clock::now();
      for (uint64_t k = 0; k < warmup + iters; ++k) {
        if (k == warmup) t0 = Clock::now();
        if (me == a) post(peer, size);
        while (arrived_ < k + 1) pump(peer, false, "waiting for the pong of");
        if (me == b) post(peer, size);
      }
      seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      while (sent_ < posted_) pump(peer, false, "finishing writes to");
    }
    return time_of(seconds, a) / static_cast<double>(iters) / 2 * 1e6;
  }

  const BenchOptions& o_;
  const P2pOptions& p_;
  bootstrap::Bootstrap& boot_;
  transport::Context& ctx_;
  transport::Allocation src_, dst_;
  std::shared_ptr<transport::MemoryRegion> src_region_, dst_region_;
  std::vector<transport::RemoteRegion> remote_;
  std::vector<transport::Completion> comps_;
  uint64_t sent_ = 0, arrived_ = 0, posted_ = 0;
  Clock::time_point last_progress_, last_abort_poll_;
};

void print_header(std::ostream& out, const BenchOptions& o, const P2pOptions& p, const bootstrap::Bootstrap& boot,
                  size_t nrails) {
  fmt::print(out, "# sxcoll bench --p2p: RDMA write between every pair of ranks, rail by rail (ib_write_bw, ib_write_lat)\n");
  fmt::print(out, "# ranks: {}  rails: {}  transport: {}  sizes: {}..{}  iters: {}  warmup: {}  window: {}  check: {}\n",
             boot.size(), nrails, o.transport.name, o.min_bytes, o.max_bytes, o.iters, o.warmup_iters, p.window,
             o.check ? 1 : 0);
  fmt::print(out, "# uni: one way (a->b, b->a), bidi: both ways at once (sum), lat: half the ping-pong round trip "
                  "(sizes up to {} B)\n#\n", kLatencyMaxBytes);
  fmt::print(out, "# {:>10}  {:>9}  {:>10}  {:>10}  {:>10}  {:>10}  {:>9}  {:>6}\n", "rail", "link", "size(B)",
             "uni a->b", "uni b->a", "bidi", "lat(us)", "#wrong");
  fmt::print(out, "# {:>10}  {:>9}  {:>10}  {:>10}  {:>10}  {:>10}  {:>9}  {:>6}\n", "", "", "", "(Gb/s)", "(Gb/s)",
             "(Gb/s)", "", "");
  out.flush();
}

void print_row(std::ostream& out, const LinkResult& link, const Point& pt) {
  fmt::print(out, "  {:>10}  {:>9}  {:>10}  {:>10.3f}  {:>10.3f}  {:>10.3f}  {:>9}  {:>6}\n", link.rail,
             fmt::format("{} <-> {}", link.a, link.b), pt.bytes, pt.uni_ab, pt.uni_ba, pt.bidi,
             pt.lat_us < 0 ? std::string("-") : fmt::format("{:.2f}", pt.lat_us), pt.wrong);
  out.flush();
}

double slower_direction(const LinkResult& l) { return std::min(l.points.back().uni_ab, l.points.back().uni_ba); }

// Flags the links of each rail that fall below `threshold` of that rail's median.
void flag_links(std::vector<LinkResult>& links, double threshold) {
  std::map<std::string, std::vector<double>> by_rail;
  for (const auto& l : links)
    if (!l.points.empty()) by_rail[l.rail].push_back(slower_direction(l));
  for (auto& l : links) {
    if (l.points.empty()) continue;
    auto v = by_rail[l.rail];
    std::sort(v.begin(), v.end());
    double median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    l.ratio = median > 0 ? slower_direction(l) / median : 0;
    l.flagged = l.ratio < threshold;
  }
}

void print_summary(std::ostream& out, const std::vector<LinkResult>& links, double threshold) {
  if (links.empty() || links.front().points.empty()) return;
  fmt::print(out, "#\n# per-link check at {} B, the slower direction, against the median of its rail "
                  "(flagged below {:.0f} %):\n", links.front().points.back().bytes, threshold * 100);
  size_t flagged = 0;
  for (const auto& l : links) {
    std::string line_rate = l.rate_gbps > 0 ? fmt::format("  {:5.1f} % of {:g} Gb/s", 100 * slower_direction(l) / l.rate_gbps, l.rate_gbps) : "";
    fmt::print(out, "#   {:>10}  {:>9}  {:10.3f} Gb/s  {:5.1f} % of median{}  {}\n", l.rail,
               fmt::format("{} <-> {}", l.a, l.b), slower_direction(l), 100 * l.ratio, line_rate,
               l.flagged ? "SLOW" : "ok");
    if (l.flagged) ++flagged;
  }
  fmt::print(out, "# p2p: {} of {} links below {:.0f} % of their rail's median\n", flagged, links.size(), threshold * 100);
  out.flush();
}

std::ofstream open_new(const std::string& path) {
  std::ofstream out(path, std::ios::out | std::ios::trunc);
  if (!out) throw RunError(fmt::format("cannot write {}", path));
  return out;
}

void write_files(const BenchOptions& o, const P2pOptions& p, const std::vector<LinkResult>& links,
                 const std::vector<std::string>& rail_details) {
  if (!o.json_path.empty()) {
    nlohmann::json j;
    j["tool"] = "sxcoll bench --p2p";
    j["transport"] = o.transport.name;
    j["threshold"] = p.threshold;
    j["iters"] = o.iters;
    j["rails"] = rail_details;
    auto& rows = j["links"] = nlohmann::json::array();
    for (const auto& l : links) {
      nlohmann::json pts = nlohmann::json::array();
      for (const auto& pt : l.points)
        pts.push_back({{"size_bytes", pt.bytes}, {"uni_ab_gbps", pt.uni_ab}, {"uni_ba_gbps", pt.uni_ba},
                       {"bidi_gbps", pt.bidi},
                       {"lat_us", pt.lat_us < 0 ? nlohmann::json(nullptr) : nlohmann::json(pt.lat_us)},
                       {"wrong", pt.wrong}});
      rows.push_back({{"rail", l.rail}, {"a", l.a}, {"b", l.b}, {"line_rate_gbps", l.rate_gbps},
                      {"ratio_to_median", l.ratio}, {"flagged", l.flagged}, {"points", pts}});
    }
    open_new(o.json_path) << j.dump(2) << '\n';
  }
  if (!o.csv_path.empty()) {
    auto out = open_new(o.csv_path);
    out << "rail,a,b,size_bytes,uni_ab_gbps,uni_ba_gbps,bidi_gbps,lat_us,wrong,flagged\n";
    for (const auto& l : links)
      for (const auto& pt : l.points)
        fmt::print(out, "{},{},{},{},{:.6f},{:.6f},{:.6f},{:.3f},{},{}\n", l.rail, l.a, l.b, pt.bytes, pt.uni_ab,
                   pt.uni_ba, pt.bidi, pt.lat_us, pt.wrong, l.flagged ? 1 : 0);
  }
}

int run_check(const BenchOptions& o, const P2pOptions& p, bootstrap::Bootstrap& boot) {
  auto rails = transport::per_rail(o.transport);
  // With several rails, one more pass over all of them at once: a write is then split over
  // every rail, as the collectives' are, and the row shows what a pair gets from the node.
  const bool all_at_once = rails.size() > 1;
  if (all_at_once) rails.push_back(o.transport);
  // Rails connect rail to rail: every rank must see as many.
  for (const auto& n : boot.allgather(std::to_string(rails.size())))
    if (std::stoul(n) != rails.size())
      throw RunError(fmt::format("rank {}: p2p: ranks see different numbers of rails ({} here, {} elsewhere)",
                                 boot.rank(), rails.size() - (all_at_once ? 1 : 0), n));
  const bool root = boot.rank() == 0;
  if (root) print_header(std::cout, o, p, boot, rails.size());
  std::vector<int> others;
  for (int r = 0; r < boot.size(); ++r)
    if (r != boot.rank()) others.push_back(r);
  std::vector<LinkResult> links;
  std::vector<std::string> rail_details;
  uint64_t wrong = 0;
  for (const auto& rail_options : rails) {
    auto context = transport::make_context(boot, rail_options);
    context->connect(others);
    RunDescription description;
    describe_links(boot, *context, description);
    auto info = transport::link_info(*context);
    std::string rail = info.empty() ? rail_options.name : info.front().name;
    if (info.size() > 1) rail = fmt::format("all {}", info.size());
    if (root) {
      if (info.size() > 1)
        fmt::print(std::cout, "# rails: all {} at once ('all {}'), each write split over them\n", info.size(),
                   info.size());
      else
        fmt::print(std::cout, "# rail: {}\n", info.empty() ? context->describe() : info.front().detail);
      if (info.size() <= 1)
        for (const auto& d : description.links) rail_details.push_back(d);
    }
    LinkTester tester(o, p, boot, *context);
    for (int a = 0; a < boot.size(); ++a) {
      for (int b = a + 1; b < boot.size(); ++b) {
        LinkResult link{rail, description.line_rate_gbps, a, b, {}, 0, false};
        for (size_t size : sweep_sizes(o)) {
          Point pt = tester.measure(a, b, size);
          wrong += pt.wrong;
          if (root) print_row(std::cout, link, pt);
          link.points.push_back(pt);
        }
        links.push_back(link);
      }
    }
  }
  if (!root) return 0;
  flag_links(links, p.threshold);
  print_summary(std::cout, links, p.threshold);
  fmt::print(std::cout, "# Out of bounds values : {} {}\n#\n", wrong, o.check ? (wrong == 0 ? "OK" : "FAILED") : "(not checked)");
  write_files(o, p, links, rail_details);
  return wrong == 0 ? 0 : 1;
}

}  // namespace

void validate(const P2pOptions& p) {
  if (!(p.threshold > 0 && p.threshold <= 1))
    throw UsageError(fmt::format("--p2p-threshold {}: must be a fraction in (0, 1], e.g. 0.8", p.threshold));
}

int run_p2p_rank(const BenchOptions& options, const P2pOptions& p2p, const bootstrap::LaunchInfo& launch) {
  return run_rank(options, launch, [&](bootstrap::Bootstrap& boot) { return run_check(options, p2p, boot); });
}

}  // namespace sxcoll::bench
