// Reading /sys/class/infiniband: what the verbs backend and `sxcoll tune` learn of the
// RDMA ports without opening a device, so that both are testable on a fake tree.
#pragma once

#include <filesystem>
#include <string>

namespace sxcoll::transport::verbs {

// One line of a sysfs attribute, without its line end or trailing blanks; empty when it
// cannot be read (the kernel answers EINVAL for the type of an unused GID entry).
std::string read_sysfs_line(const std::filesystem::path& path);

}  // namespace sxcoll::transport::verbs
