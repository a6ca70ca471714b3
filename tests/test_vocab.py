"""The one vocabulary: declared once, documented from itself, enforced everywhere."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from auditor import vocab
from auditor.rules.loader import load_rules
from auditor.vocab_text import VOCAB_LISTS, codes_markdown, exit_codes_markdown, render_vocab

ROOT = Path(__file__).resolve().parents[1]


def _between(text: str, name: str) -> str:
    match = re.search(rf"<!-- {name}:start[^>]*-->\n(.*?)<!-- {name}:end -->", text, re.S)
    assert match, name
    return match.group(1)


def test_readme_tables_are_generated_from_the_vocabulary() -> None:
    """`UPDATE_GOLDEN=1 python -m pytest tests/test_vocab.py` rewrites the tables after a vocabulary change."""
    path = ROOT / "README.md"
    readme = path.read_text(encoding="utf-8")
    if os.environ.get("UPDATE_GOLDEN"):
        for name, table in (("codes", codes_markdown()), ("exit-codes", exit_codes_markdown())):
            readme = readme.replace(_between(readme, name), table)
        path.write_text(readme, encoding="utf-8")
    assert _between(readme, "codes") == codes_markdown()
    assert _between(readme, "exit-codes") == exit_codes_markdown()


@pytest.mark.parametrize("code", sorted(vocab.CODES))
def test_every_code_has_a_meaning_a_remedy_and_a_test(code: str) -> None:
    info = vocab.CODES[code]
    assert info.meaning.endswith(".") and len(info.meaning) > 20
    assert len(info.remedy) > 20
    tests = [p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py") if p.name != "test_vocab.py"]
    assert any(f'"{code}"' in text for text in tests), f"no test names the finding code {code!r}"


def test_the_engine_emits_only_vocabulary_codes() -> None:
    checks = (ROOT / "auditor" / "engine" / "checks.py").read_text(encoding="utf-8")
    emitted = set(re.findall(r'out\.add\(\s*"([a-z-]+)"', checks)) | set(re.findall(r'"([a-z]+-threshold)"', checks))
    assert emitted and emitted <= set(vocab.CODES)


def test_every_prohibited_purpose_of_every_rule_is_in_the_list() -> None:
    used = {f.purpose for rule in load_rules().rules.values() for f in rule.field_of_use}
    assert used <= {p.key for p in vocab.PURPOSES.values() if p.prohibited_somewhere}
    # The list is no larger than the rules need, for the prohibited part.
    assert {p.key for p in vocab.PURPOSES.values() if p.prohibited_somewhere} == used


@pytest.mark.parametrize(("written", "keys"), [
    ("defense", ["military", "weapons"]), ("Defence", ["military", "weapons"]),
    ("weapons development", ["military", "weapons"]), ("medical", ["medical-advice"]),
    ("Medical_Advice", ["medical-advice"]), ("customer support", ["customer-support"]),
])
def test_purpose_aliases(written: str, keys: list[str]) -> None:
    assert vocab.parse_purpose(written) == keys


def test_unknown_purpose_suggests() -> None:
    with pytest.raises(vocab.VocabError, match="Did you mean 'military'"):
        vocab.parse_purpose("militray")


def test_codes_suggest_the_closest() -> None:
    with pytest.raises(vocab.VocabError, match="Did you mean 'non-commercial'"):
        vocab.check_code("non-comercial")


@pytest.mark.parametrize("which", VOCAB_LISTS)
def test_every_list_renders(which: str) -> None:
    text = render_vocab(which)
    assert text.count("\n") >= 2


def test_an_unknown_list_is_one_line_with_a_suggestion() -> None:
    from tests.test_cli import cli, one_line_error

    message = one_line_error(cli("vocab", "purpose"))
    assert "unknown list 'purpose'. Did you mean 'purposes'?" in message


def test_no_vocabulary_is_declared_twice() -> None:
    """The main sets (severities, relations, distributions, license kinds, exit codes) are spelt out only
    in auditor/vocab.py: no other module writes them as a literal list or tuple."""
    patterns = {
        "severities": r'["\']error["\'],\s*["\']warning["\'],\s*["\']info["\']',
        "relations": r'["\']finetune["\'],\s*["\']adapter["\'],\s*["\']quantized["\']',
        "distributions": r'["\']internal["\'],\s*["\']saas["\'],\s*["\']weights["\']',
        "kinds": r'["\']permissive["\'],\s*["\']weak-copyleft["\']',
        "exit codes": r"EXIT_\w+\s*=\s*\d",
    }
    for path in (ROOT / "auditor").rglob("*.py"):
        if path.name == "vocab.py":
            continue
        text = path.read_text(encoding="utf-8")
        for name, pattern in patterns.items():
            assert not re.search(pattern, text), f"{path.relative_to(ROOT)} declares the {name} again"


def test_the_manifest_schema_carries_the_enums() -> None:
    from auditor.manifest import manifest_json_schema

    props = manifest_json_schema()["$defs"]["DeclaredUse"]["properties"]
    purposes = props["purposes"]["anyOf"][0]["items"]["enum"]
    assert {"military", "weapons", "defense", "medical-advice", "customer-support"} <= set(purposes)
    for key in ("domicile", "markets", "regions"):
        regions = props[key]["anyOf"][0]["items"]["enum"]
        assert {"DE", "DEU", "Germany", "EU", "EEA", "US"} <= set(regions)
        assert all(vocab.parse_region(r) for r in regions)
    assert props["distribution"]["anyOf"][0]["enum"] == list(vocab.DISTRIBUTIONS)


def test_every_package_is_installed() -> None:
    """A `pip install .` (not editable) ships only the packages pyproject lists: each folder of auditor/
    with an __init__.py must be there, or the installed `auditor` command fails to import it."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "auditor").rglob("__init__.py")}
    assert found <= listed, sorted(found - listed)
