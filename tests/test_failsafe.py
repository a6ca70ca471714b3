"""Doubt is never a pass: each input that once ended green, rerun as written, now ends in exit 2 with a
located message or in a non-passing verdict.

The Hub-backed cases run offline against the bundled snapshot (`examples/snapshot`, recorded real card
metadata) or against local model folders written here (synthetic, `example-org`-style content).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.test_cli import cli, one_line_error, write
from tests.whole import whole_json

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "examples" / "snapshot"
VISION = "unsloth/Llama-3.2-11B-Vision-Instruct"  # Llama 3.2 multimodal: no rights for EU-domiciled parties
COMMERCIAL_SAAS = ["--commercial", "--mau", "1000", "--revenue", "1000", "--distribution", "saas"]


def manifest(tmp: Path, use: str, models: str = f"  - id: {VISION}\n", extra: str = "") -> Path:
    text = f"use:\n  commercial: true\n  monthly_active_users: 1000\n  annual_revenue_usd: 1000\n" \
           f"  distribution: saas\n{use}  monthly_active_users_at_release: 1000\n{extra}models:\n{models}"
    return write(tmp / "auditor.yaml", text)


def audit(path: Path, *args: object) -> tuple[int, str, str, dict[str, Any]]:
    out = path.parent / "out"
    run = cli("audit", path, "--snapshot", SNAPSHOT, "--format", "json", "--out", out, *args)
    result = whole_json(json.loads((out / "audit.json").read_text(encoding="utf-8"))) if run.code != 2 else {}
    return run.code, run.out, run.err, result


# --------------------------------------------------------------------------- regions


def test_europe_is_ambiguous_exit_2_with_the_choices(tmp_path: Path) -> None:
    path = manifest(tmp_path, "  purposes: [chat-assistant]\n  regions: [Europe]\n")
    message = one_line_error(cli("audit", path, "--snapshot", SNAPSHOT, "--out", tmp_path / "o"))
    assert f"{path}:7: use.regions[0]: region 'Europe' is ambiguous: choose EU" in message
    assert "auditor vocab regions" in message


@pytest.mark.parametrize("written", ["[Germany]", "[germany]", "[DE]", "[EU]", "[DEU]"])
def test_a_country_name_or_code_in_the_eu_fails_on_the_territory_clause(tmp_path: Path, written: str) -> None:
    path = manifest(tmp_path, f"  purposes: [chat-assistant]\n  domicile: {written}\n  markets: [US]\n")
    code, _, _, result = audit(path)
    assert code == 1
    assert [f["code"] for f in result["models"][0]["findings"] if f["severity"] == "error"] == ["territory"]


@pytest.mark.parametrize("written", ["[]", '""', '" , "'])
def test_an_empty_region_list_is_refused(tmp_path: Path, written: str) -> None:
    path = manifest(tmp_path, f"  purposes: [chat-assistant]\n  domicile: {written}\n  markets: [US]\n")
    message = one_line_error(cli("audit", path, "--snapshot", SNAPSHOT))
    assert f"{path}:7: use.domicile: an empty list of regions answers nothing" in message


def test_region_list_on_the_command_line_is_split(tmp_path: Path) -> None:
    run = cli("check", VISION, *COMMERCIAL_SAAS, "--region", "EU,US", "--purpose", "chat-assistant",
              "--snapshot", SNAPSHOT)
    assert run.code == 1
    assert "territory" in run.out


def test_unknown_region_on_the_command_line(tmp_path: Path) -> None:
    message = one_line_error(cli("check", VISION, "--domicile", "Germny", "--snapshot", SNAPSHOT))
    assert message.startswith("error: --domicile: unknown region 'Germny'. Did you mean 'Germany'")


def test_domicile_and_markets_are_two_questions(tmp_path: Path) -> None:
    """Llama 3.2 multimodal tests domicile: a US company selling into the EU is not refused by it."""
    path = manifest(tmp_path, "  purposes: [chat-assistant]\n  domicile: [US]\n  markets: [EU, US]\n")
    _, _, _, result = audit(path)
    assert "territory" not in {f["code"] for f in result["models"][0]["findings"]}
    undeclared = manifest(tmp_path, "  purposes: [chat-assistant]\n  markets: [US]\n")
    _, _, _, result = audit(undeclared)
    needs = [f for f in result["models"][0]["findings"] if f["code"] == "needs-input"]
    assert [f["field"] for f in needs] == ["domicile"]


def test_an_undecided_term_never_exits_0(tmp_path: Path) -> None:
    """Every model read, no error, but Llama 3.2's multimodal grant depends on where the company is domiciled,
    which the manifest leaves out: REVIEW, exit 3 (not 0), and the summary names the missing field."""
    code, out, _, result = audit(manifest(tmp_path, "  purposes: [chat-assistant]\n  markets: [US]\n"))
    assert result["complete"] is True and result["verdict"] == "review"
    assert code == 3
    assert "UNDECIDED until the manifest declares: domicile" in out
    answered = manifest(tmp_path, "  purposes: [chat-assistant]\n  domicile: [US]\n  markets: [US]\n")
    assert audit(answered)[0] == 0
    assert audit(manifest(tmp_path, "  purposes: [chat-assistant]\n  markets: [US]\n"), "--fail-on", "never")[0] == 0


def test_reports_of_an_undecided_term_never_say_nothing_blocks_release(tmp_path: Path) -> None:
    path = manifest(tmp_path, "  purposes: [chat-assistant]\n  markets: [US]\n")
    out = tmp_path / "reports"
    assert cli("audit", path, "--snapshot", SNAPSHOT, "--format", "markdown,html", "--out", out).code == 3
    markdown = (out / "audit.md").read_text(encoding="utf-8")
    html = (out / "audit.html").read_text(encoding="utf-8")
    assert "Nothing blocks release" not in markdown + html
    assert "release cannot be cleared until the manifest declares `domicile`" in markdown
    assert "Release cannot be cleared until the manifest declares <code>domicile</code>" in html


# --------------------------------------------------------------------------- purposes


@pytest.mark.parametrize("written", ["[defense]", "[defence]", "[weapons development]", "[military, weapons]"])
def test_purpose_aliases_reach_the_prohibited_keys(tmp_path: Path, written: str) -> None:
    path = manifest(tmp_path, f"  purposes: {written}\n  regions: [US]\n")
    code, _, _, result = audit(path)
    assert code == 1
    errors = [f for f in result["models"][0]["findings"] if f["code"] == "field-of-use"]
    assert errors and all(f["license"] == "llama3.2" for f in errors)


def test_purpose_list_on_the_command_line(tmp_path: Path) -> None:
    run = cli("check", VISION, *COMMERCIAL_SAAS, "--region", "US", "--purpose", "military,weapons",
              "--snapshot", SNAPSHOT, "-v")
    assert run.code == 1
    assert "prohibits 'military'" in run.out and "prohibits 'weapons'" in run.out


def test_medical_means_medical_advice(tmp_path: Path) -> None:
    folder = write(tmp_path / "m" / "README.md", "---\nlicense: openrail\n---\n").parent
    run = cli("check", folder, *COMMERCIAL_SAAS, "--region", "US", "--purpose", "medical", "-v")
    assert run.code == 1
    assert "prohibits 'medical-advice'" in run.out


def test_misspelt_purpose_is_exit_2_with_a_suggestion(tmp_path: Path) -> None:
    path = manifest(tmp_path, "  purposes: [militray]\n  regions: [US]\n")
    message = one_line_error(cli("audit", path, "--snapshot", SNAPSHOT))
    assert f"{path}:6: use.purposes[0]: unknown purpose 'militray'. Did you mean 'military'" in message


# --------------------------------------------------------------------------- unreadable local files


@pytest.mark.parametrize("name", ["adapter_config.json", "config.json"])
def test_a_truncated_file_naming_the_parent_is_unresolved(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "adapter"
    write(folder / "README.md", "---\nlicense: apache-2.0\n---\n")
    write(folder / name, '{"base_model_name_or_path": "Qwen/Qwen2.5-7B-Instr')
    path = manifest(tmp_path, "  purposes: [chat-assistant]\n  regions: [US]\n", models=f"  - path: {folder}\n")
    code, out, _, result = audit(path)
    assert code == 3
    assert result["complete"] is False
    assert "INCOMPLETE: release cannot be cleared until 1 model is read" in out
    unresolved = [f for f in result["models"][0]["findings"] if f["code"] == "unresolved"]
    assert unresolved and f"{name}: not valid JSON" in unresolved[0]["message"]
    assert not any("all claimed parents" in f["message"] for f in result["models"][0]["findings"])


def test_a_broken_card_is_unresolved_and_unlicensed(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    write(folder / "README.md", "---\nlicense: [apache-2.0\n---\n")
    run = cli("check", folder, *COMMERCIAL_SAAS, "--region", "US", "--purpose", "chat-assistant", "-v")
    assert run.code == 1
    assert "missing-license" in run.out and "README.md: front matter not read" in run.out


# --------------------------------------------------------------------------- unknown licenses


@pytest.mark.parametrize("card", [
    "license: h-research", "license: acme-research-use", "license: acme-unheard-of-1.0",
    "license: example-model-license-9", "license: other\nlicense_name: acme-secret-terms",
])
def test_an_unrecognised_license_fails_like_other(tmp_path: Path, card: str) -> None:
    folder = write(tmp_path / "m" / "README.md", f"---\n{card}\n---\n").parent
    run = cli("check", folder, "--commercial", "--distribution", "weights", "--mau", "1", "--revenue", "1",
              "--region", "US", "--purpose", "chat-assistant", "-v")
    assert run.code == 1
    assert "ERROR   unknown-license" in run.out


def test_a_policy_may_lower_unknown_licenses_and_reports_say_so(tmp_path: Path) -> None:
    folder = write(tmp_path / "m" / "README.md", "---\nlicense: h-research\n---\n").parent
    policy = write(tmp_path / "policy.yaml", "severity: {unknown-license: warning}\n")
    run = cli("check", folder, "--commercial", "--distribution", "saas", "--mau", "1", "--revenue", "1",
              "--region", "US", "--purpose", "chat-assistant", "--policy", policy, "-v",
              "--format", "json", "--out", tmp_path / "o")
    assert run.code == 0
    assert "WARNING (policy; default error) unknown-license" in run.out
    finding = json.loads((tmp_path / "o" / "audit.json").read_text())["models"][0]["findings"][0]
    assert (finding["severity"], finding["default_severity"]) == ("warning", "error")


# --------------------------------------------------------------------------- policy vocabulary


WAIVER = """\
waivers:
  - model: {model}
    code: {code}
    justification: Reviewed by legal in LEGAL-1.
    approver: jane.doe@example.com
    expires: {expires}
"""


@pytest.mark.parametrize(("text", "fragments"), [
    (WAIVER.format(model=VISION, code="non-comercial", expires="2030-01-01"),
     [":3: waivers[0].code: unknown finding code 'non-comercial'. Did you mean 'non-commercial'?"]),
    ("severity: {no-such-code: error}\n", [":1: severity.no-such-code", "unknown finding code 'no-such-code'"]),
    ("severity: {territory: fatal}\n", [":1: severity.territory", "'error', 'warning' or 'info'"]),
    ("allow: [mit, apachee-2.0]\n", [":1: allow[1]: unknown license id 'apachee-2.0'. Did you mean 'apache-2.0'"]),
    ("allow: [mit, apache2]\n", [":1: allow[1]: 'apache2' is an alias of the rule id 'apache-2.0'"]),
    (WAIVER.format(model=VISION, code="territory", expires="2027-02-30"), [":6: waivers[0].expires"]),
    ("allow: &a [mit]\ndeny: *a\n", [":2: policy: YAML alias (*name) refused"]),
])
def test_bad_policy_is_exit_2_and_located(tmp_path: Path, text: str, fragments: list[str]) -> None:
    policy = write(tmp_path / "policy.yaml", text)
    path = manifest(tmp_path, "  regions: [US]\n  purposes: [chat-assistant]\n", extra="policy: policy.yaml\n")
    message = one_line_error(cli("audit", path, "--snapshot", SNAPSHOT))
    assert message.startswith(f"error: {policy}:")
    for fragment in fragments:
        assert fragment in message


def test_binary_policy_file(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_bytes(bytes(range(256)) * 4)
    message = one_line_error(cli("check", VISION, "--policy", policy, "--snapshot", SNAPSHOT))
    assert message.startswith(f"error: {policy}:") and ": policy: not UTF-8 text" in message


def test_a_glob_or_waiver_matching_nothing_is_a_located_warning(tmp_path: Path) -> None:
    write(tmp_path / "policy.yaml", 'allow: ["llama9*", "llama3*"]\n'
          + WAIVER.format(model="example-org/nothing-here", code="territory", expires="2030-01-01"))
    path = manifest(tmp_path, "  regions: [US]\n  purposes: [chat-assistant]\n", extra="policy: policy.yaml\n")
    _, _, err, result = audit(path)
    policy = tmp_path / "policy.yaml"
    assert f"warning: {policy}:1: allow[0]: 'llama9*' matches no license rule id" in err
    assert f"warning: {policy}:3: waivers[0].model: 'example-org/nothing-here' matches no audited model" in err
    assert len(result["notices"]) == 2


def test_a_waiver_for_a_former_name_applies_and_says_so(tmp_path: Path) -> None:
    """CohereForAI/c4ai-command-r-plus is recorded under the id it was requested by; a waiver written for
    the model's other name must still match. Here the model is requested by its former name."""
    from auditor.engine import evaluate
    from auditor.model import DeclaredUse, LineageGraph, ModelFacts, NodeRecord
    from auditor.policy import Policy, Waiver
    from auditor.rules.loader import load_rules

    facts = ModelFacts(id="example-org/renamed-new", requested="example-org/renamed-old", source="hub")
    graph = LineageGraph(roots=["example-org/renamed-new"], nodes=[NodeRecord(id=facts.id, facts=facts)], edges=[])
    waiver = Waiver(model="example-org/renamed-old", code="missing-license", justification="Licensed by contract C-1.",
                    approver="legal@example.com", expires="2030-01-01")  # type: ignore[arg-type]
    [model] = evaluate(graph, load_rules(), DeclaredUse(), Policy(waivers=[waiver]))
    finding = next(f for f in model.findings if f.code == "missing-license")
    assert finding.waived and "waiver written for example-org/renamed-old, now example-org/renamed-new" in (
        finding.waiver or "")


# --------------------------------------------------------------------------- hostile manifests


def test_billion_laughs_is_refused_at_once(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f'{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]'
              for i in range(9)]
    path = write(tmp_path / "auditor.yaml", "\n".join(lines) + "\nmodels:\n  - id: example-org/a\n")
    start = time.monotonic()
    message = one_line_error(cli("audit", path, "--snapshot", SNAPSHOT))
    assert time.monotonic() - start < 5
    assert f"{path}:2: manifest: YAML alias (*name) refused" in message


def test_a_huge_manifest_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "auditor.yaml"
    path.write_text("models:\n" + "  - id: example-org/a\n" * 400_000)
    start = time.monotonic()
    message = one_line_error(cli("audit", path, "--snapshot", SNAPSHOT))
    assert time.monotonic() - start < 5
    assert "over the 5,242,880-byte limit" in message


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "auditor.yaml", "models: " + "[" * 5000 + "]" * 5000 + "\n")
    message = one_line_error(cli("audit", path, "--snapshot", SNAPSHOT))
    assert message.startswith(f"error: {path}:1: manifest: ") and "nest" in message


# --------------------------------------------------------------------------- unreachable Hub


def test_an_unreachable_hub_is_one_clear_line_and_incomplete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    run = cli("check", "example-org/anything", *COMMERCIAL_SAAS, "--region", "US", "--no-cache")
    assert run.code == 3
    errors = [line for line in run.err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "--endpoint or HF_ENDPOINT" in errors[0]
    assert "HF_TOKEN" not in run.err
    assert "INCOMPLETE" in run.out


# --------------------------------------------------------------------------- codes only the organisation's rules reach


def test_redistribution_and_lineage_disagreement_codes(tmp_path: Path) -> None:
    """No bundled license forbids redistribution outright, so an in-house rule is the way to reach it."""
    import yaml

    from auditor.paths import bundled_rules_dir

    rule = yaml.safe_load((bundled_rules_dir() / "mit.yaml").read_text())
    rule.pop("text_file", None), rule.pop("text_source", None)  # MIT's bundled text stays with the bundled rule
    rule.update({"id": "acme-internal", "name": "Acme internal", "spdx": "LicenseRef-acme-internal",
                 "aliases": {"tags": ["acme-internal"]}, "kind": "proprietary",
                 "redistribution": {"allowed": False, "cite": {"section": "§1", "quote": "Do not share."}}})
    write(tmp_path / "rules" / "acme-internal.yaml", yaml.safe_dump(rule))
    child = tmp_path / "child"  # the card and adapter_config.json name different (real, recorded) bases
    write(child / "README.md", "---\nlicense: acme-internal\nbase_model: Qwen/Qwen2.5-7B\n---\n")
    write(child / "adapter_config.json", json.dumps({"base_model_name_or_path": "Qwen/Qwen2.5-7B-Instruct"}))
    run = cli("check", child, "--non-commercial", "--distribution", "weights", "--region", "US",
              "--purpose", "research", "--rules", tmp_path / "rules", "--snapshot", SNAPSHOT, "--format", "json",
              "--out", tmp_path / "o")
    assert run.code == 1
    findings = whole_json(json.loads((tmp_path / "o" / "audit.json").read_text()))["models"][0]["findings"]
    severities = {f["code"]: f["severity"] for f in findings}
    assert severities["redistribution"] == "error"
    assert severities["lineage-disagreement"] == "info"
