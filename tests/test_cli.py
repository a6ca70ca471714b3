"""The `auditor` command line, end to end: exit codes, stdout/stderr discipline and every command.

Most tests run in-process with typer's CliRunner (stdout and stderr are captured separately). A few
run the installed console script where process behaviour is the point: the exit status a shell sees,
what lands on each stream, and the progress line when stderr is a terminal.

Expected values come from the inputs, never from a previous run: the example manifests and policy,
the synthetic `example-org/…` models of tests/hub/synthetic.py, the recorded real cards, and the
license terms quoted in license_rules/.
"""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import networkx as nx
import pytest
import typer
import yaml
from typer.testing import CliRunner

from auditor import __version__
from auditor.cli import app
from auditor.manifest import starter_manifest
from tests.conftest import default_state
from tests.hub.server import HubServer
from tests.whole import whole_json

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SNAPSHOT = EXAMPLES / "snapshot"
RULES = ROOT / "license_rules"
SCAN_FIXTURES = Path(__file__).resolve().parent / "scan_fixtures"
EPOCH = "1764806400"  # 2025-12-04T00:00:00Z: the day the example snapshot was recorded
DEFAULT_REPORTS = {  # `auditor audit` without --format (README: html, SPDX, CycloneDX, SARIF, JSON, md, NOTICE)
    "audit.html", "audit.json", "audit.spdx.json", "audit.cdx.json", "audit.sarif", "audit.md", "NOTICE.txt",
}
FULL_USE = [  # every `use` field declared, so no term is left as needs-input
    "--commercial", "--mau", "2000000", "--revenue", "5000000", "--distribution", "saas",
    "--region", "EU", "--purpose", "customer-support", "--production", "--mau-at-release", "2000000",
]


# --------------------------------------------------------------------------- helpers

pytestmark = pytest.mark.usefixtures("bundled_rules_once")  # rule files parsed once per module


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def cli(*args: object) -> Run:
    """Run `auditor ARGS…` in-process. No invocation may end in a traceback or an internal error."""
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream
        assert "internal error" not in stream
    return Run(result.exit_code, result.stdout, result.stderr)


def auditor_exe() -> str:
    exe = Path(sys.executable).with_name("auditor")
    return str(exe) if exe.exists() else shutil.which("auditor") or "auditor"


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a real `auditor` process: the test's (isolated by conftest) plus extras."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUDITOR_SNAPSHOT", "COLUMNS"))}
    env.update(extra)
    return env


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line of `text` containing `needle`."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def one_line_error(run: Run) -> str:
    """Bad input: exit 2, nothing on stdout, exactly one `error: …` line on stderr."""
    assert run.code == 2, run
    assert run.out == ""
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("error: ")
    return lines[0]


def models_of(audit_json: Path) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in whole_json(json.loads(audit_json.read_text(encoding="utf-8")))["models"]}


def codes(model: dict[str, Any]) -> set[str]:
    return {f["code"] for f in model["findings"] if not f["waived"]}


@pytest.fixture(scope="module")
def module_hub() -> Iterator[HubServer]:
    """One loopback Hub for the module (stopping a server takes half a second)."""
    with HubServer(default_state()) as server:
        yield server


@pytest.fixture()
def live_hub(module_hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    """The loopback Hub, reached the way a user reaches a Hub mirror: through HF_ENDPOINT."""
    monkeypatch.setenv("HF_ENDPOINT", module_hub.endpoint)
    return module_hub


@pytest.fixture()
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --------------------------------------------------------------------------- the bundled example


@dataclass(frozen=True)
class ExampleRun:
    run: Run
    out: Path


@pytest.fixture(scope="module")
def example_fail(tmp_path_factory: pytest.TempPathFactory, bundled_rules_once: None) -> ExampleRun:
    """README's quick start, verbatim but for --out: `auditor audit examples/auditor.yaml --snapshot …`."""
    out = tmp_path_factory.mktemp("example") / "audit-out"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        mp.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
        mp.setenv("AUDITOR_CACHE_DIR", str(out.parent / "cache"))
        run = cli("audit", "examples/auditor.yaml", "--snapshot", "examples/snapshot", "--out", out)
    return ExampleRun(run, out)


def test_example_audit_fails_with_exit_code_1(example_fail: ExampleRun) -> None:
    run = example_fail.run
    assert run.code == 1
    # The example declares commercial SaaS use in the EU and US (examples/auditor.yaml):
    # Command R+ is CC-BY-NC-4.0 (no commercial use; the policy denies cc-by-nc-*), and the Llama 3.2
    # license withholds the multimodal models' rights from EU-domiciled parties.
    assert "Overall: FAIL" in run.out
    blocking = run.out.split("Blocking findings:", 1)[1]
    assert re.search(r"ERROR\s+non-commercial\s+CohereForAI/c4ai-command-r-plus", blocking)
    assert re.search(r"ERROR\s+policy-deny\s+CohereForAI/c4ai-command-r-plus", blocking)
    assert re.search(r"ERROR\s+territory\s+unsloth/Llama-3.2-11B-Vision-Instruct", blocking)
    # Reports are named on stderr; stdout is the summary only.
    assert run.err.startswith("reports: ") and len(run.err.splitlines()) == 1
    assert "reports:" not in run.out
    assert {p.name for p in example_fail.out.iterdir()} == DEFAULT_REPORTS


def test_example_audit_json_matches_the_declared_use(example_fail: ExampleRun) -> None:
    result = json.loads((example_fail.out / "audit.json").read_text(encoding="utf-8"))
    assert result["verdict"] == "fail"
    assert result["generated_at"] == "2025-12-04T00:00:00Z"  # SOURCE_DATE_EPOCH
    assert result["use"]["commercial"] is True and result["use"]["domicile"] == ["DE"] and result["use"]["markets"] == ["EU", "US"]
    models = models_of(example_fail.out / "audit.json")
    assert set(models) == {
        "Qwen/Qwen2.5-7B-Instruct", "bartowski/Qwen2.5-Coder-7B-Instruct-GGUF",
        "unsloth/Llama-3.2-11B-Vision-Instruct", "deepseek-ai/DeepSeek-R1-Distill-Llama-8B",
        "CohereForAI/c4ai-command-r-plus", "examples/models/support-adapter", "example-org/internal-ranker",
    }
    assert models["CohereForAI/c4ai-command-r-plus"]["verdict"] == "fail"
    assert {"non-commercial", "policy-deny"} <= codes(models["CohereForAI/c4ai-command-r-plus"])
    assert models["unsloth/Llama-3.2-11B-Vision-Instruct"]["verdict"] == "fail"
    assert "territory" in codes(models["unsloth/Llama-3.2-11B-Vision-Instruct"])
    # Apache-2.0 all the way down (the adapter's base is Qwen2.5-7B-Instruct, see adapter_config.json).
    for apache in ("Qwen/Qwen2.5-7B-Instruct", "examples/models/support-adapter", "example-org/internal-ranker"):
        assert models[apache]["verdict"] == "pass"
        assert [e["license"] for e in models[apache]["effective_licenses"]] == ["apache-2.0"]
    # The DeepSeek distill is derived from Llama 3.1 8B (curated lineage): Llama 3.1 binds it.
    licenses = {e["license"] for e in models["deepseek-ai/DeepSeek-R1-Distill-Llama-8B"]["effective_licenses"]}
    assert licenses == {"mit", "llama3.1"}
    # The waiver in examples/policy.yaml (expires 2027-06-30) is in force on 2025-12-04.
    distill = models["deepseek-ai/DeepSeek-R1-Distill-Llama-8B"]["findings"]
    assert [f["waived"] for f in distill if f["code"] == "license-conflict"] == [True]


def test_pass_example_exits_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    run = cli("audit", "examples/auditor-pass.yaml", "--snapshot", "examples/snapshot",
              "--out", tmp_path, "--format", "json", "--fail-on", "warning")
    assert run.code == 0, run
    assert "Overall: PASS — 3 models: 3 pass" in run.out
    result = json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))
    assert result["verdict"] == "pass" and result["complete"] is True
    assert all(not m["findings"] for m in result["models"])


def test_fail_on_never_exits_0_but_still_reports_the_failure(tmp_path: Path) -> None:
    run = cli("audit", EXAMPLES / "auditor.yaml", "--snapshot", SNAPSHOT, "--out", tmp_path,
              "--format", "json", "--fail-on", "never")
    assert run.code == 0
    assert "Overall: FAIL" in run.out
    assert json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))["verdict"] == "fail"


def test_snapshot_can_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_SNAPSHOT", str(SNAPSHOT))
    run = cli("audit", EXAMPLES / "auditor-pass.yaml", "--out", tmp_path, "--format", "json")
    assert run.code == 0, run
    assert "Overall: PASS" in run.out


def test_quiet_prints_nothing_on_a_pass(tmp_path: Path) -> None:
    passing = cli("audit", EXAMPLES / "auditor-pass.yaml", "--snapshot", SNAPSHOT, "--out", tmp_path,
                  "--format", "json", "--quiet")
    assert (passing.code, passing.out, passing.err) == (0, "", "")
    failing = cli("audit", EXAMPLES / "auditor.yaml", "--snapshot", SNAPSHOT, "--out", tmp_path,
                  "--format", "json", "-q")
    assert failing.code == 1
    assert failing.out.splitlines() == [failing.out.strip()]
    assert failing.out.startswith("Overall: FAIL — 7 models")


def test_console_script_exit_codes_and_streams(tmp_path: Path) -> None:
    """A real process, as CI runs it: the exit status and what lands on each stream."""
    env = process_env(SOURCE_DATE_EPOCH=EPOCH)
    failing = subprocess.run(
        [auditor_exe(), "audit", "examples/auditor.yaml", "--snapshot", "examples/snapshot",
         "--out", str(tmp_path / "out"), "--format", "json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert failing.returncode == 1, failing.stderr
    assert failing.stdout.startswith("model-license-auditor ")
    assert "Overall: FAIL" in failing.stdout
    assert failing.stderr == f"reports: {tmp_path / 'out' / 'audit.json'}\n"  # no progress: not a terminal

    bad = write(tmp_path / "bad.yaml", "product: x\nmodelz: []\n")
    usage = subprocess.run([auditor_exe(), "audit", str(bad)], env=env, capture_output=True, text=True,
                           timeout=60, check=False)
    assert usage.returncode == 2
    assert usage.stdout == ""
    assert usage.stderr == (f"error: {bad}:2: modelz: unknown key. Did you mean 'models'? "
                            "(allowed: product, use, policy, rules, models)\n")


# --------------------------------------------------------------------------- an incomplete audit


INCOMPLETE_MANIFEST = """\
use:
  commercial: true
  monthly_active_users: 1000
  annual_revenue_usd: 100000
  distribution: saas
  regions: [US]
  purposes: [customer-support]
models:
  # apache-2.0, a fine-tune of example-org/deleted-base, which the Hub answers 404 for
  - id: example-org/orphan-ft
"""


@pytest.mark.parametrize(("fail_on", "expected"), [("error", 3), ("warning", 1), ("never", 0)])
def test_incomplete_audit(live_hub: HubServer, tmp_path: Path, fail_on: str, expected: int) -> None:
    manifest = write(tmp_path / "auditor.yaml", INCOMPLETE_MANIFEST)
    run = cli("audit", manifest, "--out", tmp_path / "out", "--format", "json", "--fail-on", fail_on)
    # The only finding is the unreadable base (a warning): 3 when nothing worse, 1 when warnings fail.
    assert run.code == expected, run
    assert "INCOMPLETE: release cannot be cleared until 1 model is read" in run.out
    result = whole_json(json.loads((tmp_path / "out" / "audit.json").read_text(encoding="utf-8")))
    assert result["complete"] is False
    [model] = result["models"]
    assert {(f["code"], f["severity"]) for f in model["findings"]} == {("unresolved", "warning")}
    unresolved = [n["id"] for n in result["graph"]["nodes"] if n.get("unresolved")]
    assert unresolved == ["example-org/deleted-base"]


def test_lineage_of_an_incomplete_graph_exits_3(live_hub: HubServer) -> None:
    run = cli("lineage", "example-org/orphan-ft")
    assert run.code == 3
    assert "finetune → example-org/deleted-base  UNRESOLVED (not-found)" in run.out


# --------------------------------------------------------------------------- bad input: exit 2, one line


MANIFEST_OK = "models:\n  - id: example-org/a\n"
POLICY_BAD = """\
allow: [mit]
waivers:
  - model: example-org/a
    code: needs-input
    justification: Reviewed by legal in LEGAL-1.
    approver: jane.doe@example.com
    expires: someday
"""


def bad_rule_dir(tmp_path: Path) -> tuple[Path, Path]:
    """An organisation rule folder whose one file misspells `commercial`."""
    text = (RULES / "mit.yaml").read_text(encoding="utf-8")
    text = re.sub(r"^id: mit$", "id: acme-internal", text, flags=re.M)
    text = re.sub(r"^commercial:", "commerical:", text, flags=re.M)
    path = write(tmp_path / "legal" / "acme-internal.yaml", text)
    return path.parent, path


def case_unknown_key(tmp: Path) -> tuple[list[object], list[str]]:
    path = write(tmp / "m.yaml", "product: x\nmodelz: []\nmodels:\n  - id: example-org/a\n")
    return ["audit", path], [f"{path}:2: modelz: unknown key", "Did you mean 'models'?"]


def case_unknown_entry_key(tmp: Path) -> tuple[list[object], list[str]]:
    path = write(tmp / "m.yaml", "models:\n  - id: example-org/a\n    revison: main\n")
    return ["audit", path], [f"{path}:3: models[0].revison: unknown key", "Did you mean 'revision'?"]


def case_yaml_syntax(tmp: Path) -> tuple[list[object], list[str]]:
    path = write(tmp / "m.yaml", "models:\n  - id: example-org/a\n   x: [\n")
    return ["audit", path], [f"{path}:3: manifest: invalid YAML"]


def case_missing_manifest(tmp: Path) -> tuple[list[object], list[str]]:
    path = tmp / "nowhere.yaml"
    return ["audit", path], [f"{path}:1: manifest: cannot read the file"]


def case_manifest_distribution(tmp: Path) -> tuple[list[object], list[str]]:
    path = write(tmp / "m.yaml", "use:\n  distribution: cloud\n" + MANIFEST_OK)
    return ["audit", path], [f"{path}:2: use.distribution: unknown distribution 'cloud'", "internal, saas, weights"]


def case_cli_distribution(tmp: Path) -> tuple[list[object], list[str]]:
    return ["check", "example-org/a", "--distribution", "cloud"], ["--distribution: unknown distribution 'cloud'", "internal, saas, weights"]


def case_audit_format(tmp: Path) -> tuple[list[object], list[str]]:
    path = write(tmp / "m.yaml", MANIFEST_OK)
    return ["audit", path, "--format", "html,pdf", "--out", tmp / "o"], ["--format", "'pdf'", "sarif"]


def case_report_format(tmp: Path) -> tuple[list[object], list[str]]:
    path = write(tmp / "audit.json", "{}")
    return ["report", path, "--format", "docx", "--out", tmp / "o"], ["--format", "'docx'"]


def case_lineage_format(tmp: Path) -> tuple[list[object], list[str]]:
    return ["lineage", "example-org/a", "--format", "svg"], ["--format 'svg'", "graphml"]


def case_scan_format(tmp: Path) -> tuple[list[object], list[str]]:
    return ["scan", SCAN_FIXTURES, "--format", "csv"], ["--format 'csv'"]


def case_fail_on(tmp: Path) -> tuple[list[object], list[str]]:
    path = write(tmp / "m.yaml", MANIFEST_OK)
    return ["audit", path, "--fail-on", "sometimes"], ["--fail-on 'sometimes'", "error, warning, never"]


def case_out_is_a_file(tmp: Path) -> tuple[list[object], list[str]]:
    path = write(tmp / "m.yaml", MANIFEST_OK)
    taken = write(tmp / "taken", "")
    return ["audit", path, "--out", taken], [f"--out {taken}: exists and is not a folder"]


def case_rules_in_manifest(tmp: Path) -> tuple[list[object], list[str]]:
    folder, rule = bad_rule_dir(tmp)
    path = write(tmp / "m.yaml", f"rules: [{folder.name}]\n" + MANIFEST_OK)
    return ["audit", path], [f"{rule}:", ": commercial: Field required"]


def case_rules_option(tmp: Path) -> tuple[list[object], list[str]]:
    folder, rule = bad_rule_dir(tmp)
    return ["check", "example-org/a", "--rules", folder], [f"{rule}:", ": commercial: Field required"]


def case_rules_folder_missing(tmp: Path) -> tuple[list[object], list[str]]:
    path = write(tmp / "m.yaml", "rules: [legal]\n" + MANIFEST_OK)
    return ["audit", path], [f"{path}:1: rules[0]: folder not found: {tmp / 'legal'}"]


def case_policy_in_manifest(tmp: Path) -> tuple[list[object], list[str]]:
    policy = write(tmp / "policy.yaml", POLICY_BAD)
    path = write(tmp / "m.yaml", "policy: policy.yaml\n" + MANIFEST_OK)
    return ["audit", path], [f"{policy}:{line_of(POLICY_BAD, 'expires:')}: waivers[0].expires"]


def case_policy_option(tmp: Path) -> tuple[list[object], list[str]]:
    policy = write(tmp / "policy.yaml", "alow: [mit]\n")
    return ["check", "example-org/a", "--policy", policy], [f"{policy}:1: alow"]


def case_policy_missing(tmp: Path) -> tuple[list[object], list[str]]:
    path = write(tmp / "m.yaml", "policy: nowhere.yaml\n" + MANIFEST_OK)
    return ["audit", path], [f"{path}:1: policy: file not found"]


def case_snapshot_missing(tmp: Path) -> tuple[list[object], list[str]]:
    return ["lineage", "example-org/a", "--snapshot", tmp / "snap"], [f"{tmp / 'snap'}: no snapshot here"]


def case_snapshot_broken(tmp: Path) -> tuple[list[object], list[str]]:
    path = write(tmp / "snap" / "snapshot.json", "{")
    return ["lineage", "example-org/a", "--snapshot", path.parent], [f"{path}: not a readable JSON snapshot"]


def case_report_not_a_result(tmp: Path) -> tuple[list[object], list[str]]:
    path = write(tmp / "audit.json", '{"verdict": "pass"}')
    return ["report", path, "--out", tmp / "o"], [f"{path}: ", "Pass an audit.json written by `auditor audit`"]


def case_report_missing(tmp: Path) -> tuple[list[object], list[str]]:
    return ["report", tmp / "nowhere.json", "--out", tmp / "o"], [f"{tmp / 'nowhere.json'}: cannot read"]


def case_bad_ref(tmp: Path) -> tuple[list[object], list[str]]:
    return ["check", "not a repo"], ["'not a repo' is not a Hub repo id"]


def case_manifest_registered_typo(tmp: Path) -> tuple[list[object], list[str]]:
    path = write(tmp / "m.yaml", "use:\n  registered: [stabilityai, stabiltyai]\n" + MANIFEST_OK)
    return ["audit", path], [f"{path}:2: use.registered[1]: no license rule asks for registration with 'stabiltyai'",
                             "Did you mean 'stabilityai'?"]


def case_cli_registered_typo(tmp: Path) -> tuple[list[object], list[str]]:
    return ["check", "example-org/a", "--registered", "01ai"], ["--registered: no license rule asks for registration "
                                                               "with '01ai'", "'01-ai'"]


def case_cli_registered_hostile(tmp: Path) -> tuple[list[object], list[str]]:
    return ["check", "example-org/a", "--registered", "acme\x1b[31m"], ["--registered: licensor 'acme\\x1b[31m' is not "
                                                                       "a Hub organisation name"]


def case_manifest_mau_at_release_typo(tmp: Path) -> tuple[list[object], list[str]]:
    path = write(tmp / "m.yaml", "use:\n  monthly_active_users_at_release:\n    lama3.1: 5\n" + MANIFEST_OK)
    return ["audit", path], [f"{path}:3: use.monthly_active_users_at_release.lama3.1: no license rule measures users "
                             "at its release date under the id 'lama3.1'", "Did you mean 'llama3.1'"]


def case_cli_mau_at_release_typo(tmp: Path) -> tuple[list[object], list[str]]:
    return ["check", "example-org/a", "--mau-at-release", "hunyuan=5"], [
        "--mau-at-release: no license rule measures users at its release date under the id 'hunyuan'",
        "tencent-hunyuan-community"]


def case_cli_mau_at_release_not_a_count(tmp: Path) -> tuple[list[object], list[str]]:
    return ["check", "example-org/a", "--mau-at-release", "llama3.1=lots"], [
        "--mau-at-release: llama3.1: 'lots' is not a user count"]


def case_explain_typo(tmp: Path) -> tuple[list[object], list[str]]:
    return ["explain", "llama31"], ["no rule for license 'llama31'", "Did you mean: llama3.1"]


def case_explain_unknown(tmp: Path) -> tuple[list[object], list[str]]:
    return ["explain", "zz-no-such-license"], ["no rule for license 'zz-no-such-license'", "auditor rules list"]


def case_init_exists(tmp: Path) -> tuple[list[object], list[str]]:
    path = write(tmp / "auditor.yaml", MANIFEST_OK)
    return ["init", path], [f"{path}: already exists", "--force"]


def case_scan_missing(tmp: Path) -> tuple[list[object], list[str]]:
    return ["scan", tmp / "src"], [f"{tmp / 'src'}: no such file or folder"]


def case_record_nothing(tmp: Path) -> tuple[list[object], list[str]]:
    return ["snapshot", "record", "--out", tmp / "snap"], ["nothing to record", "--manifest"]


BAD_INPUT = [
    case_unknown_key, case_unknown_entry_key, case_yaml_syntax, case_missing_manifest,
    case_manifest_distribution, case_cli_distribution, case_audit_format, case_report_format,
    case_lineage_format, case_scan_format, case_fail_on, case_out_is_a_file, case_rules_in_manifest,
    case_rules_option, case_rules_folder_missing, case_policy_in_manifest,
    case_policy_option, case_policy_missing, case_snapshot_missing, case_snapshot_broken,
    case_report_not_a_result, case_report_missing, case_bad_ref, case_explain_typo, case_explain_unknown,
    case_init_exists, case_scan_missing, case_record_nothing, case_manifest_registered_typo, case_cli_registered_typo,
    case_cli_registered_hostile, case_manifest_mau_at_release_typo, case_cli_mau_at_release_typo,
    case_cli_mau_at_release_not_a_count,
]


@pytest.mark.parametrize("case", BAD_INPUT, ids=lambda c: c.__name__.removeprefix("case_"))
def test_bad_input_is_one_line_and_exit_2(case: Any, in_tmp: Path) -> None:
    args, fragments = case(in_tmp)
    message = one_line_error(cli(*args))
    for fragment in fragments:
        assert fragment in message


def test_usage_errors_exit_2() -> None:
    assert cli("check", "example-org/a", "--mau", "-5").code == 2
    assert cli("audit", "--no-such-option").code == 2
    assert cli("no-such-command").code == 2


@pytest.mark.parametrize(("args", "names"), [
    (["audit", "--no-such-option"], "--no-such-option"),
    (["check", "example-org/a", "--mau", "-5"], "--mau"),
    (["no-such-command"], "no-such-command"),
])
def test_console_script_usage_error_is_one_line(args: list[str], names: str) -> None:
    """The installed script, as a shell sees it: a usage error is one line on stderr naming what is
    wrong, and exit 2 (click words the message; its wording differs between versions)."""
    proc = subprocess.run([auditor_exe(), *args], env=process_env(), capture_output=True, text=True,
                          timeout=60, check=False)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith("error: ") and names in proc.stderr.lower(), proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr


# --------------------------------------------------------------------------- help


def command_paths() -> list[tuple[str, ...]]:
    """Every command and sub-command, from the click tree typer builds."""
    paths: list[tuple[str, ...]] = [()]

    def walk(group: Any, prefix: tuple[str, ...]) -> None:
        for name, command in sorted(group.commands.items()):
            paths.append((*prefix, name))
            if hasattr(command, "commands"):
                walk(command, (*prefix, name))

    walk(typer.main.get_command(app), ())
    return paths


def test_the_command_tree_is_complete() -> None:
    documented = {  # README, "Commands"
        ("audit",), ("check",), ("lineage",), ("explain",), ("rules", "list"), ("rules", "validate"),
        ("snapshot", "record"), ("report",), ("cache", "info"), ("cache", "clear"), ("schema", "manifest"),
        ("schema", "result"), ("init",), ("scan",),
    }
    assert documented <= set(command_paths())


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "auditor")
def test_every_help_has_an_example(path: tuple[str, ...]) -> None:
    run = cli(*path, "--help")
    assert run.code == 0
    assert "Example" in run.out
    assert run.err == ""


def test_version() -> None:
    assert cli("--version").out == f"auditor {__version__}\n"


# --------------------------------------------------------------------------- lineage


CHAIN = {  # tests/hub/synthetic.py: a quantization of an adapter on a fine-tune of a real base
    ("example-org/chat-lora-q4", "example-org/chat-lora", "quantized"),
    ("example-org/chat-lora", "example-org/chat-sft", "adapter"),
    ("example-org/chat-sft", "Qwen/Qwen2.5-7B", "finetune"),
}


def test_lineage_tree(live_hub: HubServer) -> None:
    run = cli("lineage", "example-org/chat-lora-q4", "--format", "tree")
    assert run.code == 0 and run.err == ""
    lines = run.out.splitlines()
    assert lines[0].startswith("example-org/chat-lora-q4  [apache-2.0]")
    for child, parent, relation in CHAIN:
        assert any(f"{relation} → {parent}  [apache-2.0]" in line for line in lines), (child, parent)


def test_lineage_json_is_the_graph_on_stdout(live_hub: HubServer) -> None:
    run = cli("lineage", "example-org/chat-lora-q4", "-f", "json")
    assert run.code == 0 and run.err == ""
    graph = json.loads(run.out)
    assert graph["roots"] == ["example-org/chat-lora-q4"]
    assert {(e["child"], e["parent"], e["relation"]) for e in graph["edges"]} == CHAIN
    assert {n["id"] for n in graph["nodes"]} == {c for c, _, _ in CHAIN} | {"Qwen/Qwen2.5-7B"}
    assert all(e["evidence"] for e in graph["edges"])


def test_lineage_dot(live_hub: HubServer) -> None:
    run = cli("lineage", "example-org/chat-lora-q4", "--format", "dot")
    assert run.code == 0
    assert run.out.startswith("digraph ") and run.out.rstrip().endswith("}")
    for child, parent, relation in CHAIN:
        assert f'"{child}" -> "{parent}" [label="{relation}"];' in run.out


def test_lineage_graphml_parses_with_networkx(live_hub: HubServer) -> None:
    run = cli("lineage", "example-org/chat-lora-q4", "--format", "graphml")
    assert run.code == 0
    graph = nx.parse_graphml(run.out)
    assert graph.is_directed()
    assert {(c, p, d["relation"]) for c, p, d in graph.edges(data=True)} == CHAIN
    assert graph.nodes["Qwen/Qwen2.5-7B"]["declared"] == "apache-2.0"


# --------------------------------------------------------------------------- snapshots: record, replay


def test_snapshot_record_then_replay_is_byte_identical(
    live_hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    refs = ["example-org/chat-lora-q4", "example-org/orphan-ft", "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"]
    manifest = write(tmp_path / "auditor.yaml", INCOMPLETE_MANIFEST + "".join(f"  - id: {r}\n" for r in refs[::2]))
    snap = tmp_path / "snap"

    recorded = cli("snapshot", "record", *refs, "--manifest", manifest, "--out", snap)
    assert recorded.code == 0, recorded
    assert recorded.out.endswith(f"to {snap / 'snapshot.json'}\n")
    records = json.loads((snap / "snapshot.json").read_text(encoding="utf-8"))["records"]
    # The curated lineage (license_rules/lineage/) is followed as the audit follows it.
    assert "Qwen/Qwen2.5-32B" in records

    live_lineage = cli("lineage", *refs, "--format", "json")
    live_audit = cli("audit", manifest, "--format", "json", "--out", tmp_path / "live")
    assert live_lineage.code == live_audit.code == 3  # the orphan's base is unreadable

    requests = live_hub.state.total_requests()
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the replay must not need the Hub
    replay_lineage = cli("lineage", *refs, "--format", "json", "--snapshot", snap)
    replay_audit = cli("audit", manifest, "--format", "json", "--out", tmp_path / "replay", "--snapshot", snap)
    assert live_hub.state.total_requests() == requests

    assert replay_lineage.code == replay_audit.code == 3
    assert replay_lineage.out == live_lineage.out
    assert (tmp_path / "replay" / "audit.json").read_bytes() == (tmp_path / "live" / "audit.json").read_bytes()
    assert replay_audit.out == live_audit.out


def test_snapshot_record_reads_the_hub_even_with_auditor_snapshot_set(
    live_hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDITOR_SNAPSHOT", str(SNAPSHOT))  # the bundled snapshot lacks example-org/chat-lora-q4
    run = cli("snapshot", "record", "example-org/chat-lora-q4", "--out", tmp_path)
    assert run.code == 0
    assert run.out.startswith("recorded 4 answers (0 unresolved)")


# --------------------------------------------------------------------------- report


def test_report_rerenders_the_audit_byte_identically(example_fail: ExampleRun, tmp_path: Path) -> None:
    again = tmp_path / "again"
    formats = "html,json,spdx-json,cyclonedx,sarif,markdown,notice"  # the audit's default set
    run = cli("report", example_fail.out / "audit.json", "--format", formats, "--out", again)
    assert run.code == 0, run
    assert {Path(line).name for line in run.out.splitlines()} == DEFAULT_REPORTS
    for name in sorted(DEFAULT_REPORTS):
        assert (again / name).read_bytes() == (example_fail.out / name).read_bytes(), name


# --------------------------------------------------------------------------- rules, explain


def bundled_rule_ids() -> list[str]:
    return sorted(p.stem for p in RULES.glob("*.yaml"))


def test_rules_list_names_every_bundled_rule() -> None:
    run = cli("rules", "list")
    assert run.code == 0
    ids = bundled_rule_ids()
    listed = [line.split()[0] for line in run.out.splitlines()[:-1]]
    assert listed == ids
    lineage_facts = len(list((RULES / "lineage").glob("*.yaml")))
    assert run.out.splitlines()[-1].startswith(f"{len(ids)} licenses, {lineage_facts} curated lineage facts")


def test_rules_validate_good(tmp_path: Path) -> None:
    bundled = cli("rules", "validate")
    files = len(bundled_rule_ids()) + len(list((RULES / "lineage").glob("*.yaml")))
    assert (bundled.code, bundled.out) == (0, f"{files} rule file(s) valid\n")
    shutil.copy(RULES / "mit.yaml", tmp_path / "mit.yaml")
    (tmp_path / "texts").mkdir()  # a rule file travels with the license text it names
    shutil.copy(RULES / "texts" / "mit.txt", tmp_path / "texts" / "mit.txt")
    assert cli("rules", "validate", tmp_path).out == "1 rule file(s) valid\n"


def test_rules_validate_bad_file_names_the_line(tmp_path: Path) -> None:
    folder, rule = bad_rule_dir(tmp_path)
    run = cli("rules", "validate", folder)
    assert run.code == 2
    assert run.out == ""
    # The required key is reported at the top of the mapping (line 2: line 1 is a comment).
    assert f"{rule}:2: commercial: Field required (fix the value)" in run.err.splitlines()
    typo_line = line_of(rule.read_text(encoding="utf-8"), "commerical:")
    [typo] = [line for line in run.err.splitlines() if ": commerical: Extra inputs are not permitted" in line]
    reported = int(typo.removeprefix(f"{rule}:").split(":", 1)[0])
    assert reported == typo_line  # the line of the misspelt key itself
    assert run.err.splitlines()[-1] == "2 error(s) in 1 file(s)"


def test_rules_validate_points_at_the_misspelt_key(tmp_path: Path) -> None:
    folder, rule = bad_rule_dir(tmp_path)
    typo_line = line_of(rule.read_text(encoding="utf-8"), "commerical:")
    err = cli("rules", "validate", folder).err
    assert f"{rule}:{typo_line}: commerical: Extra inputs are not permitted" in err


def test_explain_llama31_shows_the_700_million_threshold() -> None:
    run = cli("explain", "llama3.1")
    assert run.code == 0
    assert run.out.startswith("Llama 3.1 Community License Agreement (llama3.1)\n")
    # §2 of the license: "greater than 700 million monthly active users in the preceding calendar month"
    assert "Threshold: monthly_active_users greater than 700,000,000" in run.out
    assert "[§2]" in run.out and "700 million monthly active users" in run.out
    assert "Commercial use: allowed" in run.out


def test_explain_accepts_the_license_name() -> None:
    run = cli("explain", "Llama 3.1 Community License Agreement")
    assert run.code == 0
    assert run.out.startswith("Llama 3.1 Community License Agreement (llama3.1)\n")


# --------------------------------------------------------------------------- schema


def test_schema_manifest_is_json_schema_and_the_examples_validate() -> None:
    run = cli("schema", "manifest")
    assert run.code == 0 and run.err == ""
    schema = json.loads(run.out)
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    validator = validator_cls(schema)
    for name in ("auditor.yaml", "auditor-pass.yaml"):
        validator.validate(yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8")))
    validator.validate(yaml.safe_load(starter_manifest()))  # what `auditor init` writes
    assert not validator.is_valid({"modelz": [], "models": [{"id": "example-org/a"}]})
    assert not validator.is_valid({"models": [{"id": "example-org/a", "revison": "main"}]})
    assert not validator.is_valid({"use": {"distribution": "cloud"}, "models": [{"id": "example-org/a"}]})


def test_schema_result_is_json_schema_and_the_audit_validates(example_fail: ExampleRun) -> None:
    run = cli("schema", "result")
    assert run.code == 0 and run.err == ""
    schema = json.loads(run.out)
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    validator_cls(schema).validate(json.loads((example_fail.out / "audit.json").read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- init, scan, cache


def test_init_writes_a_manifest_that_audit_loads(live_hub: HubServer, in_tmp: Path) -> None:
    run = cli("init")
    assert run.code == 0
    assert (in_tmp / "auditor.yaml").read_text(encoding="utf-8") == starter_manifest()
    audited = cli("audit", "--format", "json", "--out", in_tmp / "out")
    # The starter's placeholder model is not on the Hub: the audit is incomplete (3), not bad input (2).
    assert audited.code == 3, audited
    assert json.loads((in_tmp / "out" / "audit.json").read_text(encoding="utf-8"))["complete"] is False
    assert cli("init").code == 2
    forced = cli("init", "--force")
    assert forced.code == 0 and forced.out.startswith("wrote auditor.yaml")


SCANNED = {  # the model calls in tests/scan_fixtures/project (ignored.py holds only non-references)
    "example-org/chat-model", "example-org/lora-adapter", "example-org/weights-model",
    "example-org/snapshot-model", "example-org/pipeline-model", "example-org/embedding-model",
    "example-org/vllm-model", "example-org/constant-model", "example-org/json-model",
    "example-org/json-arg-model", "example-org/compose-model", "example-org/vllm-served",
    "example-org/gguf-model", "example-org/served-model",
}


def test_scan_proposes_manifest_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    run = cli("scan", "tests/scan_fixtures")
    assert run.code == 0
    entries = yaml.safe_load(run.out)["models"]
    # `models/local-model` exists below the project folder: a local path, not a Hub id.
    assert {e["id"] for e in entries if "id" in e} == SCANNED
    assert [e["path"] for e in entries if "path" in e] == ["project/models/local-model"]
    pinned = {e["id"]: e["revision"] for e in entries if "revision" in e}
    assert pinned == {"example-org/chat-model": "0123456789abcdef0123456789abcdef01234567"}
    # + the local folder and the Ollama model of Modelfile.small (an Ollama registry name, not a Hub id)
    # ignored.py's loading calls that name no model are unresolved loads, counted (and listed in the output)
    assert run.err == f"{len(SCANNED) + 2} model reference(s) in 7 file(s); 6 unresolved load(s)\n"


def test_scan_text_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    run = cli("scan", "tests/scan_fixtures", "--format", "text")
    assert run.code == 0
    lines = run.out.splitlines()
    assert "project/app/load.py:11: hub example-org/chat-model (python:from_pretrained, high confidence)" in lines
    assert "project/ollama/Modelfile:2: hub example-org/gguf-model (modelfile:FROM, high confidence)" in lines
    assert "project/ollama/Modelfile.small:1: ollama example-org/ollama-model:latest (modelfile:FROM, high confidence)" \
        in lines


def test_cache_info_and_clear(live_hub: HubServer, tmp_path: Path) -> None:
    cache = Path(os.environ["AUDITOR_CACHE_DIR"])
    assert cli("lineage", "example-org/chat-lora-q4").code == 0  # four models, each read once
    info = cli("cache", "info")
    assert info.code == 0
    assert info.out.splitlines()[:2] == [f"path: {cache / 'metadata.sqlite3'}", "entries: 4 (0 pinned to a commit)"]
    cleared = cli("cache", "clear")
    assert cleared.out == "removed 4 entries\n"
    assert "entries: 0 " in cli("cache", "info").out


def test_no_cache_leaves_the_cache_empty(live_hub: HubServer) -> None:
    assert cli("lineage", "example-org/chat-lora-q4", "--no-cache").code == 0
    assert "entries: 0 " in cli("cache", "info").out


# --------------------------------------------------------------------------- check


def test_check_past_the_llama_user_threshold_fails(live_hub: HubServer) -> None:
    # Meta Llama 3 §2: more than 700 million monthly active users in the calendar month before the release
    # date (2024-04-18), counted with affiliates, needs a license from Meta.
    args = [a if a != "2000000" else "800000000" for a in FULL_USE]
    run = cli("check", "meta-llama/Meta-Llama-3-8B", *args, "--verbose")
    assert run.code == 1
    assert re.search(r"ERROR\s+user-threshold\s+meta-llama/Meta-Llama-3-8B", run.out)
    assert "700,000,000" in run.out and "800,000,000" in run.out
    assert "in the calendar month before the release date of the Meta Llama 3 Community License Agreement " \
           "(2024-04-18), counted with your affiliates" in run.out
    # --verbose adds this run's crawl statistics, on stderr (they are not part of the result).
    assert run.err == "lineage: 1 model (0 unresolved), 1 Hub request, 0 cache hits\n"


def test_check_below_the_threshold_passes(live_hub: HubServer) -> None:
    # Llama 3 allows commercial use below 700M MAU, has no territorial limit, and customer support
    # is not a prohibited purpose.
    run = cli("check", "meta-llama/Meta-Llama-3-8B", *FULL_USE)
    assert run.code == 0, run
    assert "Overall: PASS — 1 model: 1 pass" in run.out
    assert cli("check", "meta-llama/Meta-Llama-3-8B", *FULL_USE, "--quiet").out == ""


def test_check_non_commercial_license(live_hub: HubServer) -> None:
    # CohereForAI/aya-23-8B is CC-BY-NC-4.0: commercial use is not licensed.
    commercial = cli("check", "CohereForAI/aya-23-8B", *FULL_USE)
    assert commercial.code == 1
    assert re.search(r"ERROR\s+non-commercial\s+CohereForAI/aya-23-8B", commercial.out)
    research = cli("check", "CohereForAI/aya-23-8B", "--non-commercial", "--mau", "10", "--distribution",
                   "internal", "--region", "EU", "--purpose", "research")
    assert research.code == 0, research
    assert "non-commercial" not in research.out


def test_check_writes_reports_with_the_declared_use(live_hub: HubServer, tmp_path: Path) -> None:
    run = cli("check", "meta-llama/Meta-Llama-3-8B", *FULL_USE, "--format", "json,sarif", "--out", tmp_path)
    assert run.code == 0
    assert run.err == f"reports: {tmp_path / 'audit.json'}, {tmp_path / 'audit.sarif'}\n"
    use = json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))["use"]
    assert use == {
        "commercial": True, "monthly_active_users": 2000000, "annual_revenue_usd": 5000000,
        "distribution": "saas", "regions": ["EU"], "domicile": None, "markets": None,
        "purposes": ["customer-support"], "production": True, "registered": None, "trains_on_outputs": None,
        "monthly_active_users_at_release": 2000000,
    }


def test_check_asks_about_training_on_outputs(live_hub: HubServer) -> None:
    """Llama 3 §1.b.v bans improving any other large language model with its outputs: --trains-on-outputs fails;
    --no-trains-on-outputs passes, and the ban is listed as an obligation either way."""
    trains = cli("check", "meta-llama/Meta-Llama-3-8B", *FULL_USE, "--trains-on-outputs")
    assert trains.code == 1, trains
    assert re.search(r"ERROR\s+outputs-training\s+meta-llama/Meta-Llama-3-8B", trains.out), trains.out
    assert "§1.b.v" in trains.out
    not_training = cli("check", "meta-llama/Meta-Llama-3-8B", *FULL_USE, "--no-trains-on-outputs")
    assert not_training.code == 0, not_training
    assert "outputs-training" not in not_training.out.split("Obligations")[0]


# --------------------------------------------------------------------------- streams


def test_progress_goes_to_a_terminal_on_stderr_never_to_stdout(tmp_path: Path) -> None:
    """With stderr a terminal the progress line shows there; stdout stays pure machine output."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [auditor_exe(), "lineage", "bartowski/Qwen2.5-Coder-7B-Instruct-GGUF", "--format", "json",
             "--snapshot", str(SNAPSHOT)],
            env=process_env(), stdout=subprocess.PIPE, stderr=follower, timeout=60, check=False,
        )
    finally:
        os.close(follower)
    terminal = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        terminal += chunk
    os.close(leader)
    assert proc.returncode == 0
    assert b"resolving lineage: " in terminal
    graph = json.loads(proc.stdout)
    assert graph["roots"] == ["bartowski/Qwen2.5-Coder-7B-Instruct-GGUF"]
    assert b"resolving" not in proc.stdout


# --------------------------------------------------------------------------- colour

ANSI = re.compile(r"\x1b\[[0-9;]*m")
EXAMPLE_AUDIT = ("audit", EXAMPLES / "auditor.yaml", "--snapshot", SNAPSHOT, "--format", "json")


def read_terminal(leader: int) -> bytes:
    """Everything written to a pseudo-terminal, until its other end is closed."""
    data = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def cli_on_a_terminal(monkeypatch: pytest.MonkeyPatch, *args: object) -> Run:
    """`auditor ARGS…` in-process, with stdout taken for a terminal that shows colour."""
    monkeypatch.setattr("auditor.cli._common.stdout_is_terminal", lambda: True)
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False, color=True)
    return Run(result.exit_code, result.stdout, result.stderr)


def test_a_terminal_shows_verdicts_and_severities_in_colour(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Dated after the example waiver's expiry (2027-06-30): the DeepSeek distill's license-conflict applies
    # again, so the table has all three verdicts.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1830000000")  # 2027-12-27
    coloured = cli_on_a_terminal(monkeypatch, *EXAMPLE_AUDIT, "--out", tmp_path)
    plain = cli(*EXAMPLE_AUDIT, "--out", tmp_path)
    assert coloured.code == plain.code == 1
    assert ANSI.sub("", coloured.out) == plain.out  # colour changes no character of the text
    assert f"Overall: {typer.style('FAIL', fg='red', bold=True)} — " in coloured.out
    assert typer.style("REVIEW ", fg="yellow") in coloured.out  # the table pads, then colours
    assert typer.style("PASS   ", fg="green") in coloured.out
    assert typer.style("ERROR  ", fg="red", bold=True) in coloured.out
    assert not ANSI.search(coloured.err)  # only the summary is coloured


@pytest.mark.parametrize("how", ["auditor --no-color", "audit --no-color", "NO_COLOR=1"])
def test_no_color_gives_plain_text_on_a_terminal(
    how: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    args: list[object] = list(EXAMPLE_AUDIT)
    if how == "auditor --no-color":
        args.insert(0, "--no-color")
    elif how == "audit --no-color":
        args.append("--no-color")
    else:
        monkeypatch.setenv("NO_COLOR", "1")
    run = cli_on_a_terminal(monkeypatch, *args, "--out", tmp_path)
    assert run.code == 1
    assert "Overall: FAIL — " in run.out
    assert "\x1b" not in run.out + run.err


def test_every_verdict_and_severity_has_a_colour() -> None:
    from auditor.cli._common import COLOURS
    from auditor.vocab import SEVERITIES, VERDICTS

    assert set(COLOURS) == {*VERDICTS, *SEVERITIES}


def test_an_empty_no_color_leaves_colour_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: only a non-empty value turns colour off
    assert ANSI.search(cli_on_a_terminal(monkeypatch, *EXAMPLE_AUDIT, "--out", tmp_path).out)


@pytest.mark.parametrize("no_color", [False, True])
def test_console_script_colour_on_a_terminal_and_never_in_a_pipe(tmp_path: Path, no_color: bool) -> None:
    """A real process: stdout a terminal shows colour unless NO_COLOR is set; a pipe gets plain bytes."""
    env = {k: v for k, v in process_env().items() if k != "NO_COLOR"}
    if no_color:
        env["NO_COLOR"] = "1"
    args = [auditor_exe(), "check", "CohereForAI/c4ai-command-r-plus", "--commercial", "--snapshot", str(SNAPSHOT)]
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(args, env=env, stdout=follower, stderr=subprocess.PIPE, timeout=60, check=False)
    finally:
        os.close(follower)
    terminal = read_terminal(leader)
    os.close(leader)
    assert proc.returncode == 1, proc.stderr
    assert b"Overall: " in terminal
    assert (b"\x1b[" in terminal) is not no_color
    piped = subprocess.run(args, env=env, capture_output=True, timeout=60, check=False)
    assert piped.returncode == 1
    assert b"Overall: FAIL" in piped.stdout and b"\x1b" not in piped.stdout
