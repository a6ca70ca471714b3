"""Report scale benchmark: every report format written for large audits.

    python bench/bench_reports.py [--sizes 1000,3000,10000,30000] [--corpus] [--formats all]
                                  [--repeat 3] [--timeout 300]

Cases: the synthetic lineage of `bench_engine.py` (a forest of chains and merges, 46% of nodes
audited) at each size, and, with `--corpus`, the 3,405 recorded real cards (tests/hub, every card
audited, its lineage crawled in memory: no HTTP). Each case is built once in a subprocess of its
own; each format is then written by `write_reports` (the path `auditor audit` takes: render and
write the file) in a forked child, so a slow format can be stopped at `--timeout` and each format's
peak resident memory is its own (the child starts holding the result, as `auditor audit` does).

Prints, per case and format: the median wall time over `--repeat` runs, the file size, and the
peak RSS of the writing process (`held` = RSS with just the result held, before any report).
Target (issue "Scale"): every format linear in the result; a few seconds for the corpus; writing
`audit.json` adds little to the held memory (it is streamed); the HTML page stays under its size
cap (`auditor.reports.html.PAGE_CAP`, 50 MB) with a note naming what it leaves out (printed per case:
model sections in full, models named only, size-cap notes, families listed as text).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_engine import build_graph  # noqa: E402

GENERATED_AT = "2026-01-01T00:00:00Z"


def _rss_mib(field: str) -> float:
    status = Path("/proc/self/status").read_text(encoding="ascii")
    match = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else float("nan")


def _reset_peak() -> None:
    """Reset this process's peak RSS (VmHWM) to its current RSS (Linux ≥ 4.0)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")


def synthetic_result(nodes: int, audited: float = 0.46) -> Any:
    """The audit of bench_engine's synthetic lineage (same graph, same models audited)."""
    import random

    from auditor.audit import AuditEntry, build_result
    from auditor.model import DeclaredUse, ModelRef
    from auditor.rules.loader import load_rules

    graph, ids = build_graph(nodes)
    chosen = sorted(random.Random(3).sample(ids, int(nodes * audited)))
    entries = [AuditEntry(ref=ModelRef(kind="hub", id=rid)) for rid in chosen]
    use = DeclaredUse(commercial=True, monthly_active_users=1_000_000, annual_revenue_usd=1_000_000,
                      distribution="saas", regions=["DE", "US"], purposes=["chat-assistant"])
    return build_result(graph, entries, load_rules(), use, None, generated_at=GENERATED_AT)  # type: ignore[arg-type]


class _InMemoryHub:
    """Recorded Hub bodies served through the Hub source's own parser (no HTTP)."""

    name = "hub"

    def __init__(self, bodies: dict[str, dict[str, Any]]) -> None:
        self.bodies = bodies
        self.requests = 0
        self.cache_hits = 0

    def fetch(self, ref: Any) -> Any:
        from auditor.model import Unresolved
        from auditor.sources.hub import facts_from_api

        self.requests += 1
        body = self.bodies.get(ref.id)
        if body is None:
            return Unresolved(id=ref.id, requested=ref.key, source="hub", code="not-found", reason="not recorded")
        return facts_from_api(json.loads(json.dumps(body)), ref, source="hub", retrieved_at="2024-12-01T00:00:00Z",
                              endpoint="https://huggingface.co")


def corpus_result() -> Any:
    """The audit of the 3,405-card corpus: every card audited, lineage crawled in memory."""
    from auditor.audit import AuditEntry, build_result
    from auditor.lineage import CrawlOptions, crawl
    from auditor.model import DeclaredUse, ModelRef
    from auditor.rules.loader import load_rules
    from tests.hub.recorded import corpus_bodies

    bodies = corpus_bodies()
    refs = [ModelRef(kind="hub", id=rid) for rid in sorted(bodies)]
    graph = crawl(refs, _InMemoryHub(bodies), CrawlOptions(concurrency=4))
    use = DeclaredUse(commercial=True, monthly_active_users=5_000_000, annual_revenue_usd=2_000_000,
                      distribution="saas", regions=["EU"], purposes=["chat-assistant"])
    return build_result(graph, [AuditEntry(ref=r) for r in refs], load_rules(), use, None,
                        generated_at=GENERATED_AT)


def html_parts(path: Path) -> dict[str, int]:
    """What the HTML page holds: model sections in full, models named only, cap notes (issue 16:
    a very large audit's page stays under `html.PAGE_CAP` with a note)."""
    page = path.read_text(encoding="utf-8")
    return {"full": len(re.findall(r'<(?:section|details) class="model" id=', page)),
            "named": len(re.findall(r'<li id="m-[^"]*"><span class="verdict-chip', page)),
            "notes": page.count('<p class="capped-note"'), "family_text": page.count('<details class="family-text"')}


def _write_in_child(result: Any, fmt: str, out: Path, timeout: float) -> dict[str, Any]:
    """Write one format in a forked child; its time, file size and peak RSS (or a timeout)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_fd)
        code = 0
        try:
            from auditor.reports.base import write_reports

            _reset_peak()
            start = time.perf_counter()
            written = write_reports(result, out, [fmt])
            seconds = time.perf_counter() - start
            report: dict[str, Any] = {"s": seconds, "mb": written[fmt].stat().st_size / 1e6, "peak": _rss_mib("VmHWM")}
            if fmt == "html":
                report["html"] = html_parts(written[fmt])
        except BaseException as err:  # reported to the parent
            report, code = {"error": f"{type(err).__name__}: {err}"[:300]}, 1
        os.write(write_fd, json.dumps(report).encode())
        os.close(write_fd)
        os._exit(code)
    os.close(write_fd)
    deadline = time.monotonic() + timeout
    while True:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_fd)
            return {"timeout": timeout}
        time.sleep(0.02)
    with os.fdopen(read_fd, "rb") as fh:
        data = fh.read()
    return json.loads(data) if data else {"error": "child wrote nothing"}


def run_case(case: str, formats: list[str], repeat: int, timeout: float) -> dict[str, Any]:
    start = time.perf_counter()
    result = corpus_result() if case == "corpus" else synthetic_result(int(case))
    built = time.perf_counter() - start
    import gc

    gc.collect()
    gc.freeze()  # the result is long-lived: keep the collector from walking (and touching) it in children
    held = _rss_mib("VmRSS")
    out: dict[str, Any] = {"case": case, "nodes": len(result.graph.nodes), "models": len(result.models),
                           "build_s": built, "held": held, "formats": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in formats:
            runs = []
            for _ in range(repeat):
                run = _write_in_child(result, fmt, Path(tmp) / fmt, timeout)
                runs.append(run)
                if "s" not in run:
                    break
            ok = [r for r in runs if "s" in r]
            if len(ok) == len(runs):
                out["formats"][fmt] = {"s": statistics.median(r["s"] for r in ok), "mb": ok[0]["mb"],
                                       "peak": statistics.median(r["peak"] for r in ok),
                                       **({"html": ok[0]["html"]} if "html" in ok[0] else {})}
            else:
                out["formats"][fmt] = runs[-1]
            print(json.dumps({"progress": case, "format": fmt, **out["formats"][fmt]}), file=sys.stderr, flush=True)
    return out


def _cell(entry: dict[str, Any]) -> str:
    if "timeout" in entry:
        return f"> {entry['timeout']:.0f} s"
    if "error" in entry:
        return "error"
    return f"{entry['s']:.2f} s {entry['peak']:.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,3000,10000,30000", help="synthetic sizes ('' for none)")
    parser.add_argument("--corpus", action="store_true", help="also the 3,405-card recorded corpus")
    parser.add_argument("--formats", default="all")
    parser.add_argument("--repeat", type=int, default=3, help="runs per format (the median is printed)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before a format is stopped")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    from auditor.reports.base import REPORTERS

    formats = list(REPORTERS) if args.formats == "all" else args.formats.split(",")
    if args.one:
        print(json.dumps(run_case(args.one, formats, args.repeat, args.timeout)))
        return
    cases = [s for s in args.sizes.split(",") if s.strip()] + (["corpus"] if args.corpus else [])
    header = f"{'case':>8} {'nodes':>7} {'models':>7} {'held':>8}  " + "  ".join(f"{f:>20}" for f in formats)
    print(header, flush=True)
    for case in cases:
        cmd = [sys.executable, __file__, "--one", case, "--formats", ",".join(formats), "--repeat",
               str(args.repeat), "--timeout", str(args.timeout)]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True, cwd=ROOT)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        cells = "  ".join(f"{_cell(r['formats'][f]):>20}" for f in formats)
        print(f"{case:>8} {r['nodes']:>7} {r['models']:>7} {r['held']:>5.0f}MiB  {cells}", flush=True)
        sizes = "  ".join(f"{f}={r['formats'][f].get('mb', 0):.1f}MB" for f in formats if "mb" in r["formats"][f])
        print(f"{'':>8} files: {sizes}", flush=True)
        parts = r["formats"].get("html", {}).get("html")
        if parts:
            print(f"{'':>8} html: {parts['full']:,} model sections in full, {parts['named']:,} named only, "
                  f"{parts['notes']} size-cap notes, {parts['family_text']} families as text", flush=True)


if __name__ == "__main__":
    main()
