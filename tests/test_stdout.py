"""Machine output on stdout: `--out -`, and `auditor check` with one machine-readable format and no
`--out`, print that report and nothing else (the summary goes to stderr), so `auditor check X
--format json | jq` works. Several formats, or a file-only format, with `--out -` are refused (exit 2,
one line). Exit codes are those of a run that writes files.

The models are the bundled example's, read from its recorded snapshot (offline).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SNAPSHOT = EXAMPLES / "snapshot"
PASSING = "Qwen/Qwen2.5-7B-Instruct"  # apache-2.0 in the snapshot: passes a commercial use
FAILING = "CohereForAI/c4ai-command-r-plus"  # cc-by-nc-4.0: fails a commercial use
USE = ["--commercial", "--snapshot", str(SNAPSHOT)]

pytestmark = pytest.mark.usefixtures("bundled_rules_once")  # rule files parsed once per module


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AUDITOR_SNAPSHOT", raising=False)
    return tmp_path


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def cli(*args: object) -> Run:
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream
    return Run(result.exit_code, result.stdout, result.stderr)


def one_line_error(run: Run) -> str:
    assert run.code == 2, run
    assert run.out == ""
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("error: ")
    return lines[0]


def test_check_with_one_json_format_and_no_out_prints_the_document_only(tmp_path: Path) -> None:
    run = cli("check", PASSING, *USE, "--format", "json")
    assert run.code == 0, run
    doc = json.loads(run.out)  # stdout is the document, nothing before or after it
    assert doc["verdict"] == "pass"
    assert [m["id"] for m in doc["models"]] == [PASSING]
    assert "Overall: PASS" in run.err  # the summary went to stderr
    assert not (tmp_path / "audit-out").exists()  # and no folder was written


def test_check_exit_code_is_unchanged_on_stdout() -> None:
    run = cli("check", FAILING, *USE, "--format", "sarif")
    assert run.code == 1, run
    log = json.loads(run.out)
    assert {r["ruleId"] for r in log["runs"][0]["results"]} >= {"non-commercial"}


@pytest.mark.parametrize("fmt", ["json", "sarif", "spdx-json", "cyclonedx", "markdown"])
def test_out_dash_prints_each_machine_format(fmt: str, tmp_path: Path) -> None:
    run = cli("check", PASSING, *USE, "--format", fmt, "-o", "-")
    assert run.code == 0, run
    if fmt == "markdown":
        assert run.out.startswith("## ✅ Model license audit: **PASS**")
        assert "MODEL " not in run.out  # not the terminal table
    else:
        doc = json.loads(run.out)
        assert isinstance(doc, dict) and doc
    assert list(tmp_path.iterdir()) == []


def test_audit_out_dash_prints_sarif() -> None:
    run = cli("audit", EXAMPLES / "auditor.yaml", "--snapshot", SNAPSHOT, "--format", "sarif", "-o", "-")
    assert run.code == 1, run  # the example fails: same exit code as with files
    log = json.loads(run.out)
    assert log["version"] == "2.1.0"
    assert "Overall: FAIL" in run.err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--format", "json,sarif", "-o", "-"], "exactly one report, got 2 formats (json, sarif)"),
        (["--format", "html", "-o", "-"], "the html report is written to a file only"),
        (["--format", "notice", "-o", "-"], "the notice report is written to a file only"),
        (["-o", "-"], "exactly one report, got no --format"),
        (["--format", "jsn", "-o", "-"], "unknown format 'jsn'"),
    ],
)
def test_out_dash_with_no_single_machine_format_is_a_one_line_error(args: list[str], expected: str) -> None:
    line = one_line_error(cli("check", PASSING, *USE, *args))
    assert expected in line


def test_audit_out_dash_with_its_default_formats_is_refused() -> None:
    line = one_line_error(cli("audit", EXAMPLES / "auditor.yaml", "--snapshot", SNAPSHOT, "-o", "-"))
    assert "exactly one report" in line


def test_check_with_html_and_no_out_still_writes_a_folder(tmp_path: Path) -> None:
    run = cli("check", PASSING, *USE, "--format", "html")
    assert run.code == 0, run
    assert (tmp_path / "audit-out" / "audit.html").is_file()
    assert "Overall: PASS" in run.out


def test_check_with_several_formats_and_no_out_writes_a_folder(tmp_path: Path) -> None:
    run = cli("check", PASSING, *USE, "--format", "json,sarif")
    assert run.code == 0, run
    assert sorted(p.name for p in (tmp_path / "audit-out").iterdir()) == ["audit.json", "audit.sarif"]


def test_report_out_dash_prints_a_saved_result(tmp_path: Path) -> None:
    assert cli("check", PASSING, *USE, "--format", "json", "-o", tmp_path / "saved").code == 0
    run = cli("report", tmp_path / "saved" / "audit.json", "--format", "cyclonedx", "-o", "-")
    assert run.code == 0, run
    assert json.loads(run.out)["bomFormat"] == "CycloneDX"
    assert run.err == ""


def test_a_real_process_pipes_only_the_document(tmp_path: Path) -> None:
    """What a shell pipe sees: the process's stdout bytes are the JSON document."""
    exe = Path(sys.executable).with_name("auditor")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_SNAPSHOT")}
    proc = subprocess.run(
        [str(exe), "check", FAILING, *USE, "--format", "json"],
        capture_output=True, cwd=tmp_path, env=env, timeout=120, check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["verdict"] == "fail"
    assert b"Overall: FAIL" in proc.stderr
