"""`auditor scan` never silently drops a model the code loads: environment defaults, unresolved loads and
their acknowledgement comments, bare legacy ids, and files that do not parse ("doubt is never a pass")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from auditor.scan import ScanReport, scan
from tests.test_cli import cli

# The file of the brief, as written: today's scan reported only line 4.
BRIEF_FILE = """\
import os
from transformers import AutoModelForCausalLM, AutoTokenizer
from diffusers import DiffusionPipeline
m = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B-Instruct")
t = AutoTokenizer.from_pretrained(os.environ.get("MODEL", "Qwen/Qwen2.5-7B-Instruct"))
p = DiffusionPipeline.from_pretrained(MODEL_ID)          # MODEL_ID computed elsewhere
from sentence_transformers import SentenceTransformer
s = SentenceTransformer("all-MiniLM-L6-v2")
g = AutoModelForCausalLM.from_pretrained("gpt2")
"""
LEGACY = "a legacy id without an owner: the Hub redirects it; write owner/name (see the model page)"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _scan(tmp_path: Path, code: str, name: str = "app.py") -> ScanReport:
    _write(tmp_path / "src", name, code)
    return scan(tmp_path / "src")


def _manifest(tmp_path: Path, *ids: str) -> Path:
    entries = "".join(f"  - id: {i}\n" for i in ids)
    return _write(tmp_path, "auditor.yaml", "use:\n  commercial: true\nmodels:\n" + entries)


# --------------------------------------------------------------------------- the brief's file


def test_the_brief_file_reports_every_load(tmp_path: Path) -> None:
    report = _scan(tmp_path, BRIEF_FILE)
    assert [(h.ref, h.line, h.kind) for h in report.hits] == [
        ("meta-llama/Llama-3.1-8B-Instruct", 4, "python:from_pretrained"),
        ("Qwen/Qwen2.5-7B-Instruct", 5, "python:env-default"),
        ("sentence-transformers/all-MiniLM-L6-v2", 8, "python:SentenceTransformer"),
    ]
    assert [(u.line, u.call) for u in report.unresolved] == [
        (6, "DiffusionPipeline.from_pretrained(MODEL_ID)"),
        (9, "AutoModelForCausalLM.from_pretrained('gpt2')"),
    ]
    assert "`MODEL_ID`" in report.unresolved[0].reason
    assert LEGACY in report.unresolved[1].reason


def test_the_brief_file_fails_a_check_listing_only_line_4(tmp_path: Path) -> None:
    _write(tmp_path / "src", "app.py", BRIEF_FILE)
    manifest = _manifest(tmp_path, "meta-llama/Llama-3.1-8B-Instruct")
    run = cli("scan", tmp_path / "src", "--check", manifest)
    assert run.code == 1
    lines = run.out.splitlines()
    assert [line.split(":")[1] for line in lines] == ["5", "8", "6", "9"]
    assert "app.py:6: `DiffusionPipeline.from_pretrained(MODEL_ID)` loads a model the scan cannot name" in run.out
    assert "app.py:9:" in run.out and LEGACY in run.out
    assert "2 load(s) the scan cannot name" in run.err


def test_plain_scan_of_the_brief_file_exits_0_and_lists_unresolved_loads(tmp_path: Path) -> None:
    _write(tmp_path / "src", "app.py", BRIEF_FILE)
    run = cli("scan", tmp_path / "src")
    assert run.code == 0
    assert "2 unresolved load(s)" in run.err
    proposed = yaml.safe_load(run.out)  # the unresolved block is comments: the output stays a valid snippet
    assert [m["id"] for m in proposed["models"]] == ["meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-7B-Instruct",
                                                     "sentence-transformers/all-MiniLM-L6-v2"]
    block = run.out.split("# Unresolved loads:", 1)[1]
    assert "#   app.py:6: `DiffusionPipeline.from_pretrained(MODEL_ID)`:" in block
    assert "#   app.py:9: `AutoModelForCausalLM.from_pretrained('gpt2')`:" in block
    assert "# auditor: loads owner/name" in block and "# auditor: ignore" in block


# --------------------------------------------------------------------------- environment defaults


@pytest.mark.parametrize(
    ("code", "variable"),
    [
        ('import os\nm = AutoModel.from_pretrained(os.environ.get("M1", "example-org/a"))\n', "M1"),
        ('import os\nm = AutoModel.from_pretrained(os.getenv("M2", "example-org/a"))\n', "M2"),
        ('import os\nm = AutoModel.from_pretrained(os.environ.get("M3") or "example-org/a")\n', "M3"),
        ('import os\nm = AutoModel.from_pretrained(os.getenv("M4", default="example-org/a"))\n', "M4"),
        ('from os import getenv\nm = AutoModel.from_pretrained(getenv("M5", "example-org/a"))\n', "M5"),
        ('from os import environ\nm = AutoModel.from_pretrained(environ.get("M6", "example-org/a"))\n', "M6"),
        ('import os\nMODEL = os.getenv("M7", "example-org/a")\nm = AutoModel.from_pretrained(MODEL)\n', "M7"),
        ('import os\nD = "example-org/a"\nMODEL = os.getenv("M8", D)\nm = AutoModel.from_pretrained(MODEL)\n', "M8"),
        ('import os\nm = pipeline("text-generation", model=os.getenv("M9", "example-org/a"))\n', "M9"),
    ],
)
def test_environment_defaults_are_references_naming_the_variable(tmp_path: Path, code: str, variable: str) -> None:
    report = _scan(tmp_path, code)
    assert [(h.ref, h.kind, h.confidence) for h in report.hits] == [("example-org/a", "python:env-default", "medium")]
    assert report.hits[0].note is not None and variable in report.hits[0].note
    assert "deployed value may differ" in report.hits[0].note
    assert report.unresolved == []


def test_environment_default_note_is_in_the_proposed_entries_and_text(tmp_path: Path) -> None:
    _write(tmp_path / "src", "app.py", 'import os\nAutoModel.from_pretrained(os.getenv("CHAT_MODEL", "example-org/a"))\n')
    proposed = cli("scan", tmp_path / "src").out
    assert "# the default of the environment variable CHAT_MODEL; the deployed value may differ\n  - id: example-org/a" \
        in proposed
    assert "CHAT_MODEL" in cli("scan", tmp_path / "src", "--format", "text").out


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ('import os\nAutoModel.from_pretrained(os.environ["M"])\n', "the environment variable M, with no default"),
        ('import os\nAutoModel.from_pretrained(os.getenv("M"))\n', "the environment variable M, with no default"),
        ('import os\nAutoModel.from_pretrained(os.getenv("M", pick()))\n', "the environment variable M, whose default"),
        ('import os\nAutoModel.from_pretrained(os.environ.get("M") or other)\n', "an expression"),
    ],
)
def test_environment_lookups_without_a_literal_default_are_unresolved(tmp_path: Path, code: str, why: str) -> None:
    report = _scan(tmp_path, code)
    assert report.hits == []
    assert [u.line for u in report.unresolved] == [2]
    assert why in report.unresolved[0].reason


def test_an_environment_name_with_a_line_break_cannot_inject_yaml(tmp_path: Path) -> None:
    _write(tmp_path / "src", "app.py",
           'import os\nAutoModel.from_pretrained(os.getenv("A\\nmodels: [evil]", "example-org/a"))\n')
    proposed = yaml.safe_load(cli("scan", tmp_path / "src").out)
    assert proposed == {"models": [{"id": "example-org/a"}]}


# --------------------------------------------------------------------------- unresolved loads


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ('name = input()\nname = name.strip()\nAutoModel.from_pretrained(name)\n', "the variable `name`"),
        ('def load(path):\n    return AutoModel.from_pretrained(path)\n', "the variable `path`"),
        ('org = "example-org"\nAutoModel.from_pretrained(f"{org}/x")\n', "an f-string"),
        ('AutoModel.from_pretrained(args.model)\n', "an attribute (`args.model`)"),
        ('AutoModel.from_pretrained(pick_model())\n', "the result of a call (`pick_model()`)"),
        ('AutoModel.from_pretrained("example-org/" + size)\n', "a computed string"),
        ('AutoModel.from_pretrained(*argv)\n', "unpacked arguments"),
        ('llm = LLM(model=cfg["model"])\n', "a subscript"),
        ('import ollama\nollama.chat(model=MODEL, messages=[])\n', "the variable `MODEL`"),
        ('A = B\nB = A\nAutoModel.from_pretrained(A)\n', "the variable `A`"),  # a cycle ends
    ],
)
def test_loads_the_scanner_cannot_resolve_are_reported(tmp_path: Path, code: str, why: str) -> None:
    report = _scan(tmp_path, code)
    assert report.hits == []
    assert len(report.unresolved) == 1
    assert why in report.unresolved[0].reason
    assert report.unresolved[0].line == code.count("\n")


@pytest.mark.parametrize(
    "code",
    [
        'model = AutoModel.from_pretrained("example-org/a")\ngen = pipeline("text-generation", model=model)\n',
        'create_repo(repo_id=name)\nupload_file(repo_id=name, path_or_fileobj="x")\n',  # not loading calls
        'print(name)\nparser.add_argument("--model", default=DEFAULT)\n',
        'AutoModel.from_pretrained(None)\n',
    ],
)
def test_what_is_not_an_unresolved_load(tmp_path: Path, code: str) -> None:
    assert _scan(tmp_path, code).unresolved == []


def test_unresolved_loads_in_every_format(tmp_path: Path) -> None:
    _write(tmp_path / "src", "app.py", 'AutoModel.from_pretrained("example-org/a")\nAutoModel.from_pretrained(args.m)\n')
    text = cli("scan", tmp_path / "src", "--format", "text").out
    assert "app.py:2: unresolved `AutoModel.from_pretrained(args.m)`: the model argument is an attribute" in text
    document = json.loads(cli("scan", tmp_path / "src", "--format", "json").out)
    assert [r["ref"] for r in document["references"]] == ["example-org/a"]
    assert [(u["file"], u["line"], u["call"]) for u in document["unresolved"]] == \
        [("app.py", 2, "AutoModel.from_pretrained(args.m)")]
    assert "an attribute" in document["unresolved"][0]["reason"]
    assert document["unresolved"][0]["snippet"] == "AutoModel.from_pretrained(args.m)"
    assert document["skipped"] == []
    assert "#   app.py:2: `AutoModel.from_pretrained(args.m)`:" in cli("scan", tmp_path / "src").out


def test_unresolved_loads_in_notebooks_name_the_cell(tmp_path: Path) -> None:
    notebook = {"cells": [{"cell_type": "markdown", "source": "x"},
                          {"cell_type": "code", "source": ["m = AutoModel.from_pretrained(choice)\n"]}]}
    report = _scan(tmp_path, json.dumps(notebook), "nb.ipynb")
    assert [(u.where, u.call) for u in report.unresolved] == [("nb.ipynb:cell 2:1", "AutoModel.from_pretrained(choice)")]


def test_update_notes_unresolved_loads(tmp_path: Path) -> None:
    _write(tmp_path / "src", "app.py", "AutoModel.from_pretrained(args.m)\n")
    run = cli("scan", tmp_path / "src", "--update", _manifest(tmp_path, "example-org/listed"))
    assert run.code == 0 and "note: app.py:1: `AutoModel.from_pretrained(args.m)` loads a model" in run.err


# --------------------------------------------------------------------------- acknowledgement comments


@pytest.mark.parametrize(
    "code",
    [
        "AutoModel.from_pretrained(args.m)  # auditor: loads example-org/deployed\n",
        "# auditor: loads example-org/deployed\nAutoModel.from_pretrained(args.m)\n",
        "x = 1\nAutoModel.from_pretrained(  # auditor: loads example-org/deployed\n    args.m,\n)\n",
        "#AUDITOR:   loads   example-org/deployed\nAutoModel.from_pretrained(args.m)\n",
    ],
)
def test_loads_comment_names_the_reference_and_passes_the_check(tmp_path: Path, code: str) -> None:
    report = _scan(tmp_path, code)
    assert report.unresolved == []
    assert [(h.ref, h.kind) for h in report.hits] == [("example-org/deployed", "python:acknowledged")]
    assert cli("scan", tmp_path / "src", "--check", _manifest(tmp_path, "example-org/deployed")).code == 0
    missing = cli("scan", tmp_path / "src", "--check", _manifest(tmp_path, "example-org/other"))
    assert missing.code == 1 and "example-org/deployed is loaded here but not listed" in missing.out


def test_loads_comment_acknowledges_a_legacy_id(tmp_path: Path) -> None:
    report = _scan(tmp_path, 'AutoModel.from_pretrained("gpt2")  # auditor: loads example-org/gpt2\n')
    assert [h.ref for h in report.hits] == ["example-org/gpt2"] and report.unresolved == []


def test_ignore_comment_drops_the_load_and_passes_the_check(tmp_path: Path) -> None:
    report = _scan(tmp_path, "AutoModel.from_pretrained(tmp_dir)  # auditor: ignore\n"
                             'AutoModel.from_pretrained("example-org/a")\n')
    assert report.unresolved == [] and [h.ref for h in report.hits] == ["example-org/a"]
    assert cli("scan", tmp_path / "src", "--check", _manifest(tmp_path, "example-org/a")).code == 0


def test_an_ollama_load_is_acknowledged_with_an_ollama_name(tmp_path: Path) -> None:
    report = _scan(tmp_path, "import ollama\nollama.chat(model=m, messages=[])  # auditor: loads llama3.1:8b\n")
    assert [(h.ref, h.target) for h in report.hits] == [("llama3.1:8b", "ollama")]


@pytest.mark.parametrize(
    ("comment", "problem"),
    [
        ("# auditor: lods example-org/x", "Did you mean 'loads'?"),
        ("# auditor: ignroe", "Did you mean 'ignore'?"),
        ("# auditor:", "is empty"),
        ("# auditor: loads", "names no Hub repo id"),
        ("# auditor: loads not a repo", "names no Hub repo id"),
        ("# auditor: loads gpt2", "names no Hub repo id"),  # a bare id is what needs an owner
        ("# auditor: loads ../../etc/passwd", "names no Hub repo id"),
        ("# auditor: loads https://evil.example/x/y", "names no Hub repo id"),
        ("# auditor: ignore please", "takes nothing after `ignore`"),
        ("# auditor: " + "loads " * 5000, "names no Hub repo id"),
    ],
)
def test_bad_comments_leave_the_load_unresolved_and_fail_the_check(tmp_path: Path, comment: str, problem: str) -> None:
    report = _scan(tmp_path, f"AutoModel.from_pretrained(args.m)  {comment}\n")
    assert report.hits == []
    assert len(report.unresolved) == 1 and problem in report.unresolved[0].reason
    assert len(report.unresolved[0].reason) < 800  # a hostile comment is quoted shortened
    run = cli("scan", tmp_path / "src", "--check", _manifest(tmp_path, "example-org/x"))
    assert run.code == 1 and "app.py:1:" in run.out


def test_a_comment_inside_a_string_is_no_acknowledgement(tmp_path: Path) -> None:
    report = _scan(tmp_path, 'AutoModel.from_pretrained(args.m, note="# auditor: ignore")\n')
    assert len(report.unresolved) == 1


def test_a_comment_two_lines_above_is_no_acknowledgement(tmp_path: Path) -> None:
    report = _scan(tmp_path, "# auditor: ignore\n\nAutoModel.from_pretrained(args.m)\n")
    assert len(report.unresolved) == 1


# --------------------------------------------------------------------------- bare legacy ids


@pytest.mark.parametrize("code", ['AutoModel.from_pretrained("gpt2")\n', 'pipeline("fill-mask", model="bert-base-uncased")\n',
                                  'SentenceTransformer("bert-base-uncased")\n', 'hf_hub_download("t5-small", "x.json")\n'])
def test_bare_legacy_ids_are_unresolved_never_given_an_owner(tmp_path: Path, code: str) -> None:
    report = _scan(tmp_path, code)
    assert report.hits == []
    assert len(report.unresolved) == 1 and LEGACY in report.unresolved[0].reason


def test_sentence_transformers_bare_name_is_its_organisations_model(tmp_path: Path) -> None:
    """sentence_transformers/SentenceTransformer.py prefixes a bare name that is not a legacy transformers id
    with "sentence-transformers/"; a legacy id it lists (bert-base-uncased, above) stays unresolved."""
    report = _scan(tmp_path, 'SentenceTransformer("all-mpnet-base-v2")\nCrossEncoder("ms-marco-x")\n')
    assert [(h.ref, h.line) for h in report.hits] == [("sentence-transformers/all-mpnet-base-v2", 1)]
    assert [u.line for u in report.unresolved] == [2]  # CrossEncoder does not prefix: not guessed


def test_a_bare_name_that_is_a_local_folder_is_a_local_model(tmp_path: Path) -> None:
    (tmp_path / "src" / "gpt2").mkdir(parents=True)
    report = _scan(tmp_path, 'AutoModel.from_pretrained("gpt2")\n')
    assert [(h.ref, h.target) for h in report.hits] == [("gpt2", "path")] and report.unresolved == []


def test_a_literal_that_names_nothing_at_a_loading_call_is_unresolved(tmp_path: Path) -> None:
    report = _scan(tmp_path, 'AutoModel.from_pretrained("./checkpoints/run-1")\nLLM(model="gpt-4o")\n')
    assert [u.line for u in report.unresolved] == [1]  # the hosted-API name is left out on purpose
    assert "names no Hub repo" in report.unresolved[0].reason


# --------------------------------------------------------------------------- files that do not parse


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("broken.py", 'x = 1\nAutoModel.from_pretrained("example-org/a"\n', 2),
        ("nb.ipynb", '{"cells": [\n', 2),
        ("compose.yaml", "services:\n  a: [unclosed\n", 3),
        ("pyproject.toml", "[tool]\nx = = 1\n", 2),
        ("config.json", '{"model": "example-org/a",\n}\n', 2),
    ],
)
def test_unparseable_files_are_skipped_with_their_line(tmp_path: Path, name: str, text: str, line: int) -> None:
    _write(tmp_path / "src", "ok.py", 'AutoModel.from_pretrained("example-org/ok")\n')
    report = _scan(tmp_path, text, name)
    assert [h.ref for h in report.hits] == ["example-org/ok"]
    assert [(s.file, s.line, s.unparseable) for s in report.skipped] == [(name, line, True)]
    assert "does not" in report.skipped[0].reason
    plain = cli("scan", tmp_path / "src")
    assert plain.code == 0 and f"note: skipped {name}:{line}:" in plain.err and "example-org/ok" in plain.out
    check = cli("scan", tmp_path / "src", "--check", _manifest(tmp_path, "example-org/ok"))
    assert check.code == 2 and f"error: {name}:{line}:" in check.err


def test_unparseable_files_in_every_format(tmp_path: Path) -> None:
    _write(tmp_path / "src", "broken.py", "def (:\n")
    assert "broken.py:1: Python does not parse" in cli("scan", tmp_path / "src", "--format", "text").out
    skipped = json.loads(cli("scan", tmp_path / "src", "--format", "json").out)["skipped"]
    assert [(s["file"], s["line"], s["unparseable"]) for s in skipped] == [("broken.py", 1, True)]
    assert "#   broken.py:1: Python does not parse" in cli("scan", tmp_path / "src").out


def test_a_notebook_cell_that_does_not_parse_is_named(tmp_path: Path) -> None:
    notebook = {"cells": [{"cell_type": "code", "source": "AutoModel.from_pretrained('example-org/a')"},
                          {"cell_type": "code", "source": "x = (\n"}]}
    report = _scan(tmp_path, json.dumps(notebook), "nb.ipynb")
    assert [h.ref for h in report.hits] == ["example-org/a"]
    assert [(s.file, s.cell, s.line) for s in report.skipped] == [("nb.ipynb", 2, 1)]


def test_too_deep_python_is_skipped_as_unparseable(tmp_path: Path) -> None:
    report = _scan(tmp_path, "x = " + "(" * 5000 + ")" * 5000 + "\n", "deep.py")
    assert [(s.file, s.unparseable) for s in report.skipped] == [("deep.py", True)]


def test_exclude_leaves_out_files_not_meant_to_parse(tmp_path: Path) -> None:
    _write(tmp_path / "src", "charts/app/templates/deploy.yaml",
           "{{- if .Values.enabled }}\nkind: Deployment\n{{- end }}\n")  # a Helm template: not YAML
    _write(tmp_path / "src", "app.py", 'AutoModel.from_pretrained("example-org/ok")\n')
    manifest = _manifest(tmp_path, "example-org/ok")
    assert cli("scan", tmp_path / "src", "--check", manifest).code == 2
    assert cli("scan", tmp_path / "src", "--check", manifest, "--exclude", "charts/*/templates").code == 0
    assert cli("scan", tmp_path / "src", "--check", manifest, "--exclude", "*.yaml").code == 0
    empty = cli("scan", tmp_path / "src", "--exclude", " ")
    assert empty.code == 2 and "--exclude" in empty.err


def test_files_too_large_stay_notes_not_gate_errors(tmp_path: Path) -> None:
    _write(tmp_path / "src", "tokenizer.json", '{"x": "' + "a" * (3 * 1024 * 1024) + '"}')
    _write(tmp_path / "src", "app.py", 'AutoModel.from_pretrained("example-org/ok")\n')
    run = cli("scan", tmp_path / "src", "--check", _manifest(tmp_path, "example-org/ok"))
    assert run.code == 0 and "note: skipped tokenizer.json:" in run.err


def test_help_documents_the_comments() -> None:
    text = cli("scan", "--help").out
    assert "# auditor: loads owner/name" in text and "# auditor: ignore" in text


def test_a_huge_call_is_named_not_unparsed(tmp_path: Path) -> None:
    items = ", ".join(str(n) for n in range(5000))
    report = _scan(tmp_path, f"AutoModel.from_pretrained(args.m, extra=[{items}])\n")
    assert [u.call for u in report.unresolved] == ["AutoModel.from_pretrained(…)"]
