"""Lock benchmark: a 200-model manifest over a generated lineage forest behind the loopback Hub.

    python bench/bench_lock.py [--models 200] [--latency 0.05]

Runs, as a user would (a new `auditor` process each time, its own cache): `auditor lock`, a cold locked
`auditor audit`, a warm locked audit, and a warm audit after `main` moved on every repo (a new commit: the
lock still reads the locked ones). Prints wall time and Hub requests of each.
Target (issue "Provenance over time"): a warm `auditor audit` with a lock of 200 models makes 0 Hub requests.
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

from bench.bench_crawl import generate_forest  # noqa: E402
from tests.hub.recorded import api_body  # noqa: E402
from tests.hub.server import HubServer, HubState  # noqa: E402


def _run(args: list[str], env: dict[str, str], state: HubState) -> tuple[float, int]:
    before = state.total_requests()
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "auditor", *args], capture_output=True, cwd=ROOT, env=env,
                          check=False)
    took = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"auditor {args[0]} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return took, state.total_requests() - before


def _sha(index: int, generation: int) -> str:
    return f"{generation:08x}{index:032x}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()

    cards, manifest = generate_forest(args.models)
    ids = sorted(cards)
    state = HubState(latency=args.latency)
    for index, rid in enumerate(ids):
        body = api_body(rid, cards[rid], sha=_sha(index, 1))
        state.models[rid] = body
        state.revisions[(rid, body["sha"])] = body
    with HubServer(state) as hub, tempfile.TemporaryDirectory() as tmp:
        manifest_file = Path(tmp) / "auditor.yaml"
        manifest_file.write_text(
            "use: {commercial: true, monthly_active_users: 1000, annual_revenue_usd: 10000, distribution: saas,"
            " regions: [US], purposes: [chat]}\nmodels:\n" + "".join(f"  - id: {rid}\n" for rid in manifest),
            encoding="utf-8")
        env = dict(os.environ, HF_ENDPOINT=hub.endpoint, AUDITOR_CACHE_DIR=str(Path(tmp) / "cache"))
        out = ["--format", "json", "--out", str(Path(tmp) / "out"), "--fail-on", "never", "--quiet"]
        lock_time, lock_requests = _run(["lock", str(manifest_file)], env, state)
        env["AUDITOR_CACHE_DIR"] = str(Path(tmp) / "cache-2")  # the locked audit starts cold
        cold_time, cold_requests = _run(["audit", str(manifest_file), *out], env, state)
        warm_time, warm_requests = _run(["audit", str(manifest_file), *out], env, state)
        for index, rid in enumerate(ids):  # every repo moves on: a new commit on main
            state.models[rid] = api_body(rid, cards[rid], sha=_sha(index, 2))
        moved_time, moved_requests = _run(["audit", str(manifest_file), *out], env, state)
        check_time, check_requests = _run(["lock", str(manifest_file), "--check"], env, state)
    nodes = len(ids)
    print(f"manifest models              {len(manifest)}  (lineage up to {nodes} repos)")
    print(f"auditor lock                 {lock_time:.2f} s  {lock_requests} requests")
    print(f"locked audit, cold           {cold_time:.2f} s  {cold_requests} requests")
    print(f"locked audit, warm           {warm_time:.2f} s  {warm_requests} requests")
    print(f"locked audit, main moved     {moved_time:.2f} s  {moved_requests} requests (reads the locked commits)")
    print(f"auditor lock --check (moved) {check_time:.2f} s  {check_requests} requests")
    print(f"targets met                  {'yes' if warm_requests == 0 and moved_requests == 0 else 'NO'}")


if __name__ == "__main__":
    main()
