"""Crawl benchmark: a 200-model manifest over a generated lineage forest behind the loopback Hub.

    python bench/bench_crawl.py [--models 200] [--latency 0.05] [--concurrency 8] [--repeat 3] [--json-out F]

Prints, in one run, for the same manifest (`run()` returns the same figures as a dict, for `run_all.py`):
- the level bound Σ over lineage levels ⌈models at that level ÷ concurrency⌉ × latency at the concurrency the
  cold crawl really reached (the most requests the test Hub had in flight at once), and at the concurrency
  it starts with and the most it may rise to (adaptive concurrency);
- a naive sequential `HfApi.model_info` loop over the same distinct models;
- our cold audit (`run_audit`: crawl + evaluation, empty cache; the crawl alone timed to its last answer),
  and the warm audit in-process and as a new `auditor audit` process on a fresh HF_HOME;
- requests made cold and warm, counted by the server (every path, `/api/agent-harnesses` included),
  connections accepted and requests in flight at most;
- the CPU seconds of the cold crawl: this process's to the crawl's last answer, and the test Hub process's
  (on a shared machine they tell more than wall times).

The test Hub runs in its own process, as the real Hub would: the client's time is not shared with the
server's under one interpreter lock. Cold and warm figures are medians of `--repeat` runs (each cold run on
an empty cache). Targets (issue 16): cold crawl ≤ 1.2× the level bound at the concurrency it reached and ≥ 8×
faster than the naive loop; 0 requests warm.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LICENSES = ["apache-2.0", "mit", "llama3.1", "gemma", "cc-by-4.0", "qwen"]
RELATIONS = ["finetune", "adapter", "quantized"]
AGENT_REGISTRY = "/api/agent-harnesses"


def generate_forest(models: int, seed: int = 7, max_depth: int = 5) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Synthetic cards (`example-org/bench-…`) forming trees of depth ≤ max_depth; the manifest picks `models`."""
    rng = random.Random(seed)
    cards: dict[str, dict[str, Any]] = {}
    by_level: list[list[str]] = [[] for _ in range(max_depth + 1)]
    bases = max(4, models // 10)
    for i in range(bases):
        rid = f"example-org/bench-base-{i:03d}"
        cards[rid] = {"license": rng.choice(LICENSES)}
        by_level[0].append(rid)
    counter = 0
    for level in range(1, max_depth + 1):
        for parent in by_level[level - 1]:
            for _ in range(rng.choice([1, 1, 2, 2, 3])):
                counter += 1
                rid = f"example-org/bench-l{level}-{counter:04d}"
                card: dict[str, Any] = {"license": rng.choice(LICENSES), "base_model": parent,
                                        "base_model_relation": rng.choice(RELATIONS)}
                if rng.random() < 0.05 and len(by_level[level - 1]) > 1:  # a merge
                    other = rng.choice([p for p in by_level[level - 1] if p != parent])
                    card["base_model"] = [parent, other]
                    card["base_model_relation"] = "merge"
                cards[rid] = card
                by_level[level].append(rid)
    leaves_first = [rid for level in reversed(by_level) for rid in level]
    manifest = sorted(rng.sample(leaves_first[: max(models * 2, models)], models))
    return cards, manifest


def lower_bound(depths: dict[str, int], concurrency: int, latency: float) -> float:
    """Σ over lineage levels ⌈models at that level ÷ concurrency⌉ × latency."""
    per_level = Counter(depths.values())
    return sum(math.ceil(n / concurrency) * latency for n in per_level.values())


# ------------------------------------------------------------------------------------------ the Hub process


@dataclass(frozen=True)
class HubCounts:
    requests: int  # every request, any path
    agent_registry: int  # requests for huggingface_hub's agent registry
    connections: int
    peak_in_flight: int
    cpu_seconds: float = 0.0  # the Hub process's CPU time

    def __sub__(self, other: HubCounts) -> HubCounts:
        return HubCounts(self.requests - other.requests, self.agent_registry - other.agent_registry,
                         self.connections - other.connections, self.peak_in_flight,
                         self.cpu_seconds - other.cpu_seconds)


def _serve(conn: Connection, models: int, latency: float) -> None:
    """The loopback Hub in a child process; answers `stats` (and `reset-peak`) until `stop`."""
    sys.path.insert(0, str(ROOT))
    from tests.hub.recorded import api_body
    from tests.hub.server import HubServer, HubState

    cards, _ = generate_forest(models)
    state = HubState(models={rid: api_body(rid, card) for rid, card in cards.items()}, latency=latency)
    with HubServer(state) as hub:
        conn.send(hub.endpoint)
        while (command := conn.recv()) != "stop":
            if command == "reset-peak":
                with state.lock:
                    state.peak_in_flight = 0
            with state.lock:
                conn.send(HubCounts(sum(state.paths.values()), state.paths[AGENT_REGISTRY], state.connections,
                                    state.peak_in_flight, time.process_time()))


class HubProcess:
    def __init__(self, models: int, latency: float) -> None:
        self._conn, child = multiprocessing.get_context("spawn").Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(child, models, latency), daemon=True)

    def __enter__(self) -> HubProcess:
        self._process.start()
        self.endpoint: str = self._conn.recv()
        return self

    def counts(self, reset_peak: bool = False) -> HubCounts:
        self._conn.send("reset-peak" if reset_peak else "stats")
        counts: HubCounts = self._conn.recv()
        return counts

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._process.join(10)


# ------------------------------------------------------------------------------------------ runs


@dataclass
class AuditRun:
    seconds: float
    crawl_seconds: float  # to the last answer of the crawl
    hub: HubCounts
    models: int
    crawl_cpu_seconds: float = 0.0  # this process's CPU time to the last answer of the crawl


def audit_once(hub: HubProcess, refs: list[Any], cache_dir: Path, concurrency: int) -> AuditRun:
    from auditor.audit import AuditEntry, run_audit
    from auditor.model import DeclaredUse
    from auditor.rules.loader import load_rules
    from auditor.sources.cache import MetadataCache
    from auditor.sources.hub import HubSource

    rules = load_rules()
    use = DeclaredUse(commercial=True, monthly_active_users=1000, annual_revenue_usd=10_000,
                      distribution="saas", regions=["US"], purposes=["chat"])
    source = HubSource(endpoint=hub.endpoint, token=False, cache=MetadataCache(cache_dir))
    last_answer = [0.0, 0.0]  # wall clock, CPU time

    def progress(done: int, submitted: int, model_id: str) -> None:
        last_answer[:] = [time.perf_counter(), time.process_time()]

    before = hub.counts(reset_peak=True)
    start, cpu = time.perf_counter(), time.process_time()
    result = run_audit([AuditEntry(ref=r) for r in refs], source, rules, use, concurrency=concurrency,
                       progress=progress)
    seconds = time.perf_counter() - start
    return AuditRun(seconds, max(0.0, last_answer[0] - start), hub.counts() - before, len(result.models),
                    max(0.0, last_answer[1] - cpu))


def naive_loop(endpoint: str, ids: list[str]) -> float:
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint, token=False)
    start = time.perf_counter()
    for model_id in ids:
        api.model_info(model_id, expand=["cardData", "tags", "sha"])
    return time.perf_counter() - start


def cli_warm(hub: HubProcess, manifest: list[str], tmp: Path, cache_dir: Path) -> tuple[float, HubCounts]:
    """The warm audit as a user runs it: a new process on a fresh HF_HOME (telemetry on), reports written."""
    manifest_file = tmp / "auditor.yaml"
    manifest_file.write_text(
        "use: {commercial: true, monthly_active_users: 1000, annual_revenue_usd: 10000, distribution: saas,"
        " regions: [US], purposes: [chat]}\nmodels:\n" + "".join(f"  - id: {rid}\n" for rid in manifest),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(HF_ENDPOINT=hub.endpoint, HF_HOME=str(tmp / "fresh-hf-home"), AUDITOR_CACHE_DIR=str(cache_dir))
    before = hub.counts()
    start = time.perf_counter()
    cli = subprocess.run(
        [sys.executable, "-m", "auditor", "audit", str(manifest_file), "--format", "json", "--out",
         str(tmp / "out"), "--fail-on", "never", "--quiet"],
        capture_output=True, cwd=ROOT, env=env, check=False,
    )
    seconds = time.perf_counter() - start
    if cli.returncode != 0:
        raise SystemExit(f"auditor audit failed ({cli.returncode}): {cli.stderr.decode()[-500:]}")
    return seconds, hub.counts() - before


def median_run(runs: list[AuditRun]) -> AuditRun:
    return sorted(runs, key=lambda r: r.crawl_seconds)[len(runs) // 2]


def run(models: int = 200, latency: float = 0.05, concurrency: int = 8, repeat: int = 3) -> dict[str, Any]:
    """Every figure of the bench, as data (`report` prints them; `bench/run_all.py` collects them)."""
    from auditor.lineage import crawl, make_limit
    from auditor.model import ModelRef
    from auditor.sources.cache import MetadataCache
    from auditor.sources.hub import HubSource

    _cards, manifest = generate_forest(models)
    refs = [ModelRef(kind="hub", id=rid) for rid in manifest]
    ceiling = make_limit(concurrency).ceiling
    load_before = os.getloadavg()[0]
    with HubProcess(models, latency) as hub, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        # Everything in this process talks to the loopback Hub only, on an HF_HOME of its own.
        os.environ.update(HF_ENDPOINT=hub.endpoint, HF_HOME=str(tmp / "hf-home"))
        colds = [audit_once(hub, refs, tmp / f"cold-{i}", concurrency) for i in range(max(1, repeat))]
        warm_cache = tmp / "cold-0"
        warms = [audit_once(hub, refs, warm_cache, concurrency) for _ in range(max(1, repeat))]
        cli_seconds, cli_counts = cli_warm(hub, manifest, tmp, warm_cache)
        graph = crawl(refs, HubSource(endpoint=hub.endpoint, token=False, cache=MetadataCache(warm_cache)))
        depths = {n.id: n.depth for n in graph.nodes}
        naive = naive_loop(hub.endpoint, sorted(depths))

    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "auditor", "--help"], check=True, capture_output=True, cwd=ROOT)
    help_time = time.perf_counter() - start
    return _figures(colds, warms, depths, naive, {
        "manifest_models": len(manifest), "latency_s": latency, "concurrency_start": concurrency,
        "concurrency_ceiling": ceiling, "cli_warm_s": cli_seconds, "cli_warm_requests": cli_counts.requests,
        "cli_warm_agent_registry": cli_counts.agent_registry, "help_s": help_time,
        "load_avg": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    })


def _figures(colds: list[AuditRun], warms: list[AuditRun], depths: dict[str, int], naive: float,
             extra: dict[str, Any]) -> dict[str, Any]:
    cold, warm = median_run(colds), median_run(warms)
    latency, start, ceiling = extra["latency_s"], extra["concurrency_start"], extra["concurrency_ceiling"]
    peak = cold.hub.peak_in_flight  # the most requests the server had in flight in that run
    bound_peak = lower_bound(depths, max(1, peak), latency)
    requests = max(1, cold.hub.requests)
    out: dict[str, Any] = {
        **extra,
        "distinct_models": len(depths),
        "per_level": dict(sorted(Counter(depths.values()).items())),
        "bound_start_s": lower_bound(depths, start, latency),
        "bound_ceiling_s": lower_bound(depths, ceiling, latency),
        "peak_in_flight": peak,
        "bound_peak_s": bound_peak,
        "naive_s": naive,
        "cold_audit_s": cold.seconds,
        "cold_crawl_s": cold.crawl_seconds,
        "cold_crawls_s": sorted(r.crawl_seconds for r in colds),
        "cold_models": cold.models,
        "cold_crawl_cpu_s": cold.crawl_cpu_seconds,
        "client_cpu_ms_per_request": cold.crawl_cpu_seconds / requests * 1000,
        "hub_cpu_s": cold.hub.cpu_seconds,
        "cold_requests": cold.hub.requests,
        "cold_agent_registry": cold.hub.agent_registry,
        "connections_first_cold": colds[0].hub.connections,
        "connections_next_colds": sum(r.hub.connections for r in colds[1:]),
        "warm_audit_s": warm.seconds,
        "warm_crawl_s": warm.crawl_seconds,
        "warm_requests": max(r.hub.requests for r in warms),
    }
    out["crawl_vs_bound_peak"] = cold.crawl_seconds / bound_peak
    out["crawl_vs_bound_start"] = cold.crawl_seconds / out["bound_start_s"]
    out["crawl_vs_bound_ceiling"] = cold.crawl_seconds / out["bound_ceiling_s"]
    out["naive_vs_crawl"] = naive / cold.crawl_seconds
    out["naive_vs_audit"] = naive / cold.seconds
    out["targets_met"] = (cold.hub.requests == len(depths) and out["warm_requests"] == 0
                          and extra["cli_warm_requests"] == 0 and out["crawl_vs_bound_peak"] <= 1.2
                          and out["naive_vs_crawl"] >= 8)
    return out


def report(f: dict[str, Any]) -> None:
    """The figures of `run`, one per line."""
    ms, start, ceiling, peak = f["latency_s"] * 1000, f["concurrency_start"], f["concurrency_ceiling"], f["peak_in_flight"]
    print(f"manifest models          {f['manifest_models']}; distinct models {f['distinct_models']} "
          f"(per level: {f['per_level']})")
    print(f"level bound              {f['bound_peak_s']:.2f} s at {peak} in flight, the most the cold crawl had "
          f"(Σ⌈n/{peak}⌉×{ms:.0f} ms); {f['bound_start_s']:.2f} s at {start} (where it starts), "
          f"{f['bound_ceiling_s']:.2f} s at {ceiling} (the most it may rise to)")
    print(f"naive sequential loop    {f['naive_s']:.2f} s  (HfApi.model_info × {f['distinct_models']}, one at a time)")
    crawls = ", ".join(f"{c:.2f}" for c in f["cold_crawls_s"])
    print(f"cold audit               {f['cold_audit_s']:.2f} s  (crawl {f['cold_crawl_s']:.2f} s + evaluation of "
          f"{f['cold_models']} models; median of {len(f['cold_crawls_s'])}: {crawls} s crawl)")
    print(f"  crawl vs level bound   {f['crawl_vs_bound_peak']:.3f}× the bound at {peak} (reached); "
          f"{f['crawl_vs_bound_start']:.2f}× at {start}, {f['crawl_vs_bound_ceiling']:.2f}× at {ceiling}")
    print(f"  vs naive loop          {f['naive_vs_crawl']:.1f}× faster (crawl), {f['naive_vs_audit']:.1f}× (whole audit)")
    print(f"  CPU (cold crawl)       client {f['cold_crawl_cpu_s']:.2f} s ({f['client_cpu_ms_per_request']:.2f} ms a "
          f"request), test Hub process {f['hub_cpu_s']:.2f} s; load average {f['load_avg'][0]} → {f['load_avg'][1]}")
    print(f"  requests (cold)        {f['cold_requests']} (agent registry {f['cold_agent_registry']}), at most {peak} in "
          f"flight (server); {f['connections_first_cold']} connections opened by the first cold run, "
          f"{f['connections_next_colds']} by the next (keep-alive)")
    print(f"warm audit               {f['warm_audit_s']:.2f} s  (crawl from cache {f['warm_crawl_s']:.2f} s); "
          f"requests (warm) {f['warm_requests']}")
    print(f"warm `auditor audit`     {f['cli_warm_s']:.2f} s  (new process, fresh HF_HOME: rules, crawl from cache, "
          f"evaluate, audit.json); requests {f['cli_warm_requests']} (agent registry {f['cli_warm_agent_registry']})")
    print(f"auditor --help           {f['help_s']:.3f} s  (python -m auditor --help, incl. interpreter start)")
    print(f"targets met              {'yes' if f['targets_met'] else 'NO'}  (cold requests = distinct models, 0 warm, "
          f"crawl ≤ 1.2× the bound at the concurrency reached, ≥ 8× the naive loop)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json-out", type=Path, help="also write the figures to this file, as JSON")
    args = parser.parse_args()
    figures = run(args.models, args.latency, args.concurrency, args.repeat)
    report(figures)
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(figures), encoding="utf-8")


if __name__ == "__main__":
    main()
