"""prepare: Alpaca JSON -> packed uint32 sequences; and the worker reading them back."""

import json
import os
import struct
import tempfile
import unittest

import support
from sxcoll_worker import packed
from sxcoll_worker.prepare import PROMPT_NO_INPUT, PROMPT_WITH_INPUT, format_example

SAMPLE = [
    {"instruction": "Give three tips for staying healthy.", "input": "",
     "output": "1. Eat well.\n2. Exercise.\n3. Sleep."},
    {"instruction": "Translate to French.", "input": "Good morning", "output": "Bonjour"},
    {"instruction": "Écris un haïku.", "output": "Lune d'automne —\nle silence du lac."},  # no "input" key
]
BOS, EOS = 256, 257


def expected_stream():
    ids = []
    for ex in SAMPLE:
        ids += [BOS] + list(format_example(ex).encode("utf-8")) + [EOS]
    return ids


class PrepareTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.input = os.path.join(self.tmp.name, "alpaca.json")
        with open(self.input, "w", encoding="utf-8") as f:
            json.dump(SAMPLE, f, ensure_ascii=False)

    def prepare(self, *extra, seq_len=64):
        stem = os.path.join(self.tmp.name, "packed")
        r = support.run_module("sxcoll_worker.prepare",
                               ["--input", self.input, "--output", stem, "--seq-len", str(seq_len), *extra])
        return r, stem

    def test_template(self):
        self.assertEqual(format_example(SAMPLE[1]),
                         PROMPT_WITH_INPUT.format(instruction="Translate to French.", input="Good morning") + "Bonjour")
        self.assertTrue(format_example(SAMPLE[0]).startswith(PROMPT_NO_INPUT.split("{")[0]))
        self.assertNotIn("### Input:", format_example(SAMPLE[0]))  # empty input: the shorter template
        self.assertNotIn("### Input:", format_example(SAMPLE[2]))

    def test_packing(self):
        r, stem = self.prepare(seq_len=64)
        self.assertEqual(r.returncode, 0, r.stderr)
        printed = json.loads(r.stdout)
        stream = expected_stream()
        n_seq = len(stream) // 64
        bin_path, header = packed.read_header(stem)
        self.assertEqual(printed["num_sequences"], n_seq)
        self.assertEqual(header["seq_len"], 64)
        self.assertEqual(header["num_sequences"], n_seq)
        self.assertEqual(header["num_examples"], 3)
        self.assertEqual(header["num_tokens"], len(stream))
        self.assertEqual(header["dropped_tokens"], len(stream) - n_seq * 64)
        self.assertEqual((header["vocab_size"], header["bos_id"], header["eos_id"]), (259, BOS, EOS))
        with open(bin_path, "rb") as f:
            raw = f.read()
        self.assertEqual(len(raw), n_seq * 64 * 4)
        ids = list(struct.unpack(f"<{n_seq * 64}I", raw))
        self.assertEqual(ids, stream[: n_seq * 64])  # concatenated in order, cut at seq_len
        self.assertEqual(ids.count(EOS), stream[: n_seq * 64].count(EOS))

    def test_the_tail_is_dropped_not_padded(self):
        stream = expected_stream()
        seq_len = len(stream) // 2 + 1  # exactly one whole sequence fits
        r, stem = self.prepare(seq_len=seq_len)
        self.assertEqual(r.returncode, 0, r.stderr)
        _, header = packed.read_header(stem)
        self.assertEqual(header["num_sequences"], 1)
        self.assertEqual(header["dropped_tokens"], len(stream) - seq_len)

    def assert_usage_error(self, r, fragment):
        self.assertEqual(r.returncode, 2, r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("sxcoll-prepare: error:"), lines[0])
        self.assertIn(fragment, lines[0])

    def test_bad_input(self):
        cases = [
            ({"instruction": "x", "output": "y"}, "JSON list"),
            ([{"instruction": "x"}], "example 0 lacks a string field 'output'"),
            ([{"instruction": "x", "output": "y", "input": 3}], "non-string field 'input'"),
            ([], "non-empty"),
        ]
        for data, fragment in cases:
            with open(self.input, "w") as f:
                json.dump(data, f)
            self.assert_usage_error(self.prepare()[0], fragment)
        with open(self.input, "w") as f:
            f.write("[{")
        self.assert_usage_error(self.prepare()[0], "not valid JSON")

    def test_bad_flags(self):
        self.assert_usage_error(self.prepare(seq_len=1)[0], "--seq-len")
        self.assert_usage_error(self.prepare(seq_len=100000)[0], "fewer than one sequence")
        self.assert_usage_error(self.prepare("--bogus")[0], "unrecognized arguments")
        os.remove(self.input)
        self.assert_usage_error(self.prepare()[0], "cannot read")

    @unittest.skipIf(support.HAVE_TRANSFORMERS, "transformers is installed here")
    def test_hf_tokenizer_needs_transformers(self):
        self.assert_usage_error(self.prepare("--tokenizer", self.tmp.name)[0], "transformers")

    @unittest.skipUnless(support.HAVE_TORCH, support.NO_TORCH)
    def test_worker_reads_what_prepare_wrote(self):
        import torch

        from sxcoll_worker.data import PackedBatches, check_packed_file

        r, stem = self.prepare(seq_len=16)
        self.assertEqual(r.returncode, 0, r.stderr)
        _, header = packed.read_header(stem)
        stream = expected_stream()
        rows = {tuple(stream[i * 16:(i + 1) * 16]) for i in range(header["num_sequences"])}
        batches = PackedBatches(stem + ".json", micro_batch=3, grad_accum=2, seq_len=16, seed=1, rank=1,
                                world_size=2, repeat=False, device=torch.device("cpu"))
        seen = set()
        for step in range(4):
            for micro in range(2):
                b = batches.get(step, micro)
                self.assertEqual((b.dtype, tuple(b.shape)), (torch.int64, (3, 16)))
                for row in b.tolist():
                    self.assertIn(tuple(row), rows)
                    seen.add(tuple(row))
        self.assertGreater(len(seen), 1)
        self.assertIsNone(check_packed_file(stem, 16, 512))
        self.assertIn("packed for seq_len 16", check_packed_file(stem, 32, 512))
        self.assertIn("exceeds", check_packed_file(stem, 16, 100))


if __name__ == "__main__":
    unittest.main()
