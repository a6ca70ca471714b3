"""Static checks of the composite GitHub Action and the example workflow."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
WORKFLOW = ROOT / "examples" / "workflow.yml"
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")

INPUT_DEFAULTS = {
    "manifest": "auditor.yaml",
    "fail-on": "error",
    "formats": "html,spdx-json,sarif,markdown,json",
    "output-dir": "auditor-report",
    "hf-token": "",
    "python-version": "3.11",
    "upload-sarif": "false",
    "comment": "false",
    "require-lock": "false",
    "scan-check": "false",
    "baseline": "",
}


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    return load(ACTION)


@pytest.fixture(scope="module")
def steps(action: dict[str, Any]) -> list[dict[str, Any]]:
    assert action["runs"]["using"] == "composite"
    result = action["runs"]["steps"]
    assert isinstance(result, list)
    return result


def workflow_steps() -> Iterator[dict[str, Any]]:
    for job in load(WORKFLOW)["jobs"].values():
        yield from job["steps"]


def all_steps() -> list[tuple[str, dict[str, Any]]]:
    action_steps = load(ACTION)["runs"]["steps"]
    return [("action.yml", s) for s in action_steps] + [("workflow.yml", s) for s in workflow_steps()]


def run_steps() -> list[tuple[str, dict[str, Any]]]:
    return [item for item in all_steps() if "run" in item[1]]


def uses_steps() -> list[tuple[str, dict[str, Any]]]:
    return [item for item in all_steps() if "uses" in item[1]]


def step_id(item: tuple[str, dict[str, Any]]) -> str:
    return f"{item[0]}:{item[1].get('name', item[1].get('uses', '?'))}"


# --------------------------------------------------------------------------- safety


@pytest.mark.parametrize("item", run_steps(), ids=step_id)
def test_no_expressions_inside_run_scripts(item: tuple[str, dict[str, Any]]) -> None:
    assert "${{" not in item[1]["run"], "pass values to run scripts through env:, never ${{ }}"


@pytest.mark.parametrize("item", run_steps(), ids=step_id)
def test_every_run_step_uses_bash_strict_mode(item: tuple[str, dict[str, Any]]) -> None:
    assert item[1].get("shell") == "bash"
    assert item[1]["run"].lstrip().startswith("set -euo pipefail")


@pytest.mark.parametrize("item", uses_steps(), ids=step_id)
def test_every_remote_action_is_pinned_to_a_full_sha(item: tuple[str, dict[str, Any]]) -> None:
    uses = item[1]["uses"]
    if not uses.startswith("./"):
        assert PINNED.match(uses), f"{uses} is not pinned to a 40-character commit sha"


def test_pins_carry_a_version_comment() -> None:
    for path in (ACTION, WORKFLOW):
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.match(r"\s*(-\s*)?uses:\s*[^.\s]", line):
                assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


@pytest.mark.parametrize("item", run_steps(), ids=step_id)
def test_run_scripts_are_valid_bash(item: tuple[str, dict[str, Any]]) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    result = subprocess.run([bash, "-n"], input=item[1]["run"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_hf_token_only_reaches_the_audit_step_through_env(steps: list[dict[str, Any]]) -> None:
    holders = [s for s in steps if "inputs.hf-token" in yaml.safe_dump(s)]
    assert [s.get("id") for s in holders] == ["audit"]
    assert holders[0]["env"]["HF_TOKEN"] == "${{ inputs.hf-token }}"
    for step in steps:
        script = step.get("run", "")
        assert not re.search(r"(echo|printf|cat)[^\n]*HF_TOKEN", script), "the token must never be printed"


# --------------------------------------------------------------------------- interface


def test_inputs_and_defaults(action: dict[str, Any]) -> None:
    inputs = action["inputs"]
    assert set(inputs) == set(INPUT_DEFAULTS)
    assert {name: spec.get("default") for name, spec in inputs.items()} == INPUT_DEFAULTS
    assert all(spec.get("description") for spec in inputs.values())


def test_outputs_come_from_the_audit_step(action: dict[str, Any]) -> None:
    outputs = action["outputs"]
    assert set(outputs) == {"verdict", "report-dir", "sarif-file"}
    for name, spec in outputs.items():
        assert spec["value"] == f"${{{{ steps.audit.outputs.{name} }}}}"


def test_audit_step_writes_every_output(steps: list[dict[str, Any]]) -> None:
    audit = next(s for s in steps if s.get("id") == "audit")
    script = audit["run"]
    for name in ("verdict", "report-dir", "sarif-file", "exit-code"):
        assert f'echo "{name}=' in script
    assert '>> "$GITHUB_OUTPUT"' in script
    assert '>> "$GITHUB_STEP_SUMMARY"' in script
    assert '--format "$FORMATS" --out "$OUTPUT_DIR" --fail-on "$FAIL_ON" || status=$?' in script
    assert audit["env"]["AUDITOR_CACHE_DIR"] == "${{ runner.temp }}/auditor-cache"
    assert set(audit["env"]) >= {"MANIFEST", "FORMATS", "OUTPUT_DIR", "FAIL_ON", "HF_TOKEN"}


def test_step_order_and_conditions(steps: list[dict[str, Any]]) -> None:
    uses = [s.get("uses", "run").split("@")[0] for s in steps]
    assert uses == [
        "actions/setup-python",
        "run",
        "actions/cache",
        "run",
        "run",
        "run",
        "run",
        "actions/upload-artifact",
        "github/codeql-action/upload-sarif",
        "run",
        "run",
    ]
    by_uses = {s.get("uses", "").split("@")[0]: s for s in steps}
    assert by_uses["actions/upload-artifact"]["if"] == "always()"
    assert "inputs.upload-sarif == 'true'" in by_uses["github/codeql-action/upload-sarif"]["if"]
    assert "hashFiles(inputs.manifest)" in by_uses["actions/cache"]["with"]["key"]
    comment = steps[9]
    assert steps[4]["if"] == "inputs.scan-check == 'true'" and "auditor scan . --check" in steps[4]["run"]
    assert steps[3]["if"] == "inputs.require-lock == 'true'" and "--check --manifest-only" in steps[3]["run"]
    assert steps[6]["if"].startswith("inputs.baseline != ''") and "auditor diff" in steps[6]["run"]
    assert comment["if"] == "inputs.comment == 'true'"
    assert comment["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert "gh pr comment" in comment["run"] and "--body-file" in comment["run"]
    assert steps[1]["run"].endswith('pip install --disable-pip-version-check --quiet "$GITHUB_ACTION_PATH"\n')
    assert 'exit "${AUDIT_EXIT_CODE:-1}"' in steps[-1]["run"]


# --------------------------------------------------------------------------- example workflow


def test_example_workflow_triggers_and_permissions() -> None:
    workflow: dict[Any, Any] = load(WORKFLOW)
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert isinstance(triggers, dict) and "pull_request" in triggers
    assert workflow["permissions"] == {
        "contents": "read",
        "security-events": "write",
        "pull-requests": "write",
    }


def test_example_workflow_uses_the_action_with_its_inputs() -> None:
    step = next(s for s in workflow_steps() if s.get("uses") == "./")
    assert set(step["with"]) == set(INPUT_DEFAULTS)
    assert step["with"]["hf-token"] == "${{ secrets.HF_TOKEN }}"
