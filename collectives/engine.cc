#include "collectives/engine.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include <fmt/core.h>

#include "collectives/reduce.h"
#include "transport/deadline.h"
#include "transport/error.h"

namespace sxcoll {

namespace {

// How long an idle loop sleeps in the transport before it looks at the bootstrap for an
// abort: short enough that a dead rank elsewhere is reported promptly.
constexpr int kIdleSliceMs = 100;
// How long a rank that saw a connection break waits for the store to say who was lost.
constexpr auto kCauseWait = std::chrono::milliseconds(1500);

}  // namespace

Engine::Engine(transport::Context& context, bootstrap::Bootstrap& bootstrap, std::chrono::milliseconds timeout,
               std::chrono::microseconds spin)
    : context_(context), bootstrap_(bootstrap), timeout_(timeout), spin_(spin) {}

uint32_t Engine::register_channel(Channel* channel) {
  if (channels_.size() >= kMaxChannels)
    throw RunError(fmt::format("rank {}: more than {} channels in one communicator", context_.rank(), kMaxChannels));
  channels_.push_back(channel);
  return static_cast<uint32_t>(channels_.size() - 1);
}

bool Engine::overlaps_inflight(const char* p, size_t bytes) const {
  for (const auto& [cookie, r] : inflight_)
    if (p < r.begin + r.bytes && r.begin < p + bytes) return true;
  return false;
}

bool Engine::try_advance(Machine& m, const CollectiveCall& call, Blocked& blocked) {
  const Step st = m.program->at(m.next);
  Channel& ch = *m.channel;
  auto wait = [&](Wait w, int peer) {
    blocked = Blocked{&m, w, peer};
    return false;
  };
  if (st.after >= 0 && m.partner->next <= static_cast<size_t>(st.after)) return wait(Wait::Partner, -1);
  for (uint8_t i = 0; i < st.nrecv; ++i)
    if (!ch.in[st.recv[i]].window.ready()) return wait(Wait::Data, ch.in[st.recv[i]].peer);
  for (uint8_t i = 0; i < st.nsend; ++i)
    if (!ch.out[st.send[i]].window.can_post()) return wait(Wait::Credit, ch.out[st.send[i]].peer);

  const size_t esize = dtype_size(call.type);
  const size_t bytes = st.count * esize;
  char* out = static_cast<char*>(st.to_scratch ? call.scratch : call.output) + st.offset * esize;
  const char* in =
      static_cast<const char*>(call.input) + (st.input_offset == kAtOffset ? st.offset : st.input_offset) * esize;
  if ((st.nrecv > 0 || st.copy_input) && overlaps_inflight(out, bytes)) return wait(Wait::SendDone, -1);

  for (uint8_t i = 0; i < st.nrecv; ++i) {
    const InLink& link = ch.in[st.recv[i]];
    if (link.window.ready_bytes() != bytes)
      throw RunError(fmt::format("rank {}: {}: rank {} sent {} bytes on channel {} where {} were due (schedules differ: "
                                 "were all ranks started with the same options?)",
                                 context_.rank(), call.name, link.peer, link.window.ready_bytes(), ch.id, bytes));
  }
  StepQueue& q = queue_of(call);
  if (st.nrecv > 0) {
    const char* first = ch.in[st.recv[0]].slot_data();
    if (st.with_input)
      q.reduce(out, in, first, st.count, call.type, call.op);
    else if (st.with_output)
      q.reduce(out, out, first, st.count, call.type, call.op);
    else
      q.copy(out, first, bytes);
    if (st.nrecv > 1) q.reduce(out, out, ch.in[st.recv[1]].slot_data(), st.count, call.type, call.op);
  } else if (st.copy_input && out != in) {
    q.copy(out, in, bytes);
  }
  if (st.finalize && call.op == RedOp::Avg) q.finalize_avg(out, st.count, call.type, call.nranks);

  PendingStep pending;
  const char* src = st.send_input ? in : out;
  for (uint8_t i = 0; i < st.nsend; ++i) {
    OutLink& link = ch.out[st.send[i]];
    const uint64_t seq = link.window.post();
    const size_t dst_offset = link.window.slot(seq) * ch.slot_bytes;
    PendingWrite w{&link, nullptr, 0, bytes, dst_offset, imm_data(ch.id, seq), next_cookie_++};
    const char* from = src;
    if (link.staging) {
      // Staged in the slot of the same sequence number: free again once the peer's
      // credit for it came, which is before this slot's next use.
      char* stage = link.staging.get() + dst_offset;
      q.copy(stage, src, bytes);
      w.region = link.staging_region.get();
      w.offset = dst_offset;
      from = stage;
    } else {
      w.region = (st.send_input ? call.input_region : st.to_scratch ? call.scratch_region : call.output_region).get();
      w.offset = static_cast<size_t>(src - static_cast<const char*>(w.region->base));
    }
    inflight_[w.cookie] = ByteRange{from, bytes};
    pending.writes[pending.nwrites++] = w;
  }
  // The slots are consumed: they go back to their senders once the work that reads them is done.
  for (uint8_t i = 0; i < st.nrecv; ++i) {
    InLink& link = ch.in[st.recv[i]];
    const uint64_t seq = link.window.consume();
    pending.credits[pending.ncredits++] = PendingCredit{&link, imm_credit(ch.id, seq)};
  }
  pending.ticket = q.mark();
  pending_.push_back(pending);
  post_finished(q);
  ++m.next;
  return true;
}

bool Engine::post_finished(StepQueue& queue) {
  bool posted = false;
  while (!pending_.empty() && queue.done(pending_.front().ticket)) {
    const PendingStep& p = pending_.front();
    for (uint8_t i = 0; i < p.nwrites; ++i) {
      const PendingWrite& w = p.writes[i];
      w.link->pair->write(*w.region, w.offset, w.bytes, w.link->remote, w.dst_offset, w.imm, w.cookie);
    }
    for (uint8_t i = 0; i < p.ncredits; ++i) {
      ++credits_in_flight_;
      p.credits[i].link->pair->notify(p.credits[i].imm, 0);
    }
    pending_.pop_front();
    posted = true;
  }
  return posted;
}

void Engine::handle(const transport::Completion& c) {
  using Type = transport::Completion::Type;
  if (c.type == Type::Sent) {
    if (c.cookie == 0)
      --credits_in_flight_;
    else
      inflight_.erase(c.cookie);
    return;
  }
  const uint32_t id = imm_channel(c.imm);
  Channel* ch = id < channels_.size() ? channels_[id] : nullptr;
  if (imm_is_credit(c.imm)) {
    OutLink* link = ch ? ch->out_to(c.peer) : nullptr;
    if (link == nullptr)
      throw RunError(fmt::format("rank {}: credit from rank {} for unknown channel {}", context_.rank(), c.peer, id));
    link->window.credit();
  } else {
    InLink* link = ch ? ch->in_from(c.peer) : nullptr;
    if (link == nullptr)
      throw RunError(fmt::format("rank {}: data from rank {} for unknown channel {}", context_.rank(), c.peer, id));
    link->window.arrived(imm_sequence(c.imm), c.bytes);
  }
}

std::string Engine::describe(const Blocked& b, const CollectiveCall& call) const {
  if (b.machine == nullptr)
    return pending_.empty() ? "waiting for our own writes to complete" : "waiting for the GPU to finish a step's work";
  std::string where = fmt::format("channel {}, step {} of {}", b.machine->channel->id, b.machine->next,
                                  b.machine->size);
  switch (b.wait) {
    case Wait::Data:
      return fmt::format("waiting for data from rank {} ({})", b.peer, where);
    case Wait::Credit:
      return fmt::format("waiting for rank {} to free a slot ({})", b.peer, where);
    case Wait::SendDone:
      return fmt::format("waiting for a write to complete ({})", where);
    case Wait::Partner:
      return fmt::format("waiting for the other half of {} ({})", call.name, where);
    case Wait::None:
      break;
  }
  return where;
}

void Engine::drive(std::vector<Machine>& machines, const CollectiveCall& call) {
  auto last_progress = Clock::now();
  Blocked blocked;
  StepQueue& queue = queue_of(call);
  for (;;) {
    bool advanced = post_finished(queue);
    bool all_done = true;
    for (auto& m : machines) {
      // Bounded per machine, so that one channel cannot starve the others or the network.
      for (int k = 0; k < 16 && m.next < m.size && try_advance(m, call, blocked); ++k) advanced = true;
      if (m.next < m.size) all_done = false;
    }
    if (all_done && pending_.empty() && inflight_.empty() && credits_in_flight_ == 0) return;
    if (all_done) blocked = Blocked{};
    completions_.clear();
    // Work on the GPU finishes without telling the transport: poll while there is some.
    const bool in_spin = Clock::now() - last_progress < spin_;
    const bool spinning = advanced || !pending_.empty() || in_spin;
    // An idle wait ends at the deadline, not up to a slice after it: ranks that stall
    // together then time out together, before one sees another's exit as a lost peer.
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(timeout_ - (Clock::now() - last_progress));
    const int idle_ms = static_cast<int>(std::clamp<long long>(left.count() + 1, 0, kIdleSliceMs));
    try {
      context_.progress(completions_, spinning ? 0 : idle_ms);
    } catch (const PeerError&) {
      // A peer that gave up at its own deadline closes its sockets: past ours, ours is the cause.
      if (Clock::now() - last_progress > timeout_) throw no_progress(blocked, call);
      throw;
    }
    for (const auto& c : completions_) handle(c);
    if (advanced || !completions_.empty()) {
      last_progress = Clock::now();
      continue;
    }
    if (in_spin) continue;
    if (auto reason = bootstrap_.poll_abort())
      throw RunError(fmt::format("rank {}: {} aborted: {}", context_.rank(), call.name, *reason));
    if (Clock::now() - last_progress > timeout_) throw no_progress(blocked, call);
  }
}

RunError Engine::no_progress(const Blocked& blocked, const CollectiveCall& call) const {
  return RunError(fmt::format("rank {}: {}: no progress for {} ms, {}", context_.rank(), call.name, timeout_.count(),
                              describe(blocked, call)));
}

void Engine::run(std::vector<Machine>& machines, const CollectiveCall& call) {
  for (auto& m : machines) {
    m.next = 0;
    m.size = m.program->size();
  }
  pending_.clear();
  try {
    drive(machines, call);
  } catch (const PeerError& e) {
    // A broken connection says which peer is gone from here; the store knows which rank
    // was lost first (it may be further away). Name both.
    Deadline deadline(kCauseWait);
    while (!deadline.expired()) {
      if (auto reason = bootstrap_.poll_abort())
        throw RunError(fmt::format("rank {}: {} failed: {} (seen here as: {})", context_.rank(), call.name, *reason,
                                   e.what()));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw RunError(fmt::format("rank {}: {} failed: lost rank {}: {}", context_.rank(), call.name, e.peer(), e.what()));
  }
}

}  // namespace sxcoll
