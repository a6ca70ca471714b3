"""Run the composite action's `run:` steps locally, the way the GitHub runner would.

A small runner: it reads action.yml, evaluates each step's `if:`, resolves `${{ … }}` in the step's
`env:` (the only place expressions may appear; run scripts never contain them), gives every step
fresh GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files and a shared GITHUB_ENV, and runs the script with
`bash --noprofile --norc -eo pipefail` as `shell: bash` does. `uses:` steps are not run (setup-python,
cache, upload-artifact, upload-sarif): they must be pinned to a full commit sha, and their `if:` is
still evaluated so the conditions are tested.

The auditor is the one installed in this virtualenv (AUDITOR_SKIP_INSTALL=true makes the install
step a no-op when that version is on PATH); audits run offline against the bundled snapshot
(AUDITOR_SNAPSHOT) or against the loopback Hub (HF_ENDPOINT).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditor import __version__
from tests.conftest import default_state
from tests.hub.server import HubServer, HubState

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
VENV_BIN = Path(sys.executable).parent
SHA_PIN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
FAKE_HF_TOKEN = "hf_fakeTOKEN123"
FAKE_GITHUB_TOKEN = "ghs_fakeGITHUBtoken456"


# --------------------------------------------------------------------------- a tiny runner


@dataclass
class StepRun:
    name: str
    status: str  # "success" | "failure" | "skipped" | "not run (uses)"
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class ActionRun:
    steps: list[StepRun]
    outputs: dict[str, str]
    summary: str
    workspace: Path
    runner_temp: Path
    files: list[Path]  # every file the runner handed to the steps (outputs, env, summaries)

    @property
    def failed(self) -> bool:
        return any(s.status == "failure" for s in self.steps)

    @property
    def exit_code(self) -> int:
        return next((s.exit_code or 1 for s in self.steps if s.status == "failure"), 0)

    def step(self, name: str) -> StepRun:
        return next(s for s in self.steps if s.name == name)

    def logs(self) -> str:
        return "\n".join(s.stdout + s.stderr for s in self.steps)


def parse_command_file(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV syntax: `name=value` lines and `name<<DELIMITER` blocks."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            values[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        if line:
            name, _, value = line.partition("=")
            values[name] = value
        i += 1
    return values


class Contexts:
    """The `inputs`, `github`, `runner` and `steps` contexts an expression can read."""

    def __init__(self, inputs: dict[str, str], github: dict[str, Any], runner: dict[str, str]) -> None:
        self.data: dict[str, Any] = {"inputs": inputs, "github": github, "runner": runner, "steps": {}}

    def lookup(self, path: str) -> str:
        node: Any = self.data
        for part in path.split("."):
            if not isinstance(node, dict):
                return ""
            node = node.get(part, "")
        if isinstance(node, bool):
            return "true" if node else "false"
        return "" if node is None or isinstance(node, dict) else str(node)

    def interpolate(self, text: str) -> str:
        """Replace each `${{ context.path }}`; anything but a property path is refused."""

        def one(match: re.Match[str]) -> str:
            expr = match.group(1)
            if not re.fullmatch(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)+", expr):
                raise AssertionError(f"unsupported expression in env: {expr!r}")
            return self.lookup(expr)

        return EXPRESSION.sub(one, str(text))

    def condition(self, expr: str | None, job_failed: bool) -> bool:
        """A step's `if:`, with GitHub's implicit `success() &&` when no status function is used."""
        if expr is None:
            return not job_failed
        expr = EXPRESSION.sub(lambda m: m.group(1), str(expr)).strip()
        tokens = re.findall(r"\w+\(\)|'[^']*'|==|!=|&&|\|\||!|\(|\)|[A-Za-z_][\w.-]*|\S", expr)
        functions = {"always()": "True", "success()": repr(not job_failed), "failure()": repr(job_failed),
                     "cancelled()": "False"}
        python: list[str] = []
        for token in tokens:
            if token in functions:
                python.append(functions[token])
            elif token.startswith("'"):
                python.append(repr(token[1:-1]))
            elif token in ("==", "!=", "(", ")"):
                python.append(token)
            elif token in ("&&", "||", "!"):
                python.append({"&&": " and ", "||": " or ", "!": " not "}[token])
            elif re.fullmatch(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)+", token):
                python.append(repr(self.lookup(token)))
            else:
                raise AssertionError(f"unsupported token {token!r} in if: {expr!r}")
        result = bool(eval(" ".join(python), {"__builtins__": {}}, {}))  # built from vetted tokens only
        if not any(f in expr for f in functions):
            result = result and not job_failed
        return result


def run_action(
    tmp_path: Path,
    inputs: dict[str, str],
    *,
    job_env: dict[str, str],
    path_dirs: list[Path] | None = None,
    event: dict[str, Any] | None = None,
    only: list[str] | None = None,
) -> ActionRun:
    """Run action.yml's steps in a fresh workspace holding a copy of examples/."""
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    workspace = tmp_path / "workspace"
    if not workspace.exists():
        shutil.copytree(ROOT / "examples", workspace / "examples")
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    resolved_inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    resolved_inputs.update(inputs)
    contexts = Contexts(
        resolved_inputs,
        {"action_path": str(ROOT), "workspace": str(workspace), "token": FAKE_GITHUB_TOKEN,
         "repository": "example-org/product", "event": event or {}},
        {"temp": str(runner_temp), "os": "Linux"},
    )
    env_file = runner_temp / "github_env"
    env_file.touch()
    path = ":".join(str(p) for p in [*(path_dirs or []), VENV_BIN, "/usr/bin", "/bin"])
    base_env = {
        "PATH": path, "HOME": str(home), "HF_HOME": str(home / "hf"), "LANG": "C.UTF-8",
        "HF_HUB_DISABLE_TELEMETRY": "1", "CI": "true", "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace), "RUNNER_TEMP": str(runner_temp), "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_ENV": str(env_file), **job_env,
    }
    results: list[StepRun] = []
    files = [env_file]
    summary = ""
    job_failed = False
    for index, step in enumerate(action["runs"]["steps"]):
        name = step.get("name", f"step {index}")
        if only is not None and name not in only:
            continue
        if not contexts.condition(step.get("if"), job_failed):
            results.append(StepRun(name, "skipped"))
            continue
        if "uses" in step:
            results.append(StepRun(name, "not run (uses)"))
            continue
        assert step.get("shell") == "bash", name
        assert "${{" not in step["run"], f"{name}: an expression inside run: (pass it through env:)"
        output_file = runner_temp / f"output-{index}"
        summary_file = runner_temp / f"summary-{index}"
        output_file.touch()
        summary_file.touch()
        files += [output_file, summary_file]
        script = runner_temp / f"step-{index}.sh"
        script.write_text(step["run"], encoding="utf-8")
        env = {**base_env, **parse_command_file(env_file)}
        env.update({k: contexts.interpolate(v) for k, v in (step.get("env") or {}).items()})
        env.update({"GITHUB_OUTPUT": str(output_file), "GITHUB_STEP_SUMMARY": str(summary_file)})
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace, env=env, capture_output=True, text=True, timeout=300, check=False,
        )
        outputs = parse_command_file(output_file)
        if "id" in step:
            contexts.data["steps"][step["id"]] = {"outputs": outputs, "outcome": "success"}
        summary += summary_file.read_text(encoding="utf-8")
        status = "success" if proc.returncode == 0 else "failure"
        job_failed = job_failed or proc.returncode != 0
        results.append(StepRun(name, status, proc.returncode, proc.stdout, proc.stderr, outputs))
    action_outputs = {k: contexts.interpolate(v["value"]) for k, v in action["outputs"].items()}
    return ActionRun(results, action_outputs, summary, workspace, runner_temp, files)


def offline_env(**extra: str) -> dict[str, str]:
    """Job env for an air-gapped run: the bundled snapshot, the installed auditor, no Hub at all."""
    return {
        "AUDITOR_SNAPSHOT": "examples/snapshot",
        "AUDITOR_SKIP_INSTALL": "true",
        "HF_ENDPOINT": "http://127.0.0.1:9",  # nothing listens: any Hub request would fail
        "SOURCE_DATE_EPOCH": "1764806400",
        **extra,
    }


# --------------------------------------------------------------------------- the action's shape


def test_uses_steps_are_pinned_to_full_commit_shas() -> None:
    steps = yaml.safe_load(ACTION.read_text(encoding="utf-8"))["runs"]["steps"]
    uses = [s["uses"] for s in steps if "uses" in s]
    assert uses, "expected setup-python, cache and upload steps"
    for ref in uses:
        assert SHA_PIN.match(ref), ref


# --------------------------------------------------------------------------- the bundled example, offline


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> ActionRun:
    return run_action(
        tmp_path_factory.mktemp("failing"),
        {"manifest": "examples/auditor.yaml", "fail-on": "error", "upload-sarif": "true"},
        job_env=offline_env(),
    )


def test_failing_example_fails_the_action(failing: ActionRun) -> None:
    assert failing.step("Install the auditor").stdout == f"Using the installed auditor {__version__} " \
                                                          "(AUDITOR_SKIP_INSTALL=true).\n"
    audit = failing.step("Audit models")
    assert audit.status == "success"  # the audit step records the result; the last step fails the job
    assert audit.outputs["exit-code"] == "1"
    finish = failing.step("Finish with the audit's exit code")
    assert (finish.status, finish.exit_code) == ("failure", 1)
    assert failing.exit_code == 1


def test_outputs_are_written_to_github_output(failing: ActionRun) -> None:
    assert failing.outputs == {
        "verdict": "fail",
        "report-dir": "auditor-report",
        "sarif-file": "auditor-report/audit.sarif",
    }
    reports = failing.workspace / "auditor-report"
    assert {p.name for p in reports.iterdir()} == {
        "audit.html", "audit.spdx.json", "audit.sarif", "audit.md", "audit.json",  # the default formats
    }
    sarif = json.loads((reports / "audit.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"


def test_markdown_summary_goes_to_the_job_summary(failing: ActionRun) -> None:
    markdown = (failing.workspace / "auditor-report" / "audit.md").read_text(encoding="utf-8")
    assert failing.summary == markdown
    assert "**FAIL**" in failing.summary
    assert "CohereForAI/c4ai-command-r-plus" in failing.summary


def test_conditions_of_the_skipped_steps(failing: ActionRun) -> None:
    assert failing.step("Set up Python").status == "not run (uses)"
    assert failing.step("Upload the reports").status == "not run (uses)"  # always()
    assert failing.step("Upload SARIF to code scanning").status == "not run (uses)"  # upload-sarif true
    assert failing.step("Comment on the pull request").status == "skipped"  # comment false


def test_fail_on_never_passes_and_still_reports(tmp_path: Path) -> None:
    # Only SARIF asked for: the action still writes the JSON (for `verdict`) and Markdown (for the summary).
    run = run_action(tmp_path, {"manifest": "examples/auditor.yaml", "fail-on": "never", "formats": "sarif"},
                     job_env=offline_env())
    assert not run.failed, run.logs()
    assert run.exit_code == 0
    assert run.outputs["verdict"] == "fail"
    assert run.outputs["sarif-file"] == "auditor-report/audit.sarif"
    assert run.step("Upload SARIF to code scanning").status == "skipped"  # upload-sarif defaults to false
    assert "**FAIL**" in run.summary
    assert {p.name for p in (run.workspace / "auditor-report").iterdir()} == {
        "audit.sarif", "audit.json", "audit.md",
    }


def test_bad_manifest_reports_the_error_in_the_summary(tmp_path: Path) -> None:
    run = run_action(tmp_path, {"manifest": "examples/missing.yaml"}, job_env=offline_env())
    assert run.outputs == {"verdict": "error", "report-dir": "auditor-report", "sarif-file": ""}
    assert run.step("Audit models").outputs["exit-code"] == "2"
    assert run.exit_code == 2
    assert "**ERROR**" in run.summary
    assert "examples/missing.yaml:1: manifest: cannot read the file" in run.summary
    assert "examples/missing.yaml:1: manifest: cannot read the file" in run.step("Audit models").stderr


def test_a_stale_result_is_not_reported_as_this_runs(tmp_path: Path) -> None:
    stale = tmp_path / "workspace" / "auditor-report"
    stale.mkdir(parents=True)
    shutil.copytree(ROOT / "examples", tmp_path / "workspace" / "examples")
    (stale / "audit.json").write_text('{"verdict": "pass"}', encoding="utf-8")
    (stale / "audit.md").write_text("## stale PASS\n", encoding="utf-8")
    run = run_action(tmp_path, {"manifest": "examples/missing.yaml"}, job_env=offline_env())
    assert run.outputs["verdict"] == "error"
    assert "stale" not in run.summary


# --------------------------------------------------------------------------- the loopback Hub and a token


class TokenRecordingHub(HubServer):
    """The loopback Hub, also remembering each request's Authorization header."""

    def __init__(self, state: HubState) -> None:
        super().__init__(state)
        seen: list[str] = []
        self.authorization = seen
        base: Any = self._httpd.RequestHandlerClass

        class Recording(base):
            def do_GET(self) -> None:
                seen.append(self.headers.get("Authorization", ""))
                super().do_GET()

        self._httpd.RequestHandlerClass = Recording


@pytest.fixture(scope="module")
def recording_hub() -> Iterator[TokenRecordingHub]:
    server = TokenRecordingHub(default_state())
    with server:
        yield server


HUB_MANIFEST = """\
product: Token test
use:
  commercial: true
  monthly_active_users: 1000
  annual_revenue_usd: 100000
  distribution: saas
  regions: [US]
  purposes: [customer-support]
models:
  - id: example-org/chat-lora-q4   # apache-2.0 all the way down to Qwen/Qwen2.5-7B
"""


def fake_gh(bin_dir: Path) -> Path:
    """A `gh` that records its arguments, the PR comment body and whether it was given a token."""
    log = bin_dir / "gh.log"
    script = bin_dir / "gh"
    script.write_text(
        "#!/bin/bash\n"
        f'printf "%s\\n" "$@" > "{log}"\n'
        'while [ $# -gt 0 ]; do if [ "$1" = --body-file ]; then cp "$2" '
        f'"{bin_dir}/body.md"; fi; shift; done\n'
        f'if [ -n "${{GH_TOKEN:-}}" ]; then echo token-present >> "{log}"; fi\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    return log


def test_hub_audit_with_a_token_never_leaks_it(tmp_path: Path, recording_hub: TokenRecordingHub) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh_log = fake_gh(bin_dir)
    (tmp_path / "workspace").mkdir()
    shutil.copytree(ROOT / "examples", tmp_path / "workspace" / "examples")
    (tmp_path / "workspace" / "auditor.yaml").write_text(HUB_MANIFEST, encoding="utf-8")
    before = len(recording_hub.authorization)
    run = run_action(
        tmp_path,
        {"hf-token": FAKE_HF_TOKEN, "comment": "true", "fail-on": "warning"},
        job_env={"AUDITOR_SKIP_INSTALL": "true", "HF_ENDPOINT": recording_hub.endpoint},
        path_dirs=[bin_dir],
        event={"pull_request": {"number": 42}},
    )
    assert not run.failed, run.logs()
    assert run.outputs["verdict"] == "pass"
    assert "**PASS**" in run.summary

    # The token reached the Hub (the four models of the chain) …
    sent = recording_hub.authorization[before:]
    assert len(sent) == 4 and set(sent) == {f"Bearer {FAKE_HF_TOKEN}"}
    # … and nothing else: not the logs, outputs, summary, reports, cache or any runner file.
    assert FAKE_HF_TOKEN not in run.logs()
    assert FAKE_HF_TOKEN not in json.dumps(run.outputs) + run.summary
    written = [p for p in (tmp_path / "workspace").rglob("*") if p.is_file()]
    written += [p for p in run.runner_temp.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite3" for p in written)  # the metadata cache is among them
    for path in written + run.files:
        assert FAKE_HF_TOKEN.encode() not in path.read_bytes(), path

    # The pull request comment: gh got the PR number, the Markdown report and the GitHub token.
    comment = run.step("Comment on the pull request")
    assert comment.status == "success"
    assert gh_log.read_text(encoding="utf-8").splitlines() == [
        "pr", "comment", "42", "--body-file", str(run.runner_temp / "auditor-comment.md"), "token-present",
    ]
    report = (run.workspace / "auditor-report" / "audit.md").read_text(encoding="utf-8")
    assert (bin_dir / "body.md").read_text(encoding="utf-8") == report


def test_an_empty_token_sends_no_authorization(tmp_path: Path, recording_hub: TokenRecordingHub) -> None:
    (tmp_path / "workspace").mkdir()
    shutil.copytree(ROOT / "examples", tmp_path / "workspace" / "examples")
    (tmp_path / "workspace" / "auditor.yaml").write_text(HUB_MANIFEST, encoding="utf-8")
    before = len(recording_hub.authorization)
    run = run_action(tmp_path, {}, job_env={"AUDITOR_SKIP_INSTALL": "true",
                                            "HF_ENDPOINT": recording_hub.endpoint})
    assert run.outputs["verdict"] == "pass", run.logs()
    sent = recording_hub.authorization[before:]
    assert sent and set(sent) == {""}


# --------------------------------------------------------------------------- the install step


def shim_python(bin_dir: Path, fake_auditor_version: str | None) -> Path:
    """A `python` that logs `-m …` calls (pip) instead of running them, and optionally a fake `auditor`."""
    log = bin_dir / "python.log"
    python = bin_dir / "python"
    python.write_text(
        "#!/bin/bash\n"
        f'if [ "$1" = -m ]; then printf "%s " "$@" >> "{log}"; echo >> "{log}"; exit 0; fi\n'
        f'exec "{sys.executable}" "$@"\n',
        encoding="utf-8",
    )
    python.chmod(0o755)
    if fake_auditor_version is not None:
        auditor = bin_dir / "auditor"
        auditor.write_text(f'#!/bin/bash\necho "auditor {fake_auditor_version}"\n', encoding="utf-8")
        auditor.chmod(0o755)
    return log


@pytest.mark.parametrize(
    ("skip", "installed", "expect_install"),
    [
        ("", None, True),  # the default: install this action's package
        ("true", __version__, False),  # skip: this version is already on PATH
        ("true", "0.0.0-other", True),  # skip asked for, but the wrong version: install anyway
    ],
)
def test_install_step(tmp_path: Path, skip: str, installed: str | None, expect_install: bool) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = shim_python(bin_dir, installed)
    job_env = {"AUDITOR_SKIP_INSTALL": skip} if skip else {}
    run = run_action(tmp_path, {}, job_env=job_env, path_dirs=[bin_dir], only=["Install the auditor"])
    step = run.step("Install the auditor")
    assert step.status == "success", step.stderr
    pip_calls = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    if expect_install:
        assert pip_calls == [f"-m pip install --disable-pip-version-check --quiet {ROOT} "]
    else:
        assert pip_calls == []
    if skip and installed != __version__:
        assert "::warning::" in step.stdout


# --------------------------------------------------------------------------- lock gate and baseline drift


def test_require_lock_fails_a_manifest_changed_without_its_lock(tmp_path: Path) -> None:
    missing = run_action(tmp_path / "a", {"manifest": "examples/auditor.yaml", "require-lock": "true"},
                         job_env=offline_env(), only=["Check the lock"])
    assert missing.failed and "no auditor.lock beside the manifest" in missing.logs()
    workspace = tmp_path / "b" / "workspace"
    shutil.copytree(ROOT / "examples", workspace / "examples")
    subprocess.run([str(VENV_BIN / "auditor"), "lock", "examples/auditor.yaml", "--snapshot", "examples/snapshot"],
                   cwd=workspace, check=True, capture_output=True)
    fresh = run_action(tmp_path / "b", {"manifest": "examples/auditor.yaml", "require-lock": "true"},
                       job_env=offline_env(), only=["Check the lock"])
    assert not fresh.failed, fresh.logs()
    manifest = workspace / "examples" / "auditor.yaml"
    manifest.write_text(manifest.read_text() + "  - id: Qwen/Qwen2.5-7B\n")
    stale = run_action(tmp_path / "b", {"manifest": "examples/auditor.yaml", "require-lock": "true"},
                       job_env=offline_env(), only=["Check the lock"])
    assert stale.failed and "the manifest changed without its lock" in stale.logs()


def test_a_baseline_result_puts_the_drift_in_the_job_summary(tmp_path: Path) -> None:
    first = run_action(tmp_path / "first", {"manifest": "examples/auditor.yaml", "formats": "json"},
                       job_env=offline_env())
    saved = json.loads((first.workspace / "auditor-report" / "audit.json").read_text(encoding="utf-8"))
    dropped = saved["models"].pop()["id"]  # the base branch did not have the last model yet
    baseline = tmp_path / "base-audit.json"
    baseline.write_text(json.dumps(saved), encoding="utf-8")
    run = run_action(tmp_path / "second", {"manifest": "examples/auditor.yaml", "baseline": str(baseline)},
                     job_env=offline_env())
    assert run.step("Compare with the baseline").status == "success", run.logs()
    assert "## License drift" in run.summary and "### Models added (1)" in run.summary
    assert f"`{dropped}`" in run.summary
    assert run.exit_code == 1  # the drift report never changes the audit's own exit code


def test_a_baseline_git_ref_is_audited_in_a_worktree(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    shutil.copytree(ROOT / "examples", workspace / "examples")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=workspace, check=True)
    subprocess.run([*git, "add", "-A"], cwd=workspace, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=workspace, check=True)
    manifest = workspace / "examples" / "auditor.yaml"
    manifest.write_text(manifest.read_text().replace("  - id: CohereForAI/c4ai-command-r-plus\n", ""))
    run = run_action(tmp_path, {"manifest": "examples/auditor.yaml", "baseline": "main"}, job_env=offline_env())
    assert run.step("Compare with the baseline").status == "success", run.logs()
    assert "### Models removed (1)" in run.summary and "`CohereForAI/c4ai-command-r-plus`" in run.summary
    assert not (tmp_path / "runner-temp" / "auditor-baseline" / "tree").exists()


def _scan_check(tmp_path: Path, code: str) -> ActionRun:
    """The action's scan-check step alone, on a workspace holding the bundled example and `app.py`."""
    workspace = tmp_path / "workspace"
    if not (workspace / "examples").exists():
        shutil.copytree(ROOT / "examples", workspace / "examples")
    (workspace / "app.py").write_text(code)
    return run_action(tmp_path, {"manifest": "examples/auditor.yaml", "scan-check": "true"}, job_env=offline_env(),
                      only=["Check the code's models are in the manifest"])


def test_scan_check_fails_a_pull_request_that_loads_an_unlisted_model(tmp_path: Path) -> None:
    ok = _scan_check(tmp_path, 'model = AutoModel.from_pretrained("Qwen/Qwen2.5-7B-Instruct")\n')
    assert not ok.failed, ok.logs()
    gated = _scan_check(tmp_path, 'model = AutoModel.from_pretrained("example-org/unlisted-model")\n')
    assert gated.failed
    assert "::error::app.py:1: Hub model example-org/unlisted-model is loaded here but not listed" in gated.logs()


def test_scan_check_names_an_unresolved_load_without_an_update_hint(tmp_path: Path) -> None:
    """`--update` cannot add a load the scan cannot name: its annotation says what to do, with no update hint."""
    gated = _scan_check(tmp_path, "model = AutoModel.from_pretrained(MODEL_ID)\n")
    assert gated.failed
    lines = [line for line in gated.logs().splitlines() if "::error::app.py:1:" in line]
    assert lines and all("cannot name" in line and "--update" not in line for line in lines), gated.logs()
