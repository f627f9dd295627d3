"""Training batches: synthetic random tokens or sequences from a packed-token file.

Every rank draws its own micro-batches; which ones is a pure function of (seed, step,
micro-step, rank), so a run is reproducible and no data loader process is needed (the
batches are tiny next to a training step). With `repeat` every step reuses the first
batch, which is how the tests watch the loss fall.
"""

from typing import Dict, Optional

import torch

from . import packed


class SyntheticBatches:
    def __init__(self, vocab_size: int, micro_batch: int, seq_len: int, seed: int, rank: int,
                 repeat: bool, device: torch.device):
        self.vocab_size, self.micro_batch, self.seq_len = vocab_size, micro_batch, seq_len
        self.seed, self.rank, self.repeat, self.device = seed, rank, repeat, device
        self.generator = torch.Generator()

    def get(self, step: int, micro: int) -> torch.Tensor:
        if self.repeat:
            step = micro = 0
        # One seed per (seed, rank, step, micro): any step can be drawn without the others.
        mixed = ((self.seed * 1_000_003 + self.rank) * 1_000_003 + step) * 1_000_003 + micro
        self.generator.manual_seed(mixed % (1 << 63))
        tokens = torch.randint(0, self.vocab_size, (self.micro_batch, self.seq_len), generator=self.generator)
        return tokens.to(self.device, non_blocking=True)

    def describe(self) -> Dict:
        return {"kind": "synthetic", "repeat": self.repeat}


class PackedBatches:
    def __init__(self, path: str, micro_batch: int, grad_accum: int, seq_len: int, seed: int,
                 rank: int, world_size: int, repeat: bool, device: torch.device):
        import numpy as np  # comes with every PyTorch install

        self.bin_path, self.header = packed.read_header(path)  # checked again in cli; cheap
        n, file_seq = self.header["num_sequences"], self.header["seq_len"]
        self.tokens = np.memmap(self.bin_path, dtype="<u4", mode="r", shape=(n, file_seq))
        # One fixed shuffle of the sequence order, the same on every rank.
        self.order = np.random.RandomState(seed).permutation(n)
        self.micro_batch, self.grad_accum, self.seq_len = micro_batch, grad_accum, seq_len
        self.rank, self.world_size, self.repeat, self.device = rank, world_size, repeat, device
        self.np = np

    def get(self, step: int, micro: int) -> torch.Tensor:
        if self.repeat:
            step = micro = 0
        # Global order: step, then micro-step, then rank, then sample; wraps round (epochs).
        first = ((step * self.grad_accum + micro) * self.world_size + self.rank) * self.micro_batch
        rows = self.order[(first + self.np.arange(self.micro_batch)) % len(self.order)]
        batch = self.np.asarray(self.tokens[self.np.sort(rows)], dtype=self.np.int64)
        return torch.from_numpy(batch).to(self.device, non_blocking=True)

    def describe(self) -> Dict:
        return {"kind": "packed", "path": self.bin_path, "repeat": self.repeat,
                "num_sequences": self.header["num_sequences"], "tokenizer": self.header.get("tokenizer")}


def make_batches(data: str, vocab_size: int, micro_batch: int, grad_accum: int, seq_len: int, seed: int,
                 rank: int, world_size: int, repeat: bool, device: torch.device):
    if data == "synthetic":
        return SyntheticBatches(vocab_size, micro_batch, seq_len, seed, rank, repeat, device)
    return PackedBatches(data, micro_batch, grad_accum, seq_len, seed, rank, world_size, repeat, device)


def check_packed_file(path: str, seq_len: int, vocab_size: int) -> Optional[str]:
    """Return a one-line problem with a packed file for this run, or None if it fits."""
    try:
        _, header = packed.read_header(path)
    except ValueError as exc:
        return f"--data {path}: {exc}"
    if header["seq_len"] != seq_len:
        return f"--data {path}: packed for seq_len {header['seq_len']}, but --seq-len is {seq_len} (re-run prepare)"
    if header["vocab_size"] > vocab_size:
        return f"--data {path}: tokenizer vocabulary {header['vocab_size']} exceeds the model's {vocab_size}"
    return None
