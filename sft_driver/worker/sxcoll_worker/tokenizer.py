"""Tokenizers for prepare: a byte-level fallback that needs nothing, or a local HF tokenizer.

Byte-level: ids 0..255 are the UTF-8 bytes of the text, then BOS=256, EOS=257, PAD=258
(vocabulary 259, which every model shape here covers). It makes realistic sequence
lengths from real text with no files to download; its token counts are about 3-4 times
those of Llama's SentencePiece tokenizer for English, which does not matter for
throughput (a token is a token to the model).
"""

from typing import List, Optional


class ByteTokenizer:
    name = "byte"
    bos_id, eos_id, pad_id = 256, 257, 258
    vocab_size = 259

    def encode(self, text: str) -> List[int]:
        return list(text.encode("utf-8"))

    def decode(self, ids: List[int]) -> str:
        return bytes(i for i in ids if i < 256).decode("utf-8", errors="replace")


class HFTokenizer:
    """A tokenizer saved locally (tokenizer.json / tokenizer.model), through transformers."""

    def __init__(self, path: str):
        from transformers import AutoTokenizer  # caller checked it is installed

        self.tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.name = f"hf:{path}"
        self.bos_id = self.tok.bos_token_id
        self.eos_id = self.tok.eos_token_id
        self.pad_id = self.tok.pad_token_id
        self.vocab_size = len(self.tok)
        if self.eos_id is None:
            raise ValueError(f"tokenizer {path} has no EOS token; packed examples need a separator")

    def encode(self, text: str) -> List[int]:
        return self.tok.encode(text, add_special_tokens=False)

    def decode(self, ids: List[int]) -> str:
        return self.tok.decode(ids)


def load_tokenizer(spec: Optional[str]):
    """`byte` (default) or a local directory; ValueError with one line if unusable."""
    if spec in (None, "", "byte"):
        return ByteTokenizer()
    try:
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ValueError(f"--tokenizer {spec}: needs the transformers package, which is not installed ({exc}); "
                         "use --tokenizer byte") from None
    import os
    if not os.path.isdir(spec):
        raise ValueError(f"--tokenizer {spec}: not a directory (a local Hugging Face tokenizer folder, or 'byte')")
    try:
        return HFTokenizer(spec)
    except (OSError, ValueError) as exc:
        raise ValueError(f"--tokenizer {spec}: cannot load ({exc})") from None
