// The hosts file: the one place where host names and addresses are written.
#pragma once

#include <string>
#include <vector>

namespace sxcoll::sft {

struct Host {
  std::string name;     // the scheduler's name for it (srun --nodelist)
  std::string address;  // where ssh, pdsh and mpirun reach it
  int gpus = 0;
  std::vector<std::string> tags;
  bool exclude = false;
  std::string exclude_reason;
};

struct Inventory {
  std::string origin;
  std::vector<Host> hosts;
};

// {"hosts": [{"name", "address", "gpus", "tags"?, "exclude"? (true or a reason)}]}.
// A bad entry is a UsageError of one line naming the file, the entry and the field.
Inventory parse_inventory(const std::string& text, const std::string& origin);
Inventory load_inventory(const std::string& path);

}  // namespace sxcoll::sft
