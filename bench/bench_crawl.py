"""Crawl benchmark: a 200-model manifest over a generated lineage forest behind the loopback Hub.

    python bench/bench_crawl.py [--models 200] [--latency 0.05] [--concurrency 8] [--repeat 3]

Prints, in one run, for the same manifest:
- the level bound Σ over lineage levels ⌈models at that level ÷ concurrency⌉ × latency, at the concurrency the
  crawl starts with and at the most it may rise to (adaptive concurrency);
- a naive sequential `HfApi.model_info` loop over the same distinct models;
- our cold audit (`run_audit`: crawl + evaluation, empty cache; the crawl alone timed to its last answer),
  and the warm audit in-process and as a new `auditor audit` process on a fresh HF_HOME;
- requests made cold and warm, counted by the server (every path, `/api/agent-harnesses` included),
  connections accepted and requests in flight at most.

The test Hub runs in its own process, as the real Hub would: the client's time is not shared with the
server's under one interpreter lock. Cold and warm figures are medians of `--repeat` runs (each cold run on
an empty cache). Targets (issue 16): cold crawl ≤ 1.2× the level bound and ≥ 8× faster than the naive loop;
0 requests warm.
"""

from __future__ import annotations

import argparse
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

    def __sub__(self, other: HubCounts) -> HubCounts:
        return HubCounts(self.requests - other.requests, self.agent_registry - other.agent_registry,
                         self.connections - other.connections, self.peak_in_flight)


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
                                    state.peak_in_flight))


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
    last_answer = [0.0]

    def progress(done: int, submitted: int, model_id: str) -> None:
        last_answer[0] = time.perf_counter()

    before = hub.counts(reset_peak=True)
    start = time.perf_counter()
    result = run_audit([AuditEntry(ref=r) for r in refs], source, rules, use, concurrency=concurrency,
                       progress=progress)
    seconds = time.perf_counter() - start
    return AuditRun(seconds, max(0.0, last_answer[0] - start), hub.counts() - before, len(result.models))


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from auditor.lineage import make_limit
    from auditor.model import ModelRef

    _cards, manifest = generate_forest(args.models)
    refs = [ModelRef(kind="hub", id=rid) for rid in manifest]
    ceiling = make_limit(args.concurrency).ceiling
    with HubProcess(args.models, args.latency) as hub, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        # Everything in this process talks to the loopback Hub only, on an HF_HOME of its own.
        os.environ.update(HF_ENDPOINT=hub.endpoint, HF_HOME=str(tmp / "hf-home"))
        colds = [audit_once(hub, refs, tmp / f"cold-{i}", args.concurrency) for i in range(max(1, args.repeat))]
        cold = median_run(colds)
        warm_cache = tmp / "cold-0"
        warms = [audit_once(hub, refs, warm_cache, args.concurrency) for _ in range(max(1, args.repeat))]
        warm = median_run(warms)
        cli_seconds, cli_counts = cli_warm(hub, manifest, tmp, warm_cache)

        from auditor.lineage import crawl
        from auditor.sources.cache import MetadataCache
        from auditor.sources.hub import HubSource

        graph = crawl(refs, HubSource(endpoint=hub.endpoint, token=False, cache=MetadataCache(warm_cache)))
        depths = {n.id: n.depth for n in graph.nodes}
        naive = naive_loop(hub.endpoint, sorted(depths))

    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "auditor", "--help"], check=True, capture_output=True, cwd=ROOT)
    help_time = time.perf_counter() - start

    bound = lower_bound(depths, args.concurrency, args.latency)
    bound_ceiling = lower_bound(depths, ceiling, args.latency)
    ms = args.latency * 1000
    levels = dict(sorted(Counter(depths.values()).items()))
    print(f"manifest models          {len(manifest)}; distinct models {len(depths)} (per level: {levels})")
    print(f"level bound              {bound:.2f} s at {args.concurrency} in flight (Σ⌈n/{args.concurrency}⌉×{ms:.0f} ms); "
          f"{bound_ceiling:.2f} s at {ceiling} (the most the crawl rises to)")
    print(f"naive sequential loop    {naive:.2f} s  (HfApi.model_info × {len(depths)}, one at a time)")
    print(f"cold audit               {cold.seconds:.2f} s  (crawl {cold.crawl_seconds:.2f} s + evaluation of "
          f"{cold.models} models; median of {len(colds)}: "
          f"{', '.join(f'{r.crawl_seconds:.2f}' for r in sorted(colds, key=lambda r: r.crawl_seconds))} s crawl)")
    print(f"  crawl vs level bound   {cold.crawl_seconds / bound:.2f}× the bound at {args.concurrency}, "
          f"{cold.crawl_seconds / bound_ceiling:.2f}× the bound at {ceiling}")
    print(f"  vs naive loop          {naive / cold.crawl_seconds:.1f}× faster (crawl), "
          f"{naive / cold.seconds:.1f}× (whole audit)")
    print(f"  requests (cold)        {cold.hub.requests} (agent registry {cold.hub.agent_registry}), "
          f"at most {cold.hub.peak_in_flight} in flight (server); {colds[0].hub.connections} connections opened by "
          f"the first cold run, {sum(r.hub.connections for r in colds[1:])} by the next (keep-alive)")
    print(f"warm audit               {warm.seconds:.2f} s  (crawl from cache {warm.crawl_seconds:.2f} s); "
          f"requests (warm) {warm.hub.requests}")
    print(f"warm `auditor audit`     {cli_seconds:.2f} s  (new process, fresh HF_HOME: rules, crawl from cache, "
          f"evaluate, audit.json); requests {cli_counts.requests} (agent registry {cli_counts.agent_registry})")
    print(f"auditor --help           {help_time:.3f} s  (python -m auditor --help, incl. interpreter start)")
    ok = (cold.hub.requests == len(depths) and warm.hub.requests == 0 and cli_counts.requests == 0
          and cold.crawl_seconds <= 1.2 * bound and naive >= 8 * cold.crawl_seconds)
    print(f"targets met              {'yes' if ok else 'NO'}  (cold requests = distinct models, 0 warm, "
          f"crawl ≤ 1.2× bound at {args.concurrency}, ≥ 8× the naive loop)")


if __name__ == "__main__":
    main()
