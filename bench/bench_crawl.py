"""Crawl benchmark: 200 manifest models over a generated lineage forest behind the loopback Hub.

    python bench/bench_crawl.py [--models 200] [--latency 0.05] [--concurrency 8]

Prints requests made, distinct models, cold and warm wall times, the lower bound
Σ over lineage levels ⌈models at that level ÷ concurrency⌉ × latency, a naive sequential
`HfApi.model_info` loop over the same models, and `auditor --help` start-up time.
Targets (issue 2): requests == distinct models cold, 0 warm; cold ≤ 1.5 × lower bound; warm < 1 s.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.audit import AuditEntry, run_audit  # noqa: E402
from auditor.lineage import CrawlOptions, crawl  # noqa: E402
from auditor.model import DeclaredUse, ModelRef  # noqa: E402
from auditor.rules.loader import load_rules  # noqa: E402
from auditor.sources.cache import MetadataCache  # noqa: E402
from auditor.sources.hub import HubSource  # noqa: E402
from tests.hub.recorded import api_body  # noqa: E402
from tests.hub.server import HubServer, HubState  # noqa: E402

LICENSES = ["apache-2.0", "mit", "llama3.1", "gemma", "cc-by-4.0", "qwen"]
RELATIONS = ["finetune", "adapter", "quantized"]


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
    per_level = Counter(depths.values())
    return sum(math.ceil(n / concurrency) * latency for n in per_level.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    cards, manifest = generate_forest(args.models)
    state = HubState(models={rid: api_body(rid, card) for rid, card in cards.items()}, latency=args.latency)
    refs = [ModelRef(kind="hub", id=rid) for rid in manifest]
    rules = load_rules()
    use = DeclaredUse(commercial=True, monthly_active_users=1000, annual_revenue_usd=10_000,
                      distribution="saas", regions=["US"], purposes=["chat"])
    with HubServer(state) as hub, tempfile.TemporaryDirectory() as tmp:
        cache = MetadataCache(Path(tmp) / "cache")
        cold_source = HubSource(endpoint=hub.endpoint, token=False, cache=cache)
        start = time.perf_counter()
        graph = crawl(refs, cold_source, CrawlOptions(concurrency=args.concurrency))
        cold = time.perf_counter() - start
        distinct = len(graph.nodes)
        depths = {n.id: n.depth for n in graph.nodes}
        bound = lower_bound(depths, args.concurrency, args.latency)

        warm_source = HubSource(endpoint=hub.endpoint, token=False, cache=cache)
        before = state.total_requests()
        start = time.perf_counter()
        result = run_audit([AuditEntry(ref=r) for r in refs], warm_source, rules, use,
                           concurrency=args.concurrency)
        warm = time.perf_counter() - start
        warm_requests = state.total_requests() - before

        from huggingface_hub import HfApi

        api = HfApi(endpoint=hub.endpoint, token=False)
        start = time.perf_counter()
        for node_id in sorted(depths):
            api.model_info(node_id, expand=["cardData", "tags", "sha"])
        naive = time.perf_counter() - start

        # The same warm audit end to end, as a user runs it: a new process, rules loaded, reports written.
        manifest_file = Path(tmp) / "auditor.yaml"
        manifest_file.write_text(
            "use: {commercial: true, monthly_active_users: 1000, annual_revenue_usd: 10000, distribution: saas,"
            " regions: [US], purposes: [chat]}\nmodels:\n" + "".join(f"  - id: {rid}\n" for rid in manifest),
            encoding="utf-8",
        )
        env = dict(os.environ, HF_ENDPOINT=hub.endpoint, AUDITOR_CACHE_DIR=str(Path(tmp) / "cache"))
        before = state.total_requests()
        start = time.perf_counter()
        cli = subprocess.run(
            [sys.executable, "-m", "auditor", "audit", str(manifest_file), "--format", "json", "--out",
             str(Path(tmp) / "out"), "--fail-on", "never", "--quiet"],
            capture_output=True, cwd=ROOT, env=env, check=False,
        )
        cli_warm = time.perf_counter() - start
        cli_requests = state.total_requests() - before
        if cli.returncode != 0:
            raise SystemExit(f"auditor audit failed ({cli.returncode}): {cli.stderr.decode()[-500:]}")

    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "auditor", "--help"], check=True, capture_output=True, cwd=ROOT)
    help_time = time.perf_counter() - start

    levels = Counter(depths.values())
    print(f"manifest models        {len(manifest)}")
    print(f"distinct models        {distinct}  (per level: {dict(sorted(levels.items()))})")
    print(f"requests (cold)        {cold_source.requests}")
    print(f"cold wall time         {cold:.2f} s")
    print(f"lower bound            {bound:.2f} s  (Σ⌈n/{args.concurrency}⌉×{args.latency * 1000:.0f} ms)  "
          f"ratio {cold / bound:.2f}")
    print(f"requests (warm)        {warm_requests}")
    print(f"warm wall time         {warm:.2f} s  (crawl from cache + evaluate {len(result.models)} models)")
    print(f"warm `auditor audit`   {cli_warm:.2f} s  (new process: rules, crawl from cache, evaluate, "
          f"audit.json; {cli_requests} requests)")
    print(f"naive sequential loop  {naive:.2f} s  (HfApi.model_info × {distinct})")
    print(f"auditor --help         {help_time:.3f} s  (python -m auditor --help, incl. interpreter start)")
    ok = (cold_source.requests == distinct and warm_requests == 0 and cold <= 1.5 * bound and warm < 1.0
          and cli_requests == 0)
    print(f"targets met            {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
