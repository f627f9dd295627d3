// DeepSpeed ZeRO's JSON config, generated from the same plan as the FSDP runs. The file is the
// one DeepSpeed reads (the worker passes its path to deepspeed.initialize); only keys of
// DeepSpeed's documented config (deepspeed.ai/docs/config-json) appear in it.
#pragma once

#include <nlohmann/json.hpp>

#include "sft_driver/plan.h"

namespace sxcoll::sft {

// ZeRO stage 2 or 3 (run.zero_stage), optionally the optimizer offloaded to the CPU, with the
// run's micro-batch, grad-accum and precision. The optimizer block carries the worker's AdamW
// (lr 2e-5, betas 0.9/0.95, eps 1e-8, clip 1.0), which DeepSpeed builds where it picks the
// implementation (FusedAdam, CPU Adam). No scheduler block: the worker sets the learning rate
// itself (linear warm-up, as for FSDP), and refuses a file that has one.
nlohmann::json deepspeed_config(const RunSpec& run);

}  // namespace sxcoll::sft
