"""The Tencent Hunyuan texts that share one Hub name (`tencent-hunyuan-community`), each read from its own
repository: Hunyuan3D 2.0 (Tencent-Hunyuan/Hunyuan3D-2 LICENSE), HunyuanImage 2.1 and HunyuanOCR (the 2025
revision). Every expectation is quoted from the bundled text, not from running the auditor."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.engine import evaluate, evaluate_with_licenses
from auditor.model import DeclaredLicense, DeclaredUse, LineageGraph, ModelFacts, NodeRecord
from auditor.rules.loader import load_rules

SHARED = "tencent-hunyuan-community"
SERVICE = DeclaredUse(commercial=True, production=True, monthly_active_users=1, annual_revenue_usd=1,
                      monthly_active_users_at_release=1, distribution="saas", domicile=["US"], markets=["US"],
                      purposes=["chat-assistant"])


def _graph(model: str, *, link: str | None = None) -> LineageGraph:
    declared = DeclaredLicense(license=["other"], license_name=SHARED, license_link=link)
    return LineageGraph(roots=[model], nodes=[NodeRecord(id=model, facts=ModelFacts(
        id=model, requested=model, source="hub", declared=declared))], edges=[])


def _codes(audit: Any, code: str) -> list[tuple[str | None, str]]:
    return [(f.license, f.severity) for f in audit.findings if f.code == code]


def test_each_text_says_what_the_rule_says() -> None:
    """The facts the rules rest on, in the bundled texts themselves."""
    rules = load_rules()
    three_d = rules.license_text("tencent-hunyuan-3d-community") or ""
    assert "Tencent Hunyuan 3D 2.0 Release Date: January 21, 2025" in three_d
    assert "is greater than 1 million monthly active users in the preceding calendar month" in three_d
    for rid, heading in (("tencent-hunyuan-image-community", "Tencent HunyuanImage 2.1 Release Date: September 8, 2025"),
                         ("tencent-hunyuan-ocr-community", "Tencent HunyuanOCR Release Date: November 25, 2025")):
        text = rules.license_text(rid) or ""
        assert heading in text
        assert "is greater than 100 million monthly active users" in text
        assert "excluding the territory of the European Union, United Kingdom and South Korea" in text
        assert "Tencent is not affiliated with, associated with, sponsoring, or endorsing" in text
    # The 2024 HunyuanVideo text has no Section 3(e).
    video = rules.license_text("tencent-hunyuan-community-eu-uk-kr") or ""
    assert "not affiliated with" not in video


def test_hunyuan3d_counts_one_million_users_at_its_release_date() -> None:
    """Hunyuan3D-2 LICENSE Section 4: "If, on the Tencent Hunyuan 3D 2.0 version release date, the monthly active
    users ... is greater than 1 million monthly active users in the preceding calendar month, You must request a
    license from Tencent". The curated fact for tencent/Hunyuan3D-2 selects this text; 2 million users at release
    is over its limit (the HunyuanVideo text, 100 million, would let it pass)."""
    rules = load_rules()
    assert rules.license_facts["tencent/hunyuan3d-2"].license == "tencent-hunyuan-3d-community"
    graph = _graph("tencent/Hunyuan3D-2")
    [audit] = evaluate(graph, rules, SERVICE.model_copy(update={"monthly_active_users_at_release": 2_000_000}))
    assert [e.license for e in audit.effective_licenses] == ["tencent-hunyuan-3d-community"]
    assert _codes(audit, "user-threshold") == [("tencent-hunyuan-3d-community", "error")]
    [finding] = [f for f in audit.findings if f.code == "user-threshold"]
    assert finding.clause is not None and "1 million" in finding.clause.quote
    [audit] = evaluate(graph, rules, SERVICE.model_copy(update={"monthly_active_users_at_release": 900_000}))
    assert _codes(audit, "user-threshold") == []
    [audit] = evaluate(graph, rules, SERVICE.model_copy(update={"monthly_active_users_at_release": None}))
    [ask] = [f for f in audit.findings if f.field == "monthly_active_users_at_release"]
    assert "2025-01-21" in ask.message


@pytest.mark.parametrize("link", ["https://github.com/Tencent-Hunyuan/Hunyuan3D-2/blob/main/LICENSE",
                                  "https://github.com/Tencent/Hunyuan3D-2/blob/main/LICENSE"])
def test_a_link_to_the_hunyuan3d_license_selects_it_for_a_fine_tune(link: str) -> None:
    """Hunyuan3D-2 LICENSE Section 5(c): "You must not use, reproduce, modify, distribute, or display the Tencent
    Hunyuan 3D 2.0 Works, Output or results of the Tencent Hunyuan 3D 2.0 Works outside the Territory" (the
    Territory excludes the EU, the United Kingdom and South Korea)."""
    rules = load_rules()
    graph = _graph("example-org/hy3d-ft", link=link)
    [audit] = evaluate(graph, rules, SERVICE.model_copy(update={"markets": ["KR"]}))
    assert [e.license for e in audit.effective_licenses] == ["tencent-hunyuan-3d-community"]
    assert _codes(audit, "territory") == [("tencent-hunyuan-3d-community", "error")]
    assert "ambiguous-license" not in {f.code for f in audit.findings}


@pytest.mark.parametrize(("model", "rule_id", "release"), [
    ("tencent/HunyuanImage-2.1", "tencent-hunyuan-image-community", "2025-09-08"),
    ("tencent/HunyuanOCR", "tencent-hunyuan-ocr-community", "2025-11-25"),
])
def test_the_2025_texts_ask_a_service_to_name_its_provider(model: str, rule_id: str, release: str) -> None:
    """Section 3(e) of the 2025 revision: "You shall clearly, accurately, and prominently disclose to all end users
    the full legal name and entity of the actual provider of such service, product, or functionality." A hosted
    service under it carries that obligation; the curated fact picks the text, and its own release date is the one
    Section 4 measures at."""
    rules = load_rules()
    graph = _graph(model)
    [audit], obligations, *_ = evaluate_with_licenses(
        graph, rules, SERVICE.model_copy(update={"monthly_active_users_at_release": None}))
    assert [e.license for e in audit.effective_licenses] == [rule_id]
    assert f"{rule_id}:disclose-provider" in audit.obligations
    [duty] = [o for o in obligations if o.id == f"{rule_id}:disclose-provider"]
    assert duty.license == rule_id and duty.clause is not None and duty.clause.section == "Section 3(e)"
    [ask] = [f for f in audit.findings if f.field == "monthly_active_users_at_release"]
    assert release in ask.message
    [audit] = evaluate(graph, rules, SERVICE.model_copy(update={"markets": ["GB"]}))
    assert _codes(audit, "territory") == [(rule_id, "error")]


def test_a_bare_shared_name_still_names_the_new_texts_among_its_candidates() -> None:
    """Without a link or a fact the shared name reads as the stricter HunyuanVideo text, and the ambiguity
    finding lists every Tencent text it could be, the three read here included."""
    rules = load_rules()
    [audit] = evaluate(_graph("example-org/hy-unknown"), rules, SERVICE)
    [amb] = [f for f in audit.findings if f.code == "ambiguous-license"]
    for rid in ("tencent-hunyuan-3d-community", "tencent-hunyuan-image-community", "tencent-hunyuan-ocr-community"):
        assert rid in amb.message
