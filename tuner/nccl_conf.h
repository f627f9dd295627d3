// Tuning results in the files NCCL reads itself, without exported variables:
// - nccl.conf: NCCL_CONF_FILE's syntax (NAME=value lines, '#' comments), the NCCL_*
//   settings of nccl_env.sh (detected facts and tuned values);
// - nccl_tuner.conf: the CSV of NCCL's example tuner plugin (ext-tuner/example in NCCL
//   2.27+, NCCL_TUNER_CONFIG_FILE): per size range, the algorithm, protocol and channels
//   that measured best, where sxcoll tune measured NCCL_ALGO / NCCL_PROTO values.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "tuner/env_writer.h"

namespace sxcoll::tune {

std::string nccl_conf_text(const EnvFile& file);

// One line of nccl_tuner.conf: colltype,min_bytes,max_bytes,algorithm,protocol,channels,
// nNodes,nRanks,numPipeOps,regBuff (the plugin's column order; -1 matches any).
struct TunerConfLine {
  std::string collective = "allreduce";
  size_t min_bytes = 0, max_bytes = 0;  // inclusive, as the plugin compares
  std::string algorithm, protocol;      // the plugin's spelling: "ring", "ll128"
  int channels = -1, nodes = -1, ranks = -1, pipe_ops = -1, reg_buff = -1;
};

// Per measured size, the setting with the best mean busbw among the baseline and every
// candidate of the NCCL_ALGO and NCCL_PROTO knobs, each setting rebuilt from the search's
// order. A size gets a line only where that setting names both an algorithm and a
// protocol (a line forces both; NCCL's own choice is not known here); adjacent sizes with
// the same choice share one. Ranges split halfway between measured sizes, the first from
// 0, the last to SIZE_MAX: contiguous where lines are adjacent, never overlapping.
// `ranks`: the trials' world size (0: any). Empty when those knobs were not measured.
std::vector<TunerConfLine> tuner_conf_lines(const SearchResult& result, int ranks);

// The file: a '#' header on its columns and provenance, then the lines.
std::string nccl_tuner_conf_text(const std::vector<TunerConfLine>& lines, const std::vector<std::string>& header);

}  // namespace sxcoll::tune
