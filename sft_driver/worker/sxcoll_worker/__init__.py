"""sxcoll's training worker: a Llama-2 fine-tuning step loop that measures throughput.

The C++ driver (`sxcoll sft`) starts one process per GPU with torchrun's environment
(RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) and reads the JSON lines this
worker writes. See ../README.md for the flags and the metrics schema.
"""

__version__ = "0.1.0"
