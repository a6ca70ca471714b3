"""The registry of report formats (`auditor.reports.base.REPORTERS`) and what is derived from it:
`--format` parsing, writing an `--out` folder, the README's formats table.

The README table is generated from the registry; after adding or changing a format, rewrite it
(and the golden files) and review the diff:

    UPDATE_GOLDEN=1 python -m pytest tests/test_reports.py tests/test_reporters_registry.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.model import AuditResult
from auditor.reports.base import (
    DEFAULT_FORMATS,
    REPORT_FILE_NAMES,
    REPORTERS,
    Reporter,
    _registry,
    formats_table,
    remove_known_reports,
    write_reports,
)
from tests.report_fixtures import build_result

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TABLE_START = "<!-- formats-table:start"
TABLE_END = "<!-- formats-table:end -->"


@pytest.fixture(scope="module")
def result() -> AuditResult:
    return build_result()


# --------------------------------------------------------------------------- the registry


def test_every_reporter_is_well_formed() -> None:
    assert REPORTERS, "no report format registered"
    names = list(REPORTERS)
    files = [r.file_name for r in REPORTERS.values()]
    assert len(set(files)) == len(files) == len(names)
    assert frozenset(files) == REPORT_FILE_NAMES
    for name, reporter in REPORTERS.items():
        assert reporter.name == name
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name), name  # usable in a comma-separated --format
        assert "/" not in reporter.file_name and "\\" not in reporter.file_name
        assert reporter.extension.startswith("."), reporter.file_name
        assert reporter.description.strip() and "\n" not in reporter.description and "|" not in reporter.description
        assert callable(reporter.renderer()), reporter.target
    assert set(DEFAULT_FORMATS) <= set(REPORTERS) and {"json", "markdown"} <= set(DEFAULT_FORMATS)


def test_registry_is_immutable() -> None:
    with pytest.raises(TypeError):
        REPORTERS["pdf"] = REPORTERS["json"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        REPORTERS["json"].file_name = "x.json"  # type: ignore[misc]


def test_a_name_or_file_registered_twice_is_refused() -> None:
    json_reporter = REPORTERS["json"]
    with pytest.raises(ValueError, match="registered twice"):
        _registry([json_reporter, Reporter("json2", json_reporter.file_name, "x", json_reporter.target)])
    with pytest.raises(ValueError, match="registered twice"):
        _registry([json_reporter, Reporter("json", "other.json", "x", json_reporter.target)])


def _shout(result: AuditResult, *, manifest_path: str | None = None) -> bytes:
    return f"{result.verdict.upper()} {manifest_path}\n".encode()


def test_a_new_format_is_one_function_and_one_reporter(result: AuditResult) -> None:
    """What a contributor writes for a new format: a render function and one `Reporter` line."""
    shout = Reporter("shout", "audit.shout.txt", "The verdict, loudly", f"{__name__}:_shout")
    assert shout.render(result, manifest_path="m.yaml") == b"FAIL m.yaml\n"
    assert shout.extension == ".shout.txt"
    assert "shout" in _registry([*REPORTERS.values(), shout])


def test_importing_the_registry_imports_no_reporter() -> None:
    """`auditor --help` must stay fast: the registry holds names, not imported modules."""
    code = (
        "import sys, auditor.reports.base as b\n"
        "assert b.REPORTERS\n"
        "loaded = [m for m in sys.modules if m.startswith(('auditor.reports.', 'auditor.model'))]\n"
        "heavy = [m for m in ('pydantic', 'jinja2', 'spdx_tools', 'cyclonedx', 'jsonschema') if m in sys.modules]\n"
        "assert loaded == ['auditor.reports.base'] and not heavy, (loaded, heavy)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --------------------------------------------------------------------------- --format


def test_parse_formats_takes_its_list_from_the_registry() -> None:
    from auditor.errors import AuditorError
    from auditor.pipeline import parse_formats

    assert parse_formats("all") == list(REPORTERS)
    assert parse_formats(" json , markdown,json ") == ["json", "markdown"]
    with pytest.raises(AuditorError) as error:
        parse_formats("html,pdf")
    message = str(error.value)
    assert "'pdf'" in message
    assert all(name in message for name in REPORTERS)


# --------------------------------------------------------------------------- writing a folder


def test_writing_again_leaves_only_this_audits_reports(tmp_path: Path, result: AuditResult) -> None:
    from auditor.pipeline import write_reports as write_from_cli

    first = write_from_cli(result, "all", tmp_path)
    assert sorted(p.name for p in first) == sorted(REPORT_FILE_NAMES)
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "audit.html.bak").write_text("mine too", encoding="utf-8")

    second = write_from_cli(result, "json", tmp_path)

    assert [p.name for p in second] == ["audit.json"]
    assert not (tmp_path / "audit.html").exists()
    assert not (tmp_path / "audit.md").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.html.bak", "audit.json", "notes.txt"]
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_report_command_into_its_own_folder_leaves_only_the_new_reports(
    tmp_path: Path, result: AuditResult
) -> None:
    """`auditor report out/audit.json --format json,sarif --out out` reads the old result, then
    replaces the folder's reports with the two it was asked for."""
    from typer.testing import CliRunner

    from auditor.cli import app

    write_reports(result, tmp_path)
    run = CliRunner().invoke(
        app, ["report", str(tmp_path / "audit.json"), "--format", "json,sarif", "--out", str(tmp_path)]
    )
    assert run.exit_code == 0, run.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.json", "audit.sarif"]


def test_only_report_files_are_removed(tmp_path: Path) -> None:
    (tmp_path / "audit.html").mkdir()  # a folder with a report's name is not ours to delete
    (tmp_path / "audit.md").write_text("old", encoding="utf-8")
    (tmp_path / "README.md").write_text("keep", encoding="utf-8")
    assert remove_known_reports(tmp_path) == [tmp_path / "audit.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "audit.html"]
    assert remove_known_reports(tmp_path / "missing") == []


def test_an_unknown_format_writes_and_removes_nothing(tmp_path: Path, result: AuditResult) -> None:
    write_reports(result, tmp_path, ["json"])
    with pytest.raises(KeyError, match="unknown report format"):
        write_reports(result, tmp_path, ["markdown", "pdf"])
    assert [p.name for p in tmp_path.iterdir()] == ["audit.json"]


# --------------------------------------------------------------------------- README


def _readme_table(text: str) -> tuple[int, int]:
    start = text.index(TABLE_START)
    body = text.index("\n", start) + 1
    return body, text.index(TABLE_END, body)


def test_readme_formats_table_is_the_registry() -> None:
    text = README.read_text(encoding="utf-8")
    assert TABLE_START in text and TABLE_END in text, f"README.md lacks the {TABLE_START} … {TABLE_END} block"
    body, end = _readme_table(text)
    expected = formats_table()
    if os.environ.get("UPDATE_GOLDEN") and text[body:end] != expected:
        README.write_text(text[:body] + expected + text[end:], encoding="utf-8")
        text = README.read_text(encoding="utf-8")
        body, end = _readme_table(text)
    assert text[body:end] == expected, (
        "README.md's formats table differs from the registry (auditor/reports/base.py); to rewrite it: "
        "UPDATE_GOLDEN=1 python -m pytest tests/test_reporters_registry.py"
    )


# --------------------------------------------------------------------------- the CLI's format lists


def _cli_formats_option(command: str) -> tuple[str | None, str]:
    """The `--format` default and help text of a CLI command."""
    import inspect
    import typing

    from auditor import cli

    func = getattr(cli, command)
    hint = typing.get_type_hints(func, include_extras=True)["formats"]
    option = next(m for m in hint.__metadata__ if hasattr(m, "help"))
    return inspect.signature(func).parameters["formats"].default, option.help or ""


def test_audit_writes_the_registrys_default_formats() -> None:
    default, _ = _cli_formats_option("audit")
    assert default is not None and default.split(",") == list(DEFAULT_FORMATS)


def test_format_help_names_every_registered_format() -> None:
    _, help_text = _cli_formats_option("audit")
    assert all(name in help_text for name in REPORTERS), help_text
