// DeepSpeed ZeRO's JSON config, generated from the same plan as the FSDP runs.
#pragma once

#include <nlohmann/json.hpp>

#include "sft_driver/plan.h"

namespace sxcoll::sft {

// ZeRO stage 3 with the run's micro-batch, grad-accum, precision and warm-up; the optimizer
// matches the worker's (AdamW, lr 2e-5, betas 0.9/0.95, clip 1.0).
nlohmann::json deepspeed_config(const RunSpec& run);

}  // namespace sxcoll::sft
