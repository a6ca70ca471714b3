"""The engine's output is pinned while its internals change (issue 16: linear evaluation).

Each case evaluates a synthetic lineage (the engine bench's forest of chains and merges, made harder:
unreadable nodes, distillations, unknown relations, disagreements, a cycle, no-derivatives and
research-only licenses) under one declared use and policy, and compares the sha256 of the canonical
`audit.json` with the digest recorded in `tests/golden/engine/digests.json`, and the bundled example's
`audit.json` with `tests/golden/engine/example-audit.json`.

The pins were recorded by the engine as it stood before the rewrite for speed (main at 5684b4d): they
say "same bytes as before", not that the bytes are right (the scenario, property and legal-semantics
tests say that). After an intended change of findings, rules or the result's shape, regenerate and
review the diff (`git diff tests/golden/engine`):

    UPDATE_GOLDEN=1 python -m pytest tests/test_engine_regression.py
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

from auditor.audit import AuditEntry, build_result
from auditor.diff import diff_results
from auditor.findings import resolved
from auditor.model import (
    AuditResult,
    DeclaredLicense,
    DeclaredUse,
    Disagreement,
    EdgeRecord,
    LineageGraph,
    ModelRef,
    NodeRecord,
    Unresolved,
)
from auditor.policy import Policy, Waiver
from auditor.reports._common import canonical_json, write_canonical_json
from auditor.reports.base import REPORTERS, render
from auditor.rules.loader import RuleSet, load_rules
from bench.bench_engine import build_graph
from tests.report_fixtures import run_example_audit

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "engine"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
NODES = 700
# Licenses added to the bench's mix: no-derivatives, research-only, registration, hosting, release-date
# thresholds, distillation terms, conditional outputs training.
EXTRA_LICENSES = ["cc-by-nd-4.0", "cc-by-nc-nd-3.0", "flux-1-dev-non-commercial-license", "mnpl",
                  "stabilityai-ai-community", "falcon-180b-tii-license-1.0", "llama3.3", "gemma", "llama2",
                  "tencent-hunyuan-community", "qwen-research", "yi-license", "codegeex4"]


def _harder(graph: Any, ids: list[str]) -> LineageGraph:
    """The bench lineage with every kind of node and edge the engine treats apart."""
    merged = sorted({e.parent for e in graph.edges if e.relation == "merge"})
    merge_licenses = {parent: ["gpl-3.0", "llama3", "openrail", "qwen"][k % 4] for k, parent in enumerate(merged)}
    nodes: list[NodeRecord] = []
    for i, node in enumerate(graph.nodes):
        if i % 37 == 5:
            nodes.append(NodeRecord(id=node.id, unresolved=Unresolved(
                id=node.id, requested=node.id, source="hub", code="gated", reason="gated repo")))
            continue
        facts = node.facts
        if node.id in merge_licenses and i % 3:
            facts = facts.model_copy(update={"declared": DeclaredLicense(license=[merge_licenses[node.id]])})
        elif i % 11 == 3:
            facts = facts.model_copy(update={"declared": DeclaredLicense(license=[EXTRA_LICENSES[i // 11 % len(EXTRA_LICENSES)]])})
        elif i % 53 == 7:
            facts = facts.model_copy(update={"declared": DeclaredLicense()})
        elif i % 59 == 9:
            facts = facts.model_copy(update={"declared": DeclaredLicense(license=["apache-2.0"],
                                                                         license_name="llama3.1")})
        elif i % 31 == 2:
            facts = facts.model_copy(update={"declared": DeclaredLicense(license=["mit", "cc-by-nc-4.0"])})
        nodes.append(node.model_copy(update={"facts": facts}))
    edges: list[EdgeRecord] = []
    for j, edge in enumerate(graph.edges):
        if edge.relation != "merge" and j % 13 == 4:
            edge = edge.model_copy(update={"relation": "distillation"})
        elif edge.relation != "merge" and j % 17 == 6:
            edge = edge.model_copy(update={"relation": "unknown"})
        edges.append(edge)
    # a cycle between two early models, and a few disagreements / unusable lineage values
    a, b = ids[1], ids[2]
    edges.append(EdgeRecord(child=a, parent=b, relation="finetune", evidence=[]))
    edges.append(EdgeRecord(child=b, parent=a, relation="finetune", evidence=[]))
    disagreements = [Disagreement(model=ids[k], message=f"sources name different parents ({k})")
                     for k in range(40, len(ids), 97)]
    disagreements += [Disagreement(model=ids[k], message="base_model value names no model", kind="unusable")
                      for k in range(60, len(ids), 131)]
    return LineageGraph(roots=graph.roots, nodes=nodes, edges=edges, cycles=[[a, b]], disagreements=disagreements)


USES: dict[str, dict[str, Any]] = {
    "bench": dict(commercial=True, monthly_active_users=1_000_000, annual_revenue_usd=1_000_000,
                  distribution="saas", regions=["DE", "US"], purposes=["chat-assistant"]),
    "undeclared": {},
    "weights": dict(commercial=False, distribution="weights", production=True, trains_on_outputs=True,
                    registered=[], monthly_active_users_at_release=0, domicile=["EU"], markets=["KR", "US"],
                    purposes=["military", "medical-advice"]),
    "commercial-weights": dict(commercial=True, distribution="weights", production=False, trains_on_outputs=False,
                               monthly_active_users=900_000_000, annual_revenue_usd=5_000_000, registered=[],
                               monthly_active_users_at_release=800_000_000, regions=["US"]),
}


def _policy(ids: list[str]) -> Policy:
    return Policy(
        allow=["apache-2.0", "mit", "cc-by-*"], review=["llama*"], deny=["cc-by-nc-*"],
        severity={"relabelled": "warning", "license-conflict": "error", "unresolved": "info"},
        waivers=[
            Waiver(model=ids[300], code="license-conflict", justification="reviewed by counsel in 2025",
                   approver="legal@example.org", expires=dt.date(2030, 1, 1)),
            Waiver(model="example-org/m0004*", code="unknown-license", justification="license read from the repo",
                   approver="legal@example.org", expires=dt.date(2020, 1, 1)),
            Waiver(model="example-org/m0005*", code="non-commercial", license="cc-by-nc-4.0",
                   justification="separate commercial agreement", approver="cfo@example.org",
                   expires=dt.date(2031, 6, 30)),
        ])


CASES = [(use, policy) for use in USES for policy in (False, True)]


@pytest.fixture(scope="module")
def lineage() -> tuple[LineageGraph, list[str], RuleSet]:
    graph, ids = build_graph(NODES)
    return _harder(graph, ids), ids, load_rules()


def _digests() -> dict[str, str]:
    path = GOLDEN / "digests.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _case_result(lineage: tuple[LineageGraph, list[str], RuleSet], use: str, with_policy: bool) -> AuditResult:
    graph, ids, rules = lineage
    rng = random.Random(3)
    audited = [*sorted(rng.sample(ids, NODES // 2)), ids[1], ids[2]]
    entries = [AuditEntry(ref=ModelRef(kind="hub", id=rid), line=i + 1) for i, rid in enumerate(audited)]
    return build_result(graph, entries, rules, DeclaredUse(**USES[use]), _policy(ids) if with_policy else None,
                        generated_at="2026-01-01T00:00:00Z")


CASE_IDS = [f"{u}-{'policy' if p else 'plain'}" for u, p in CASES]


@pytest.mark.parametrize(("use", "with_policy"), CASES, ids=CASE_IDS)
def test_synthetic_lineage_gives_the_same_bytes(lineage: tuple[LineageGraph, list[str], RuleSet], use: str,
                                                with_policy: bool) -> None:
    result = _case_result(lineage, use, with_policy)
    text = canonical_json(result)
    assert sum(len(m.findings) for m in resolved(result).models) > NODES  # the case exercises the checkers
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    key = f"{use}-{'policy' if with_policy else 'plain'}"
    if UPDATE:
        pins = _digests()
        pins[key] = digest
        GOLDEN.mkdir(parents=True, exist_ok=True)
        (GOLDEN / "digests.json").write_text(json.dumps(pins, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert _digests().get(key) == digest


def test_bundled_example_gives_the_same_audit_json(tmp_path: Path) -> None:
    run = run_example_audit(tmp_path / "out", "--format", "json")
    assert run.exit_code == 1, run.output
    # the manifest's evidence names its file by absolute path: the clone's own folder is no part of the pin
    produced = (tmp_path / "out" / "audit.json").read_bytes().replace(str(ROOT).encode("utf-8"), b"<repo>")
    golden = GOLDEN / "example-audit.json"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(produced)
    assert produced == golden.read_bytes()


# --------------------------------------------------------------------------- schema 1.2: obligations by id
# Schema 1.2 lists each model's obligations as ids of the result's `obligations`; 1.1 listed each in full. The
# 1.1 pins below were recorded before that change (main at 897b63a, `digests-1.1.json` = the old `digests.json`;
# `example-audit-1.1.json` = the old bundled example's audit.json): the 1.2 result, its ids resolved back, must be
# those bytes exactly, so the change drops no content. Five of those pins were recorded again when `_dedupe` came to keep,
# of two equal findings, the one with the shorter path, then the first in report order, rather than the first a
# checker added (e.g. of two waiver-expired notes about the same waiver, the one with the shorter path): the result's
# findings changed, not its shape.


def _as_1_1(data: dict[str, Any]) -> dict[str, Any]:
    """A 1.2 result (as JSON data) in the 1.1 shape: each model's obligation ids replaced by the result's obligation
    of that id, naming only that model."""
    by_id = {ob["id"]: ob for ob in data["obligations"]}
    models = [{**m, "obligations": [{**by_id[oid], "models": [m["id"]]} for oid in m["obligations"]]}
              for m in data["models"]]
    return {**data, "models": models, "schema_version": "1.1"}


def _dumped(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


@pytest.mark.parametrize(("use", "with_policy"), CASES, ids=CASE_IDS)
def test_obligation_ids_resolve_to_the_1_1_result(lineage: tuple[LineageGraph, list[str], RuleSet], use: str,
                                                  with_policy: bool) -> None:
    result = _case_result(lineage, use, with_policy)
    data = _as_1_2(result)
    assert all(isinstance(oid, str) for m in data["models"] for oid in m["obligations"])
    assert sum(len(m["obligations"]) for m in data["models"]) > NODES  # the case has obligations to resolve
    old = json.loads((GOLDEN / "digests-1.1.json").read_text(encoding="utf-8"))
    key = f"{use}-{'policy' if with_policy else 'plain'}"
    assert hashlib.sha256(_dumped(_as_1_1(data))).hexdigest() == old[key]


def test_a_1_1_result_reads_as_ids_and_loses_nothing() -> None:
    """A result saved by 1.1 (`auditor report`, `diff`, `lock` read saved results) reads into the 1.2 shape:
    every model's obligations become ids, and resolving them gives the saved file back byte for byte."""
    saved = (GOLDEN / "example-audit-1.1.json").read_bytes()
    result = AuditResult.model_validate_json(saved)
    assert result.schema_version == "1.1"
    assert all(isinstance(oid, str) for m in result.models for oid in m.obligations)
    assert sum(len(m.obligations) for m in result.models) > len(result.models)
    assert _dumped(_as_1_1(_as_1_2(result))) == saved


# --------------------------------------------------------------------------- schema 1.3: shared findings once
# Schema 1.3 keeps the findings about a lineage node once, in `lineage_findings`, and those about a license's terms
# once, in `license_findings`, for every model that inherits them
# (`auditor/findings.py`); 1.2 copied them into each such model's `findings`. The 1.2 pins below were recorded before
# that change (main at 5e4cc2f: `digests-1.2.json` = that commit's `digests.json`, `example-audit-1.2.json` = its
# bundled example's audit.json): the 1.3 result, its shared findings resolved back into each model, must be those
# bytes exactly, so the change drops, adds and alters no finding and no verdict.


def _as_1_2(result: AuditResult) -> dict[str, Any]:
    """The result as JSON data in the 1.2 shape: every model's findings whole, no shared findings."""
    data = json.loads(canonical_json(resolved(result)))
    data.pop("lineage_findings", None)
    data.pop("license_findings", None)
    for model in data["models"]:
        assert model.pop("inherits_findings", False) is False
    return {**data, "schema_version": "1.2"} if data["schema_version"] == "1.3" else data


@pytest.mark.parametrize(("use", "with_policy"), CASES, ids=CASE_IDS)
def test_shared_findings_resolve_to_the_1_2_result(lineage: tuple[LineageGraph, list[str], RuleSet], use: str,
                                                    with_policy: bool) -> None:
    result = _case_result(lineage, use, with_policy)
    assert result.schema_version == "1.3"
    inheriting = [m for m in result.models if m.inherits_findings]
    assert inheriting and result.lineage_findings and result.license_findings  # the case keeps findings once
    # a model a waiver names lists all its findings itself (a waiver may waive a finding about an ancestor for it alone)
    named = [m for m in result.models if m.id.startswith(("example-org/m0004", "example-org/m0005"))]
    assert named and any(m.inherits_findings for m in named) != with_policy
    old = json.loads((GOLDEN / "digests-1.2.json").read_text(encoding="utf-8"))
    key = f"{use}-{'policy' if with_policy else 'plain'}"
    assert hashlib.sha256(_dumped(_as_1_2(result))).hexdigest() == old[key]


def test_the_bundled_example_resolves_to_its_1_2_audit_json(tmp_path: Path) -> None:
    run = run_example_audit(tmp_path / "out", "--format", "json")
    assert run.exit_code == 1, run.output
    produced = AuditResult.model_validate_json((tmp_path / "out" / "audit.json").read_bytes())
    resolved_back = _dumped(_as_1_2(produced)).replace(str(ROOT).encode("utf-8"), b"<repo>")
    assert resolved_back == (GOLDEN / "example-audit-1.2.json").read_bytes()


def test_an_audit_json_is_smaller_by_the_copies_it_no_longer_holds(
        lineage: tuple[LineageGraph, list[str], RuleSet]) -> None:
    """What 1.3 saves: each finding about a lineage node is written once, not once per model that holds the node."""
    result = _case_result(lineage, "bench", False)
    whole = resolved(result)
    kept = (sum(len(m.findings) for m in result.models) + sum(len(f) for f in result.lineage_findings.values())
            + sum(len(f) for f in result.license_findings.values()))
    assert kept < 0.8 * sum(len(m.findings) for m in whole.models)
    assert len(canonical_json(result)) < len(canonical_json(whole))


def test_a_large_result_reaches_the_file_in_chunks(lineage: tuple[LineageGraph, list[str], RuleSet]) -> None:
    """`audit.json` is handed to the file about a megabyte at a time, not in several small writes per model."""
    result = _case_result(lineage, "bench", False)
    calls: list[bytes] = []
    write_canonical_json(result, calls.append)
    written = b"".join(calls)
    assert written == canonical_json(result).encode("utf-8")
    assert result.lineage_findings and result.license_findings  # streamed list by list, the standard library's bytes
    assert written == _dumped(result.model_dump(mode="json"))
    assert len(written) > 2 << 20 and len(calls) <= len(written) // (1 << 20) + 1


def test_every_report_of_a_1_3_result_is_the_report_of_its_1_2_form(
        lineage: tuple[LineageGraph, list[str], RuleSet]) -> None:
    """Reports read the whole findings: a 1.3 result and the same result saved by 1.2 (every finding in its model's
    list) render every format but `json` to the same bytes, and `auditor diff` between them finds nothing."""
    result = _case_result(lineage, "weights", True)
    assert result.lineage_findings
    as_1_2 = AuditResult.model_validate({**_as_1_2(result), "schema_version": result.schema_version})
    assert not as_1_2.lineage_findings and not as_1_2.license_findings
    assert not any(m.inherits_findings for m in as_1_2.models)
    for fmt in REPORTERS:
        if fmt != "json":
            assert render(result, fmt) == render(as_1_2, fmt), fmt
    assert not diff_results(as_1_2, result).changes
