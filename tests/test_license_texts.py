"""The bundled full license texts (`license_rules/texts/`) prove the rules' quotes, and the quotes prove the texts.

Every `cite.quote` of a rule that bundles its text must appear in that text (whitespace, curly quotes and dashes
folded; case kept). A rule without a text must be listed in WITHOUT_TEXT with the reason, so a new rule cannot
arrive without one unnoticed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from auditor.cli import app
from auditor.paths import bundled_rules_dir
from auditor.rules.loader import load_rules, validate_dirs
from auditor.rules.schema import Citation, LicenseRule

RULES = load_rules()

# Rules that bundle no full text, and why. Adding a rule without a text means adding it here.
WITHOUT_TEXT: dict[str, str] = {
    "bsd": "umbrella tag for the BSD family (0- to 4-clause differ); no single text",
    "cc": "umbrella tag for the Creative Commons family; no single text",
    "gpl": "umbrella tag for the GPL family (version not specified); no single text",
    "lgpl": "umbrella tag for the LGPL family (version not specified); no single text",
    "gfdl": "umbrella tag for the GFDL family (version not specified); no single text",
    "openrail": "umbrella tag for the Open RAIL family; its quotes come from several family texts",
    "other": "placeholder for a license the card does not identify; there is no text",
    "unknown": "placeholder for an unidentified license; there is no text",
    "glm-4": "text only on huggingface.co (THUDM/glm-4-9b-chat LICENSE); no stored repository holds it "
             "(THUDM/GLM-4 on GitHub ships only the Apache-2.0 code license)",
    "falcon-llm-license": "the only stored copy (jshahbazi/boros) is a third-party re-rendering of TII's web page "
                          "with its own note and renumbered lists, and its repository cannot be fetched to copy "
                          "it byte for byte",
}

_FOLD = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2018": "'", "\u2019": "'",
                       "\u2013": "-", "\u2014": "-", "\u2010": "-", "\u2011": "-", "\u00a0": " "})


def normalise(text: str) -> str:
    """Whitespace runs to one space, curly quotes and dashes to straight ones; case kept."""
    return re.sub(r"\s+", " ", text.translate(_FOLD)).strip()


def citations(node: object) -> Iterator[Citation]:
    """Every Citation anywhere in a rule model."""
    if isinstance(node, Citation):
        yield node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from citations(getattr(node, name))
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from citations(item)


def missing_quotes(rule: LicenseRule, text: str) -> list[str]:
    """The rule's quotes that the text does not contain."""
    haystack = normalise(text)
    return [f"[{c.section}] {c.quote}" for c in citations(rule) if normalise(c.quote) not in haystack]


def _with_text() -> list[str]:
    return sorted(rule_id for rule_id, rule in RULES.rules.items() if rule.text_file is not None)


def test_normalise_folds_quotes_dashes_and_whitespace_but_keeps_case() -> None:
    assert normalise("the \u201cWork\u201d\u00a0\u2014 a  \n\t copy\u2019s") == "the \"Work\" - a copy's"
    assert normalise("Licensor") != normalise("licensor")


def test_citations_walks_nested_models_and_lists() -> None:
    rule = RULES.rules["llama3.1"]
    found = list(citations(rule))
    assert rule.commercial.cite in found and rule.thresholds[0].cite in found
    assert rule.thresholds[0].exemption is not None and rule.thresholds[0].exemption.cite in found
    assert all(o.cite in found for o in rule.obligations)


@pytest.mark.parametrize("rule_id", _with_text())
def test_every_quote_of_a_rule_is_in_its_bundled_text(rule_id: str) -> None:
    rule = RULES.rules[rule_id]
    text = RULES.license_text(rule_id) or ""
    assert list(citations(rule)), f"{rule_id} cites nothing, so its text proves nothing"
    assert missing_quotes(rule, text) == []


def test_the_quote_check_catches_a_quote_the_text_lacks() -> None:
    rule = RULES.rules["mit"]
    text = RULES.license_text("mit") or ""
    altered = re.sub(r"substantial\s+portions", "small portions", text)
    assert altered != text
    assert missing_quotes(rule, text) == []
    assert any("substantial portions" in miss for miss in missing_quotes(rule, altered))


def test_rules_without_a_text_are_exactly_the_listed_ones() -> None:
    without = {rule_id for rule_id, rule in RULES.rules.items() if rule.text_file is None}
    assert without == set(WITHOUT_TEXT), (
        "a rule without a bundled text must be listed in WITHOUT_TEXT with the reason; a listed rule that now "
        "has a text must leave the list")
    assert len(_with_text()) >= 96


def test_every_bundled_text_names_a_pinned_source() -> None:
    pinned = re.compile(r"github:[\w.-]+/[\w.-]+/\S+@[0-9a-f]{40}")
    for rule_id in _with_text():
        source = RULES.rules[rule_id].text_source or ""
        parts = source.split(" + ")
        assert all(pinned.fullmatch(part) for part in parts), f"{rule_id}: {source!r}"


def test_every_text_file_is_used_by_a_rule() -> None:
    named = {Path(rule.text_file).name for rule in RULES.rules.values() if rule.text_file}
    on_disk = {path.name for path in (bundled_rules_dir() / "texts").glob("*")}
    assert on_disk == named


def test_texts_are_whole_documents_not_fragments() -> None:
    for rule_id in _with_text():
        text = RULES.license_text(rule_id) or ""
        assert len(text) > 300 and text.endswith("\n") and not text.startswith("---\nkey:"), rule_id


def _rule_file(folder: Path, **overrides: object) -> Path:
    base = yaml.safe_load((bundled_rules_dir() / "mit.yaml").read_text(encoding="utf-8"))
    base.update({"id": "acme-text", "name": "Acme", "spdx": "LicenseRef-acme-text", "aliases": {"names": ["acme"]}})
    for key, value in overrides.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    (folder / "texts").mkdir(exist_ok=True)
    (folder / "texts" / "acme-text.txt").write_text("Acme Model License\n", encoding="utf-8")
    path = folder / "acme-text.yaml"
    path.write_text(yaml.safe_dump(base, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(("overrides", "problem"), [
    ({"text_file": "texts/acme-text.txt", "text_source": None}, "text_file and text_source go together"),
    ({"text_file": None, "text_source": "https://example.org/acme"}, "text_file and text_source go together"),
    ({"text_file": "texts/acme-text.txt", "text_source": ""}, "text_source"),
    ({"text_file": "texts/acme-text.txt", "text_source": "x" * 501}, "text_source"),
    ({"text_file": "texts/acme-text.txt", "text_source": "https://example.org/a\n\nrm -rf /"}, "text_source"),
    ({"text_file": "texts/acme-text.txt", "text_sauce": "https://example.org/acme"}, "text_sauce"),
])
def test_a_text_without_a_usable_source_is_a_located_error(tmp_path: Path, overrides: dict[str, object],
                                                            problem: str) -> None:
    path = _rule_file(tmp_path, **overrides)
    errors, _ = validate_dirs([tmp_path])
    assert any(e.startswith(f"{path}:") and problem in e for e in errors), errors


def test_a_text_with_its_source_loads(tmp_path: Path) -> None:
    _rule_file(tmp_path, text_file="texts/acme-text.txt", text_source="github:example-org/acme/LICENSE@" + "0" * 40)
    rules = load_rules([tmp_path])
    assert rules.license_text("acme-text") == "Acme Model License\n"
    assert rules.rules["acme-text"].text_source == "github:example-org/acme/LICENSE@" + "0" * 40


def test_rules_list_marks_the_rules_that_bundle_their_text() -> None:
    run = CliRunner().invoke(app, ["rules", "list"])
    assert run.exit_code == 0, run.output
    rows = {line.split()[0]: line.split()[2] for line in run.output.splitlines()[:-1]}
    assert rows["mit"] == "text" and rows["llama3.1"] == "text"
    assert rows["other"] == "-" and rows["glm-4"] == "-"
    assert f", {len(_with_text())} full license texts;" in run.output.splitlines()[-1]
