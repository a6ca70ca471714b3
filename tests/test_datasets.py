"""Training data: a card's `datasets:` list as `trained-on` claims, the `dataset` source against the loopback Hub
(`/api/datasets/{id}` through huggingface_hub), and the engine's `dataset-license` findings.

Real dataset ids come from the real cards in `tests/hub/data/hub-corpus.jsonl.gz`. The one real dataset license
recorded here is `databricks/databricks-dolly-15k`'s card (`license: cc-by-sa-3.0`, seen at
https://huggingface.co/datasets/databricks/databricks-dolly-15k/blob/orig_dataset/README.md); every license
behaviour is tested on synthetic `example-org/…` datasets.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.audit import AuditEntry, run_audit
from auditor.engine import evaluate
from auditor.engine.context import flows
from auditor.lineage import RoutingSource, crawl, parse_ref
from auditor.model import AuditResult, DeclaredUse, Finding, LineageGraph, ModelFacts, ModelRef, Unresolved
from auditor.policy import Policy
from auditor.rules.loader import RuleSet, load_rules
from auditor.sources.cache import MetadataCache
from auditor.sources.card import MAX_DATASETS, dataset_claims_from_card, dataset_ref, parent_claims_from_card
from auditor.sources.hub import HubSource
from auditor.sources.hub_dataset import DATASET_EXPAND, DatasetSource
from auditor.sources.local import LocalSource
from auditor.sources.snapshot import RecordingSource, SnapshotFile, SnapshotSource
from auditor.vocab import CODES, RELATION_NATURE, RELATIONS
from tests.conftest import FAST_RETRY
from tests.hub.recorded import api_body, corpus_rows, fake_sha
from tests.hub.server import Fault, HubServer, HubState

TODAY = dt.date(2026, 1, 1)
DOLLY = "databricks/databricks-dolly-15k"  # real: its card declares `license: cc-by-sa-3.0` (module docstring)
MODEL = "example-org/chat-model"


def _card_claims(card: dict[str, Any], tags: list[str] | None = None) -> tuple[list[str], list[str]]:
    claims, notes = dataset_claims_from_card(card, tags or [], source="hub", location="x", revision=None)
    assert all(c.relation == "trained-on" for c in claims)
    return [c.parent for c in claims], notes


# --------------------------------------------------------------------------- the card


def test_a_cards_datasets_list_and_dataset_tags_become_trained_on_claims() -> None:
    parents, notes = _card_claims({"datasets": [DOLLY, "wikipedia"]}, ["dataset:example-org/tagged", "license:mit"])
    assert parents == [f"datasets/{DOLLY}", "datasets/wikipedia", "datasets/example-org/tagged"]
    assert notes == []


def test_a_single_string_a_hub_url_and_the_datasets_prefix_name_the_same_dataset() -> None:
    assert _card_claims({"datasets": DOLLY})[0] == [f"datasets/{DOLLY}"]
    assert dataset_ref(f"https://huggingface.co/datasets/{DOLLY}/tree/main")[0] == f"datasets/{DOLLY}"
    assert dataset_ref(f"datasets/{DOLLY}")[0] == f"datasets/{DOLLY}"


@pytest.mark.parametrize("value", ["a/b/c", "org/x..y", "../../etc/passwd", "org/name.git", "own er/x",
                                   "https://example.com/datasets/x/y", "org/é", "x" * 300])
def test_a_misspelt_or_hostile_dataset_value_is_a_note_never_a_claim(value: str) -> None:
    parents, notes = _card_claims({"datasets": [value]})
    assert parents == []
    assert len(notes) == 1 and notes[0].startswith("cardData.datasets: not a Hub dataset id")
    assert len(notes[0]) < 300  # a huge value is cut in the note


@pytest.mark.parametrize("value", [None, [], "", "   ", {"a": "b"}, [None, {"x": 1}, ["nested"]], 42.5, True])
def test_an_empty_or_odd_datasets_value_gives_no_claim_and_no_crash(value: object) -> None:
    parents, _ = _card_claims({"datasets": value})
    assert all(p.startswith("datasets/") for p in parents)
    assert len(parents) <= 1  # a bare number or bool is at most one (unusable) name, never a list of junk


def test_a_huge_datasets_list_is_capped_with_a_note() -> None:
    parents, notes = _card_claims({"datasets": [f"example-org/d{i}" for i in range(10_000)]})
    assert len(parents) == MAX_DATASETS
    assert any(f"more than {MAX_DATASETS} datasets" in n for n in notes)


def test_datasets_come_after_the_base_models_and_never_change_their_relation() -> None:
    card = {"base_model": "example-org/base", "base_model_relation": "trained-on", "datasets": [DOLLY]}
    claims, _ = parent_claims_from_card(card, [], source="hub", location="x", revision=None)
    assert [(c.parent, c.relation) for c in claims] == [("example-org/base", "unknown"),
                                                        (f"datasets/{DOLLY}", "trained-on")]


def test_real_corpus_cards_name_datasets_and_parse_without_error() -> None:
    named = 0
    for row in corpus_rows():
        card = row.get("card")
        parents, _ = _card_claims(card if isinstance(card, dict) else {})
        named += bool(parents)
    assert named > 900  # 965 real cards carry a `datasets:` value; a few name nothing usable


# --------------------------------------------------------------------------- vocabulary


def test_trained_on_is_a_relation_of_data_that_no_model_license_flows_along() -> None:
    assert "trained-on" in RELATIONS and RELATION_NATURE["trained-on"] == "data"
    assert CODES["dataset-license"].severity == "warning"
    rules = load_rules()
    assert not any(flows(rule, "trained-on") for rule in rules.rules.values())
    assert any(flows(rule, "unknown") for rule in rules.rules.values())


# --------------------------------------------------------------------------- the source


def _dataset_body(dataset_id: str, card: dict[str, Any]) -> dict[str, Any]:
    body = api_body(dataset_id, card)
    for key in ("pipeline_tag", "library_name"):
        body.pop(key, None)
    return body


def _state() -> HubState:
    models = {
        MODEL: api_body(MODEL, {"license": "apache-2.0", "datasets": ["example-org/nc-data"]}),
        "example-org/same": api_body("example-org/same", {"license": "apache-2.0"}),
        "example-org/sa-model": api_body("example-org/sa-model", {"license": "apache-2.0",
                                                                  "datasets": ["example-org/sa-data"]}),
        "example-org/lost-data-model": api_body("example-org/lost-data-model", {
            "license": "apache-2.0", "datasets": ["example-org/missing-data"]}),
        "example-org/dolly-model": api_body("example-org/dolly-model", {"license": "apache-2.0", "datasets": [DOLLY]}),
        "example-org/finetune": api_body("example-org/finetune", {"license": "apache-2.0", "base_model": MODEL}),
    }
    datasets = {
        "example-org/nc-data": _dataset_body("example-org/nc-data", {"license": "cc-by-nc-4.0"}),
        "example-org/same": _dataset_body("example-org/same", {"license": "cc-by-nc-4.0"}),
        "example-org/sa-data": _dataset_body("example-org/sa-data", {"license": "cc-by-sa-4.0"}),
        DOLLY: _dataset_body(DOLLY, {"license": "cc-by-sa-3.0"}),
    }
    return HubState(models=models, datasets=datasets,
                    faults={"datasets/example-org/flaky-data": Fault(fail_503=1),
                            "datasets/example-org/broken-data": Fault(malformed=True)})


@pytest.fixture()
def data_hub() -> Iterator[HubServer]:
    with HubServer(_state()) as server:
        yield server


def _dataset_source(hub: HubServer, cache: Path | None = None) -> DatasetSource:
    return DatasetSource(endpoint=hub.endpoint, token=False, cache=MetadataCache(cache) if cache else None,
                         retry=FAST_RETRY, seed=1)


def _routing(hub: HubServer, cache: Path) -> RoutingSource:
    hub_source = HubSource(endpoint=hub.endpoint, token=False, cache=MetadataCache(cache), retry=FAST_RETRY, seed=1)
    return RoutingSource(hub=hub_source, local=LocalSource(), dataset=_dataset_source(hub, cache))


def test_the_source_reads_a_dataset_through_the_hub_api(data_hub: HubServer) -> None:
    source = _dataset_source(data_hub)
    facts = source.fetch(ModelRef(kind="dataset", id=f"datasets/{DOLLY}"))
    assert isinstance(facts, ModelFacts)
    assert (facts.id, facts.source, facts.sha, facts.parents) == (f"datasets/{DOLLY}", "dataset", fake_sha(DOLLY), [])
    assert facts.declared.license == ["cc-by-sa-3.0"]
    assert facts.declared.evidence[0].location.endswith(f"/datasets/{DOLLY}")
    assert data_hub.state.hits[f"datasets/{DOLLY}"] == 1 and source.requests == 1
    assert DOLLY not in data_hub.state.hits  # never asked as a model


def test_the_dataset_expand_fields_are_ones_the_datasets_api_takes() -> None:
    from typing import get_args

    from huggingface_hub.hf_api import ExpandDatasetProperty_T

    assert set(DATASET_EXPAND) <= set(get_args(ExpandDatasetProperty_T))


def test_a_dataset_and_a_model_with_the_same_id_are_cached_apart(data_hub: HubServer, tmp_path: Path) -> None:
    for _ in range(2):
        routing = _routing(data_hub, tmp_path / "cache")
        model = routing.fetch(ModelRef(kind="hub", id="example-org/same"))
        data = routing.fetch(ModelRef(kind="dataset", id="datasets/example-org/same"))
        assert isinstance(model, ModelFacts) and isinstance(data, ModelFacts)
        assert (model.id, model.declared.license) == ("example-org/same", ["apache-2.0"])
        assert (data.id, data.declared.license) == ("datasets/example-org/same", ["cc-by-nc-4.0"])
    assert data_hub.state.hits["example-org/same"] == 1 and data_hub.state.hits["datasets/example-org/same"] == 1
    assert routing.cache_hits == 2 and routing.requests == 0


@pytest.mark.parametrize(("dataset_id", "code"), [("example-org/missing-data", "not-found"),
                                                  ("example-org/broken-data", "malformed")])
def test_an_unreadable_dataset_is_unresolved_data(data_hub: HubServer, dataset_id: str, code: str) -> None:
    result = _dataset_source(data_hub).fetch(ModelRef(kind="dataset", id=f"datasets/{dataset_id}"))
    assert isinstance(result, Unresolved)
    assert (result.id, result.source, result.code) == (f"datasets/{dataset_id}", "dataset", code)


def test_a_server_error_is_retried_as_for_a_model(data_hub: HubServer) -> None:
    data_hub.state.datasets["example-org/flaky-data"] = _dataset_body("example-org/flaky-data", {"license": "mit"})
    facts = _dataset_source(data_hub).fetch(ModelRef(kind="dataset", id="datasets/example-org/flaky-data"))
    assert isinstance(facts, ModelFacts) and data_hub.state.hits["datasets/example-org/flaky-data"] == 2


def test_a_reference_that_is_no_dataset_id_is_refused_without_a_request(data_hub: HubServer) -> None:
    source = _dataset_source(data_hub)
    result = source.fetch(ModelRef(kind="dataset", id="datasets/a/b/c"))
    assert isinstance(result, Unresolved) and result.code == "invalid-ref" and source.requests == 0


def test_cli_references_name_datasets_by_their_hub_path() -> None:
    assert parse_ref(f"datasets/{DOLLY}") == ModelRef(kind="dataset", id=f"datasets/{DOLLY}")
    assert parse_ref(f"https://huggingface.co/datasets/{DOLLY}").id == f"datasets/{DOLLY}"
    assert parse_ref(DOLLY).kind == "hub"


# --------------------------------------------------------------------------- crawl and engine


def _graph(hub: HubServer, tmp_path: Path, root: str) -> LineageGraph:
    return crawl([ModelRef(kind="hub", id=root)], _routing(hub, tmp_path / "cache"))


def _audit(graph: LineageGraph, use: DeclaredUse, policy: Policy | None = None, rules: RuleSet | None = None) -> Any:
    (audit,) = evaluate(graph, rules or load_rules(), use, policy, today=TODAY)
    return audit


def _codes(findings: list[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.code == code]


def test_a_dataset_node_and_a_trained_on_edge_join_the_graph(data_hub: HubServer, tmp_path: Path) -> None:
    graph = _graph(data_hub, tmp_path, MODEL)
    assert [(e.child, e.parent, e.relation) for e in graph.edges] == [(MODEL, "datasets/example-org/nc-data",
                                                                       "trained-on")]
    node = next(n for n in graph.nodes if n.id == "datasets/example-org/nc-data")
    assert node.facts is not None and node.facts.source == "dataset"
    assert graph.disagreements == []


def test_commercial_use_of_non_commercial_data_is_one_review_finding_citing_the_clause(
        data_hub: HubServer, tmp_path: Path) -> None:
    audit = _audit(_graph(data_hub, tmp_path, MODEL), DeclaredUse(commercial=True, distribution="saas"))
    (finding,) = _codes(audit.findings, "dataset-license")
    assert finding.severity == "warning" and audit.verdict == "review"
    assert finding.clause is not None and finding.clause.section == "Section 2(a)(1)(A)"
    assert finding.via == [MODEL, "datasets/example-org/nc-data"] and finding.license == "cc-by-nc-4.0"
    assert "legally unsettled" in finding.message and "commercial" in finding.message
    # The dataset is no model: its license is no effective license, it is no ancestor, no model finding names it.
    assert [e.license for e in audit.effective_licenses] == ["apache-2.0"]
    assert audit.lineage == []
    assert not _codes(audit.findings, "non-commercial")


def test_non_commercial_use_of_non_commercial_data_gives_no_dataset_finding(data_hub: HubServer,
                                                                            tmp_path: Path) -> None:
    audit = _audit(_graph(data_hub, tmp_path, MODEL), DeclaredUse(commercial=False, distribution="saas"))
    assert _codes(audit.findings, "dataset-license") == [] and audit.verdict == "pass"


def test_undeclared_commercial_use_asks_for_it_in_a_dataset_finding(data_hub: HubServer, tmp_path: Path) -> None:
    audit = _audit(_graph(data_hub, tmp_path, MODEL), DeclaredUse(distribution="saas"))
    (finding,) = _codes(audit.findings, "dataset-license")
    assert finding.field == "commercial" and finding.severity == "warning"


def test_a_policy_raising_dataset_license_to_error_fails_and_lowering_it_passes(data_hub: HubServer,
                                                                                tmp_path: Path) -> None:
    graph = _graph(data_hub, tmp_path, MODEL)
    use = DeclaredUse(commercial=True, distribution="saas")
    strict = _audit(graph, use, Policy(severity={"dataset-license": "error"}))
    assert strict.verdict == "fail"
    (finding,) = _codes(strict.findings, "dataset-license")
    assert (finding.severity, finding.default_severity) == ("error", "warning")
    assert _audit(graph, use, Policy(severity={"dataset-license": "info"})).verdict == "pass"


def test_a_fine_tune_inherits_its_bases_training_data_findings_along_the_path(data_hub: HubServer,
                                                                            tmp_path: Path) -> None:
    audit = _audit(_graph(data_hub, tmp_path, "example-org/finetune"), DeclaredUse(commercial=True,
                                                                                   distribution="saas"))
    (finding,) = _codes(audit.findings, "dataset-license")
    assert finding.via == ["example-org/finetune", MODEL, "datasets/example-org/nc-data"]
    assert audit.lineage == [MODEL]


def test_share_alike_data_under_shared_weights_is_a_dataset_finding_not_a_license_conflict(
        data_hub: HubServer, tmp_path: Path) -> None:
    graph = _graph(data_hub, tmp_path, "example-org/sa-model")
    shared = _audit(graph, DeclaredUse(commercial=True, distribution="weights"))
    (finding,) = _codes(shared.findings, "dataset-license")
    assert finding.clause is not None and finding.clause.section == "Section 3(b)(1)"
    assert _codes(shared.findings, "license-conflict") == [] and shared.verdict == "review"
    hosted = _audit(graph, DeclaredUse(commercial=True, distribution="saas"))
    assert _codes(hosted.findings, "dataset-license") == [] and hosted.verdict == "pass"


def test_real_dolly_data_is_read_and_its_share_alike_terms_reported(data_hub: HubServer, tmp_path: Path) -> None:
    graph = _graph(data_hub, tmp_path, "example-org/dolly-model")
    audit = _audit(graph, DeclaredUse(commercial=True, distribution="weights"))
    (finding,) = _codes(audit.findings, "dataset-license")
    assert finding.license == "cc-by-sa-3.0" and finding.via[-1] == f"datasets/{DOLLY}"


def test_an_unreadable_dataset_is_unresolved_and_never_passes(data_hub: HubServer, tmp_path: Path) -> None:
    audit = _audit(_graph(data_hub, tmp_path, "example-org/lost-data-model"),
                   DeclaredUse(commercial=False, distribution="saas"))
    (finding,) = _codes(audit.findings, "unresolved")
    assert finding.via == ["example-org/lost-data-model", "datasets/example-org/missing-data"]
    assert "not-found" in finding.message and audit.verdict == "review"


def test_a_dataset_without_a_license_or_with_other_is_a_dataset_finding() -> None:
    rules = load_rules()
    for declared, expected in (([], "declares no license"), (["other"], "not identify the license"),
                               (["no-such-license-xyz"], "no rule recognises")):
        facts = {"id": "datasets/example-org/d", "requested": "datasets/example-org/d", "source": "dataset",
                 "declared": {"license": declared}}
        graph = LineageGraph.model_validate({
            "roots": [MODEL],
            "nodes": [{"id": MODEL, "facts": {"id": MODEL, "requested": MODEL, "source": "hub",
                                               "declared": {"license": ["apache-2.0"]}}},
                      {"id": "datasets/example-org/d", "facts": facts}],
            "edges": [{"child": MODEL, "parent": "datasets/example-org/d", "relation": "trained-on",
                       "evidence": [{"source": "hub", "field": "cardData.datasets", "value": "example-org/d"}]}],
        })
        audit = _audit(graph, DeclaredUse(commercial=False, distribution="saas"), rules=rules)
        (finding,) = _codes(audit.findings, "dataset-license")
        assert expected in finding.message and audit.verdict == "review"


# --------------------------------------------------------------------------- snapshot and reports


def test_a_snapshot_records_and_replays_dataset_answers(data_hub: HubServer, tmp_path: Path) -> None:
    recorder = RecordingSource(_routing(data_hub, tmp_path / "cache"))
    live = crawl([ModelRef(kind="hub", id="example-org/lost-data-model"), ModelRef(kind="hub", id=MODEL)], recorder)
    path = recorder.write(tmp_path / "snap", "test")
    snapshot = SnapshotFile.model_validate(json.loads(path.read_text()))
    assert {"datasets/example-org/nc-data", "datasets/example-org/missing-data"} <= set(snapshot.records)
    replay = SnapshotSource(snapshot)
    offline = crawl([ModelRef(kind="hub", id="example-org/lost-data-model"), ModelRef(kind="hub", id=MODEL)],
                    RoutingSource(hub=replay, local=LocalSource(), dataset=replay))
    assert offline.model_dump(exclude={"requests", "cache_hits"}) == live.model_dump(exclude={"requests",
                                                                                                "cache_hits"})


def _result(hub: HubServer, tmp_path: Path) -> AuditResult:
    entries = [AuditEntry(ref=ModelRef(kind="hub", id=MODEL))]
    return run_audit(entries, _routing(hub, tmp_path / "cache"), load_rules(),
                     DeclaredUse(commercial=True, distribution="saas"))


def test_reports_show_the_dataset_as_training_data_with_its_finding(data_hub: HubServer, tmp_path: Path) -> None:
    from auditor.reports.base import REPORTERS

    result = _result(data_hub, tmp_path)
    by_name = REPORTERS
    graph = json.loads(by_name["json"].render(result, manifest_path=None))["graph"]
    assert any(n["id"] == "datasets/example-org/nc-data" for n in graph["nodes"])
    assert any(e["relation"] == "trained-on" for e in graph["edges"])
    markdown = by_name["markdown"].render(result, manifest_path=None).decode()
    assert "is trained on the dataset `datasets/example-org/nc-data` (Creative Commons" in markdown and "dataset-license" in markdown
    html = by_name["html"].render(result, manifest_path=None).decode()
    assert "datasets/example-org/nc-data" in html and "dataset-license" in html


def test_a_run_built_without_a_dataset_source_follows_no_training_data(data_hub: HubServer, tmp_path: Path) -> None:
    hub_source = HubSource(endpoint=data_hub.endpoint, token=False, retry=FAST_RETRY, seed=1)
    graph = crawl([ModelRef(kind="hub", id=MODEL)], RoutingSource(hub=hub_source, local=LocalSource()))
    assert [n.id for n in graph.nodes] == [MODEL] and graph.edges == []
    assert not any(key.startswith("datasets/") for key in data_hub.state.hits)


def test_the_cli_audit_reads_training_data_through_every_registered_source(data_hub: HubServer,
                                                                           tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "HF_ENDPOINT": data_hub.endpoint, "AUDITOR_CACHE_DIR": str(tmp_path / "c")}
    run = subprocess.run([sys.executable, "-m", "auditor", "check", MODEL, "--commercial", "--distribution", "saas",
                          "--format", "json", "--out", str(tmp_path / "out")], capture_output=True, text=True,
                         env=env, timeout=120, check=False)
    assert run.returncode == 0, run.stderr  # review: not a failure (exit 0 unless --fail-on warning)
    result = json.loads((tmp_path / "out" / "audit.json").read_text())
    (model,) = result["models"]
    assert model["verdict"] == "review"
    assert [f["code"] for f in model["findings"]] == ["dataset-license"]
    assert data_hub.state.hits["datasets/example-org/nc-data"] == 1


def test_sboms_name_the_dataset_as_data_not_as_an_ancestor_model(data_hub: HubServer, tmp_path: Path) -> None:
    from auditor.reports.base import REPORTERS

    result = _result(data_hub, tmp_path)
    bom = json.loads(REPORTERS["cyclonedx"].render(result, manifest_path=None))
    by_name = {comp["name"]: comp for comp in bom["components"]}
    assert by_name["datasets/example-org/nc-data"]["type"] == "data"
    assert by_name[MODEL]["type"] == "machine-learning-model"
    assert "ancestors" not in by_name[MODEL].get("pedigree", {})
    assert "is trained on the dataset datasets/example-org/nc-data" in by_name[MODEL]["pedigree"]["notes"]
    spdx = REPORTERS["spdx-tv"].render(result, manifest_path=None).decode()
    assert "RelationshipComment: trained-on" in spdx or "trained-on" in spdx
    assert "SPDXRef-" in spdx and " OTHER " in spdx


def test_a_recording_wrapper_reads_the_kinds_its_source_reads() -> None:
    assert RecordingSource(RoutingSource(local=LocalSource())).serves("dataset") is False
    assert RecordingSource(LocalSource()).serves("dataset") is True


# --------------------------------------------------------------------------- misspelt input around the feature


def test_trained_on_is_no_base_model_relation_a_manifest_may_declare(tmp_path: Path) -> None:
    from auditor.manifest import ManifestError, load_manifest

    path = tmp_path / "auditor.yaml"
    path.write_text("models:\n  - id: example-org/a\n    base_model: example-org/b\n"
                    "    base_model_relation: trained-on\n", encoding="utf-8")
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}:4: models[0].base_model_relation: invalid value "
                                                     "'trained-on'")


def test_a_misspelt_dataset_license_code_in_a_policy_is_a_located_error_with_a_suggestion(tmp_path: Path) -> None:
    from auditor.policy import PolicyError, load_policy

    path = tmp_path / "policy.yaml"
    path.write_text("severity:\n  dataset-licence: error\n", encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert "policy.yaml:2" in str(info.value) and "'dataset-license'" in str(info.value)


def test_a_manifest_dataset_entry_with_no_dataset_id_is_a_located_error(tmp_path: Path) -> None:
    from auditor.manifest import ManifestError, load_manifest

    path = tmp_path / "auditor.yaml"
    path.write_text("models:\n  - dataset: a/b/c\n", encoding="utf-8")
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert str(info.value).startswith(f"{path}:2: models[0].dataset: 'a/b/c' is not a Hub dataset id")
