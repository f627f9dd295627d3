// Slurm's host list expressions (SLURM_JOB_NODELIST, `scontrol show hostnames`):
// "fukushimadc-02-hgx-[0001-0007,0009]" -> the eight names, zero padding kept. Inside an
// allocation (sbatch, salloc) `sxcoll sft --launcher slurm` takes its nodes from it.
#pragma once

#include <string>
#include <vector>

#include "sft_driver/inventory.h"

namespace sxcoll::sft {

// Every name, in order. Names may hold several bracket groups ("r[1-2]n[01-02]": r1n01,
// r1n02, r2n01, r2n02); commas outside brackets separate names. A malformed expression
// (an unclosed bracket, a range that runs backwards, not digits) is a UsageError naming it.
std::vector<std::string> expand_hostlist(const std::string& expression);

// The nodes of the allocation: name = address = each expanded name (the scheduler resolves
// them), `gpus` as given (SLURM_GPUS_ON_NODE; 0 where unset). `origin` names the variable.
Inventory inventory_from_hostlist(const std::string& expression, int gpus, const std::string& origin);

}  // namespace sxcoll::sft
