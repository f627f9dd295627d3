// What ibv_query_port's codes mean: lane speed, lane count and MTU as numbers, the way
// ibv_devinfo and ibstat print them (a 400GbE ConnectX-7 port: NDR lanes x 4 = 400 Gb/s).
#pragma once

#include <cstdint>
#include <string>

namespace sxcoll::transport::verbs {

// Per-lane data rate in Gb/s of an active_speed code; 0 for an unknown code.
double lane_speed_gbps(uint32_t active_speed);
// Lanes of an active_width code; 0 for an unknown code.
int lane_count(uint32_t active_width);
// Port rate in Gb/s (speed x width); 0 when either code is unknown.
double port_rate_gbps(uint32_t active_speed, uint32_t active_width);
// Bytes of an ibv_mtu code (IBV_MTU_256 = 1 ... IBV_MTU_4096 = 5); 0 for an unknown code.
int mtu_bytes(int mtu_code);

}  // namespace sxcoll::transport::verbs
