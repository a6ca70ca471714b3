"""Small real GGUF files for tests, written with the `gguf` package's own writer (a few KB, one tiny tensor)."""

from __future__ import annotations

import struct
from pathlib import Path

LLAMA_31_URL = "https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct"


def write_gguf(path: Path, values: dict[str, str | int], *, vocab: int = 8) -> Path:
    """A GGUF file holding `values` (str -> string, int -> uint32), a small tokenizer vocabulary (an array of
    strings, as real files have) and one 2x2 tensor."""
    import numpy as np
    from gguf import GGUFWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = GGUFWriter(str(path), "llama")
    for key, value in values.items():
        if isinstance(value, int):
            writer.add_uint32(key, value)
        else:
            writer.add_string(key, value)
    writer.add_array("tokenizer.ggml.tokens", [f"tok{i}" for i in range(vocab)])
    writer.add_array("tokenizer.ggml.scores", [0.5] * vocab)
    writer.add_tensor("blk.0.weight", np.zeros((2, 2), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def raw_header(entries: list[bytes], *, version: int = 3, tensors: int = 0, count: int | None = None) -> bytes:
    """A hand-made GGUF header (for shapes the writer refuses to make): magic, version, counts, entries."""
    head = b"GGUF" + struct.pack("<IQQ", version, tensors, len(entries) if count is None else count)
    return head + b"".join(entries)


def gstr(text: str | bytes, length: int | None = None) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(data) if length is None else length) + data


def kv_string(key: str, value: str) -> bytes:
    return gstr(key) + struct.pack("<I", 8) + gstr(value)
