"""Engine scale benchmark: evaluate a synthetic lineage (a forest of chains and merges) and write audit.json.

    python bench/bench_engine.py [--sizes 1000,3000,10000,30000,100000] [--audited 0.46]

Each size runs in a fresh subprocess so its peak memory (ru_maxrss) is its own. Prints, per size: nodes,
audited models, findings (as the models hold them; in parentheses as `audit.json` keeps them, schema 1.3: a finding
about a lineage node once), evaluation time, JSON writing time (streamed to a file, as `auditor audit`
writes it), their sum, the CPU seconds of each (the wall times of a shared machine include waiting for a
core), JSON size, and peak RSS after evaluating and after writing.
Target (issue "Scale"): linear; 100k nodes evaluated and written in < 10 s and < 2 GiB.
Models are synthetic (`example-org/…`); licenses are bundled rule ids. Figures before and after the
linear-evaluation work: bench/RESULTS.md ("engine").
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from auditor.vocab import Relation

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LICENSES = ["apache-2.0", "mit", "llama3.1", "llama3.2", "gemma", "cc-by-4.0", "qwen", "cc-by-nc-4.0",
            "openrail", "made-up-license"]
RELATIONS: list[Relation] = ["finetune", "adapter", "quantized"]
MAX_DEPTH = 6  # real lineages are shallow: base, fine-tune, adapter, quantization, merge…


def build_graph(nodes: int, seed: int = 11) -> tuple[object, list[str]]:
    """A forest of depth ≤ MAX_DEPTH: 5% bases, then each node picks a parent among earlier nodes that are
    not too deep (favouring recent ones, so chains form), and 5% are merges of two parents."""
    from auditor.model import DeclaredLicense, EdgeRecord, Evidence, LineageGraph, ModelFacts, NodeRecord

    rng = random.Random(seed)
    ids = [f"example-org/m{i:06d}" for i in range(nodes)]
    depth: list[int] = []
    shallow: list[int] = []  # indexes of nodes a child may still be added under
    records, edges = [], []
    for i, rid in enumerate(ids):
        declared = DeclaredLicense(license=[rng.choice(LICENSES)])
        facts = ModelFacts(id=rid, requested=rid, source="hub", declared=declared,
                           pipeline_tag=rng.choice(["text-generation", "image-text-to-text"]))
        records.append(NodeRecord(id=rid, facts=facts))
        if i < max(10, nodes // 20):
            depth.append(0)
            shallow.append(i)
            continue
        picks = [shallow[rng.randrange(max(0, len(shallow) - 500), len(shallow))]]
        if rng.random() < 0.05:
            picks.append(shallow[rng.randrange(0, len(shallow))])
        depth.append(1 + max(depth[p] for p in picks))
        if depth[-1] < MAX_DEPTH:
            shallow.append(i)
        parents = [ids[p] for p in picks]
        for parent in dict.fromkeys(parents):
            relation: Relation = "merge" if len(parents) > 1 else rng.choice(RELATIONS)
            ev = Evidence(source="hub", field="cardData.base_model", value=parent)
            edges.append(EdgeRecord(child=rid, parent=parent, relation=relation, evidence=[ev]))
    children = {e.parent for e in edges}
    leaves = [rid for rid in ids if rid not in children]
    graph = LineageGraph(roots=leaves, nodes=records, edges=edges)
    return graph, ids


def run_one(nodes: int, audited: float) -> dict[str, float]:
    from auditor.audit import AuditEntry, build_result
    from auditor.model import DeclaredUse, ModelRef
    from auditor.rules.loader import load_rules

    graph, ids = build_graph(nodes)
    rng = random.Random(3)
    chosen = sorted(rng.sample(ids, int(nodes * audited)))
    entries = [AuditEntry(ref=ModelRef(kind="hub", id=rid)) for rid in chosen]
    rules = load_rules()
    use = DeclaredUse(commercial=True, monthly_active_users=1_000_000, annual_revenue_usd=1_000_000,
                      distribution="saas", regions=["DE", "US"], purposes=["chat-assistant"])
    start, cpu = time.perf_counter(), time.process_time()
    result = build_result(graph, entries, rules, use, None, generated_at="2026-01-01T00:00:00Z")  # type: ignore[arg-type]
    evaluated, evaluated_cpu = time.perf_counter() - start, time.process_time() - cpu
    evaluated_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from auditor.reports.base import REPORTERS

    start, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.json"
        with path.open("wb") as fp:
            REPORTERS["json"].write(result, fp)  # streamed, as `auditor audit` writes it
        size = path.stat().st_size
    written, written_cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # Findings as kept (each model's own, and each lineage node's once: schema 1.3) and as the models hold them
    # (what reports show, `auditor.findings.resolved`): counted after the peak is read.
    from auditor.findings import resolved

    kept = sum(len(m.findings) for m in result.models) + sum(len(f) for f in result.lineage_findings.values())
    findings = sum(len(m.findings) for m in resolved(result).models)
    return {"nodes": nodes, "audited": len(chosen), "findings": findings, "findings_kept": kept,
            "evaluate_s": evaluated,
            "evaluate_cpu_s": evaluated_cpu, "write_s": written, "write_cpu_s": written_cpu, "json_mb": size / 1e6,
            "eval_peak_mib": evaluated_peak, "peak_mib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,3000,10000,30000,100000")
    parser.add_argument("--audited", type=float, default=0.46)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.audited)))
        return
    print(f"{'nodes':>8} {'audited':>8} {'findings (kept)':>18} {'evaluate':>9} {'write':>7} {'total':>7} {'cpu eval':>9}"
          f" {'cpu write':>9} {'json':>8} {'peak eval':>10} {'peak':>9}")
    for size in [int(s) for s in args.sizes.split(",")]:
        out = subprocess.run([sys.executable, __file__, "--one", str(size), "--audited", str(args.audited)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        total = r["evaluate_s"] + r["write_s"]
        kept = f"{r['findings']} ({r.get('findings_kept', r['findings'])})"
        print(f"{r['nodes']:>8} {r['audited']:>8} {kept:>18} {r['evaluate_s']:>8.2f}s {r['write_s']:>6.2f}s "
              f"{total:>6.2f}s {r['evaluate_cpu_s']:>8.2f}s {r['write_cpu_s']:>8.2f}s {r['json_mb']:>6.1f}MB "
              f"{r['eval_peak_mib']:>7.0f}MiB {r['peak_mib']:>7.0f}MiB", flush=True)


if __name__ == "__main__":
    main()
