"""`python3 -m sxcoll_worker.prepare`: Alpaca-format JSON -> packed token sequences.

Input: a JSON list of {"instruction": str, "input": str (may be empty or absent),
"output": str}, as in tatsu-lab/stanford_alpaca's alpaca_data.json. Each example becomes
Alpaca's prompt template followed by its output, tokenised as [BOS] + text + [EOS]; all
examples are concatenated in file order and cut into sequences of exactly --seq-len
tokens (sequence packing, no padding). The tail shorter than one sequence is dropped and
counted in the header. Output format: see packed.py. Needs neither PyTorch nor numpy.

Prints one JSON line describing what was written; bad input gets one line on stderr and
exit code 2.
"""

import argparse
import json
import sys
from typing import Dict, Iterator, List

from . import packed
from .errors import EXIT_OK, EXIT_USAGE, UsageError, print_error
from .tokenizer import load_tokenizer

PROG = "sxcoll-prepare"

# Stanford Alpaca's templates, verbatim.
PROMPT_WITH_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
)
PROMPT_NO_INPUT = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Response:\n"
)


def format_example(example: Dict[str, str]) -> str:
    template = PROMPT_WITH_INPUT if example.get("input") else PROMPT_NO_INPUT
    return template.format(instruction=example["instruction"], input=example.get("input", "")) + example["output"]


def load_alpaca(path: str) -> List[Dict[str, str]]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as exc:
        raise UsageError(f"--input {path}: cannot read ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"--input {path}: not valid JSON ({exc})") from None
    if not isinstance(data, list) or not data:
        raise UsageError(f"--input {path}: expected a non-empty JSON list of Alpaca examples")
    for i, ex in enumerate(data):
        if not isinstance(ex, dict):
            raise UsageError(f"--input {path}: example {i} is not an object")
        for key in ("instruction", "output"):
            if not isinstance(ex.get(key), str):
                raise UsageError(f"--input {path}: example {i} lacks a string field '{key}'")
        if "input" in ex and not isinstance(ex["input"], str):
            raise UsageError(f"--input {path}: example {i} has a non-string field 'input'")
    return data


def token_stream(examples: List[Dict[str, str]], tokenizer) -> Iterator[int]:
    for ex in examples:
        if tokenizer.bos_id is not None:
            yield tokenizer.bos_id
        yield from tokenizer.encode(format_example(ex))
        yield tokenizer.eos_id


def pack(stream: Iterator[int], seq_len: int) -> tuple:
    """Return (ids of the whole sequences, total tokens); the tail is dropped."""
    ids = list(stream)
    kept = len(ids) - len(ids) % seq_len
    return ids[:kept], len(ids)


def parse_args(argv: List[str]) -> argparse.Namespace:
    class Parser(argparse.ArgumentParser):
        def error(self, message):  # one line, exit 2 (argparse would print usage too)
            raise UsageError(message)

    p = Parser(prog="python3 -m sxcoll_worker.prepare", description=__doc__.split("\n\n")[0])
    p.add_argument("--input", required=True, help="Alpaca-format JSON list")
    p.add_argument("--output", required=True, help="output stem: writes STEM.bin and STEM.json")
    p.add_argument("--seq-len", type=int, required=True, help="tokens per packed sequence")
    p.add_argument("--tokenizer", default="byte", help="'byte' (default) or a local Hugging Face tokenizer folder")
    args = p.parse_args(argv)
    if args.seq_len < 2:
        raise UsageError(f"--seq-len must be at least 2, got {args.seq_len}")
    return args


def main(argv: List[str] = None) -> int:
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        examples = load_alpaca(args.input)
        try:
            tokenizer = load_tokenizer(args.tokenizer)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        ids, total = pack(token_stream(examples, tokenizer), args.seq_len)
        if not ids:
            raise UsageError(f"--input {args.input}: {total} tokens in all, fewer than one sequence of "
                             f"--seq-len {args.seq_len}")
        header = {
            "seq_len": args.seq_len, "num_sequences": len(ids) // args.seq_len,
            "vocab_size": tokenizer.vocab_size, "tokenizer": tokenizer.name,
            "bos_id": tokenizer.bos_id, "eos_id": tokenizer.eos_id, "pad_id": tokenizer.pad_id,
            "num_examples": len(examples), "num_tokens": total, "dropped_tokens": total - len(ids),
            "source": args.input,
        }
        try:
            bin_path, json_path = packed.write(args.output, ids, header)
        except OSError as exc:
            raise UsageError(f"--output {args.output}: cannot write ({exc.strerror})") from None
    except UsageError as exc:
        print_error(str(exc), PROG)
        return EXIT_USAGE
    print(json.dumps({"type": "prepared", "bin": bin_path, "header": json_path, **header}, sort_keys=True))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
