"""Every benchmark in one run, one after the other (each in its own process), with their figures.

    python bench/run_all.py [--quick]

The scale targets of issue "Scale" in one output: the synthetic engine series 1k → 100k (time and peak
memory), the crawl's level bound beside the naive `HfApi.model_info` loop and our cold and warm audits
of the same 200-model manifest, the survey of the corpus listing (requests made vs models read), the lock
(0 requests warm), and the GGUF header read. `--quick` stops the engine series at 10k nodes.
Machines differ and a busy machine is slower: run it on an idle one and compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _benches(quick: bool) -> list[list[str]]:
    sizes = "1000,3000,10000" if quick else "1000,3000,10000,30000,100000"
    runs = [["bench_engine.py", "--sizes", sizes], ["bench_crawl.py"], ["bench_survey.py"], ["bench_lock.py"],
            ["bench_gguf.py"], ["bench_reports.py"]]
    return [run for run in runs if (HERE / run[0]).exists()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    failed = []
    for run in _benches(args.quick):
        print(f"\n=== {' '.join(run)}", flush=True)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, str(HERE / run[0]), *run[1:]], cwd=HERE.parent, check=False)
        print(f"--- {run[0]}: {time.perf_counter() - start:.1f} s wall, exit {proc.returncode}", flush=True)
        if proc.returncode != 0:
            failed.append(run[0])
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
