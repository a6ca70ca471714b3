"""`auditor diff`: license drift between two audits, from a real license change served as two
revisions of one repo on the loopback Hub.

01-ai/Yi-34B's card said `license: other`, `license_name: yi-license`, `license_link: LICENSE` until
2024-05-30, when the licensor's sync commit d4d37713 replaced it with `license: apache-2.0`
(shared/hub-cards/01-ai__Yi-34B.json). The recorded Hub serves the current card at `main` and the
earlier one at a revision named after that history; both shas are the recorded server's clearly fake ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.diff import diff_results, render_markdown, render_text
from auditor.model import AuditResult
from tests.hub.recorded import all_real_bodies, api_body
from tests.hub.server import HubServer, HubState
from tests.test_cli import cli

YI = "01-ai/Yi-34B"
OLD_REV = "before-2024-05-30"
OLD_SHA = "ffffffff" + "0" * 31 + "1"  # obviously fake, distinct from the current one


@pytest.fixture()
def yi_history(hub_state: HubState) -> HubState:
    current = dict(all_real_bodies()[YI]["cardData"])
    assert current["license"] == "apache-2.0"  # the recorded card is today's
    before = {**current, "license": "other", "license_name": "yi-license", "license_link": "LICENSE"}
    hub_state.revisions[(YI, OLD_REV)] = api_body(YI, before, sha=OLD_SHA)
    return hub_state


def _check(hub: HubServer, ref: str, out: Path) -> AuditResult:
    run = cli("check", ref, "--commercial", "--distribution", "saas", "--mau", "1000", "--revenue", "1000",
              "--region", "US", "--endpoint", hub.endpoint, "--format", "json", "--out", out)
    assert run.code in (0, 1, 3), run.err  # 3: a term waits on an undeclared field
    return AuditResult.model_validate_json((out / "audit.json").read_text())


def test_a_relicensed_repo_shows_as_a_license_change_with_both_shas(
        yi_history: HubState, hub: HubServer, tmp_path: Path) -> None:
    old = _check(hub, f"{YI}@{OLD_REV}", tmp_path / "old")
    new = _check(hub, YI, tmp_path / "new")
    result = diff_results(old, new)
    changes = [c for c in result.changes if c.kind == "license"]
    assert [(c.subject, c.before, c.after) for c in changes] == [(YI, "yi-license", "apache-2.0")]
    assert OLD_SHA[:12] in changes[0].detail and new.graph.nodes[0].facts is not None
    assert (new.graph.nodes[0].facts.sha or "")[:12] in changes[0].detail
    # the Yi license's obligations go away with it
    removed = {c.subject for c in result.changes if c.kind == "obligation-removed"}
    assert "yi-license" in removed
    text = render_text(result)
    assert "Licenses changed at a node (1):" in text and f"{YI}: yi-license → apache-2.0" in text


def test_the_cli_prints_json_and_markdown_and_gates_with_exit_code(
        yi_history: HubState, hub: HubServer, tmp_path: Path) -> None:
    _check(hub, f"{YI}@{OLD_REV}", tmp_path / "old")
    _check(hub, YI, tmp_path / "new")
    old, new = tmp_path / "old" / "audit.json", tmp_path / "new" / "audit.json"
    run = cli("diff", old, new, "--format", "json")
    assert run.code == 0
    doc = json.loads(run.out)
    assert doc["counts"]["license"] == 1 and doc["old"]["generated_at"] <= doc["new"]["generated_at"]
    md = cli("diff", old, new, "--format", "markdown")
    assert md.out.startswith("## License drift") and "| `01-ai/Yi-34B` | `yi-license` | `apache-2.0` |" in md.out
    assert cli("diff", old, new, "--exit-code").code == 1
    assert cli("diff", new, new, "--exit-code").code == 0
    same = cli("diff", new, new)
    assert same.out.startswith("No changes")


def test_bad_inputs_are_one_line_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    run = cli("diff", broken, broken)
    assert run.code == 2 and str(broken) in run.err and len(run.err.strip().splitlines()) == 1
    missing = cli("diff", tmp_path / "nope.json", broken)
    assert missing.code == 2 and "nope.json" in missing.err
    fmt = cli("diff", broken, broken, "--format", "markdwn")
    assert fmt.code == 2 and "Did you mean 'markdown'" in fmt.err


def test_findings_models_and_verdicts_are_compared(tmp_path: Path) -> None:
    """Two audits of the bundled example: one model removed, the rest unchanged, on the same rules."""
    out = tmp_path / "example"
    run = cli("audit", "examples/auditor.yaml", "--snapshot", "examples/snapshot", "--format", "json", "--out", out)
    assert run.code == 1, run.err
    full = AuditResult.model_validate_json((out / "audit.json").read_text())
    dropped = full.models[0]
    fewer = full.model_copy(update={"models": full.models[1:]})
    result = diff_results(full, fewer)
    assert [(c.kind, c.subject) for c in result.changes if c.kind == "model-removed"] == \
        [("model-removed", dropped.id)]
    assert not [c for c in result.changes if c.kind in ("license", "finding-added", "finding-resolved")]
    # a finding resolved on a model both audits contain
    kept = full.models[1]
    if kept.findings:
        quieter = full.model_copy(update={"models": [full.models[0], kept.model_copy(update={"findings": []}),
                                                     *full.models[2:]]})
        resolved = [c for c in diff_results(full, quieter).changes if c.kind == "finding-resolved"]
        assert {c.subject for c in resolved} == {kept.id}
        assert len(resolved) == len({(f.code, f.license, f.message) for f in kept.findings if not f.waived})
    assert render_markdown(diff_results(full, full)).endswith("No change in models, licenses, findings or obligations.\n")
