"""Schema 1.3's new fields read from a saved `audit.json` (`auditor report`, `diff`, `lock` read saved results):
`lineage_findings`, `license_findings` and each model's `inherits_findings`, misspelt, empty, malformed or hostile,
end in a located one-line error (exit 2) or in exactly the findings the file holds, never in a crash or a lost one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from auditor.findings import resolved
from auditor.model import AuditResult
from auditor.reports.base import render
from tests.report_fixtures import build_result
from tests.test_cli import cli, one_line_error


def _saved(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render(build_result(), "json"))
    data.update(changes)
    return data


def _finding(**changes: Any) -> dict[str, Any]:
    return {"clause": None, "code": "unresolved", "default_severity": None, "field": None, "license": None,
            "message": "example-org/base could not be read", "model": "example-org/base", "remedy": "",
            "severity": "warning", "via": ["example-org/base"], "waived": False, "waiver": None, **changes}


@pytest.mark.parametrize(("changes", "located"), [
    ({"lineage_finding": {}}, "lineage_finding"),  # misspelt
    ({"lineage_findings": {"example-org/base": "nope"}}, "lineage_findings.example-org/base"),
    ({"lineage_findings": []}, "lineage_findings"),
    ({"license_findings": {"mit": [_finding(severity="fatal")]}}, "license_findings.mit.0.severity"),
    ({"license_findings": {"mit": [{"code": "unresolved"}]}}, "license_findings.mit.0"),
])
def test_a_malformed_shared_finding_is_a_located_error(tmp_path: Path, changes: dict[str, Any], located: str) -> None:
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(_saved(**changes)), encoding="utf-8")
    error = one_line_error(cli("report", path, "--format", "markdown", "--out", tmp_path / "o"))
    assert f"{path}: " in error and located in error


def test_inherits_findings_must_be_a_boolean(tmp_path: Path) -> None:
    data = _saved()
    data["models"][0]["inherits_findings"] = "sometimes"
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert "models.0.inherits_findings" in one_line_error(cli("report", path, "--out", tmp_path / "o"))


def test_empty_or_unheld_shared_findings_add_nothing() -> None:
    """A model that says it inherits, with nothing stored, keeps its own findings; a stored node no model's lineage
    holds, or a license no model holds, is given to no model."""
    data = _saved(lineage_findings={"example-org/nobody-holds-this": [_finding(model="example-org/nobody")]},
                  license_findings={"no-model-holds-this": [_finding(model="", via=[], message=": x")]})
    for model in data["models"]:
        model["inherits_findings"] = True
    result = AuditResult.model_validate(data)
    assert [m.findings for m in resolved(result).models] == [m.findings for m in build_result().models]


def test_a_stored_finding_reaches_each_model_that_holds_the_node() -> None:
    """A lineage node's stored finding is the finding of every inheriting model whose `lineage` holds the node, with
    the model's path to it first; a model that does not inherit keeps only its own list."""
    plain = build_result()
    holder = next(m for m in plain.models if m.lineage)
    node = holder.lineage[0]
    data = _saved(lineage_findings={node: [_finding(model=node, via=[node], message=f"{node} could not be read")]})
    for model in data["models"]:
        model["inherits_findings"] = model["id"] == holder.id
    shown = {m.id: m for m in resolved(AuditResult.model_validate(data)).models}
    added = [f for f in shown[holder.id].findings if f.message == f"{node} could not be read"]
    assert len(added) == 1 and added[0].model == holder.id
    assert added[0].via[0] == holder.id and added[0].via[-1] == node
    others = [m for m in plain.models if m.id != holder.id]
    assert all(shown[m.id].findings == m.findings for m in others)
