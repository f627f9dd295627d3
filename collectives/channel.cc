#include "collectives/channel.h"

namespace sxcoll {

char* InLink::slot_data() const { return slots.get() + static_cast<size_t>(window.slot()) * slot_bytes; }

InLink* Channel::in_from(int peer) {
  for (auto& link : in)
    if (link.peer == peer) return &link;
  return nullptr;
}

OutLink* Channel::out_to(int peer) {
  for (auto& link : out)
    if (link.peer == peer) return &link;
  return nullptr;
}

}  // namespace sxcoll
