#include "sft_driver/inventory.h"

#include <fstream>
#include <set>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "transport/error.h"

namespace sxcoll::sft {

Inventory parse_inventory(const std::string& text, const std::string& origin) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw UsageError(fmt::format("hosts {}: not valid JSON: {}", origin, e.what()));
  }
  if (!j.is_object() || !j.contains("hosts") || !j["hosts"].is_array() || j["hosts"].empty())
    throw UsageError(fmt::format("hosts {}: expected {{\"hosts\": [{{\"name\", \"address\", \"gpus\"}}, ...]}}", origin));
  Inventory inv{origin, {}};
  std::set<std::string> names, addresses;
  for (size_t i = 0; i < j["hosts"].size(); ++i) {
    const auto& e = j["hosts"][i];
    auto fail = [&](const std::string& what) {
      throw UsageError(fmt::format("hosts {}: hosts[{}]: {}", origin, i, what));
    };
    if (!e.is_object()) fail("expected an object with name, address and gpus");
    for (const auto& [k, v] : e.items())
      if (k != "name" && k != "address" && k != "gpus" && k != "tags" && k != "exclude")
        fail(fmt::format("unknown key '{}' (known: name, address, gpus, tags, exclude)", k));
    Host h;
    for (const char* key : {"name", "address"}) {
      if (!e.contains(key) || !e[key].is_string() || e[key].get<std::string>().empty())
        fail(fmt::format("{}: expected a non-empty string", key));
      const std::string value = e[key].get<std::string>();
      if (value.find_first_of(" \t,'\"$`\\;") != std::string::npos)
        fail(fmt::format("{} '{}': no spaces, commas, quotes or shell characters", key, value));
    }
    h.name = e["name"].get<std::string>();
    h.address = e["address"].get<std::string>();
    if (!e.contains("gpus") || !e["gpus"].is_number_integer() || e["gpus"].get<long long>() < 0 ||
        e["gpus"].get<long long>() > 1024)
      fail(fmt::format("{}: gpus: expected an integer 0..1024", h.name));
    h.gpus = e["gpus"].get<int>();
    if (e.contains("tags")) {
      if (!e["tags"].is_array()) fail(fmt::format("{}: tags: expected a list of strings", h.name));
      for (const auto& t : e["tags"]) {
        if (!t.is_string()) fail(fmt::format("{}: tags: expected a list of strings", h.name));
        h.tags.push_back(t.get<std::string>());
      }
    }
    if (e.contains("exclude")) {
      const auto& x = e["exclude"];
      if (x.is_boolean()) {
        h.exclude = x.get<bool>();
      } else if (x.is_string() && !x.get<std::string>().empty()) {
        h.exclude = true;
        h.exclude_reason = x.get<std::string>();
      } else {
        fail(fmt::format("{}: exclude: expected true, false or a reason", h.name));
      }
    }
    if (!names.insert(h.name).second) fail(fmt::format("name '{}' appears twice", h.name));
    if (!addresses.insert(h.address).second) fail(fmt::format("address '{}' appears twice", h.address));
    inv.hosts.push_back(std::move(h));
  }
  return inv;
}

Inventory load_inventory(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(fmt::format("hosts {}: cannot open", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_inventory(ss.str(), path);
}

}  // namespace sxcoll::sft
