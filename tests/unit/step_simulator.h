// An in-process executor of step programs for unit tests: every rank's programs run over
// FIFO links with the semantics of collectives/engine.cc (receive from in-links, fold or
// copy into the output, finalize, send the output or the input range to out-links, wait
// for `after`), in a deterministic order, with values that record whose input each element
// holds. A run that ends proves every rank's contribution reached every element of every
// rank's output exactly once; a run in which no rank can advance is a deadlock.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/core.h>

#include "collectives/algorithm_layout.h"
#include "collectives/allreduce_recursive_doubling.h"
#include "collectives/allreduce_ring.h"
#include "collectives/allreduce_tree.h"
#include "collectives/partition.h"
#include "collectives/ring_schedule.h"
#include "collectives/step.h"
#include "collectives/topology.h"
#include "collectives/tree_schedule.h"

namespace sxcoll::sim {

// The largest world the values can tell apart: rank r contributes 2^r.
inline constexpr int kMaxRanks = 64;

// One element. Rank r's input is 2^r, summed exactly in 128 bits, and `terms` counts the
// inputs folded in. A sum of 2^n - 1 made of n terms can only be every rank once: the
// binary representation is the only way to write a number as the fewest powers of two, so
// a repeated rank (with any other missing) needs more terms.
struct Value {
  uint64_t lo = 0;
  uint64_t hi = 0;
  uint32_t terms = 0;
  uint16_t finalized = 0;  // how often an Avg finalize divided what this value holds
  bool written = false;    // false: nobody ever produced this element
  bool refolded = false;   // a finalized value was folded again (Avg would be wrong)

  static Value input_of(int rank) {
    Value v;
    v.lo = uint64_t{1} << rank;
    v.terms = 1;
    v.written = true;
    return v;
  }
};

inline Value fold(const Value& a, const Value& b) {
  Value v;
  v.lo = a.lo + b.lo;
  v.hi = a.hi + b.hi + (v.lo < a.lo ? 1 : 0);
  v.terms = a.terms + b.terms;
  v.written = a.written && b.written;
  v.refolded = a.refolded || b.refolded || a.finalized > 0 || b.finalized > 0;
  return v;
}

// What every element of every rank must hold at the end, in words, or "" when it does.
inline std::string check_final(const Value& v, int nranks) {
  const uint64_t want = nranks == 64 ? ~uint64_t{0} : (uint64_t{1} << nranks) - 1;
  if (v.written && v.hi == 0 && v.lo == want && v.terms == static_cast<uint32_t>(nranks) && !v.refolded &&
      v.finalized == 1)
    return {};
  if (!v.written) return "never written";
  const uint64_t want_lo = nranks == 64 ? ~uint64_t{0} : (uint64_t{1} << nranks) - 1;
  if (v.hi != 0 || v.lo != want_lo || v.terms != static_cast<uint32_t>(nranks)) {
    std::string missing;
    for (int r = 0; r < nranks; ++r) {
      const bool has = (v.lo >> r) & 1;  // exact when nothing repeated; a hint otherwise
      if (!has) missing += fmt::format(" {}", r);
    }
    return fmt::format("sum 0x{:x}:{:016x} of {} terms, want 0x{:x} of {} (bits clear:{})", v.hi, v.lo, v.terms,
                       want_lo, nranks, missing.empty() ? " none" : missing);
  }
  if (v.refolded) return "a finalized value was folded again";
  if (v.finalized != 1) return fmt::format("finalized {} times (want once)", v.finalized);
  return "";
}

// One step program of one rank on one channel.
struct Machine {
  int rank = 0;
  int channel = 0;
  std::string kind;  // "ring", "up", "down": for messages
  std::shared_ptr<const StepProgram> program;
  int partner = -1;  // index in Setup::machines of the program `after` refers to
  Range slice;       // the channel's elements: every step must stay inside
};

// The peers behind a rank's link indices on one channel, as the executor numbers them.
struct Links {
  std::vector<int> in_peers;
  std::vector<int> out_peers;
};

struct Setup {
  int nranks = 0;
  size_t count = 0;
  int nchannels = 0;
  std::vector<Machine> machines;
  std::vector<std::vector<Links>> links;  // [rank][channel]
};

// As Communicator::allreduce builds `algo` (collectives/algorithm_layout.h): for every rank
// the layout's links and, on every channel, its programs over the channel's slice; a
// program's partner is the one the layout names on the same channel.
inline Setup layout_setup(Algorithm algo, const Topology& topology, size_t count, int nchannels, size_t chunk,
                          size_t align) {
  const int nranks = topology.size();
  Setup s{nranks, count, nchannels, {}, {}};
  s.links.assign(static_cast<size_t>(nranks), std::vector<Links>(static_cast<size_t>(nchannels)));
  for (int r = 0; r < nranks; ++r) {
    const AlgorithmLayout layout(algo, topology, r, nchannels);
    for (int c = 0; c < nchannels; ++c) {
      const ChannelLinks& l = layout.links(c);
      s.links[static_cast<size_t>(r)][static_cast<size_t>(c)] = Links{l.in_peers, l.out_peers};
      const Range slice = layout.slice(c, count, align);
      const int first = static_cast<int>(s.machines.size());
      for (const ChannelProgram& p : layout.programs(c, count, chunk, align))
        s.machines.push_back(
            Machine{r, c, std::string(p.kind), p.program, p.partner < 0 ? -1 : first + p.partner, slice});
    }
  }
  return s;
}

// The flat algorithms on one host of `nranks`. Ring: in from prev, out to next. Tree:
// channel c follows double_binary_tree(n, rank)[c % 2], the down program's partner is
// the up program. Recursive doubling (power-of-two n): link k is the partner rank ^ 2^k.
inline Setup ring_setup(int nranks, size_t count, int nchannels, size_t chunk, size_t align) {
  return layout_setup(Algorithm::Ring, Topology::single_host(nranks), count, nchannels, chunk, align);
}
inline Setup tree_setup(int nranks, size_t count, int nchannels, size_t chunk, size_t align) {
  return layout_setup(Algorithm::Tree, Topology::single_host(nranks), count, nchannels, chunk, align);
}
inline Setup recursive_doubling_setup(int nranks, size_t count, int nchannels, size_t chunk, size_t align) {
  return layout_setup(Algorithm::RecursiveDoubling, Topology::single_host(nranks), count, nchannels, chunk, align);
}

struct Options {
  size_t slots = 0;          // writes a link holds before the receiver consumes (0: unbounded)
  bool in_place = false;     // input and output are one buffer
  uint32_t seed = 0;         // 0: machines take turns in order; else in a seeded random order
  int burst = 16;            // steps a machine may take per turn (the engine takes up to 16)
  bool values = true;        // false: match ranges only (for counts too large to hold)
  size_t slot_elements = 0;  // a write must fit one receive slot of this many elements (0: unchecked)
};

struct Result {
  std::string error;  // empty: every program finished and every output is right
  size_t steps = 0;
  size_t messages = 0;
  bool ok() const { return error.empty(); }
};

namespace detail {

struct Message {
  size_t offset = 0;  // where the sender's step was: the receiver's must be the same
  size_t count = 0;
  std::vector<Value> data;
};
using Queue = std::deque<Message>;

class Simulator {
 public:
  Simulator(const Setup& setup, const Options& options) : s_(setup), o_(options) {}

  Result run() {
    if (s_.nranks < 1 || s_.nranks > kMaxRanks)
      return fail(fmt::format("world size {} out of 1..{}", s_.nranks, kMaxRanks));
    if (std::string e = build(); !e.empty()) return fail(e);
    // A worklist of machines that may be able to advance: a machine that advanced wakes
    // the machines of its channel on its own rank (the partner may wait for it) and on every
    // peer it sent to (data) or received from (a freed slot).
    std::mt19937 rng(o_.seed);
    for (size_t i = 0; i < s_.machines.size(); ++i) wake(i);
    size_t done = 0;
    for (size_t i = 0; i < s_.machines.size(); ++i) done += size_[i] == 0;
    while (!work_.empty()) {
      size_t pick = o_.seed == 0 ? 0 : rng() % work_.size();
      const size_t i = work_[pick];
      if (o_.seed == 0)
        work_.pop_front();
      else {
        work_[pick] = work_.back();
        work_.pop_back();
      }
      queued_[i] = 0;
      for (int k = 0; k < o_.burst && next_[i] < size_[i]; ++k) {
        std::string why;
        Outcome out = try_advance(i, why);
        if (out == Outcome::Error) return fail(why);
        if (out == Outcome::Blocked) break;
        if (next_[i] == size_[i]) ++done;
      }
    }
    if (done != s_.machines.size()) return fail(deadlock());
    for (const auto& [key, q] : queues_)
      if (!q.empty())
        return fail(fmt::format("channel {}: {} message(s) from rank {} to rank {} were never received",
                                std::get<0>(key), q.size(), std::get<1>(key), std::get<2>(key)));
    if (!o_.values) return check_ranges();
    for (int r = 0; r < s_.nranks; ++r) {
      const auto& out = *out_[static_cast<size_t>(r)];
      for (size_t i = 0; i < s_.count; ++i)
        if (std::string e = check_final(out[i], s_.nranks); !e.empty())
          return fail(fmt::format("rank {} element {}: {}", r, i, e));
    }
    return result_;
  }

 private:
  enum class Outcome { Advanced, Blocked, Error };

  void wake(size_t mi) {
    if (queued_[mi] || next_[mi] >= size_[mi]) return;
    queued_[mi] = 1;
    work_.push_back(mi);
  }
  void wake(int rank, int channel) {
    for (size_t mi : on_[static_cast<size_t>(rank)][static_cast<size_t>(channel)]) wake(mi);
  }

  Result fail(std::string error) {
    result_.error = std::move(error);
    return result_;
  }

  std::string where(size_t mi, size_t step) const {
    const Machine& m = s_.machines[mi];
    return fmt::format("rank {} channel {} {} step {}/{}", m.rank, m.channel, m.kind, step, size_[mi]);
  }

  std::string build() {
    const auto n = static_cast<size_t>(s_.nranks);
    inputs_.resize(n);
    outputs_.resize(n);
    out_.resize(n);
    for (size_t r = 0; r < n && o_.values; ++r) {
      inputs_[r].assign(s_.count, Value::input_of(static_cast<int>(r)));
      if (o_.in_place) {
        out_[r] = &inputs_[r];
      } else {
        outputs_[r].assign(s_.count, Value{});
        out_[r] = &outputs_[r];
      }
    }
    if (s_.links.size() != n) return "links: one entry per rank expected";
    written_.resize(n);
    in_q_.resize(n);
    out_q_.resize(n);
    for (size_t r = 0; r < n; ++r) {
      if (s_.links[r].size() != static_cast<size_t>(s_.nchannels)) return "links: one entry per channel expected";
      for (int c = 0; c < s_.nchannels; ++c) {
        const Links& l = s_.links[r][static_cast<size_t>(c)];
        std::vector<Queue*> in, out;
        // The executor routes an arrival by (channel, peer): a peer twice on one side is ambiguous.
        for (size_t a = 0; a < l.in_peers.size(); ++a)
          for (size_t b = a + 1; b < l.in_peers.size(); ++b)
            if (l.in_peers[a] == l.in_peers[b])
              return fmt::format("rank {} channel {}: in-link peer {} appears twice", r, c, l.in_peers[a]);
        for (size_t a = 0; a < l.out_peers.size(); ++a)
          for (size_t b = a + 1; b < l.out_peers.size(); ++b)
            if (l.out_peers[a] == l.out_peers[b])
              return fmt::format("rank {} channel {}: out-link peer {} appears twice", r, c, l.out_peers[a]);
        for (int peer : l.in_peers) {
          if (peer < 0 || peer >= s_.nranks || peer == static_cast<int>(r))
            return fmt::format("rank {} channel {}: bad in-link peer {}", r, c, peer);
          in.push_back(&queues_[{c, peer, static_cast<int>(r)}]);
        }
        for (int peer : l.out_peers) {
          if (peer < 0 || peer >= s_.nranks || peer == static_cast<int>(r))
            return fmt::format("rank {} channel {}: bad out-link peer {}", r, c, peer);
          out.push_back(&queues_[{c, static_cast<int>(r), peer}]);
        }
        in_q_[r].push_back(std::move(in));
        out_q_[r].push_back(std::move(out));
      }
    }
    // Every link must be the same queue seen from both ends.
    for (size_t r = 0; r < n; ++r)
      for (int c = 0; c < s_.nchannels; ++c)
        for (int peer : s_.links[r][static_cast<size_t>(c)].out_peers) {
          const auto& theirs = s_.links[static_cast<size_t>(peer)][static_cast<size_t>(c)].in_peers;
          if (std::find(theirs.begin(), theirs.end(), static_cast<int>(r)) == theirs.end())
            return fmt::format("channel {}: rank {} sends to rank {}, which has no in-link from it", c, r, peer);
        }
    on_.assign(n, std::vector<std::vector<size_t>>(static_cast<size_t>(s_.nchannels)));
    for (size_t mi = 0; mi < s_.machines.size(); ++mi) {
      const Machine& m = s_.machines[mi];
      if (m.rank < 0 || m.rank >= s_.nranks || m.channel < 0 || m.channel >= s_.nchannels)
        return "machine outside the world";
      size_.push_back(m.program->size());
      next_.push_back(0);
      queued_.push_back(0);
      on_[static_cast<size_t>(m.rank)][static_cast<size_t>(m.channel)].push_back(mi);
    }
    return "";
  }

  Outcome try_advance(size_t mi, std::string& why) {
    const Machine& m = s_.machines[mi];
    const size_t index = next_[mi];
    const Step st = m.program->at(index);
    const auto r = static_cast<size_t>(m.rank);
    const auto c = static_cast<size_t>(m.channel);
    auto& in = in_q_[r][c];
    auto& out = out_q_[r][c];
    auto error = [&](const std::string& what) {
      why = fmt::format("{}: {}", where(mi, index), what);
      return Outcome::Error;
    };
    // The step itself must make sense to the executor.
    if (st.nrecv > 2 || st.nsend > 2)
      return error(fmt::format("{} receives, {} sends (at most 2)", st.nrecv, st.nsend));
    for (uint8_t i = 0; i < st.nrecv; ++i)
      if (st.recv[i] >= in.size()) return error(fmt::format("in-link {} of {}", st.recv[i], in.size()));
    for (uint8_t i = 0; i < st.nsend; ++i)
      if (st.send[i] >= out.size()) return error(fmt::format("out-link {} of {}", st.send[i], out.size()));
    if (st.nrecv == 2 && st.recv[0] == st.recv[1]) return error("receives twice from one link");
    if (st.nsend == 2 && st.send[0] == st.send[1]) return error("sends twice on one link");
    if (st.send_input && st.nrecv > 0) return error("send_input with receives: what was received is lost");
    const size_t slice_end = m.slice.offset + m.slice.count;
    if (st.offset < m.slice.offset || st.offset > slice_end || st.count > slice_end - st.offset ||
        st.offset > s_.count || st.count > s_.count - st.offset)
      return error(fmt::format("range [{}, +{}) outside the channel's [{}, +{}) or the buffer's {}", st.offset,
                               st.count, m.slice.offset, m.slice.count, s_.count));

    if (o_.slot_elements > 0 && st.nsend > 0 && st.count > o_.slot_elements)
      return error(fmt::format("sends {} elements into a slot of {}", st.count, o_.slot_elements));

    // Ready? (As Engine::try_advance: partner, data on every in-link, credit on every out-link.)
    if (st.after >= 0) {
      if (m.partner < 0) return error("`after` without a partner program");
      if (next_[static_cast<size_t>(m.partner)] <= static_cast<size_t>(st.after)) return Outcome::Blocked;
    }
    for (uint8_t i = 0; i < st.nrecv; ++i)
      if (in[st.recv[i]]->empty()) return Outcome::Blocked;
    for (uint8_t i = 0; i < st.nsend; ++i)
      if (o_.slots > 0 && out[st.send[i]]->size() >= o_.slots) return Outcome::Blocked;

    for (uint8_t i = 0; i < st.nrecv; ++i) {
      const Message& msg = in[st.recv[i]]->front();
      if (msg.count != st.count)  // the executor compares byte counts
        return error(fmt::format("received {} elements from rank {} where {} were due", msg.count,
                                 s_.links[r][c].in_peers[st.recv[i]], st.count));
      if (msg.offset != st.offset)
        return error(
            fmt::format("received elements the sender took from offset {} into offset {}", msg.offset, st.offset));
    }

    if (o_.values) {
      if (std::string e = compute(st, r, in, out); !e.empty()) return error(e);
    } else {
      if (st.finalize) finalized_.push_back(Range{st.offset, st.count});
      if (st.nrecv > 0) written_[r].push_back(Range{st.offset, st.count});
      for (uint8_t i = 0; i < st.nsend; ++i) {
        out[st.send[i]]->push_back(Message{st.offset, st.count, {}});
        ++result_.messages;
      }
    }
    for (uint8_t i = 0; i < st.nrecv; ++i) {
      pool_.push_back(std::move(in[st.recv[i]]->front().data));
      in[st.recv[i]]->pop_front();
    }
    ++next_[mi];
    wake(m.rank, m.channel);
    for (uint8_t i = 0; i < st.nsend; ++i) wake(s_.links[r][c].out_peers[st.send[i]], m.channel);
    for (uint8_t i = 0; i < st.nrecv; ++i) wake(s_.links[r][c].in_peers[st.recv[i]], m.channel);
    ++result_.steps;
    return Outcome::Advanced;
  }

  // Without values: every element finalized exactly once somewhere, and written on every rank.
  Result check_ranges() {
    auto by_offset = [](const Range& a, const Range& b) { return a.offset < b.offset; };
    std::sort(finalized_.begin(), finalized_.end(), by_offset);
    size_t end = 0;
    for (const Range& f : finalized_) {
      if (f.count == 0) continue;
      if (f.offset != end)
        return fail(fmt::format("elements [{}, {}) finalized {}", std::min(f.offset, end), std::max(f.offset, end),
                                f.offset < end ? "twice" : "never"));
      end = f.offset + f.count;
    }
    if (end != s_.count) return fail(fmt::format("elements [{}, {}) never finalized", end, s_.count));
    for (size_t r = 0; r < written_.size(); ++r) {
      auto& w = written_[r];
      std::sort(w.begin(), w.end(), by_offset);
      size_t covered = 0;
      for (const Range& x : w) {
        if (x.offset > covered) break;
        covered = std::max(covered, x.offset + x.count);
      }
      // With n >= 2 every rank receives every element at least once (a ring rank folds or
      // copies each block in; a tree rank folds its children's or copies its parent's).
      if (covered != s_.count) return fail(fmt::format("rank {}: elements from {} never received", r, covered));
    }
    return result_;
  }

  std::vector<Value> take_buffer() {
    if (pool_.empty()) return {};
    std::vector<Value> v = std::move(pool_.back());
    pool_.pop_back();
    return v;
  }

  // The executor's work on one ready step: fold or copy, finalize, send.
  std::string compute(const Step& st, size_t r, std::vector<Queue*>& in, std::vector<Queue*>& out) {
    auto& output = *out_[r];
    const auto& input = inputs_[r];
    if (st.nrecv > 0) {
      const auto& first = in[st.recv[0]]->front().data;
      for (size_t k = 0; k < st.count; ++k)
        output[st.offset + k] = st.with_input    ? fold(input[st.offset + k], first[k])
                                : st.with_output ? fold(output[st.offset + k], first[k])
                                                 : first[k];
      if (st.nrecv > 1) {
        const auto& second = in[st.recv[1]]->front().data;
        for (size_t k = 0; k < st.count; ++k) output[st.offset + k] = fold(output[st.offset + k], second[k]);
      }
    }
    if (st.finalize) {
      for (size_t k = 0; k < st.count; ++k) {
        if (!output[st.offset + k].written) return fmt::format("finalizes element {}, never written", st.offset + k);
        ++output[st.offset + k].finalized;
      }
    }
    if (st.nsend > 0) {
      const auto& src = st.send_input ? input : output;
      Message msg{st.offset, st.count, take_buffer()};
      msg.data.assign(src.begin() + static_cast<ptrdiff_t>(st.offset),
                      src.begin() + static_cast<ptrdiff_t>(st.offset + st.count));
      for (size_t k = 0; k < st.count; ++k)
        if (!msg.data[k].written) return fmt::format("sends element {}, never written", st.offset + k);
      for (uint8_t i = 0; i < st.nsend; ++i) {
        if (i + 1 < st.nsend)
          out[st.send[i]]->push_back(msg);
        else
          out[st.send[i]]->push_back(std::move(msg));
        ++result_.messages;
      }
    }
    return "";
  }

  std::string deadlock() const {
    std::string text = "deadlock: no rank can advance;";
    int shown = 0;
    for (size_t mi = 0; mi < s_.machines.size() && shown < 6; ++mi) {
      if (next_[mi] >= size_[mi]) continue;
      const Step st = s_.machines[mi].program->at(next_[mi]);
      const auto r = static_cast<size_t>(s_.machines[mi].rank);
      const auto c = static_cast<size_t>(s_.machines[mi].channel);
      std::string wait;
      if (st.after >= 0 && s_.machines[mi].partner >= 0 &&
          next_[static_cast<size_t>(s_.machines[mi].partner)] <= static_cast<size_t>(st.after))
        wait = fmt::format("partner step {}", st.after);
      for (uint8_t i = 0; i < st.nrecv && wait.empty(); ++i)
        if (in_q_[r][c][st.recv[i]]->empty())
          wait = fmt::format("data from rank {}", s_.links[r][c].in_peers[st.recv[i]]);
      for (uint8_t i = 0; i < st.nsend && wait.empty(); ++i)
        wait = fmt::format("a free slot at rank {}", s_.links[r][c].out_peers[st.send[i]]);
      text += fmt::format(" {} waits for {};", where(mi, next_[mi]), wait);
      ++shown;
    }
    return text;
  }

  const Setup& s_;
  Options o_;
  Result result_;
  std::vector<std::vector<Value>> inputs_, outputs_;
  std::vector<std::vector<Value>*> out_;
  std::map<std::tuple<int, int, int>, Queue> queues_;           // (channel, sender, receiver)
  std::vector<std::vector<std::vector<Queue*>>> in_q_, out_q_;  // [rank][channel][link]
  std::vector<size_t> size_, next_;
  std::vector<std::vector<Value>> pool_;              // message buffers, reused
  std::vector<uint8_t> queued_;                       // in work_
  std::deque<size_t> work_;                           // machines that may advance
  std::vector<std::vector<std::vector<size_t>>> on_;  // [rank][channel] machines
  std::vector<Range> finalized_;                      // without values: every finalize step's range
  std::vector<std::vector<Range>> written_;           // without values: [rank] ranges received into the output
};

}  // namespace detail

inline Result run(const Setup& setup, const Options& options = {}) { return detail::Simulator(setup, options).run(); }

}  // namespace sxcoll::sim
