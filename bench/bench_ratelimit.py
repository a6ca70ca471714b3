"""Rate-limit benchmark: the six-model manifest, cold, behind the loopback Hub with a per-window quota.

    python bench/bench_ratelimit.py [--quotas 3 15] [--window 1] [--runs 3]

For each quota (requests a window, for all clients together, like the Hub's), runs the whole audit
`--runs` times in a row, cold (no cache), against one server, and prints per run: wall time, requests
the server received, 429s it sent, whether the lineage is complete (no unresolved node) and the verdict;
then whether the verdicts (overall and per model, with finding codes) agree across the runs and with an
unthrottled audit. Benchmarks print, they do not assert.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.audit import AuditEntry, run_audit  # noqa: E402
from auditor.lineage import parse_ref  # noqa: E402
from auditor.model import DeclaredUse  # noqa: E402
from auditor.rules.loader import RuleSet, load_rules  # noqa: E402
from auditor.sources.hub import HubSource, RetryPolicy  # noqa: E402
from tests.hub.recorded import all_real_bodies  # noqa: E402
from tests.hub.server import HubServer, HubState  # noqa: E402

SIX = (
    "bartowski/Qwen2.5-Coder-7B-Instruct-GGUF",
    "Qwen/Qwen2.5-7B-Instruct-GGUF",
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
    "Qwen/Qwen2-72B-Instruct",
    "CohereForAI/c4ai-command-r-plus",
    "microsoft/phi-4",
)
USE = DeclaredUse(commercial=True, monthly_active_users=2_000_000, annual_revenue_usd=5_000_000,
                  distribution="saas", regions=["EU", "US"], purposes=["customer-support"])


@dataclass(frozen=True)
class Run:
    wall: float
    requests: int
    refused: int
    complete: bool
    nodes: int
    verdicts: tuple[object, ...]


def audit_once(state: HubState, hub: HubServer, rules: RuleSet) -> Run:
    source = HubSource(endpoint=hub.endpoint, token=False, retry=RetryPolicy(budget_seconds=120.0), seed=1)
    before, refused_before = state.total_requests(), state.refused
    start = time.perf_counter()
    result = run_audit([AuditEntry(ref=parse_ref(m)) for m in SIX], source, rules, USE)
    wall = time.perf_counter() - start
    complete = all(n.unresolved is None for n in result.graph.nodes)
    verdicts = (result.verdict, *((m.id, m.verdict, tuple(sorted({f.code for f in m.findings})))
                                  for m in result.models))
    return Run(wall, state.total_requests() - before, state.refused - refused_before, complete,
               len(result.graph.nodes), verdicts)


def row(label: str, index: int, run: Run) -> str:
    return (f"{label:>10}  {index:>3}  {run.wall:>8.2f}  {run.requests:>8}  {run.refused:>4}  "
            f"{'yes' if run.complete else 'NO':>8}  {run.verdicts[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quotas", type=int, nargs="+", default=[3, 15])
    parser.add_argument("--window", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    bodies = all_real_bodies()
    rules = load_rules()
    with HubServer(HubState(models=bodies)) as hub:
        reference = audit_once(hub.state, hub, rules)
    print(f"six-model manifest ({len(SIX)} models, {reference.nodes} with their ancestors), cold audits, "
          f"loopback Hub, window {args.window:g} s")
    print(f"{'quota':>10}  {'run':>3}  {'wall (s)':>8}  {'requests':>8}  {'429s':>4}  {'complete':>8}  verdict")
    print(row("unlimited", 1, reference))
    for quota in args.quotas:
        state = HubState(models=bodies, quota=quota, window=args.window)
        with HubServer(state) as hub:
            runs = [audit_once(state, hub, rules) for _ in range(args.runs)]
        for index, run in enumerate(runs, 1):
            print(row(f"{quota}/window", index, run))
        same = all(r.verdicts == runs[0].verdicts for r in runs)
        print(f"{'':>10}  verdicts agree across the {args.runs} runs: {'yes' if same else 'NO'}; "
              f"with the unthrottled audit: {'yes' if runs[0].verdicts == reference.verdicts else 'NO'}")


if __name__ == "__main__":
    main()
