"""The Ollama model store: names, the store's layout, license layers matched by their text, the model layer's
GGUF header, hostile stores, and audits through `check`, `audit --ollama` and a manifest's `ollama:` entries.

No Ollama server is needed: the store is a folder on disk in the layout Ollama writes (tests/ollama_store.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.lineage import parse_ref
from auditor.manifest import ManifestError, load_manifest
from auditor.model import ModelFacts, ModelRef, Unresolved
from auditor.sources.ollama import (
    MAX_LAYERS,
    MAX_MANIFEST_BYTES,
    OllamaError,
    OllamaSource,
    TextIndex,
    list_tags,
    parse_name,
    store_dir,
    text_fingerprint,
    unmatched_license,
)
from tests.gguf_files import LLAMA_31_URL, write_gguf
from tests.hub.server import HubServer
from tests.ollama_store import ACME_TEXT, acme_rules, blob, layer, tag, write_manifest


@pytest.fixture()
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ollama-models"
    path.mkdir()
    monkeypatch.setenv("OLLAMA_MODELS", str(path))
    return path


@pytest.fixture()
def rules(tmp_path: Path) -> Path:
    return acme_rules(tmp_path / "org-rules")


@pytest.fixture()
def model_file(tmp_path: Path) -> Path:
    return write_gguf(tmp_path / "src" / "m.gguf", {"general.license": "acme", "general.name": "Acme 1B",
                                                    "general.base_model.count": 1,
                                                    "general.base_model.0.repo_url": LLAMA_31_URL})


def fetch(store: Path, name: str, rules: Path | None = None) -> ModelFacts | Unresolved:
    source = OllamaSource(store, TextIndex((rules,) if rules else ()))
    return source.fetch(ModelRef(kind="ollama", id=parse_name(name).short))


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(("text", "parts", "short"), [
    ("llama3.1:8b", ("registry.ollama.ai", "library", "llama3.1", "8b"), "llama3.1:8b"),
    ("ollama:llama3.1", ("registry.ollama.ai", "library", "llama3.1", "latest"), "llama3.1:latest"),
    ("example-org/acme:1b", ("registry.ollama.ai", "example-org", "acme", "1b"), "example-org/acme:1b"),
    ("hf.co/example-org/acme-GGUF:Q4_K_M", ("hf.co", "example-org", "acme-GGUF", "Q4_K_M"),
     "hf.co/example-org/acme-GGUF:Q4_K_M"),
    ("localhost:11434/ns/m:t", ("localhost:11434", "ns", "m", "t"), "localhost:11434/ns/m:t"),
])
def test_names_take_ollamas_defaults(text: str, parts: tuple[str, ...], short: str) -> None:
    name = parse_name(text)
    assert (name.host, name.namespace, name.model, name.tag) == parts
    assert name.short == short


@pytest.mark.parametrize(("text", "problem"), [
    ("", "empty Ollama name"),
    ("llama3.1::8b", "is not a valid tag"),
    ("../../etc/passwd", "has 4 '/'-separated parts"),
    ("../x:1", "'..' is not a valid namespace"),
    ("a/b/c/d:e", "has 4 '/'-separated parts"),
    ("my.ns/model:1", "is not a valid namespace"),
    ("model:" + "x" * 81, "is not a valid tag"),
    ("llama3.1:8b+Q4_0", "builds (+…) and digests (@…) are not supported"),
    ("llama 3:8b", "is not a valid model"),
])
def test_bad_names_are_one_line_errors(text: str, problem: str) -> None:
    with pytest.raises(OllamaError) as err:
        parse_name(text)
    assert problem in str(err.value)
    assert "\n" not in str(err.value)


def test_cli_references_need_the_ollama_prefix() -> None:
    assert parse_ref("ollama:llama3.1:8b") == ModelRef(kind="ollama", id="llama3.1:8b")
    with pytest.raises(OllamaError, match="is not a valid tag"):
        parse_ref("ollama:llama3.1::8b")


def test_the_store_is_ollama_models_or_the_home_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "s"))
    assert store_dir() == tmp_path / "s"
    monkeypatch.delenv("OLLAMA_MODELS")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert store_dir() == tmp_path / ".ollama" / "models"


def test_every_tag_of_the_store_is_listed(store: Path) -> None:
    write_manifest(store, "llama3.1:8b", [])
    write_manifest(store, "acme:1b", [], namespace="example-org")
    write_manifest(store, "bad name:1", [])  # Ollama skips what is not a valid name; so do we
    assert [n.short for n in list_tags(store)] == ["example-org/acme:1b", "llama3.1:8b"]
    with pytest.raises(OllamaError, match="no Ollama model store here"):
        list_tags(store / "nowhere")


# --------------------------------------------------------------------------- reading a tag


def test_a_license_layer_is_matched_to_the_rule_bundling_the_same_text(store: Path, rules: Path,
                                                                       model_file: Path) -> None:
    # The copy in the store differs from the bundled text in line breaks, case and quotes only.
    shipped = ACME_TEXT.upper().replace("\n", "\r\n  ").replace("Permission", "\u201cPermission\u201d")
    tag(store, "acme:1b", gguf=model_file, license_text=shipped)
    facts = fetch(store, "acme:1b", rules)
    assert isinstance(facts, ModelFacts)
    assert facts.source == "ollama"
    assert facts.declared.license == ["acme"]
    [license_ev] = [e for e in facts.declared.evidence if e.field == "license layer"]
    assert license_ev.source == "ollama"
    assert "matches the bundled text of acme" in license_ev.value
    assert license_ev.location.startswith(str(store / "blobs" / "sha256-"))
    assert {e.field for e in facts.declared.evidence} == {"license layer", "template layer", "params layer"}


def test_a_license_text_no_rule_bundles_is_declared_unrecognised(store: Path, rules: Path, model_file: Path) -> None:
    text = "SOME OTHER LICENSE\nYou may do nothing.\n"
    tag(store, "other:1b", gguf=model_file, license_text=text)
    facts = fetch(store, "other:1b", rules)
    assert isinstance(facts, ModelFacts)
    assert facts.declared.license == [unmatched_license(text_fingerprint(text))]
    assert "matches no license rule's bundled text" in facts.declared.evidence[0].value


def test_the_model_layer_is_a_quantized_parent_read_as_a_gguf_file(store: Path, model_file: Path) -> None:
    tag(store, "acme:1b", gguf=model_file)
    facts = fetch(store, "acme:1b")
    assert isinstance(facts, ModelFacts)
    [claim] = facts.parents
    assert claim.relation == "quantized" and claim.unreadable is None
    assert Path(claim.parent).read_bytes() == model_file.read_bytes()
    assert parse_ref(claim.parent).kind == "gguf"  # the blob has no .gguf name: recognised by its magic
    assert claim.evidence.source == "ollama" and claim.evidence.field == "model layer"


@pytest.mark.parametrize(("body", "problem"), [
    ("{not json", "not valid JSON"),
    (b"\xff\xfe{}", "not valid JSON"),
    ("[]", "not an Ollama manifest"),
    ('{"layers": "x"}', "not an Ollama manifest"),
    ('{"layers": [{"digest": "sha256:' + "a" * 64 + '"}]}', "layers[0]: no mediaType"),
    ('{"layers": [{"mediaType": "m", "digest": "sha256:../../../../etc/passwd"}]}', "is not sha256:<64 hex digits>"),
    ('{"layers": [{"mediaType": "m", "digest": "sha512:' + "a" * 64 + '"}]}', "is not sha256:<64 hex digits>"),
    (json.dumps({"layers": [{"mediaType": "m", "digest": "sha256:" + "a" * 64}] * (MAX_LAYERS + 1)}),
     f"over the cap of {MAX_LAYERS}"),
    ("{}" + " " * MAX_MANIFEST_BYTES, f"over the cap of {MAX_MANIFEST_BYTES} for a manifest"),
])
def test_broken_manifests_are_unresolved_with_their_reason(store: Path, body: str | bytes, problem: str) -> None:
    write_manifest(store, "bad:1", body)
    facts = fetch(store, "bad:1")
    assert isinstance(facts, Unresolved) and facts.code == "malformed"
    assert problem in facts.reason and "\n" not in facts.reason


def test_a_missing_tag_is_not_found_naming_the_store(store: Path) -> None:
    facts = fetch(store, "llama3.1:8b")
    assert isinstance(facts, Unresolved) and facts.code == "not-found"
    assert f"no tag llama3.1:8b in the Ollama store {store}" in facts.reason


def test_symbolic_links_out_of_the_store_are_refused(store: Path, tmp_path: Path, model_file: Path) -> None:
    outside = write_manifest(tmp_path / "elsewhere", "x:1", [layer("model", blob(store, model_file.read_bytes()))])
    link = store / "manifests" / "registry.ollama.ai" / "library" / "x" / "1"
    link.parent.mkdir(parents=True)
    os.symlink(outside, link)
    facts = fetch(store, "x:1")
    assert isinstance(facts, Unresolved) and "symbolic link leading out of the store" in facts.reason

    secret = tmp_path / "secret.txt"
    secret.write_text("not for you", encoding="utf-8")
    digest = "a" * 64
    (store / "blobs" / f"sha256-{digest}").symlink_to(secret)
    write_manifest(store, "y:1", [layer("license", f"sha256:{digest}"), layer("model", f"sha256:{digest}")])
    facts = fetch(store, "y:1")
    assert isinstance(facts, ModelFacts)
    assert "(unreadable)" in facts.declared.evidence[0].value
    assert any("license layer not read" in n and "symbolic link" in n for n in facts.lineage_notes)
    assert facts.parents[0].unreadable and "symbolic link" in facts.parents[0].unreadable


def test_missing_blobs_and_a_tag_without_weights_are_never_silent(store: Path) -> None:
    write_manifest(store, "gone:1", [layer("model", "sha256:" + "b" * 64), layer("license", "sha256:" + "c" * 64)])
    facts = fetch(store, "gone:1")
    assert isinstance(facts, ModelFacts)
    assert facts.parents[0].unreadable and "model blob is missing" in facts.parents[0].unreadable
    assert any("license blob is missing" in n for n in facts.lineage_notes)
    write_manifest(store, "empty:1", [])
    empty = fetch(store, "empty:1")
    assert isinstance(empty, ModelFacts)
    assert any("no model layer" in n for n in empty.lineage_notes)


def test_a_huge_license_blob_is_not_read(store: Path, model_file: Path) -> None:
    tag(store, "big:1", gguf=model_file, license_text="x" * 1_000_001)
    facts = fetch(store, "big:1")
    assert isinstance(facts, ModelFacts)
    assert any("over the cap of 1000000 for a license text" in n for n in facts.lineage_notes)


# --------------------------------------------------------------------------- audits end to end


def cli(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_check_an_ollama_tag_links_its_gguf_header_to_the_hub(store: Path, rules: Path, model_file: Path,
                                                               hub: HubServer, tmp_path: Path) -> None:
    tag(store, "acme:1b", gguf=model_file, license_text=ACME_TEXT)
    out = tmp_path / "out"
    code, _, err = cli("check", "ollama:acme:1b", "--rules", rules, "--endpoint", hub.endpoint, "--no-cache",
                       "--commercial", "--distribution", "saas", "--format", "json", "--out", out, "--quiet")
    assert code != 2, err
    result = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert [m["id"] for m in result["models"]] == ["acme:1b"]
    nodes = {n["id"]: n for n in result["graph"]["nodes"]}
    assert nodes["acme:1b"]["facts"]["declared"]["license"] == ["acme"]
    blob_id = next(e["parent"] for e in result["graph"]["edges"] if e["child"] == "acme:1b")
    assert nodes[blob_id]["facts"]["source"] == "gguf"
    assert (blob_id, "meta-llama/Llama-3.1-8B-Instruct") in {(e["child"], e["parent"]) for e in result["graph"]["edges"]}
    # The header's `acme` under a llama3.1 base: the GGUF relabels Llama material.
    assert any(f["code"] == "license-conflict" and f["license"] == "llama3.1" for f in result["models"][0]["findings"])


def test_audit_ollama_adds_every_tag_and_reports_show_the_ollama_evidence(store: Path, rules: Path, model_file: Path,
                                                                          tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    tag(store, "acme:1b", gguf=model_file, license_text=ACME_TEXT)
    tag(store, "other:2b", license_text="A LICENSE NOBODY BUNDLES\n")
    write_gguf(tmp_path / "models" / "local.gguf", {"general.license": "acme"})
    (tmp_path / "auditor.yaml").write_text(
        f"use:\n  commercial: true\n  distribution: saas\nrules: [{rules}]\nmodels:\n  - ollama: acme:1b\n"
        "  - path: models/local.gguf\n", encoding="utf-8")
    code, _, err = cli("audit", "auditor.yaml", "--ollama", "--endpoint", "http://127.0.0.1:9", "--no-cache",
                       "--format", "all", "--out", "out", "--quiet")
    assert code == 1, err  # other:2b's license is unrecognised
    result = json.loads((tmp_path / "out" / "audit.json").read_text(encoding="utf-8"))
    models = {m["id"]: m for m in result["models"]}
    assert list(models) == ["acme:1b", "models/local.gguf", "other:2b"]
    assert any(f["code"] == "unknown-license" for f in models["other:2b"]["findings"])
    assert models["other:2b"]["verdict"] == "fail"
    texts = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "out").iterdir()}
    node = next(n for n in result["graph"]["nodes"] if n["id"] == "acme:1b")
    assert {(e["source"], e["field"]) for e in node["facts"]["declared"]["evidence"]} >= {("ollama", "license layer")}
    assert "license layer" in texts["audit.html"]
    assert "read from ollama" in texts["audit.spdx.json"] and "read from ollama" in texts["audit.spdx"]
    bom = json.loads(texts["audit.cdx.json"])
    component = next(c for c in bom["components"] if c["name"] == "acme:1b")
    assert any(p["name"].endswith("source") and p["value"] == "ollama" for p in component["properties"])
    sarif = json.loads(texts["audit.sarif"])
    assert "ollama" in {r["properties"]["source"] for r in sarif["runs"][0]["results"]}
    assert "- `acme:1b`: read from its ollama source: license layer = " in texts["audit.md"]


def test_manifest_ollama_entries_are_checked_where_they_are_written(tmp_path: Path) -> None:
    manifest = tmp_path / "auditor.yaml"
    manifest.write_text("models:\n  - ollama: llama3.1:8b\n  - ollama: 'llama3.1::8b'\n", encoding="utf-8")
    with pytest.raises(ManifestError) as err:
        load_manifest(manifest)
    assert str(err.value).startswith(f"{manifest}:3: models[1].ollama: 'llama3.1::8b'")
    manifest.write_text("models:\n  - olama: llama3.1:8b\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="Did you mean 'ollama'"):
        load_manifest(manifest)
    manifest.write_text("models:\n  - ollama: llama3.1:8b\n  - ollama: llama3.1:8b\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="duplicate model"):
        load_manifest(manifest)


def test_audit_ollama_with_an_empty_or_absent_store_is_a_one_line_error(store: Path, tmp_path: Path) -> None:
    write_gguf(tmp_path / "x.gguf", {"general.license": "mit"})
    (tmp_path / "auditor.yaml").write_text("models:\n  - gguf: x.gguf\n", encoding="utf-8")
    (store / "manifests").mkdir()
    code, out, err = cli("audit", tmp_path / "auditor.yaml", "--ollama", "--out", tmp_path / "out")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [f"error: --ollama: the Ollama store {store} holds no tags. Pull one "
                                        "(`ollama pull NAME`) or set OLLAMA_MODELS to the store that has them"]
    os.environ["OLLAMA_MODELS"] = str(tmp_path / "missing")
    code, _, err = cli("audit", tmp_path / "auditor.yaml", "--ollama", "--out", tmp_path / "out")
    assert code == 2 and "no Ollama model store here" in err and len(err.strip().splitlines()) == 1
