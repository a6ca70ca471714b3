"""The registry of sources: one predicate for Hub repo ids everywhere, routing by kind, the Source
interface's counts, and a toy kind registered in a copy of the registry audited end to end."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from auditor.lineage import RefError, RoutingSource, crawl, parse_ref
from auditor.manifest import ModelEntry, manifest_json_schema
from auditor.model import ModelFacts, ModelRef, Unresolved
from auditor.pipeline import SourceOptions, build_source
from auditor.sources import registry
from auditor.sources.base import BaseKind, Source
from auditor.sources.card import parent_claims_from_card
from auditor.sources.hub import HubSource
from auditor.sources.local import LocalSource
from auditor.sources.repo_id import is_repo_id
from auditor.sources.snapshot import RecordingSource, SnapshotFile, SnapshotSource
from tests.toy_source import ZOO

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# (id, is it a Hub repo id?) — the Hub's rules: owner and name of letters, digits, '-', '_', '.', not
# starting or ending with '-' or '.', no '--' or '..', each part at most 96 characters, no '.git' ending.
REPO_IDS: list[tuple[str, bool]] = [
    ("a/b", True),
    ("example-org/example-model", True),
    ("Org_1/Model-2.5_x", True),
    ("_org/x", True),
    ("org/_x_", True),
    ("org/x.y-z_1", True),
    ("o/" + "x" * 96, True),
    ("o" * 96 + "/x", True),
    ("org/x-", False),
    ("-org/x", False),
    ("org-/x", False),
    ("org/.x", False),
    ("org/x.", False),
    (".org/x", False),
    ("org/x--y", False),
    ("org/x..y", False),
    ("org/x.git", False),
    ("org/X.GIT", False),
    ("o/" + "x" * 97, False),
    ("o" * 97 + "/x", False),
    ("a/b/c", False),
    ("no-owner", False),
    ("own er/x", False),
    ("org/é", False),
    ("org/", False),
    ("/x", False),
]


def _cli_accepts(value: str) -> bool:
    """True when the CLI reads `value` as a Hub repo id (`./x`, `/x` are folders)."""
    try:
        ref = parse_ref(value)
    except RefError:
        return False
    assert ref.kind != "hub" or ref.id == value
    return ref.kind == "hub"


def _manifest_accepts(value: str) -> bool:
    as_id = as_parent = True
    try:
        ModelEntry.model_validate({"id": value})
    except ValidationError:
        as_id = False
    try:
        ModelEntry.model_validate({"id": "example-org/a", "base_model": [value]})
    except ValidationError:
        as_parent = False
    assert as_id == as_parent, value
    return as_id


def _card_accepts(value: str) -> bool:
    from_card, _ = parent_claims_from_card({"base_model": value}, [], source="hub", location="", revision=None)
    from_tag, _ = parent_claims_from_card({}, [f"base_model:{value}"], source="hub", location="", revision=None)
    assert bool(from_card) == bool(from_tag), value
    return bool(from_card)


@pytest.mark.parametrize(("value", "valid"), REPO_IDS)
def test_cli_manifest_and_card_agree_on_repo_ids(value: str, valid: bool, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no folder of that name: the CLI parser decides on the id alone
    assert is_repo_id(value) is valid
    assert (_cli_accepts(value), _manifest_accepts(value), _card_accepts(value)) == (valid, valid, valid)


def test_hub_urls_name_the_same_ids() -> None:
    assert parse_ref("https://huggingface.co/_org/x/tree/main").id == "_org/x"
    with pytest.raises(RefError, match="is not a Hub repo id"):
        parse_ref("https://huggingface.co/org/x-")


# --------------------------------------------------------------------------- the registry


def test_every_registered_kind_has_a_handler_and_a_manifest_key() -> None:
    fields = list(ModelEntry.model_fields)
    for spec in registry.registered().values():
        handler = spec.handler()
        assert isinstance(handler, BaseKind) and handler.spec is spec
        assert spec.manifest_key in fields
    assert fields[: len(registry.registered())] == [s.manifest_key for s in registry.registered().values()]
    schema = manifest_json_schema()["$defs"]["ModelEntry"]["properties"]
    assert all(s.manifest_key in schema for s in registry.registered().values())


def test_registry_rejects_a_kind_or_key_registered_twice() -> None:
    hub = registry.spec_for("hub")
    with pytest.raises(ValueError, match="registered twice"):
        registry.build_registry([hub, hub])
    with pytest.raises(ValueError, match="registered twice"):
        registry.build_registry([hub, dataclasses.replace(ZOO, manifest_key="id")])
    with pytest.raises(ValueError, match="reserved"):
        registry.build_registry([dataclasses.replace(ZOO, kind="snapshot")])
    with pytest.raises(KeyError, match="registered: hub, local"):
        registry.spec_for("zoo")


def test_model_ref_kind_is_validated_against_the_registry() -> None:
    assert ModelRef(kind="local", id="x").kind == "local"
    with pytest.raises(ValidationError, match="unknown reference kind 'zoo' \\(registered: hub, local, gguf, ollama, dataset\\)"):
        ModelRef(kind="zoo", id="x")
    with pytest.raises(ValidationError, match="unknown source 'zoo'"):
        Unresolved(id="x", requested="x", source="zoo", code="not-found", reason="r")


def test_unknown_reference_names_every_registered_form() -> None:
    with pytest.raises(RefError) as err:
        parse_ref("not a repo")
    assert str(err.value) == ("'not a repo' is not a Hub repo id (owner/name) nor an existing model folder nor a GGUF "
                              "file (PATH.gguf or gguf:PATH) nor an Ollama tag (ollama:NAME[:TAG]) nor a Hub dataset (datasets/owner/name)")


# --------------------------------------------------------------------------- routing and counts


class _Counting:
    """A minimal `Source`: counts every fetch."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.requests = 0
        self.cache_hits = 0
        self.seen: list[str] = []

    def fetch(self, ref: ModelRef) -> ModelFacts | Unresolved:
        self.requests += 1
        self.cache_hits += 2
        self.seen.append(ref.kind)
        return Unresolved(id=ref.id, requested=ref.key, source=ref.kind, code="not-found", reason="test")


def test_routing_dispatches_by_kind_and_sums_distinct_sources() -> None:
    hub, local = _Counting("hub"), _Counting("local")
    routing = RoutingSource({"hub": hub}, local=local)
    routing.fetch(ModelRef(kind="hub", id="a/b"))
    routing.fetch(ModelRef(kind="local", id="/x"))
    routing.fetch(ModelRef(kind="local", id="/y"))
    assert (hub.seen, local.seen) == (["hub"], ["local", "local"])
    assert (routing.requests, routing.cache_hits) == (3, 6)
    shared = _Counting("shared")
    assert RoutingSource(hub=shared, local=shared).requests == 0
    RoutingSource(hub=shared, local=shared).fetch(ModelRef(kind="hub", id="a/b"))
    assert RoutingSource(hub=shared, local=shared).requests == 1  # one source, counted once


def test_routing_answers_a_kind_it_has_no_source_for() -> None:
    result = RoutingSource(hub=_Counting("hub")).fetch(ModelRef(kind="local", id="/x"))
    assert isinstance(result, Unresolved) and result.code == "invalid-ref" and result.source == "local"
    with pytest.raises(ValueError, match="no registered source kind 'zoo'"):
        RoutingSource(zoo=_Counting("zoo"))


def test_crawl_reads_the_counts_from_the_source_interface() -> None:
    graph = crawl([ModelRef(kind="hub", id="a/b")], RecordingSource(_Counting("hub")))
    assert (graph.requests, graph.cache_hits) == (1, 2)


def test_build_source_uses_every_kind_and_the_snapshot_stands_in_for_the_hub(tmp_path: Path) -> None:
    live = build_source(SourceOptions(no_cache=True, endpoint="http://127.0.0.1:9"))
    assert isinstance(live, RoutingSource)
    assert set(live.sources) == set(registry.registered())
    assert isinstance(live.sources["hub"], HubSource) and isinstance(live.sources["local"], LocalSource)
    replay = build_source(SourceOptions(snapshot=EXAMPLES / "snapshot"))
    assert isinstance(replay, RoutingSource)
    assert isinstance(replay.sources["hub"], SnapshotSource) and isinstance(replay.sources["local"], LocalSource)
    sources: list[Source] = [*live.sources.values(), *replay.sources.values(),
                             SnapshotSource(SnapshotFile(recorded_at="t", tool_version="t", records={}))]
    assert all(s.requests == 0 and s.cache_hits == 0 for s in sources)


# --------------------------------------------------------------------------- a new kind, end to end


_RUN_WITH_ZOO = textwrap.dedent("""
    import sys
    from auditor.sources import registry
    from tests.toy_source import ZOO

    # A test-local copy of the registry with one more line: the toy `zoo` kind.
    registry.SOURCES = registry.build_registry([*registry.SOURCES.values(), ZOO])
    from auditor.cli import main

    sys.argv = ["auditor", *sys.argv[1:]]
    main()
""")


def _auditor_with_zoo(*args: str) -> subprocess.CompletedProcess[str]:
    """`auditor ARGS` in a fresh process whose registry has the `zoo` line added."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_SNAPSHOT")}
    return subprocess.run([sys.executable, "-c", _RUN_WITH_ZOO, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**env, "SOURCE_DATE_EPOCH": "1764806400"})


def test_a_toy_kind_registered_in_a_copy_of_the_registry_is_audited_end_to_end(tmp_path: Path) -> None:
    manifest = tmp_path / "auditor.yaml"
    manifest.write_text("product: Zoo App\nuse:\n  commercial: true\n  distribution: saas\nmodels:\n"
                        "  - zoo: tiny-chat\n  - id: Qwen/Qwen2.5-7B-Instruct\n", encoding="utf-8")
    out = tmp_path / "out"
    run = _auditor_with_zoo("audit", str(manifest), "--snapshot", str(EXAMPLES / "snapshot"),
                            "--format", "json,cyclonedx,spdx-json", "--out", str(out), "--quiet")
    assert run.returncode == 0, run.stderr
    result = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    nodes = {n["id"]: n for n in result["graph"]["nodes"]}
    assert nodes["zoo:tiny-chat"]["facts"]["source"] == "zoo"
    edges = {(e["child"], e["parent"]) for e in result["graph"]["edges"]}
    assert {("zoo:tiny-chat", "zoo:tiny-base"), ("zoo:tiny-base", "Qwen/Qwen2.5-7B")} <= edges  # across kinds
    assert [m["id"] for m in result["models"]] == ["zoo:tiny-chat", "Qwen/Qwen2.5-7B-Instruct"]
    bom = json.loads((out / "audit.cdx.json").read_text(encoding="utf-8"))
    component = next(c for c in bom["components"] if c["name"] == "zoo:tiny-chat")
    assert component["supplier"]["name"] == "Zoo Keepers"
    assert component["externalReferences"][0]["url"] == "https://zoo.example/models/tiny-chat"
    assert "purl" not in component

    lineage = _auditor_with_zoo("lineage", "zoo:tiny-chat", "--snapshot", str(EXAMPLES / "snapshot"),
                                "--format", "json")
    assert lineage.returncode == 0, lineage.stderr
    assert {n["id"] for n in json.loads(lineage.stdout)["nodes"]} >= {"zoo:tiny-chat", "zoo:tiny-base"}

    manifest.write_text("models:\n  - zoo: Not A Name\n", encoding="utf-8")
    bad = _auditor_with_zoo("audit", str(manifest), "--snapshot", str(EXAMPLES / "snapshot"))
    assert bad.returncode == 2
    assert f"{manifest}:2: models[0].zoo: 'Not A Name' is not a zoo model name." in bad.stderr
