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
#include "bench/link_tester.h"
#include "transport/memory.h"
#include "transport/deadline.h"
#include "transport/error.h"
#include "transport/factory.h"

namespace sxcoll::bench {

namespace {

struct LinkResult {
  std::string rail;
  double rate_gbps = 0;
  int a = 0, b = 0;
  std::vector<Point> points;
  double ratio = 0;  // to the rail's median, at the largest size
  bool flagged = false;
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
    auto context = transport::make_network_context(boot, rail_options);
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
