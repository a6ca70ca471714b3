"""`auditor.lock`: a recorded license change (01-ai/Yi-34B's relicensing from the Yi license to Apache-2.0
on 2024-05-30, shared/hub-cards/01-ai__Yi-34B.json) served by the loopback Hub: the lock keeps the old
verdict, `lock --check` exits 1 naming the change, `diff` reports it. Shas are the recorded server's
clearly fake ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.lock import load_lock
from auditor.model import AuditResult
from tests.hub.recorded import all_real_bodies, api_body
from tests.hub.server import HubServer, HubState
from tests.test_cli import cli

YI = "01-ai/Yi-34B"
OLD_SHA = "ffffffff" + "0" * 31 + "1"
NEW_SHA = "ffffffff" + "0" * 31 + "2"


def _bodies() -> tuple[dict[str, object], dict[str, object]]:
    current = dict(all_real_bodies()[YI]["cardData"])
    before = {**current, "license": "other", "license_name": "yi-license", "license_link": "LICENSE"}
    return api_body(YI, before, sha=OLD_SHA), api_body(YI, current, sha=NEW_SHA)


@pytest.fixture()
def project(tmp_path: Path, hub_state: HubState) -> Path:
    old, _new = _bodies()
    hub_state.models[YI] = old
    hub_state.revisions[(YI, OLD_SHA)] = old
    manifest = tmp_path / "auditor.yaml"
    manifest.write_text("use:\n  commercial: true\n  distribution: saas\n  monthly_active_users: 1000\n"
                        "  annual_revenue_usd: 1000\n  regions: [US]\nmodels:\n  - id: 01-ai/Yi-34B\n")
    return manifest


def _audit(hub: HubServer, manifest: Path, out: Path, *extra: str) -> AuditResult:
    run = cli("audit", manifest, "--endpoint", hub.endpoint, "--format", "json", "--out", out, *extra)
    assert run.code in (0, 1, 3), run.err
    return AuditResult.model_validate_json((out / "audit.json").read_text())


def _relicense(hub_state: HubState) -> None:
    """The licensor's commit: `main` now says apache-2.0 (the old commit stays readable)."""
    hub_state.models[YI] = _bodies()[1]


def test_the_lock_keeps_the_old_terms_and_check_names_the_change(
        project: Path, hub_state: HubState, hub: HubServer, tmp_path: Path) -> None:
    wrote = cli("lock", project, "--endpoint", hub.endpoint)
    assert wrote.code == 0 and "1 models, 1 pinned" in wrote.out
    lock = load_lock(project.parent / "auditor.lock")
    assert [(n.id, n.sha, n.license_name) for n in lock.nodes] == [(YI, OLD_SHA, "yi-license")]
    assert cli("lock", project, "--endpoint", hub.endpoint, "--check").code == 0

    _relicense(hub_state)
    locked = _audit(hub, project, tmp_path / "locked")
    assert locked.node_licenses[YI] == ["yi-license"]
    assert locked.graph.nodes[0].facts is not None and locked.graph.nodes[0].facts.sha == OLD_SHA

    check = cli("lock", project, "--endpoint", hub.endpoint, "--check")
    assert check.code == 1
    assert f"{YI}: commit {OLD_SHA} → {NEW_SHA}" in check.out
    assert f"{YI}: license other, yi-license → apache-2.0" in check.out

    latest = _audit(hub, project, tmp_path / "latest", "--no-lock", "--refresh")
    assert latest.node_licenses[YI] == ["apache-2.0"]
    drift = cli("diff", tmp_path / "locked" / "audit.json", tmp_path / "latest" / "audit.json", "--format", "json")
    changes = [c for c in json.loads(drift.out)["changes"] if c["kind"] == "license"]
    assert [(c["subject"], c["before"], c["after"]) for c in changes] == [(YI, "yi-license", "apache-2.0")]


def test_a_warm_locked_audit_makes_no_request(project: Path, hub_state: HubState, hub: HubServer,
                                              tmp_path: Path) -> None:
    assert cli("lock", project, "--endpoint", hub.endpoint).code == 0
    _audit(hub, project, tmp_path / "cold")
    before = hub_state.total_requests()
    _audit(hub, project, tmp_path / "warm")
    assert hub_state.total_requests() == before


def test_a_manifest_changed_since_the_lock_is_said(project: Path, hub: HubServer, tmp_path: Path) -> None:
    assert cli("lock", project, "--endpoint", hub.endpoint).code == 0
    project.write_text(project.read_text() + "  - id: Qwen/Qwen2.5-7B-Instruct\n")
    run = cli("audit", project, "--endpoint", hub.endpoint, "--format", "json", "--out", tmp_path / "o")
    assert "the manifest changed since" in run.err
    check = cli("lock", project, "--endpoint", hub.endpoint, "--check")
    assert check.code == 1 and "auditor.yaml: manifest as locked → changed since" in check.out
    assert "Qwen/Qwen2.5-7B-Instruct: model (not in the lock) → now in the lineage" in check.out


@pytest.mark.parametrize(("content", "problem"), [
    ("{not json", "Invalid JSON"),
    ('{"lock_version": "9"}', "lock_version"),
    ("", "Invalid JSON"),
])
def test_a_broken_lock_is_a_located_error(project: Path, hub: HubServer, content: str, problem: str) -> None:
    (project.parent / "auditor.lock").write_text(content)
    run = cli("audit", project, "--endpoint", hub.endpoint, "--format", "json", "--out", project.parent / "o")
    assert run.code == 2 and "auditor.lock" in run.err and problem in run.err
    assert len(run.err.strip().splitlines()) == 1


def test_check_without_a_lock_is_a_usage_error(project: Path, hub: HubServer) -> None:
    run = cli("lock", project, "--endpoint", hub.endpoint, "--check")
    assert run.code == 2 and "no lock file to check" in run.err


def test_the_bundled_example_locks_and_replays_offline_with_the_same_result(tmp_path: Path) -> None:
    import shutil

    example = tmp_path / "examples"
    shutil.copytree("examples", example)
    manifest = example / "auditor.yaml"
    assert cli("lock", manifest, "--snapshot", example / "snapshot").code == 0
    plain = cli("audit", manifest, "--snapshot", example / "snapshot", "--no-lock", "--format", "json",
                "--out", tmp_path / "plain")
    locked = cli("audit", manifest, "--snapshot", example / "snapshot", "--format", "json", "--out", tmp_path / "locked")
    assert plain.code == locked.code == 1 and "lock:" in locked.err
    a = AuditResult.model_validate_json((tmp_path / "plain" / "audit.json").read_text())
    b = AuditResult.model_validate_json((tmp_path / "locked" / "audit.json").read_text())
    assert [(m.id, m.verdict, len(m.findings)) for m in a.models] == [(m.id, m.verdict, len(m.findings)) for m in b.models]
    assert a.node_licenses == b.node_licenses


def test_the_lock_schema_validates_a_written_lock(project: Path, hub: HubServer) -> None:
    import jsonschema

    assert cli("lock", project, "--endpoint", hub.endpoint).code == 0
    schema = json.loads(cli("schema", "lock").out)
    jsonschema.validate(json.loads((project.parent / "auditor.lock").read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"lock_version": "1", "manifest": "m", "manifest_sha256": "x", "rules_version": "",
                             "rules_digest": "", "nodes": []}, schema)


def test_manifest_only_check_gates_a_manifest_changed_without_its_lock(project: Path, hub: HubServer,
                                                                       hub_state: HubState) -> None:
    assert cli("lock", project, "--endpoint", hub.endpoint).code == 0
    before = hub_state.total_requests()
    assert cli("lock", project, "--check", "--manifest-only").code == 0
    project.write_text(project.read_text() + "  - id: Qwen/Qwen2.5-7B-Instruct\n")
    run = cli("lock", project, "--check", "--manifest-only")
    assert run.code == 1 and "changed since" in run.err
    assert hub_state.total_requests() == before  # no network
    assert cli("lock", project, "--manifest-only").code == 2


def test_training_data_is_read_at_its_locked_commit_too(hub_state: HubState, hub: HubServer, tmp_path: Path) -> None:
    """A dataset relicensed after the lock (synthetic `example-org/…` ids): the locked audit keeps its old terms."""
    data, model = "example-org/lock-data", "example-org/lock-trained"
    old_sha, new_sha = "ffffffff" + "0" * 31 + "3", "ffffffff" + "0" * 31 + "4"
    before = {k: v for k, v in api_body(data, {"license": "cc-by-4.0"}, sha=old_sha).items() if k != "pipeline_tag"}
    hub_state.datasets[data] = before
    hub_state.revisions[(f"datasets/{data}", old_sha)] = before
    hub_state.models[model] = api_body(model, {"license": "apache-2.0", "datasets": [data]})
    manifest = tmp_path / "auditor.yaml"
    manifest.write_text("use:\n  commercial: true\n  distribution: saas\n  monthly_active_users: 10\n"
                        "  annual_revenue_usd: 10\n  regions: [US]\nmodels:\n  - id: example-org/lock-trained\n")
    assert cli("lock", manifest, "--endpoint", hub.endpoint).code == 0
    assert any(n.id == f"datasets/{data}" and n.sha == old_sha for n in load_lock(tmp_path / "auditor.lock").nodes)
    hub_state.datasets[data] = {**before, "sha": new_sha, "cardData": {"license": "cc-by-nc-4.0"},
                                "tags": ["license:cc-by-nc-4.0"]}
    locked = _audit(hub, manifest, tmp_path / "locked", "--refresh")
    latest = _audit(hub, manifest, tmp_path / "latest", "--no-lock", "--refresh")
    codes = {m.id: {f.code for f in m.findings} for m in (locked.models[0], latest.models[0])}
    assert "dataset-license" not in {f.code for f in locked.models[0].findings}, codes
    assert "dataset-license" in {f.code for f in latest.models[0].findings}, codes
