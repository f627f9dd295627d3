// Framing of the bootstrap store's messages: a 4-byte length, then fields. Integers are
// little-endian (every host sxcoll targets is), strings are length-prefixed.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sxcoll::bootstrap::wire {

enum class Op : uint8_t { Hello = 1, Set, Get, Joined, Bye, Abort, Ok, Error, Values };
enum class Role : uint8_t { Data = 0, Liveness = 1 };

class Writer {
 public:
  Writer& u8(uint8_t v) { return raw(&v, 1); }
  Writer& u32(uint32_t v) { return raw(&v, 4); }
  Writer& str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    return raw(s.data(), s.size());
  }
  Writer& op(Op o) { return u8(static_cast<uint8_t>(o)); }
  // The message with its length prefix.
  std::string frame() const {
    std::string out(4, '\0');
    uint32_t n = static_cast<uint32_t>(body_.size());
    std::memcpy(out.data(), &n, 4);
    return out + body_;
  }

 private:
  Writer& raw(const void* p, size_t n) {
    body_.append(static_cast<const char*>(p), n);
    return *this;
  }
  std::string body_;
};

class Reader {
 public:
  explicit Reader(std::string_view body) : body_(body) {}
  uint8_t u8() { return static_cast<uint8_t>(take(1)[0]); }
  uint32_t u32() {
    uint32_t v;
    std::memcpy(&v, take(4).data(), 4);
    return v;
  }
  std::string str() { return std::string(take(u32())); }
  Op op() { return static_cast<Op>(u8()); }

 private:
  std::string_view take(size_t n) {
    if (n > body_.size()) throw std::runtime_error("bootstrap: truncated store message");
    auto out = body_.substr(0, n);
    body_.remove_prefix(n);
    return out;
  }
  std::string_view body_;
};

inline constexpr uint32_t kMaxFrame = 64u << 20;

}  // namespace sxcoll::bootstrap::wire
