"""The result's parts as the engine builds them fast (issue 16): sorted attributes, unchecked construction,
and `audit.json` items encoded straight from them.

- Every `KEYS_SORTED` model holds only plain values, lists and other `KEYS_SORTED` models, and keeps its
  attributes in sorted order however it was made, so its JSON has sorted keys as serialised.
- `of` refuses a missing or unknown field; what `of`/`built` and the engine build equals what validation
  builds, field by field and byte by byte.
- The engine leaves the cyclic garbage collector as it found it.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import typing
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic_core import to_json

from auditor import model
from auditor.engine import evaluate, evaluate_with_licenses
from auditor.engine.context import Ctx, Findings, build_ctx
from auditor.model import (
    Clause,
    DeclaredLicense,
    DeclaredUse,
    EdgeRecord,
    EffectiveLicense,
    Evidence,
    Finding,
    LineageGraph,
    ModelAudit,
    ModelFacts,
    NodeRecord,
    Obligation,
)
from auditor.reports._common import _item_json, dumps_sorted
from auditor.rules.loader import load_rules

SORTED_CLASSES = [cls for cls in vars(model).values()
                  if isinstance(cls, type) and issubclass(cls, BaseModel) and getattr(cls, "KEYS_SORTED", False)
                  and cls.model_fields]
HOSTILE = 'é "quoted" \\ back\x01slash\u2028line\U0001f600 <script>'


def _types(annotation: Any) -> list[Any]:
    """Every type named in an annotation (unions, lists and Annotated unwrapped)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _types(typing.get_args(annotation)[0])
    if origin is None:
        return [annotation]
    return [origin, *(t for arg in typing.get_args(annotation) for t in _types(arg))]


def test_the_sorted_classes_are_the_results_repeated_parts() -> None:
    names = {cls.__name__ for cls in SORTED_CLASSES}
    assert {"Finding", "Obligation", "EffectiveLicense", "Clause", "ModelAudit", "NodeRecord", "EdgeRecord",
            "ModelFacts", "Evidence"} <= names


@pytest.mark.parametrize("cls", SORTED_CLASSES, ids=lambda c: c.__name__)
def test_sorted_classes_hold_no_mapping_and_only_sorted_models(cls: type[BaseModel]) -> None:
    """A mapping's keys come in the order they were given, and another model's in its field order: either
    would put unsorted keys in audit.json through the direct encoding."""
    for name, info in cls.model_fields.items():
        for t in _types(info.annotation):
            assert t not in (dict, typing.Mapping) and not (isinstance(t, type) and issubclass(t, dict)), name
            if isinstance(t, type) and issubclass(t, BaseModel):
                assert getattr(t, "KEYS_SORTED", False), f"{cls.__name__}.{name}: {t.__name__}"


def _finding(**extra: Any) -> Finding:
    return Finding(code="license-conflict", severity="warning", model="example-org/m", message=HOSTILE,
                   license="mit", clause=Clause(section="§1", quote=HOSTILE), via=["example-org/m", "example-org/b"],
                   **extra)


def _made_every_way() -> list[BaseModel]:
    finding = _finding()
    facts = ModelFacts(id="example-org/m", requested="example-org/m", source="hub",
                       declared=DeclaredLicense(license=["mit"], evidence=[Evidence(source="hub", field="license",
                                                                                   value=HOSTILE)]))
    return [
        finding,
        Finding.model_construct(code="x", severity="info", model="m", message="m"),
        finding.model_copy(update={"waived": True, "waiver": HOSTILE}),
        Finding.model_validate_json(finding.model_dump_json()),
        ModelAudit.model_validate_json(json.dumps({
            "id": "m", "verdict": "fail", "declared": ["mit"], "lineage": [], "resolved": True,
            "effective_licenses": [{"license": "mit", "name": "MIT", "spdx": "MIT", "kind": "permissive",
                                    "via": ["m"], "own": True}],
            "findings": [json.loads(finding.model_dump_json())],
            "obligations": [{"id": "mit:notice", "license": "mit", "text": HOSTILE, "models": ["m"]}]})),
        NodeRecord(id="example-org/m", facts=facts),
        EdgeRecord(child="a", parent="b", relation="finetune", evidence=[Evidence(source="hub", field="f", value="v")]),
        Obligation.of({"text": HOSTILE, "models": ["m"], "license": "mit", "id": "mit:notice", "clause": None}),
    ]


@pytest.mark.parametrize("item", _made_every_way(), ids=lambda m: type(m).__name__)
def test_attributes_are_sorted_however_the_model_was_made(item: BaseModel) -> None:
    data = json.loads(to_json(item))

    def keys_sorted(value: Any) -> bool:
        if isinstance(value, dict):
            return list(value) == sorted(value) and all(keys_sorted(v) for v in value.values())
        return all(keys_sorted(v) for v in value) if isinstance(value, list) else True

    assert keys_sorted(data), data


@pytest.mark.parametrize("item", _made_every_way(), ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("depth", [0, 2])
def test_direct_encoding_gives_the_bytes_of_the_sorted_dump(item: BaseModel, depth: int) -> None:
    expected = dumps_sorted(item.model_dump(mode="json"), depth)
    assert _item_json(item, depth) == expected
    plain = json.dumps(item.model_dump(mode="json"), sort_keys=True, indent=2, ensure_ascii=False)
    if not depth:
        assert expected.decode("utf-8") == plain


def test_of_refuses_a_missing_or_unknown_field() -> None:
    with pytest.raises(TypeError, match=r"Clause.of: missing \['quote'\], unknown \[\]"):
        Clause.of({"section": "§1"})
    with pytest.raises(TypeError, match=r"missing \[\], unknown \['sction'\]"):
        Clause.of({"section": "§1", "quote": "q", "sction": "x"})


def test_of_equals_validation_and_shares_nothing_mutable_by_accident() -> None:
    built = Finding.of({"code": "license-conflict", "severity": "warning", "model": "example-org/m",
                        "message": HOSTILE, "license": "mit", "clause": Clause.of({"section": "§1", "quote": HOSTILE}),
                        "via": ["example-org/m", "example-org/b"], "remedy": "", "field": None, "waived": False,
                        "waiver": None, "default_severity": None})
    validated = _finding()
    assert built == validated and built.model_dump() == validated.model_dump()
    changed = built.model_copy(update={"waived": True})
    assert changed.waived and not built.waived
    assert changed.model_fields_set == built.model_fields_set == set(Finding.model_fields)


def _ctx() -> Ctx:
    rules = load_rules()
    nodes = [NodeRecord(id=i, facts=ModelFacts(id=i, requested=i, source="hub", declared=DeclaredLicense(license=[lic])))
             for i, lic in (("example-org/child", "apache-2.0"), ("example-org/base", "llama3.1"))]
    edges = [EdgeRecord(child="example-org/child", parent="example-org/base", relation="finetune", evidence=[])]
    graph = LineageGraph(roots=["example-org/child"], nodes=nodes, edges=edges)
    return build_ctx(graph, rules, DeclaredUse(), None, dt.date(2026, 1, 1), {})


def test_the_engines_unchecked_builds_are_complete_and_sorted() -> None:
    """`built` trusts its caller: each engine call site gives every field, in sorted order."""
    ctx = _ctx()
    out = Findings(ctx, "example-org/child")
    cite = ctx.rules.rules["llama3.1"].derivative_licensing.cite
    out.add("license-conflict", "warning", HOSTILE, license="llama3.1", cite=cite, via=["a", "b"], field="x")
    effective = ctx.effective("example-org/child")
    clause = ctx.clause(cite)
    assert clause is not None and clause is ctx.clause(cite)  # one shared clause per citation
    run = evaluate_with_licenses(ctx.graph, ctx.rules, DeclaredUse())
    [audit] = run.audits
    assert run.obligations and audit.obligations == [o.id for o in run.obligations]
    parts: list[BaseModel] = [*out.items, *effective, clause, *audit.findings, *run.obligations, audit]
    for part in parts:
        assert tuple(part.__dict__) == type(part).SORTED_FIELDS  # type: ignore[attr-defined]
        assert type(part).model_validate(part.model_dump()) == part
    assert [e.license for e in effective] == ["apache-2.0", "llama3.1"]
    assert effective[1].via == ["example-org/child", "example-org/base"] and not effective[1].own
    assert isinstance(effective[0], EffectiveLicense) and out.items[0].clause == Clause(section=cite.section,
                                                                                          quote=cite.quote)


@pytest.mark.parametrize("enabled", [True, False])
def test_evaluation_leaves_the_garbage_collector_as_it_found_it(enabled: bool) -> None:
    ctx = _ctx()
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        evaluate(ctx.graph, ctx.rules, DeclaredUse())
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_evaluation_hands_its_objects_to_the_permanent_generation() -> None:
    """What evaluation built is frozen (`gc.freeze`): the next collection does not walk the whole result again."""
    ctx = _ctx()
    try:
        audits = evaluate(ctx.graph, ctx.rules, DeclaredUse())
        finding = audits[0].findings[0]
        assert gc.get_freeze_count() > 0
        assert not any(gc.is_tracked(o) and o is finding for g in range(3) for o in gc.get_objects(generation=g))
        gc.collect()
        assert audits[0].findings[0] is finding  # still alive and whole after a full collection
    finally:
        gc.unfreeze()


def test_a_declared_value_is_read_once_but_a_curated_fact_still_picks_its_models_text() -> None:
    """Nodes declaring the same value share one reading; a node a curated license fact names (a name several
    texts share) is read on its own, so the fact picks its text and the others keep the stricter reading."""
    from auditor.engine.context import declared_map

    rules = load_rules()
    shared = DeclaredLicense(license=["tencent-hunyuan-community"])
    ids = ["tencent/Tencent-Hunyuan-Large", "example-org/a", "example-org/b"]
    nodes = [NodeRecord(id=i, facts=ModelFacts(id=i, requested=i, source="hub", declared=shared)) for i in ids]
    declared, _ = declared_map(LineageGraph(roots=ids, nodes=nodes, edges=[]), rules, {})
    assert declared["tencent/Tencent-Hunyuan-Large"].rule_ids == ["tencent-hunyuan-community-large"]
    assert not declared["tencent/Tencent-Hunyuan-Large"].ambiguous
    assert declared["example-org/a"] is declared["example-org/b"]
    assert declared["example-org/a"].ambiguous and declared["example-org/a"].rule_ids != ["tencent-hunyuan-community-large"]


@pytest.mark.parametrize("count", [1, 255, 256, 257, 600])
@pytest.mark.parametrize("depth", [0, 1, 3])
def test_items_encoded_directly_give_the_bytes_of_json_dumps(count: int, depth: int) -> None:
    """`_write_items` encodes sorted-key items straight from the models: the array's bytes are those of
    `json.dumps(indent=2)` at that depth, whatever the count and the depth. (Encoding 256 items per encoder call,
    cut out of enclosing lists, gave the same bytes but wrote a 100k-node audit 30-70 % slower: reverted.)"""
    from auditor.reports._common import _write_items

    made = _made_every_way()
    items = [made[i % len(made)] for i in range(count)]
    pieces: list[bytes] = []
    _write_items(items, pieces.append, depth)
    plain = json.dumps([item.model_dump(mode="json") for item in items], sort_keys=True, indent=2, ensure_ascii=False)
    assert b"".join(pieces).decode("utf-8") == plain.replace("\n", "\n" + "  " * depth)
