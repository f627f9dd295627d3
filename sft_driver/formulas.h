// The numbers of the report, as formulas a unit test can check by hand.
#pragma once

#include <optional>

namespace sxcoll::sft {

// Model FLOPs per token of a decoder-only transformer (the worker's flops.py, PaLM appendix B):
// 6 N for the matrix products of forward and backward, plus 12 L d T for attention scores
// and their weighted sum over the full T x T matrix. N excludes the input embedding table.
double model_flops_per_token(double n_params_without_embedding, int layers, int dim, int seq_len);

// MFU = model FLOPs per token x tokens/s / (GPUs x peak dense FLOP/s per GPU).
// nullopt without GPUs or without a known peak (a CPU run).
std::optional<double> mfu(double flops_per_token, double tokens_per_s, int gpus, std::optional<double> peak_per_gpu);

// Scaling efficiency = per-GPU throughput at N nodes / per-GPU throughput at the smallest N.
double scaling_efficiency(double per_gpu_at_n, double per_gpu_at_base);

// Ideal throughput at N nodes: the smallest node count's per-GPU rate times N's GPUs.
double ideal_throughput(double per_gpu_at_base, int gpus_at_n);

}  // namespace sxcoll::sft
