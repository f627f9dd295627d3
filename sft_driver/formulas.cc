#include "sft_driver/formulas.h"

namespace sxcoll::sft {

double model_flops_per_token(double n, int layers, int dim, int seq_len) {
  return 6.0 * n + 12.0 * layers * static_cast<double>(dim) * seq_len;
}

std::optional<double> mfu(double flops_per_token, double tokens_per_s, int gpus, std::optional<double> peak) {
  if (gpus <= 0 || !peak || *peak <= 0) return std::nullopt;
  return flops_per_token * tokens_per_s / (gpus * *peak);
}

double scaling_efficiency(double per_gpu_at_n, double per_gpu_at_base) {
  return per_gpu_at_base > 0 ? per_gpu_at_n / per_gpu_at_base : 0.0;
}

double ideal_throughput(double per_gpu_at_base, int gpus_at_n) { return per_gpu_at_base * gpus_at_n; }

}  // namespace sxcoll::sft
