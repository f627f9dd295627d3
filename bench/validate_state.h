// What a `--validate` run has finished, kept in --out/state.json so that an interrupted run
// resumes without repeating a step.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace sxcoll::bench {

// Finished steps, kept by host name so that a resumed run (perhaps launched in another
// rank order, or without a lost node) repeats none of them. Only rank 0 reads and writes it.
class StateFile {
 public:
  explicit StateFile(std::string dir);
  std::string path() const { return dir_ + "/state.json"; }
  bool resumed() const { return !state_.is_null(); }
  nlohmann::json& json() { return state_; }
  void save();

 private:
  std::string dir_;
  nlohmann::json state_;
};

// The key of one link in the state: the same whichever end is named first.
std::string link_key(const std::string& rail, const std::string& a, const std::string& b);

}  // namespace sxcoll::bench
