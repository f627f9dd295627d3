#include "sft_driver/deepspeed_config.h"

namespace sxcoll::sft {

nlohmann::json deepspeed_config(const RunSpec& r) {
  nlohmann::json j;
  j["train_micro_batch_size_per_gpu"] = r.micro_batch;
  j["gradient_accumulation_steps"] = r.grad_accum;
  j["train_batch_size"] = static_cast<long long>(r.micro_batch) * r.grad_accum * r.world_size();
  j["bf16"] = {{"enabled", r.precision == "bf16"}};
  j["gradient_clipping"] = 1.0;
  j["zero_optimization"] = {{"stage", 3},
                            {"overlap_comm", true},
                            {"contiguous_gradients", true},
                            {"reduce_bucket_size", 500000000},
                            {"stage3_prefetch_bucket_size", 500000000},
                            {"stage3_param_persistence_threshold", 1000000},
                            {"stage3_gather_16bit_weights_on_model_save", false}};
  j["optimizer"] = {{"type", "AdamW"},
                    {"params", {{"lr", 2e-5}, {"betas", {0.9, 0.95}}, {"eps", 1e-8}, {"weight_decay", 0.0}}}};
  j["scheduler"] = {{"type", "WarmupLR"},
                    {"params", {{"warmup_min_lr", 0}, {"warmup_max_lr", 2e-5}, {"warmup_num_steps", r.warmup_steps}}}};
  j["activation_checkpointing"] = {{"partition_activations", false}, {"contiguous_memory_optimization", false}};
  j["steps_per_print"] = r.steps;
  j["wall_clock_breakdown"] = false;
  return j;
}

}  // namespace sxcoll::sft
