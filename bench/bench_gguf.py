"""GGUF header read time on a multi-GB sparse file.

    python bench/bench_gguf.py [--size-gb 8] [--vocab 128256] [--merges 280147] [--tensors 292] [--compare]

Writes a GGUF file with the `gguf` package's writer, with a header shaped like a real Llama 3 8B one (a
128 256-token vocabulary with scores and types, 280 147 merges, a chat template, ~300 tensor descriptions),
then extends it to `--size-gb` with `os.truncate` (sparse: no disk is used, but a reader that touched the
tensor data would read gigabytes). Prints the header size and the time of `auditor.sources.gguf.read_header`:
in a fresh process (first read, the `gguf` package's import included) and warm (best of 5).
`--compare` also times the `gguf` package's own `GGUFReader` on the same file (slow: tens of seconds).
Target (issue 14): a multi-GB file's header read in well under a second.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def write_file(path: Path, vocab: int, merges: int, tensors: int, size_gb: float) -> int:
    """The benchmark file; returns the bytes actually written before it is extended."""
    import numpy as np
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), "llama")
    writer.add_string("general.name", "Example Llama 8B Instruct Q4_K_M")
    writer.add_string("general.license", "llama3.1")
    writer.add_uint32("general.base_model.count", 1)
    writer.add_string("general.base_model.0.repo_url", "https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct")
    writer.add_string("tokenizer.chat_template", "{% for m in messages %}{{ m.content }}{% endfor %}" * 40)
    writer.add_array("tokenizer.ggml.tokens", [f"token-{i}" for i in range(vocab)])
    writer.add_array("tokenizer.ggml.scores", [0.0] * vocab)
    writer.add_array("tokenizer.ggml.token_type", [1] * vocab)
    writer.add_array("tokenizer.ggml.merges", [f"a{i} b{i}" for i in range(merges)])
    for index in range(tensors):
        writer.add_tensor(f"blk.{index}.weight", np.zeros((4, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    written = path.stat().st_size
    os.truncate(path, int(size_gb * 1024**3))
    return written


def cold_read(path: Path) -> tuple[float, float]:
    """(seconds importing the `gguf` package, seconds of the first read) in a fresh interpreter."""
    code = ("import time, pathlib; from auditor.sources.gguf import read_header; t = time.perf_counter(); "
            f"import gguf; u = time.perf_counter(); read_header(pathlib.Path({str(path)!r})); "
            "print(u - t, time.perf_counter() - u)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    imported, first = run.stdout.split()
    return float(imported), float(first)


def warm_read(path: Path, repeat: int = 5) -> tuple[float, int, dict[str, str]]:
    from auditor.sources.gguf import read_header

    read_header(path)  # the gguf import and the page cache
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        header = read_header(path)
        best = min(best, time.perf_counter() - start)
    return best, header.header_bytes, header.values


def package_reader(path: Path) -> float:
    from gguf import GGUFReader

    start = time.perf_counter()
    GGUFReader(str(path))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-gb", type=float, default=8.0)
    parser.add_argument("--vocab", type=int, default=128_256)
    parser.add_argument("--merges", type=int, default=280_147)
    parser.add_argument("--tensors", type=int, default=292)
    parser.add_argument("--compare", action="store_true", help="also time gguf.GGUFReader (slow)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.gguf"
        written = write_file(path, args.vocab, args.merges, args.tensors, args.size_gb)
        blocks = os.stat(path).st_blocks * 512
        print(f"file: {path.stat().st_size / 1024**3:.1f} GiB apparent, {blocks / 1024**2:.1f} MiB on disk "
              f"(sparse); {written / 1024**2:.1f} MiB written by GGUFWriter")
        warm, header_bytes, values = warm_read(path)
        print(f"header: {header_bytes / 1024**2:.2f} MiB, {len(values)} general.* values kept "
              f"(license {values.get('general.license')!r})")
        imported, first = cold_read(path)
        print(f"fresh process: `import gguf` (numpy…) {imported:.3f} s, then the first read_header {first:.3f} s")
        print(f"read_header, warm (best of 5): {warm:.3f} s")
        if args.compare:
            print(f"gguf.GGUFReader (the package's reader): {package_reader(path):.1f} s")


if __name__ == "__main__":
    main()
