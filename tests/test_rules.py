"""Rule files: schema validation with line numbers, organisation folders, normalisation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from auditor.model import DeclaredLicense
from auditor.paths import bundled_rules_dir
from auditor.rules.loader import RuleError, load_rules, validate_dirs
from auditor.rules.normalize import fold, fold_link, normalise_declared

REQUIRED = [
    "llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4", "gemma", "qwen", "qwen-research",
    "deepseek", "mrl", "mnpl", "apache-2.0", "mit", "bsd-3-clause", "cc-by-4.0", "cc-by-sa-4.0",
    "cc-by-nc-4.0", "cc-by-nc-sa-4.0", "cc-by-nc-nd-4.0", "openrail", "openrail++", "creativeml-openrail-m",
    "bigscience-openrail-m", "bigscience-bloom-rail-1.0", "bigcode-openrail-m", "stabilityai-ai-community",
    "flux-1-dev-non-commercial-license", "falcon-llm-license", "falcon-180b-tii-license-1.0",
    "nvidia-open-model-license", "gpl-3.0", "agpl-3.0", "other", "unknown",
]


def _declared(**kw: object) -> DeclaredLicense:
    return DeclaredLicense(**kw)  # type: ignore[arg-type]


def test_bundled_rules_validate_and_cover_the_issue_list() -> None:
    errors, count = validate_dirs([bundled_rules_dir()])
    assert errors == [] and count >= len(REQUIRED)
    rules = load_rules()
    assert set(REQUIRED) <= set(rules.rules)
    for rule in rules.rules.values():
        # every term cites a clause: a non-empty section and quote everywhere
        assert rule.commercial.cite.section and rule.commercial.cite.quote
        assert all(t.cite.quote for t in rule.thresholds)
        assert all(o.cite.quote for o in rule.obligations)


def test_license_names_live_only_in_rules() -> None:
    """No rule id appears as a string literal in the package's code (license knowledge is data)."""
    package = Path(__file__).resolve().parents[1] / "auditor"
    sources = {path: path.read_text() for path in package.rglob("*.py")}
    assert len(sources) > 30
    for rule_id in load_rules().rules:
        if rule_id in ("unknown", "other"):  # also schema words (relation, license kind, Hub placeholder)
            continue
        for path, text in sources.items():
            assert f'"{rule_id}"' not in text and f"'{rule_id}'" not in text, (rule_id, path)


def _write_rule(folder: Path, rule_id: str, **overrides: object) -> Path:
    base = yaml.safe_load((bundled_rules_dir() / "mit.yaml").read_text())
    base.pop("text_file", None), base.pop("text_source", None)  # MIT's bundled text stays with the bundled rule
    base.update({"id": rule_id, "name": f"Acme {rule_id}", "spdx": f"LicenseRef-{rule_id}",
                 "aliases": {"names": [f"{rule_id}-name"]}})
    base.update(overrides)
    path = folder / f"{rule_id}.yaml"
    path.write_text(yaml.safe_dump(base, sort_keys=False))
    return path


def test_organisation_folder_adds_an_in_house_license(tmp_path: Path) -> None:
    _write_rule(tmp_path, "acme-internal", kind="proprietary")
    rules = load_rules([tmp_path])
    assert "acme-internal" in rules.rules
    norm = normalise_declared(_declared(license=["other"], license_name="acme-internal-name"), rules)
    assert norm.rule_ids == ["acme-internal"] and norm.unrecognised == []


def test_organisation_folder_can_override_a_bundled_rule(tmp_path: Path) -> None:
    _write_rule(tmp_path, "mit", name="MIT as our legal team reads it")
    rules = load_rules([tmp_path])
    assert rules.rules["mit"].name == "MIT as our legal team reads it" and rules.overridden == ["mit"]


def test_validation_errors_name_file_line_and_field(tmp_path: Path) -> None:
    path = _write_rule(tmp_path, "broken")
    text = path.read_text().replace("allowed: true", "allowed: maybe", 1) + "colour: blue\n"
    path.write_text(text)
    errors, _ = validate_dirs([tmp_path])
    line_of_commercial = next(i for i, line in enumerate(text.splitlines(), 1) if "allowed: maybe" in line)
    assert any(e.startswith(f"{path}:{line_of_commercial}: commercial.allowed:") for e in errors), errors
    assert any("colour" in e and "extra" in e.lower() for e in errors), errors
    with pytest.raises(RuleError):
        load_rules([tmp_path])


def test_validation_catches_id_file_mismatch_and_bad_yaml(tmp_path: Path) -> None:
    _write_rule(tmp_path, "good")
    (tmp_path / "good.yaml").rename(tmp_path / "renamed.yaml")
    (tmp_path / "bad.yaml").write_text("id: [unclosed\n")
    errors, _ = validate_dirs([tmp_path])
    assert any("must match the file name" in e for e in errors)
    assert any(e.startswith(f"{tmp_path / 'bad.yaml'}:") for e in errors)


@pytest.mark.parametrize(
    ("declared", "expected", "unrecognised"),
    [
        ({"license": ["Apache-2.0"]}, ["apache-2.0"], []),
        ({"license": ["apache 2.0"]}, ["apache-2.0"], []),
        ({"license": ["LLAMA3.1"]}, ["llama3.1"], []),
        ({"license": ["other"], "license_name": "llama3"}, ["llama3"], []),
        ({"license": ["other"], "license_name": "qwen-research"}, ["qwen-research"], []),
        ({"license": ["other"], "license_name": "flux-1-dev-non-commercial-license"},
         ["flux-1-dev-non-commercial-license"], []),
        ({"license": ["other"]}, ["other"], []),
        ({"license": ["other"], "license_name": "acme-secret"}, ["other"], ["license_name: 'acme-secret'"]),
        ({"license": ["apache-2.0", "mit"]}, ["apache-2.0", "mit"], []),
        ({"tag_licenses": ["cc-by-nc-4.0"]}, ["cc-by-nc-4.0"], []),
        ({"license": ["made-up-license"]}, [], ["license: 'made-up-license'"]),
        ({"license_link": "https://www.apache.org/licenses/LICENSE-2.0"}, ["apache-2.0"], []),
        ({"license": ["other"], "license_link": "LICENSE"}, ["other"], []),
    ],
)
def test_normalisation(declared: dict[str, object], expected: list[str], unrecognised: list[str]) -> None:
    norm = normalise_declared(_declared(**declared), load_rules())
    assert norm.rule_ids == expected
    assert norm.unrecognised == unrecognised


def test_spdx_expressions() -> None:
    rules = load_rules()
    either = normalise_declared(_declared(license=["apache-2.0 OR mit"]), rules)
    assert either.rule_ids == [] and either.alternatives == [["apache-2.0", "mit"]]
    both = normalise_declared(_declared(license=["Apache-2.0 AND CC-BY-4.0"]), rules)
    assert both.rule_ids == ["apache-2.0", "cc-by-4.0"]


def test_disagreeing_license_fields_are_both_applied() -> None:
    norm = normalise_declared(
        _declared(license=["apache-2.0"], license_name="flux-1-dev-non-commercial-license"), load_rules()
    )
    assert norm.rule_ids == ["apache-2.0", "flux-1-dev-non-commercial-license"] and norm.conflicts


def test_nothing_declared_is_missing() -> None:
    assert normalise_declared(_declared(), load_rules()).missing


def test_fold_helpers() -> None:
    assert fold(" Apache_2.0 ") == "apache-2.0"
    assert fold_link("HTTPS://www.Example.com/LICENSE/?x=1#y") == "example.com/license"


def test_a_rule_can_bundle_its_full_license_text(tmp_path: Path) -> None:
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "acme-text.txt").write_text("Acme Model License\n\n1. You may use the model.\n")
    _write_rule(tmp_path, "acme-text", text_file="texts/acme-text.txt", text_source="https://example.org/acme")
    rules = load_rules([tmp_path])
    assert (rules.license_text("acme-text") or "").startswith("Acme Model License")
    assert rules.license_text("mit") is None or rules.text_path("mit") is not None


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("missing", None, "does not exist"),
    ("empty", b"", "is 0 bytes"),
    ("latin", "Lizenz f\u00fcr Modelle".encode("latin-1"), "is not UTF-8"),
])
def test_a_broken_license_text_is_a_located_error(tmp_path: Path, name: str, content: bytes | None,
                                                   problem: str) -> None:
    (tmp_path / "texts").mkdir()
    if content is not None:
        (tmp_path / "texts" / f"{name}.txt").write_bytes(content)
    path = _write_rule(tmp_path, name, text_file=f"texts/{name}.txt", text_source="https://example.org/acme")
    errors, _ = validate_dirs([tmp_path])
    assert any(e.startswith(f"{path}:1: text_file:") and problem in e for e in errors), errors


def test_a_license_text_path_cannot_leave_the_rule_folder(tmp_path: Path) -> None:
    path = _write_rule(tmp_path, "escape", text_file="../../etc/passwd", text_source="https://example.org/acme")
    errors, _ = validate_dirs([tmp_path])
    assert any(e.startswith(f"{path}:") and "text_file" in e for e in errors), errors
