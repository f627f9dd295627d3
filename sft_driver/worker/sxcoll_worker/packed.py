"""The packed-token file: what `python3 -m sxcoll_worker.prepare` writes and the worker reads.

Two files side by side, sharing a stem:

  STEM.bin   raw token ids, little-endian unsigned 32-bit, no header, num_sequences * seq_len
             of them: sequence i is ids [i*seq_len, (i+1)*seq_len).
  STEM.json  the header: {"format": "sxcoll-packed-tokens", "version": 1, "dtype": "uint32",
             "byte_order": "little", "seq_len", "num_sequences", "vocab_size", "tokenizer",
             "bos_id", "eos_id", "pad_id", "num_examples", "num_tokens", "dropped_tokens",
             "source"}.

Plain uint32 needs no library to read (numpy.memmap, C++ mmap) and holds any vocabulary.
This module needs only the standard library so that prepare runs without PyTorch.
"""

import json
import os
import sys
from array import array
from typing import Dict, Iterable, Tuple

FORMAT = "sxcoll-packed-tokens"
VERSION = 1


def paths_for(stem_or_path: str) -> Tuple[str, str]:
    """Accept STEM, STEM.bin or STEM.json; return (bin path, json path)."""
    stem = stem_or_path
    for ext in (".bin", ".json"):
        if stem.endswith(ext):
            stem = stem[: -len(ext)]
    return stem + ".bin", stem + ".json"


def write(stem: str, sequences_flat: Iterable[int], header: Dict) -> Tuple[str, str]:
    bin_path, json_path = paths_for(stem)
    ids = array("I", sequences_flat)
    if ids.itemsize != 4:  # 'I' is 4 bytes on every platform PyTorch runs on; be sure
        ids = array("L", ids)
    if sys.byteorder != "little":
        ids.byteswap()
    with open(bin_path, "wb") as f:
        ids.tofile(f)
    full = {"format": FORMAT, "version": VERSION, "dtype": "uint32", "byte_order": "little", **header}
    with open(json_path, "w") as f:
        json.dump(full, f, indent=2, sort_keys=True)
        f.write("\n")
    return bin_path, json_path


def read_header(stem_or_path: str) -> Tuple[str, Dict]:
    """Return (bin path, header) after checking that the two files agree; ValueError if not."""
    bin_path, json_path = paths_for(stem_or_path)
    for p in (bin_path, json_path):
        if not os.path.isfile(p):
            raise ValueError(f"packed token file {p} does not exist")
    try:
        with open(json_path) as f:
            header = json.load(f)
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{json_path}: not a readable JSON header ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{json_path}: not a {FORMAT} header")
    if header.get("version") != VERSION or header.get("dtype") != "uint32" or header.get("byte_order") != "little":
        raise ValueError(f"{json_path}: unsupported version/dtype/byte_order")
    for key in ("seq_len", "num_sequences", "vocab_size"):
        if not isinstance(header.get(key), int) or header[key] <= 0:
            raise ValueError(f"{json_path}: field {key} must be a positive integer")
    expected = header["seq_len"] * header["num_sequences"] * 4
    actual = os.path.getsize(bin_path)
    if actual != expected:
        raise ValueError(f"{bin_path}: {actual} bytes, header says {expected} "
                         f"({header['num_sequences']} sequences x {header['seq_len']} tokens x 4 bytes)")
    return bin_path, header
