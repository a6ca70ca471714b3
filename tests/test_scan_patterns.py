"""`auditor scan`: each pattern of issue "Audit what is really deployed" on a realistic snippet, and the
manifest gate (`--check`) and edit (`--update`). Synthetic `example-org/…` ids only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from auditor.scan import ScanHit, scan, scan_path
from tests.test_cli import cli


def _hits(tmp_path: Path, name: str, text: str) -> list[tuple[str, int, str, str]]:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return [(h.ref, h.line, h.kind, h.target) for h in scan_path(tmp_path) if h.file == name]


PYTHON_CASES = [
    ('pipe = DiffusionPipeline.from_pretrained("example-org/base")\npipe.load_lora_weights("example-org/style-lora")\n',
     [("example-org/base", 1, "python:from_pretrained", "hub"),
      ("example-org/style-lora", 2, "python:load_lora_weights", "hub")]),
    ('pipe = StableDiffusionPipeline.from_single_file("example-org/single")\n',
     [("example-org/single", 1, "python:from_single_file", "hub")]),
    ('from peft import PeftModel\nm = PeftModel.from_pretrained(base, "example-org/support-lora")\n',
     [("example-org/support-lora", 2, "python:from_pretrained", "hub")]),
    ('model = AutoModel.from_pretrained(pretrained_model_name_or_path="example-org/kw")\n',
     [("example-org/kw", 1, "python:from_pretrained", "hub")]),
    ('from mlx_lm import load\nmodel, tok = load("example-org/mlx-4bit")\n',
     [("example-org/mlx-4bit", 2, "python:load", "hub")]),
    ('import mlx_lm\nmodel, tok = mlx_lm.load("example-org/mlx-8bit")\n',
     [("example-org/mlx-8bit", 2, "python:load", "hub")]),
    ('llm = Llama.from_pretrained(repo_id="example-org/gguf-repo", filename="*Q4_K_M.gguf")\n',
     [("example-org/gguf-repo", 1, "python:from_pretrained", "hub")]),
    ('emb = HuggingFaceEmbeddings(model_name="example-org/embedder")\n',
     [("example-org/embedder", 1, "python:HuggingFaceEmbeddings", "hub")]),
    ('emb = HuggingFaceEmbedding(model_name="example-org/li-embedder")\n',
     [("example-org/li-embedder", 1, "python:HuggingFaceEmbedding", "hub")]),
    ('llm = HuggingFaceEndpoint(repo_id="example-org/endpoint-model", max_new_tokens=64)\n',
     [("example-org/endpoint-model", 1, "python:HuggingFaceEndpoint", "hub")]),
    ('llm = LLM(model="example-org/vllm-model")\n', [("example-org/vllm-model", 1, "python:LLM", "hub")]),
    ('gen = pipeline(model="example-org/pipe-model")\n', [("example-org/pipe-model", 1, "python:pipeline", "hub")]),
    ('st = SentenceTransformer("example-org/st-model")\n', [("example-org/st-model", 1, "python:SentenceTransformer", "hub")]),
    ('p = hf_hub_download(repo_id="example-org/files", filename="w.safetensors")\n',
     [("example-org/files", 1, "python:hf_hub_download", "hub")]),
    ('import ollama\nollama.chat(model="llama3.1:8b", messages=[])\nollama.pull("qwen2.5-coder:7b")\n',
     [("llama3.1:8b", 2, "python:chat", "ollama"), ("qwen2.5-coder:7b", 3, "python:pull", "ollama")]),
    ('llm = ChatOllama(model="mistral-nemo")\nemb = OllamaEmbeddings(model="nomic-embed-text")\n',
     [("mistral-nemo", 1, "python:ChatOllama", "ollama"), ("nomic-embed-text", 2, "python:OllamaEmbeddings", "ollama")]),
    ('import argparse\np = argparse.ArgumentParser()\np.add_argument("--model", default="example-org/cli-default")\n',
     [("example-org/cli-default", 3, "python:option-default", "hub")]),
    ('import click\n@click.option("--model-id", default="example-org/click-default")\ndef main(model_id): ...\n',
     [("example-org/click-default", 2, "python:option-default", "hub")]),
    ('BASE = "example-org/constant"\nm = AutoModelForCausalLM.from_pretrained(BASE)\n',
     [("example-org/constant", 2, "python:from_pretrained", "hub")]),
]


@pytest.mark.parametrize(("code", "expected"), PYTHON_CASES)
def test_python_patterns(tmp_path: Path, code: str, expected: list[tuple[str, int, str, str]]) -> None:
    assert _hits(tmp_path, "app.py", code) == expected


def test_a_local_adapter_folder_and_a_gguf_file_are_local_models(tmp_path: Path) -> None:
    (tmp_path / "models" / "support-lora").mkdir(parents=True)
    (tmp_path / "models" / "support-lora" / "adapter_config.json").write_text("{}")
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "m.gguf").write_bytes(b"GGUF")
    code = ('m = PeftModel.from_pretrained(base, "./models/support-lora")\n'
            'llm = Llama(model_path="weights/m.gguf")\n')
    assert _hits(tmp_path, "serve.py", code) == [
        ("models/support-lora", 1, "python:from_pretrained", "path"),
        ("weights/m.gguf", 2, "python:Llama", "path"),
    ]


def test_hosted_api_models_are_left_out_unless_asked(tmp_path: Path) -> None:
    code = ('import litellm\nlitellm.completion(model="openai/gpt-4o")\nLLM(model="anthropic/claude-3-5-sonnet")\n'
            'ChatOllama(model="gpt-4o")\nLLM(model="example-org/real")\n')
    (tmp_path / "a.py").write_text(code)
    assert [h.ref for h in scan_path(tmp_path)] == ["example-org/real"]
    assert {h.ref for h in scan_path(tmp_path, include_api=True)} >= {"anthropic/claude-3-5-sonnet", "example-org/real"}


SHELL = """#!/usr/bin/env bash
set -euo pipefail
vllm serve example-org/served --port 8000
python -m vllm.entrypoints.openai.api_server \\
    --model example-org/continued --tensor-parallel-size 2
llama-server -hf example-org/llamacpp-gguf:Q4_K_M --port 8080
llama-cli --hf-repo example-org/llamacpp-repo -p hi
huggingface-cli download example-org/downloaded --local-dir /models
hf download example-org/hf-cli
ollama pull llama3.1:8b && ollama run qwen2.5:14b
export MODEL_ID=example-org/exported
"""


def test_shell_script_patterns(tmp_path: Path) -> None:
    assert _hits(tmp_path, "serve.sh", SHELL) == [
        ("example-org/served", 3, "shell:vllm-serve", "hub"),
        ("example-org/continued", 4, "shell:--model", "hub"),
        ("example-org/llamacpp-gguf", 6, "shell:-hf", "hub"),
        ("example-org/llamacpp-repo", 7, "shell:--hf-repo", "hub"),
        ("example-org/downloaded", 8, "shell:huggingface-cli-download", "hub"),
        ("example-org/hf-cli", 9, "shell:hf-download", "hub"),
        ("llama3.1:8b", 10, "shell:ollama-pull", "ollama"),
        ("qwen2.5:14b", 10, "shell:ollama-run", "ollama"),
        ("example-org/exported", 11, "shell:MODEL_ID", "hub"),
    ]


def test_dockerfile_env_and_exec_form(tmp_path: Path) -> None:
    dockerfile = ('FROM ghcr.io/huggingface/text-generation-inference:2.4\n'
                  'ENV MODEL_ID=example-org/tgi-model\n'
                  'RUN huggingface-cli download example-org/baked-in\n'
                  'CMD ["vllm", "serve", "example-org/exec-form"]\n')
    assert _hits(tmp_path, "Dockerfile", dockerfile) == [
        ("example-org/tgi-model", 2, "docker:MODEL_ID", "hub"),
        ("example-org/baked-in", 3, "docker:huggingface-cli-download", "hub"),
        ("example-org/exec-form", 4, "docker:vllm-serve", "hub"),
    ]


def test_dotenv(tmp_path: Path) -> None:
    assert _hits(tmp_path, ".env", "# settings\nMODEL_ID=example-org/env-model\nPORT=8080\n") == [
        ("example-org/env-model", 2, "env:MODEL_ID", "hub")]


def test_kubernetes_env_entry_and_args(tmp_path: Path) -> None:
    manifest = """apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: tgi
          image: ghcr.io/huggingface/text-generation-inference:2.4
          env:
            - name: MODEL_ID
              value: example-org/k8s-model
          args: ["--model-id", "example-org/k8s-arg"]
"""
    assert sorted(_hits(tmp_path, "deploy.yaml", manifest)) == [
        ("example-org/k8s-arg", 12, "yaml:--model-id", "hub"),
        ("example-org/k8s-model", 11, "yaml:MODEL_ID", "hub"),
    ]


def test_toml_and_notebook(tmp_path: Path) -> None:
    assert _hits(tmp_path, "config.toml", '[llm]\nmodel_name = "example-org/toml-model"\n') == [
        ("example-org/toml-model", 2, "toml:model_name", "hub")]
    notebook = {"cells": [
        {"cell_type": "markdown", "source": ["from_pretrained('example-org/not-code')"]},
        {"cell_type": "code", "source": ["!pip install transformers\n", "\n",
                                         "tok = AutoTokenizer.from_pretrained('example-org/nb-model')\n"]},
        {"cell_type": "code", "source": "!huggingface-cli download example-org/nb-download\n"},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    hits = [h for h in scan_path(_write(tmp_path, "explore.ipynb", json.dumps(notebook)))]
    assert [(h.ref, h.cell, h.line, h.kind) for h in hits] == [
        ("example-org/nb-model", 2, 3, "notebook:from_pretrained"),
        ("example-org/nb-download", 3, 1, "notebook:huggingface-cli-download"),
    ]
    assert hits[0].where == "explore.ipynb:cell 2:3"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / "nb"
    path.mkdir(exist_ok=True)
    (path / name).write_text(text)
    return path


def test_the_auditors_own_files_are_not_scanned() -> None:
    """On examples/: a waiver's model, a manifest's own entries and the snapshot are not proposed."""
    refs = {h.ref for h in scan_path(Path("examples"))}
    assert "deepseek-ai/DeepSeek-R1-Distill-Llama-8B" not in refs  # the policy's waiver
    assert "Qwen/Qwen2.5-7B" not in refs  # a manifest entry's base_model


def test_hostile_files_are_skipped_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text('from_pretrained("example-org/m")\n' + "#" * (3 * 1024 * 1024))
    (tmp_path / "broken.py").write_text('AutoModel.from_pretrained("example-org/broken"\n')
    (tmp_path / "deep.py").write_text("x = " + "(" * 5000 + ")" * 5000 + "\n")
    (tmp_path / "deep.json").write_text("[" * 100000 + "]" * 100000)
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "ok.py").write_text('AutoModel.from_pretrained("example-org/ok")\n')
    report = scan(tmp_path)
    assert [h.ref for h in report.hits] == ["example-org/ok"]
    assert any(str(s).startswith("big.py:") and "limit" in s.reason for s in report.skipped)


# --------------------------------------------------------------------------- --check and --update


def _project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(
        'AutoModel.from_pretrained("example-org/listed")\nAutoModel.from_pretrained("example-org/new-one")\n')
    (tmp_path / "models" / "lora").mkdir(parents=True)
    (tmp_path / "src" / "adapter.py").write_text('PeftModel.from_pretrained(m, "../models/lora")\n')
    manifest = tmp_path / "auditor.yaml"
    manifest.write_text("# our models\nuse:\n  commercial: true  # we sell it\nmodels:\n"
                        "  # the chat model\n  - id: example-org/listed\n")
    return manifest


def test_check_gates_a_model_added_in_code_but_not_in_the_manifest(tmp_path: Path) -> None:
    manifest = _project(tmp_path)
    run = cli("scan", tmp_path / "src", "--check", manifest)
    assert run.code == 1
    assert "src/app.py:2: Hub model example-org/new-one is loaded here but not listed" not in run.out  # root-relative
    assert "app.py:2: Hub model example-org/new-one is loaded here but not listed in the manifest" in run.out
    assert "local model models/lora" in run.out or "local model ../models/lora" in run.out or "lora" in run.out
    assert "example-org/listed" not in run.out


def test_update_adds_entries_keeping_comments_and_is_idempotent(tmp_path: Path) -> None:
    manifest = _project(tmp_path)
    first = cli("scan", tmp_path, "--update", manifest)
    assert first.code == 0 and "added 2 model(s)" in first.out
    text = manifest.read_text()
    assert text.startswith("# our models\nuse:\n  commercial: true  # we sell it\n")
    assert "  # the chat model\n  - id: example-org/listed\n" in text
    assert "found by auditor scan in src/app.py:2" in text
    data = yaml.safe_load(text)
    assert data["models"][1:] == [{"id": "example-org/new-one"}, {"path": "models/lora"}]
    assert cli("scan", tmp_path, "--update", manifest).out.startswith(f"{manifest}: added 0")
    assert manifest.read_text() == text
    assert cli("scan", tmp_path, "--check", manifest).code == 0
    assert cli("audit", manifest, "--format", "json", "--out", tmp_path / "o", "--snapshot", "examples/snapshot").code != 2


def test_bad_scan_options_are_usage_errors(tmp_path: Path) -> None:
    manifest = _project(tmp_path)
    assert cli("scan", tmp_path, "--format", "jsn").code == 2
    both = cli("scan", tmp_path, "--check", manifest, "--update", manifest)
    assert both.code == 2 and "one at a time" in both.err
    (tmp_path / "bad.yaml").write_text("models: [unclosed\n")
    bad = cli("scan", tmp_path / "src", "--check", tmp_path / "bad.yaml")
    assert bad.code == 2 and "bad.yaml" in bad.err


def test_json_output(tmp_path: Path) -> None:
    _project(tmp_path)
    run = cli("scan", tmp_path / "src", "--format", "json")
    rows = json.loads(run.out)["references"]  # beside "unresolved" and "skipped"
    assert {(r["ref"], r["target"], r["confidence"]) for r in rows} == {
        ("example-org/listed", "hub", "high"), ("example-org/new-one", "hub", "high"),
        ("models/lora", "path", "high")} or {r["ref"] for r in rows} >= {"example-org/listed"}
    assert all(ScanHit.model_validate(r) for r in rows)
