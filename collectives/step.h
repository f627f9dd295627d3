// The unit every algorithm is written in: a step a rank performs on one range of the
// buffers, receiving from and sending to links of its channel. An algorithm is a program
// of steps per rank (plain data, checked by unit tests without a network); the executor
// runs programs over any transport.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace sxcoll {

// Step::input_offset where the input range starts at `offset` too.
inline constexpr size_t kAtOffset = SIZE_MAX;

struct Step {
  size_t offset = 0;  // first element of the range, in the user's buffers
  size_t count = 0;   // elements
  uint8_t nrecv = 0;  // incoming links whose next slot this step consumes
  std::array<uint8_t, 2> recv{};
  uint8_t nsend = 0;  // outgoing links the range is written to
  std::array<uint8_t, 2> send{};
  bool with_input = false;   // fold the local input into what is received (else copy it)
  bool with_output = false;  // fold the output range (a partial result) into what is received
  bool finalize = false;    // the range now holds the final result (Avg divides here)
  bool send_input = false;  // send the input range itself; nothing is computed
  int64_t after = -1;       // this step waits until step `after` of the channel's other program is done
  // Collectives whose input and output differ in shape (allgather: one block in, n out;
  // reduce-scatter: n in, one out) index the input elsewhere: its first element here.
  size_t input_offset = kAtOffset;
  bool copy_input = false;  // nothing received: the output range becomes a copy of the input range
  // `offset` indexes the communicator's scratch buffer, not the output: partial results
  // that the user's output has no room for (reduce-scatter) or must not receive (reduce
  // on a rank other than the root).
  bool to_scratch = false;
};

// The steps of one rank on one channel, generated on demand: a 32 GiB buffer has
// hundreds of thousands of them.
class StepProgram {
 public:
  virtual ~StepProgram() = default;
  virtual size_t size() const = 0;
  virtual Step at(size_t index) const = 0;
};

}  // namespace sxcoll
