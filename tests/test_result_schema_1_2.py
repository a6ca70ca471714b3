"""Schema 1.2: each model's obligations are ids of the result's `obligations` (issue 16: the per-model copies were
a third of a large `audit.json`). Results saved as 1.1 (each model's obligations in full) still read and render."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from auditor.model import AuditResult
from auditor.reports import _common as c
from auditor.reports.base import REPORTERS, render
from tests.report_fixtures import build_result


def _as_1_1(data: dict[str, Any]) -> dict[str, Any]:
    by_id = {ob["id"]: ob for ob in data["obligations"]}
    models = [{**m, "obligations": [{**by_id[oid], "models": [m["id"]]} for oid in m["obligations"]]}
              for m in data["models"]]
    return {**data, "models": models, "schema_version": "1.1"}


def test_a_model_names_its_obligations_by_id() -> None:
    data = json.loads(render(build_result(), "json"))
    assert data["schema_version"] == "1.3"  # 1.3 keeps lineage findings once per node; obligations stay ids
    adapter = next(m for m in data["models"] if m["id"] == "example-org/chat-adapter")
    assert adapter["obligations"] == ["apache-notice", "built-with", "notice-file", "attribution"]
    assert {ob["id"] for ob in data["obligations"]} >= set(adapter["obligations"])


def test_a_1_1_result_renders_every_format_as_its_1_2_form() -> None:
    """`auditor report`, `diff` and `lock` read saved results: a 1.1 file reads with ids in place of the full
    obligations, and every reporter renders it exactly as the same result written by 1.2."""
    current = build_result()
    old = AuditResult.model_validate(_as_1_1(json.loads(render(current, "json"))))
    assert old.schema_version == "1.1"
    assert [m.obligations for m in old.models] == [m.obligations for m in current.models]
    same = old.model_copy(update={"schema_version": current.schema_version})
    for fmt in REPORTERS:
        assert render(same, fmt) == render(current, fmt), fmt
    model = current.models[0]
    [built] = [ob for ob in c.model_obligations(current, model) if ob.id == "built-with"]
    assert built.models == [model.id] and built.text.startswith("Prominently display")


@pytest.mark.parametrize(("obligations", "error"), [
    (["built-with", "no-such-obligation"], "'no-such-obligation' names no obligation"),
    ([""], "'' names no obligation"),
    ([{"license": "mit", "text": "no id"}], "models.0.obligations.0"),
    ("built-with", "models.0.obligations"),
    ([["built-with"]], "models.0.obligations.0"),
    ([7], "models.0.obligations.0"),
])
def test_a_model_naming_an_unknown_or_malformed_obligation_is_refused(obligations: Any, error: str) -> None:
    data = json.loads(render(build_result(), "json"))
    data["models"][0]["obligations"] = obligations
    with pytest.raises(ValidationError, match=error):
        AuditResult.model_validate(data)


def test_a_huge_list_of_obligation_ids_reads() -> None:
    """A huge saved result: 20,000 ids on one model, each checked against the result's obligations."""
    data = json.loads(render(build_result(), "json"))
    data["models"][0]["obligations"] = ["built-with"] * 20_000
    result = AuditResult.model_validate(data)
    assert len(result.models[0].obligations) == 20_000
