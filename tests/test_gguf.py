"""GGUF files: the header reader (header only, hostile headers capped), the `gguf` kind, and audits of GGUF
files through `check`, `audit` and every report."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.lineage import parse_ref
from auditor.manifest import ManifestError, load_manifest
from auditor.model import ModelFacts, ModelRef, Unresolved
from auditor.sources.gguf import GgufError, GgufSource, Limits, parse_header, read_header
from auditor.sources.local import LocalSource
from tests.gguf_files import LLAMA_31_URL, gstr, kv_string, raw_header, write_gguf
from tests.hub.server import HubServer

HEADER: dict[str, str | int] = {
    "general.license": "apache-2.0",
    "general.license.name": "Apache License 2.0",
    "general.license.link": "https://www.apache.org/licenses/LICENSE-2.0",
    "general.name": "Example Q4",
    "general.organization": "Example Org",
    "general.quantized_by": "example-quantizer",
    "general.file_type": 15,
    "general.base_model.count": 1,
    "general.base_model.0.name": "Llama 3.1 8B Instruct",
    "general.base_model.0.organization": "Meta Llama",
    "general.base_model.0.repo_url": LLAMA_31_URL,
}


def fetch(path: Path, limits: Limits | None = None) -> ModelFacts | Unresolved:
    source = GgufSource(limits) if limits else GgufSource()
    return source.fetch(ModelRef(kind="gguf", id=str(path)))


def facts_of(path: Path) -> ModelFacts:
    facts = fetch(path)
    assert isinstance(facts, ModelFacts), facts
    return facts


# --------------------------------------------------------------------------- the header reader


def test_header_values_are_read_and_the_tokenizer_is_stepped_over(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf", HEADER, vocab=5000)
    header = read_header(path)
    assert header.values["general.license"] == "apache-2.0"
    assert header.values["general.base_model.0.repo_url"] == LLAMA_31_URL
    assert header.values["general.file_type"] == "15"
    assert header.tensor_count == 1
    assert not any(k.startswith("tokenizer.") for k in header.values)


def test_only_the_key_value_section_is_read_never_the_tensors(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf", HEADER)
    header = read_header(path)
    data = path.read_bytes()
    # The same bytes cut right after the key/value section (no tensor table, no tensor data) read the same.
    assert parse_header(data[: header.header_bytes]) == header
    assert header.header_bytes < len(data)


def test_a_multi_gigabyte_sparse_file_is_read_from_its_header(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "big.gguf", HEADER)
    os.truncate(path, 6 * 1024**3)  # sparse: no disk used, but a reader that loads tensors would read 6 GB
    assert read_header(path).values["general.name"] == "Example Q4"


def test_a_big_endian_file_is_read(tmp_path: Path) -> None:
    data = b"GGUF" + struct.pack(">IQQ", 3, 0, 1) + struct.pack(">Q", 15) + b"general.license" \
        + struct.pack(">I", 8) + struct.pack(">Q", 3) + b"mit"
    assert parse_header(data).values == {"general.license": "mit"}


@pytest.mark.parametrize("cut", [0, 3, 10, 23, 30, 60, -40, -8])
def test_a_truncated_header_is_a_one_line_error(tmp_path: Path, cut: int) -> None:
    path = write_gguf(tmp_path / "m.gguf", HEADER)
    size = read_header(path).header_bytes
    data = path.read_bytes()[: cut if cut >= 0 else size + cut]
    with pytest.raises(GgufError) as err:
        parse_header(data)
    assert "\n" not in str(err.value)
    assert "truncated" in str(err.value)


@pytest.mark.parametrize(("data", "limits", "problem"), [
    (b"PK\x03\x04" + b"\0" * 40, Limits(), "not a GGUF file"),
    (raw_header([], version=1), Limits(), "GGUF version 1 is not supported"),
    (raw_header([], count=10**9), Limits(), "key count is 1000000000, over the cap"),
    (raw_header([gstr("general.license", 2**62)]), Limits(), "length of key 0 is 4611686018427387904, over the cap"),
    (raw_header([gstr("general.license") + struct.pack("<I", 8) + gstr("x", 2**40)]), Limits(), "over the cap"),
    (raw_header([gstr("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 2**60)]), Limits(),
     "item count of 'tokenizer.ggml.tokens' is 1152921504606846976, over the cap"),
    (raw_header([gstr("a") + struct.pack("<I", 9) + struct.pack("<IQ", 9, 1) * 6]), Limits(),
     "arrays nested deeper than 3"),
    (raw_header([gstr("general.license") + struct.pack("<I", 77)]), Limits(), "unknown value type 77"),
    (raw_header([kv_string("general.license", "mit"), kv_string("general.license", "llama3.1")]), Limits(),
     "'general.license' appears twice"),
    (raw_header([kv_string("x", "y" * 200)]), Limits(max_header_bytes=100), "header larger than 100 bytes"),
    (raw_header([kv_string("general.license", "y" * 200)]), Limits(max_kept_bytes=64), "over the cap of 64"),
    (raw_header([kv_string("a", "b")] * 3), Limits(max_keys=2), "key count is 3, over the cap of 2"),
])
def test_hostile_headers_are_refused_with_their_reason(data: bytes, limits: Limits, problem: str) -> None:
    with pytest.raises(GgufError) as err:
        parse_header(data, limits)
    assert problem in str(err.value)
    assert "\n" not in str(err.value)


def test_a_huge_string_array_is_stepped_over_but_one_past_the_end_is_truncated() -> None:
    strings = b"".join(gstr(f"t{i}") for i in range(1000))
    good = raw_header([gstr("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 1000) + strings,
                       kv_string("general.license", "mit")])
    assert parse_header(good).values == {"general.license": "mit"}
    bad = raw_header([gstr("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 1001) + strings])
    with pytest.raises(GgufError, match=r"truncated: the strings of 'tokenizer\.ggml\.tokens'"):
        parse_header(bad)


# --------------------------------------------------------------------------- header -> facts


def test_license_and_identity_fields_are_gguf_evidence_located_in_the_file(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf", HEADER)
    facts = facts_of(path)
    assert facts.source == "gguf"
    assert facts.declared.license == ["apache-2.0"]
    assert facts.declared.license_name == "Apache License 2.0"
    assert facts.declared.license_link == "https://www.apache.org/licenses/LICENSE-2.0"
    fields = {e.field: e for e in facts.declared.evidence}
    assert set(fields) == {"general.license", "general.license.name", "general.license.link", "general.name",
                           "general.organization", "general.quantized_by", "general.file_type"}
    assert all(e.source == "gguf" and e.location == str(path) for e in fields.values())
    assert fields["general.quantized_by"].value == "example-quantizer"


def test_the_base_model_is_a_quantized_edge_to_its_hub_repo(tmp_path: Path) -> None:
    facts = facts_of(write_gguf(tmp_path / "m.gguf", HEADER))
    [claim] = facts.parents
    assert (claim.parent, claim.relation) == ("meta-llama/Llama-3.1-8B-Instruct", "quantized")
    assert claim.evidence.source == "gguf"
    assert claim.evidence.note == "general.base_model.0.repo_url"
    assert facts.lineage_notes == []


def test_several_base_models_are_a_merge_and_an_adapter_says_so(tmp_path: Path) -> None:
    two: dict[str, str | int] = {"general.base_model.count": 2, "general.base_model.0.repo_url": "https://huggingface.co/org-a/model-a",
           "general.base_model.1.repo_url": "https://huggingface.co/org-b/model-b"}
    merge = facts_of(write_gguf(tmp_path / "merge.gguf", two))
    assert [(c.parent, c.relation, c.evidence.field) for c in merge.parents] == [
        ("org-a/model-a", "merge", "general.base_model"), ("org-b/model-b", "merge", "general.base_model")]
    adapter = facts_of(write_gguf(tmp_path / "lora.gguf", {**HEADER, "general.type": "adapter"}))
    assert [c.relation for c in adapter.parents] == ["adapter"]


def test_the_source_repo_is_a_quantized_edge(tmp_path: Path) -> None:
    facts = facts_of(write_gguf(tmp_path / "m.gguf", {"general.source.repo_url": "https://huggingface.co/org/src"}))
    assert [(c.parent, c.relation, c.evidence.field) for c in facts.parents] == [
        ("org/src", "quantized", "general.source.repo_url")]


def test_a_base_model_that_cannot_be_followed_is_a_lineage_note(tmp_path: Path) -> None:
    header: dict[str, str | int] = {"general.base_model.count": 2, "general.base_model.0.name": "Mystery 7B",
              "general.base_model.1.repo_url": "https://example.com/weights",
              "general.source.repo_url": "not a url"}
    facts = facts_of(write_gguf(tmp_path / "m.gguf", header))
    assert facts.parents == []
    notes = " | ".join(facts.lineage_notes)
    assert "base model 0 (Mystery 7B) has no repo_url" in notes
    assert "general.base_model.1.repo_url 'https://example.com/weights' names no Hub repo" in notes
    assert "general.source.repo_url 'not a url' names no Hub repo" in notes


def test_a_count_that_is_not_a_number_is_noted(tmp_path: Path) -> None:
    facts = facts_of(write_gguf(tmp_path / "m.gguf", {"general.base_model.count": "many"}))
    assert any("general.base_model.count is 'many'" in n for n in facts.lineage_notes)


def test_missing_empty_and_corrupt_files_are_unresolved_with_their_reason(tmp_path: Path) -> None:
    missing = fetch(tmp_path / "nope.gguf")
    assert isinstance(missing, Unresolved) and missing.code == "not-found"
    (tmp_path / "empty.gguf").write_bytes(b"")
    empty = fetch(tmp_path / "empty.gguf")
    assert isinstance(empty, Unresolved) and empty.code == "malformed" and "empty file" in empty.reason
    good = write_gguf(tmp_path / "m.gguf", HEADER).read_bytes()
    (tmp_path / "cut.gguf").write_bytes(good[:100])
    cut = fetch(tmp_path / "cut.gguf")
    assert isinstance(cut, Unresolved) and cut.code == "malformed" and "truncated" in cut.reason
    folder = fetch(tmp_path)
    assert isinstance(folder, Unresolved) and "not a regular file" in folder.reason


# --------------------------------------------------------------------------- the kind


def test_references_name_gguf_files(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "weights.bin", HEADER)
    assert parse_ref(str(path)) == ModelRef(kind="gguf", id=path.as_posix())  # by its magic, any name
    assert parse_ref("gguf:" + str(path)).kind == "gguf"
    assert parse_ref(str(tmp_path / "later.GGUF")).kind == "gguf"  # by its suffix, even before it exists
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    assert parse_ref(str(tmp_path)).kind == "local"
    assert parse_ref("owner/name").kind == "hub"


def test_manifest_gguf_and_path_entries_name_gguf_files(tmp_path: Path) -> None:
    write_gguf(tmp_path / "models" / "x.gguf", HEADER)
    write_gguf(tmp_path / "models" / "y.bin", HEADER)
    manifest = tmp_path / "auditor.yaml"
    manifest.write_text("models:\n  - path: models/x.gguf\n  - gguf: models/y.bin\n  - path: models/y.bin\n"
                        "  - path: models\n", encoding="utf-8")
    with pytest.raises(ManifestError, match=r"auditor.yaml:4: models\[2\].path: duplicate model"):
        load_manifest(manifest)  # the same file named by either key is one model
    manifest.write_text("models:\n  - path: models/x.gguf\n  - gguf: models/y.bin\n  - path: models\n",
                        encoding="utf-8")
    refs = [entry.ref for entry in load_manifest(manifest).models]
    folder = (tmp_path / "models").resolve()
    assert [(r.kind, r.id) for r in refs] == [("gguf", (folder / "x.gguf").as_posix()),
                                              ("gguf", (folder / "y.bin").as_posix()), ("local", folder.as_posix())]


def test_a_model_folder_links_each_of_its_gguf_files(tmp_path: Path) -> None:
    write_gguf(tmp_path / "b.gguf", HEADER)
    write_gguf(tmp_path / "a.gguf", HEADER)
    facts = LocalSource().fetch(ModelRef(kind="local", id=str(tmp_path)))
    assert isinstance(facts, ModelFacts)
    assert [(Path(c.parent).name, c.relation, c.evidence.field) for c in facts.parents] == [
        ("a.gguf", "quantized", "gguf file"), ("b.gguf", "quantized", "gguf file")]
    # No card: the folder declares what its files' headers declare, as gguf evidence located in each file.
    assert facts.declared.license == ["apache-2.0"]
    assert {(e.source, e.location) for e in facts.declared.evidence if e.field == "general.license"} == {
        ("gguf", str(tmp_path / "a.gguf")), ("gguf", str(tmp_path / "b.gguf"))}


def test_a_folder_card_keeps_its_own_declaration_beside_its_gguf_files(tmp_path: Path) -> None:
    write_gguf(tmp_path / "a.gguf", {"general.license": "llama3.1"})
    (tmp_path / "README.md").write_text("---\nlicense: mit\n---\n# x\n", encoding="utf-8")
    facts = LocalSource().fetch(ModelRef(kind="local", id=str(tmp_path)))
    assert isinstance(facts, ModelFacts)
    assert facts.declared.license == ["mit"]  # a card that contradicts its file: the engine's conflict, not hidden


# --------------------------------------------------------------------------- audits end to end


def cli(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_a_header_license_the_hub_repo_contradicts_is_a_license_conflict(tmp_path: Path, hub: HubServer) -> None:
    path = write_gguf(tmp_path / "q4.gguf", HEADER)
    out = tmp_path / "out"
    code, _, err = cli("check", path, "--endpoint", hub.endpoint, "--no-cache", "--commercial", "--distribution",
                       "weights", "--format", "json", "--out", out, "--quiet")
    assert code == 1, err
    result = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    [model] = result["models"]
    conflicts = [f for f in model["findings"] if f["code"] == "license-conflict"]
    assert conflicts and conflicts[0]["license"] == "llama3.1"
    assert "declares apache-2.0" in conflicts[0]["message"]
    edges = {(e["child"], e["parent"], e["relation"]) for e in result["graph"]["edges"]}
    assert (path.as_posix(), "meta-llama/Llama-3.1-8B-Instruct", "quantized") in edges


def test_every_report_of_a_gguf_audit_shows_the_gguf_evidence(tmp_path: Path, hub: HubServer,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_gguf(tmp_path / "models" / "weights.bin", {**HEADER, "general.license": "llama3.1"})
    (tmp_path / "auditor.yaml").write_text(
        "use:\n  commercial: true\n  distribution: saas\nmodels:\n  - path: models/weights.bin\n", encoding="utf-8")
    code, _, err = cli("audit", "auditor.yaml", "--endpoint", hub.endpoint, "--no-cache", "--format", "all",
                       "--out", "out", "--quiet")
    assert code != 2, err
    out = tmp_path / "out"
    # The model's id names no `gguf` (weights.bin): each mention below comes from the evidence or its kind.
    texts = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir() if p.suffix != ".txt"}
    for name in ("audit.json", "audit.html", "audit.spdx", "audit.spdx.json"):
        assert "general.base_model" in texts[name], name
    for name in ("audit.json", "audit.html"):
        assert "general.license" in texts[name], name
    bom = json.loads(texts["audit.cdx.json"])
    component = next(c for c in bom["components"] if c["name"] == "models/weights.bin")
    assert any(p["name"].endswith("source") and p["value"] == "gguf" for p in component["properties"])
    sarif = json.loads(texts["audit.sarif"])
    assert {r["properties"]["source"] for r in sarif["runs"][0]["results"]} == {"gguf"}
    assert "- `models/weights.bin`: read from its gguf source: general.license = llama3.1" in texts["audit.md"]


def test_a_corrupt_gguf_file_never_passes(tmp_path: Path) -> None:
    good = write_gguf(tmp_path / "m.gguf", HEADER).read_bytes()
    (tmp_path / "cut.gguf").write_bytes(good[:200])
    code, _, _ = cli("check", tmp_path / "cut.gguf", "--commercial", "--distribution", "saas", "--format", "json",
                         "--out", tmp_path / "out")
    assert code != 0
    result = json.loads((tmp_path / "out" / "audit.json").read_text(encoding="utf-8"))
    assert result["complete"] is False and result["verdict"] != "pass"
    assert "GGUF header not read: truncated" in result["graph"]["nodes"][0]["unresolved"]["reason"]


def test_hostile_reference_text_is_no_gguf_file_and_never_raises(tmp_path: Path) -> None:
    from auditor.sources import registry

    kind = registry.spec_for("gguf").handler()
    for text in ("/" + "a" * 5000, "/tmp/x\x00.gguf", "/" + "a/" * 3000 + "m.gguf", ""):
        assert kind.parent_ref(text) is None
    assert kind.parse_ref("x\x00y", tmp_path) is None
    assert kind.parse_ref("a" * 5000, tmp_path) is None
    long_ref = ModelRef(kind="gguf", id="/" + "a" * 5000 + ".gguf")
    unread = fetch(Path(long_ref.id))
    assert isinstance(unread, Unresolved)


def test_a_folder_card_contradicting_its_gguf_header_is_a_license_conflict(tmp_path: Path) -> None:
    write_gguf(tmp_path / "models" / "x.gguf", {"general.license": "llama3.1"})
    (tmp_path / "models" / "README.md").write_text("---\nlicense: mit\n---\n", encoding="utf-8")
    code, _, _ = cli("check", tmp_path / "models", "--commercial", "--distribution", "weights", "--format", "json",
                     "--out", tmp_path / "out", "--quiet")
    assert code == 1
    [model] = json.loads((tmp_path / "out" / "audit.json").read_text(encoding="utf-8"))["models"]
    [conflict] = [f for f in model["findings"] if f["code"] == "license-conflict"]
    assert conflict["license"] == "llama3.1" and "declares mit" in conflict["message"]
    assert conflict["via"][-1].endswith("models/x.gguf")
