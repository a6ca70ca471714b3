"""Code scan: model references found in Python, YAML/JSON configs and Ollama Modelfiles.

Fixtures under tests/scan_fixtures/ use only synthetic `example-org/…` ids.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from auditor.manifest import Manifest
from auditor.scan import ScanHit, normalise_ref, proposed_manifest_entries, scan, scan_file, scan_path

FIXTURES = Path(__file__).parent / "scan_fixtures" / "project"


@pytest.fixture(scope="module")
def hits() -> list[ScanHit]:
    return scan_path(FIXTURES)


def found(hits: list[ScanHit]) -> set[tuple[str, str, int, str]]:
    return {(h.ref, h.file, h.line, h.kind) for h in hits}


# --------------------------------------------------------------------------- python


@pytest.mark.parametrize(
    ("ref", "line", "kind"),
    [
        ("example-org/chat-model", 11, "python:from_pretrained"),  # first positional
        ("example-org/chat-model", 13, "python:from_pretrained"),  # pretrained_model_name_or_path=
        ("example-org/lora-adapter", 16, "python:from_pretrained"),  # PeftModel: second positional
        ("example-org/weights-model", 17, "python:hf_hub_download"),  # repo_id=
        ("example-org/snapshot-model", 18, "python:snapshot_download"),
        ("example-org/pipeline-model", 19, "python:pipeline"),  # model=
        ("example-org/embedding-model", 20, "python:SentenceTransformer"),
        ("example-org/vllm-model", 21, "python:LLM"),  # vllm.LLM(model=)
        ("example-org/constant-model", 22, "python:from_pretrained"),  # MODEL_ID constant
    ],
)
def test_python_patterns(hits: list[ScanHit], ref: str, line: int, kind: str) -> None:
    assert (ref, "app/load.py", line, kind) in found(hits)


def test_python_revision_is_captured(hits: list[ScanHit]) -> None:
    pinned = [h for h in hits if h.file == "app/load.py" and h.line == 13]
    assert [h.revision for h in pinned] == ["0123456789abcdef0123456789abcdef01234567"]


def test_python_snippet_is_the_source_line(hits: list[ScanHit]) -> None:
    snippet = next(h.snippet for h in hits if h.ref == "example-org/snapshot-model")
    assert snippet == 'folder = snapshot_download("example-org/snapshot-model")'


def test_python_false_positives_are_ignored(hits: list[ScanHit]) -> None:
    """Only the folder that exists on disk is reported (as a local model); templated, absent, dataset and
    file values are not."""
    assert [(h.ref, h.line, h.target) for h in hits if h.file == "app/ignored.py"] == \
        [("models/local-model", 10, "path")]


def test_fixture_loads_that_name_no_model_are_unresolved_not_dropped() -> None:
    """The loading calls of ignored.py that name no model are unresolved loads (the dataset, the non-model
    call and the local folder are not)."""
    report = scan(FIXTURES)
    assert [(u.file, u.line) for u in report.unresolved] == [
        ("app/ignored.py", 8), ("app/ignored.py", 9), ("app/ignored.py", 11), ("app/ignored.py", 14),
        ("app/ignored.py", 15), ("app/ignored.py", 19)]


def test_unparseable_python_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text('m = AutoModel.from_pretrained("example-org/broken"\n')
    (tmp_path / "ok.py").write_text('m = AutoModel.from_pretrained("example-org/ok")\n')
    assert [h.ref for h in scan_path(tmp_path)] == ["example-org/ok"]


def test_scanned_code_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    (tmp_path / "evil.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nAutoModel.from_pretrained('example-org/evil')\n"
    )
    assert [h.ref for h in scan_path(tmp_path)] == ["example-org/evil"]
    assert not marker.exists()


def test_model_kwarg_only_counts_on_known_calls(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        'client.create(model="example-org/not-a-load")\napi.model_info(repo_id="example-org/by-repo-id")\n'
    )
    assert [(h.ref, h.line) for h in scan_path(tmp_path)] == [("example-org/by-repo-id", 2)]


# --------------------------------------------------------------------------- configs


def test_yaml_model_key(hits: list[ScanHit]) -> None:
    assert ("example-org/served-model", "serve/vllm.yaml", 2, "yaml:model") in found(hits)


def test_compose_model_args(hits: list[ScanHit]) -> None:
    assert ("example-org/compose-model", "docker-compose.yml", 4, "yaml:--model") in found(hits)
    assert ("example-org/vllm-served", "docker-compose.yml", 7, "yaml:vllm-serve") in found(hits)


def test_compose_non_models_ignored(hits: list[ScanHit]) -> None:
    refs = {h.ref for h in hits if h.file == "docker-compose.yml"}
    assert refs == {"example-org/compose-model", "example-org/vllm-served"}


def test_json_model_key_and_args(hits: list[ScanHit]) -> None:
    assert ("example-org/json-model", "config.json", 3, "json:model") in found(hits)
    assert ("example-org/json-arg-model", "config.json", 4, "json:--model") in found(hits)
    assert {h.ref for h in hits if h.file == "config.json"} == {
        "example-org/json-model",
        "example-org/json-arg-model",
    }


def test_yaml_block_scalar_command(tmp_path: Path) -> None:
    (tmp_path / "job.yaml").write_text(
        "steps:\n  - run: |\n      vllm serve example-org/block-model --port 1\n"
        "  - base_model: [example-org/base-a, example-org/base-b]\n"
        "  - model: 7\n"
    )
    assert [(h.ref, h.line) for h in scan_path(tmp_path)] == [
        ("example-org/block-model", 3),
        ("example-org/base-a", 4),
        ("example-org/base-b", 4),
    ]


def test_invalid_yaml_and_json_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("model: [example-org/x\n")
    (tmp_path / "bad.json").write_text('{"model": "example-org/x"')
    assert scan_path(tmp_path) == []


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("model: !!python/object/apply:os.system ['true']\n")
    assert scan_path(tmp_path) == []


# --------------------------------------------------------------------------- Modelfile


def test_modelfile_hf_co_with_quant(hits: list[ScanHit]) -> None:
    assert ("example-org/gguf-model", "ollama/Modelfile", 2, "modelfile:FROM") in found(hits)


def test_modelfile_owner_name_with_tag_is_an_ollama_model(hits: list[ScanHit]) -> None:
    """Without `hf.co/`, a Modelfile's FROM names a model in Ollama's registry, not a Hub repo."""
    hit = next(h for h in hits if h.file == "ollama/Modelfile.small")
    assert (hit.ref, hit.line, hit.kind, hit.target) == ("example-org/ollama-model:latest", 1, "modelfile:FROM",
                                                         "ollama")


def test_modelfile_local_weights_ignored(hits: list[ScanHit]) -> None:
    assert [h for h in hits if h.file == "ollama/local.modelfile"] == []


# --------------------------------------------------------------------------- walking


def test_output_is_sorted_and_deduplicated(hits: list[ScanHit]) -> None:
    keys = [(h.file, h.line, h.ref, h.kind) for h in hits]
    assert keys == sorted(keys)
    assert len({(h.ref, h.file, h.line) for h in hits}) == len(hits)


def test_same_ref_twice_on_one_line_is_one_hit(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('pipeline("t", "example-org/m", model="example-org/m")\n')
    assert len(scan_path(tmp_path)) == 1


def test_skipped_directories(tmp_path: Path) -> None:
    line = 'AutoModel.from_pretrained("example-org/m")\n'
    for folder in (".git", ".venv", "node_modules", "custom-env"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.py").write_text(line)
    (tmp_path / "custom-env" / "pyvenv.cfg").write_text("home = /usr\n")  # any virtualenv
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "x.py").write_text(line)
    assert [h.file for h in scan_path(tmp_path)] == ["src/x.py"]


def test_large_and_binary_files_skipped(tmp_path: Path) -> None:
    line = 'AutoModel.from_pretrained("example-org/m")\n'
    (tmp_path / "big.py").write_text(line + "#" * (2 * 1024 * 1024))
    (tmp_path / "bin.py").write_bytes(line.encode() + b"\x00\x01")
    (tmp_path / "latin1.py").write_bytes(line.encode() + b"# \xff\n")
    (tmp_path / "ok.py").write_text(line)
    assert [h.file for h in scan_path(tmp_path)] == ["ok.py"]


def test_scan_a_single_file() -> None:
    hits = scan_path(FIXTURES / "serve" / "vllm.yaml")
    assert [(h.ref, h.file, h.line) for h in hits] == [("example-org/served-model", "vllm.yaml", 2)]


def test_scan_file_ignores_unknown_file_types(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text('from_pretrained("example-org/m")\n')
    assert scan_file(path, tmp_path) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("example-org/m", "example-org/m"),
        ("hf.co/example-org/m:Q4_K_M", "example-org/m"),
        ("https://huggingface.co/example-org/m/tree/main", "example-org/m"),
        ("./example-org/m", None),
        ("/srv/models/m", None),
        ("example-org/m.gguf", None),
        ("s3://bucket/m", None),
        ("gpt2", None),
        ("example-org/..", None),
    ],
)
def test_normalise_ref(value: str, expected: str | None) -> None:
    assert normalise_ref(value) == expected


# --------------------------------------------------------------------------- proposal


def test_proposed_entries_are_a_valid_manifest(hits: list[ScanHit]) -> None:
    text = proposed_manifest_entries(hits)
    manifest = Manifest.model_validate(yaml.safe_load(text))
    hub = sorted({h.ref for h in hits if h.target == "hub"})
    assert [m.ref.id for m in manifest.models if m.ref.kind == "hub"] == hub


def test_proposed_entries_comment_where_found(hits: list[ScanHit]) -> None:
    text = proposed_manifest_entries(hits)
    assert "  # found in app/load.py:11, app/load.py:13\n  - id: example-org/chat-model\n" in text
    assert '    revision: "0123456789abcdef0123456789abcdef01234567"\n' in text
    assert "  # found in ollama/Modelfile:2\n  - id: example-org/gguf-model\n" in text


def test_proposed_entries_limit_places() -> None:
    many = [
        ScanHit(ref="example-org/m", file="a.py", line=n, kind="python:pipeline", snippet="")
        for n in range(7)
    ]
    text = proposed_manifest_entries(many, max_places=2)
    assert "# found in a.py:0, a.py:1 and 5 more" in text


def test_proposed_entries_when_nothing_found() -> None:
    assert yaml.safe_load(proposed_manifest_entries([])) == {"models": []}


def test_parameter_shadowing_a_constant_is_not_resolved(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        'MODEL = "example-org/default"\n'
        "def load(MODEL):\n"
        "    return AutoModel.from_pretrained(MODEL)\n"
        'OTHER = "example-org/other"\n'
        "AutoModel.from_pretrained(OTHER)\n"
    )
    assert [(h.ref, h.line) for h in scan_path(tmp_path)] == [("example-org/other", 5)]
