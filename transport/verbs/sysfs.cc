#include "transport/verbs/sysfs.h"

#include <fstream>

namespace sxcoll::transport::verbs {

std::string read_sysfs_line(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return {};
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

}  // namespace sxcoll::transport::verbs
