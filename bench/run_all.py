"""Every benchmark in one run, one after the other (each in its own process), then one summary table.

    python bench/run_all.py [--quick] [--json-out F]

The scale targets of issue 16 in one output: the synthetic engine series 1k → 100k (time and peak
memory), the crawl's level bound beside the naive `HfApi.model_info` loop and our cold and warm audits
of the same 200-model manifest, the survey of the corpus listing (requests made vs models read); then the
lock (0 requests warm), the GGUF header read and the reports, with their own output. `--quick` stops the
engine series (and the reports bench) at 10k nodes.

Each bench stays runnable on its own and returns its figures as data: the engine bench's `run_one` (its
`--one N` prints them as JSON, one fresh process per size so each peak memory is its own), `bench_crawl.run`
and `bench_survey.run` (their `--json-out FILE`). The summary is built from those dicts (`summary_rows`).
Machines differ and a busy machine is slower: the table gives CPU seconds beside wall times, and the load
average; compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FULL_SIZES = [1000, 3000, 10000, 30000, 100000]
QUICK_SIZES = [1000, 3000, 10000]
ENGINE_TARGET_NODES = 100_000
ENGINE_TARGET_SECONDS = 10.0
ENGINE_TARGET_MIB = 2048.0
CRAWL_TARGET_BOUND = 1.2  # cold crawl ÷ level bound at the concurrency it reached, at most
CRAWL_TARGET_NAIVE = 8.0  # naive loop ÷ cold crawl, at least
OTHER_BENCHES = ["bench_lock.py", "bench_gguf.py", "bench_reports.py"]
QUICK_ARGS = {"bench_reports.py": ["--sizes", ",".join(str(n) for n in QUICK_SIZES)]}  # --quick: up to 10k too

Row = tuple[str, str, str, str]  # figure, measured, target, met


# ------------------------------------------------------------------------------------------ running


def _run(args: list[str], capture: bool = False) -> tuple[int, str, float]:
    """A bench script in its own process: (exit code, stdout when captured, wall seconds)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], cwd=HERE.parent, check=False, text=True,
                          stdout=subprocess.PIPE if capture else None)
    return proc.returncode, proc.stdout or "", time.perf_counter() - start


def engine_series(sizes: list[int]) -> list[dict[str, Any]]:
    """`bench_engine.py --one N` per size (its own protocol: the figures as JSON on the last line)."""
    out = []
    for size in sizes:
        code, stdout, wall = _run([str(HERE / "bench_engine.py"), "--one", str(size)], capture=True)
        lines = stdout.strip().splitlines()
        if code != 0 or not lines:
            print(f"engine {size:,} nodes: failed (exit {code})", flush=True)
            continue
        figures: dict[str, Any] = json.loads(lines[-1])
        out.append(figures)
        print(f"engine {size:>7,} nodes: evaluate {figures['evaluate_s']:.2f} s + write {figures['write_s']:.2f} s, "
              f"peak {figures['peak_mib']:.0f} MiB ({wall:.1f} s wall with start-up)", flush=True)
    return out


def json_bench(script: str, tmp: Path) -> dict[str, Any] | None:
    """A bench with `--json-out`: its own report goes to the terminal, its figures come back as a dict."""
    target = tmp / f"{script}.json"
    code, _, wall = _run([str(HERE / script), "--json-out", str(target)])
    print(f"--- {script}: {wall:.1f} s wall, exit {code}", flush=True)
    if code != 0 or not target.exists():
        return None
    figures: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
    return figures


# ------------------------------------------------------------------------------------------ the summary


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


def engine_rows(series: list[dict[str, Any]]) -> list[Row]:
    rows: list[Row] = []
    for r in series:
        total, cpu = r["evaluate_s"] + r["write_s"], r["evaluate_cpu_s"] + r["write_cpu_s"]
        measured = f"{total:.2f} s (CPU {cpu:.2f} s), peak {r['peak_mib']:,.0f} MiB"
        if r["nodes"] == ENGINE_TARGET_NODES:
            ok = total < ENGINE_TARGET_SECONDS and r["peak_mib"] < ENGINE_TARGET_MIB
            rows.append((f"engine + audit.json, {r['nodes']:,} nodes", measured, "< 10 s, < 2 GiB", _met(ok)))
        else:
            rows.append((f"engine + audit.json, {r['nodes']:,} nodes", measured, "linear", ""))
    if series and series[-1]["nodes"] < ENGINE_TARGET_NODES:
        rows.append((f"engine, {ENGINE_TARGET_NODES:,} nodes", "not run (--quick)", "< 10 s, < 2 GiB", ""))
    return rows


def crawl_rows(c: dict[str, Any] | None) -> list[Row]:
    if c is None:
        return [("crawl (bench_crawl.py)", "failed or not run", "", "NO")]
    ms, peak = c["latency_s"] * 1000, c["peak_in_flight"]
    ratio = c["crawl_vs_bound_peak"]
    return [
        ("crawl: models (manifest / distinct)", f"{c['manifest_models']} / {c['distinct_models']}", "", ""),
        (f"level bound at {peak} in flight (the most reached)",
         f"{c['bound_peak_s']:.2f} s (Σ⌈n/{peak}⌉×{ms:.0f} ms); {c['bound_start_s']:.2f} s at "
         f"{c['concurrency_start']}", "", ""),
        ("naive sequential HfApi.model_info loop", f"{c['naive_s']:.2f} s", "", ""),
        ("cold audit (crawl + evaluation)", f"{c['cold_audit_s']:.2f} s (crawl {c['cold_crawl_s']:.2f} s, client CPU "
         f"{c['cold_crawl_cpu_s']:.2f} s = {c['client_cpu_ms_per_request']:.2f} ms a request)", "", ""),
        ("cold crawl ÷ level bound at the concurrency reached", f"{ratio:.3f}×", f"≤ {CRAWL_TARGET_BOUND}×",
         _met(ratio <= CRAWL_TARGET_BOUND)),
        ("naive loop ÷ cold crawl", f"{c['naive_vs_crawl']:.1f}× (whole audit {c['naive_vs_audit']:.1f}×)",
         f"≥ {CRAWL_TARGET_NAIVE:g}×", _met(c["naive_vs_crawl"] >= CRAWL_TARGET_NAIVE)),
        ("requests cold", f"{c['cold_requests']} for {c['distinct_models']} models", "= distinct models",
         _met(c["cold_requests"] == c["distinct_models"])),
        ("warm audit (in process / new `auditor audit`)",
         f"{c['warm_audit_s']:.2f} s / {c['cli_warm_s']:.2f} s; requests {c['warm_requests']} / "
         f"{c['cli_warm_requests']}", "0 requests", _met(c["warm_requests"] == 0 and c["cli_warm_requests"] == 0)),
    ]


def survey_rows(s: dict[str, Any] | None) -> list[Row]:
    if s is None:
        return [("survey (bench_survey.py)", "failed or not run", "", "NO")]
    return [
        ("survey of the corpus listing: requests vs models read",
         f"{s['cold_requests']} requests for {s['models_read']:,} models (cold {s['cold_survey_s']:.2f} s)",
         f"⌈models ÷ {s['page_size']}⌉ = {s['pages']}", _met(s["cold_requests"] == s["pages"])),
        ("survey warm", f"{s['warm_requests']} requests ({s['warm_survey_s']:.2f} s)", "0 requests",
         _met(s["warm_requests"] == 0)),
    ]


def summary_rows(figures: dict[str, Any]) -> list[Row]:
    """The combined table from every bench's figures (`engine`: a list, `crawl`/`survey`: dicts or None,
    `others`: script -> exit code)."""
    rows = engine_rows(figures.get("engine", []))
    rows += crawl_rows(figures.get("crawl"))
    rows += survey_rows(figures.get("survey"))
    for script, code in figures.get("others", {}).items():
        rows.append((script, f"exit {code} (its figures above)", "exit 0", _met(code == 0)))
    return rows


def table(rows: list[Row]) -> str:
    head: Row = ("figure", "measured", "target", "met")
    lines = [f"| {' | '.join(head)} |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ main


def collect(quick: bool, step: Callable[[str], None] = lambda name: print(f"\n=== {name}", flush=True)
            ) -> dict[str, Any]:
    figures: dict[str, Any] = {"load_avg_start": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        step("bench_engine.py (one process per size)")
        figures["engine"] = engine_series(QUICK_SIZES if quick else FULL_SIZES)
        step("bench_crawl.py")
        figures["crawl"] = json_bench("bench_crawl.py", tmp)
        step("bench_survey.py")
        figures["survey"] = json_bench("bench_survey.py", tmp)
    others: dict[str, int] = {}
    for script in OTHER_BENCHES:
        if (HERE / script).exists():
            step(script)
            code, _, wall = _run([str(HERE / script), *(QUICK_ARGS.get(script, []) if quick else [])])
            print(f"--- {script}: {wall:.1f} s wall, exit {code}", flush=True)
            others[script] = code
    figures["others"] = others
    figures["load_avg_end"] = round(os.getloadavg()[0], 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="engine series up to 10k nodes")
    parser.add_argument("--json-out", type=Path, help="also write every figure to this file, as JSON")
    args = parser.parse_args()
    start = time.perf_counter()
    figures = collect(args.quick)
    rows = summary_rows(figures)
    print(f"\n=== summary (issue 16; {time.perf_counter() - start:.0f} s; load average "
          f"{figures['load_avg_start']} → {figures['load_avg_end']}, {os.cpu_count()} cores)")
    print(table(rows))
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(figures), encoding="utf-8")
    failed = failed_benches(figures, QUICK_SIZES if args.quick else FULL_SIZES)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


def failed_benches(figures: dict[str, Any], sizes: list[int]) -> list[str]:
    """The benches that did not finish (a target not met is a "NO" in the table, not a failure)."""
    failed = [f"bench_engine.py --one {n}" for n in sizes if n not in {r["nodes"] for r in figures.get("engine", [])}]
    failed += [f"bench_{name}.py" for name in ("crawl", "survey") if figures.get(name) is None]
    return failed + [script for script, code in figures.get("others", {}).items() if code != 0]


if __name__ == "__main__":
    main()
