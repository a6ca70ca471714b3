"""Sources: snapshot record/replay, the on-disk cache, local folders, references."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from auditor.lineage import RefError, RoutingSource, crawl, parse_ref
from auditor.lineage_render import render_json
from auditor.model import ModelFacts
from auditor.sources.cache import MetadataCache
from auditor.sources.hub import HubSource
from auditor.sources.local import LocalSource
from auditor.sources.snapshot import RecordingSource, SnapshotError, SnapshotSource, load_snapshot
from tests.hub.server import HubServer, HubState


def test_snapshot_replays_bit_for_bit(hub: HubServer, hub_state: HubState, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764806400")
    refs = [parse_ref("example-org/chat-lora-q4"), parse_ref("example-org/orphan-ft")]
    recorder = RecordingSource(HubSource(endpoint=hub.endpoint, token=False))
    live = crawl(refs, recorder)
    recorder.write(tmp_path / "snap", "test")
    hits_before = hub_state.total_requests()
    replay = crawl(refs, SnapshotSource(load_snapshot(tmp_path / "snap")))
    assert hub_state.total_requests() == hits_before  # offline
    live_json = json.loads(render_json(live))
    replay_json = json.loads(render_json(replay))
    live_json.pop("requests"), replay_json.pop("requests")
    assert live_json == replay_json
    # the failure was recorded too
    assert any(n.unresolved and n.unresolved.code == "not-found" for n in replay.nodes)


def test_snapshot_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="no snapshot here"):
        load_snapshot(tmp_path)
    (tmp_path / "snapshot.json").write_text('{"format": "something-else"}')
    with pytest.raises(SnapshotError, match="format"):
        load_snapshot(tmp_path)


def test_unrecorded_model_is_unresolved(tmp_path: Path) -> None:
    recorder = RecordingSource(LocalSource())
    recorder.write(tmp_path, "test")
    graph = crawl([parse_ref("example-org/not-recorded")], SnapshotSource(load_snapshot(tmp_path)))
    assert graph.nodes[0].unresolved is not None and "snapshot" in graph.nodes[0].unresolved.reason


def test_branch_entries_expire_and_sha_entries_do_not(tmp_path: Path) -> None:
    cache = MetadataCache(tmp_path, ttl_seconds=1)
    cache.put("branch", "{}", "t", pinned=False)
    cache.put("sha", "{}", "t", pinned=True)
    assert cache.get("branch", pinned=False) is not None
    # age the entries past the TTL
    with cache._lock:
        cache._conn.execute("UPDATE entries SET stored_at = ?", (time.time() - 10,))
    assert cache.get("branch", pinned=False) is None
    assert cache.get("sha", pinned=True) is not None
    assert cache.stats().entries == 2 and cache.clear() == 2


def test_warm_cache_makes_no_request_and_refresh_does(hub: HubServer, hub_state: HubState, tmp_path: Path) -> None:
    cache = MetadataCache(tmp_path)
    crawl([parse_ref("example-org/chat-sft")], HubSource(endpoint=hub.endpoint, token=False, cache=cache))
    warm = HubSource(endpoint=hub.endpoint, token=False, cache=cache)
    crawl([parse_ref("example-org/chat-sft")], warm)
    assert warm.requests == 0 and warm.cache_hits == 2
    refreshed = HubSource(endpoint=hub.endpoint, token=False, cache=cache, refresh=True)
    crawl([parse_ref("example-org/chat-sft")], refreshed)
    assert refreshed.requests == 2


def test_failures_are_not_cached(hub: HubServer, tmp_path: Path) -> None:
    cache = MetadataCache(tmp_path)
    crawl([parse_ref("example-org/broken-json")], HubSource(endpoint=hub.endpoint, token=False, cache=cache))
    assert cache.stats().entries == 0


def test_token_is_sent_but_never_stored(hub: HubServer, tmp_path: Path) -> None:
    cache = MetadataCache(tmp_path)
    token = "hf_secretTOKEN1234567890"
    graph = crawl([parse_ref("example-org/chat-sft")], HubSource(endpoint=hub.endpoint, token=token, cache=cache))
    assert token not in graph.model_dump_json()
    assert token.encode() not in (tmp_path / "metadata.sqlite3").read_bytes()


def test_local_folder_oddities(tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "README.md").write_text("no front matter here\n")
    (folder / "adapter_config.json").write_text("{not json")
    (folder / "config.json").write_text("[1, 2]")
    facts = LocalSource().fetch(parse_ref(str(folder)))
    assert isinstance(facts, ModelFacts)
    assert facts.declared.is_empty
    unreadable = {p.parent.rsplit("/", 1)[-1]: p for p in facts.parents if p.unreadable}
    # A broken adapter_config.json or config.json names a parent we cannot know: never silently absent.
    assert set(unreadable) == {"adapter_config.json", "config.json"}
    assert "not valid JSON" in (unreadable["adapter_config.json"].unreadable or "")
    assert unreadable["adapter_config.json"].relation == "adapter"
    assert "not a JSON object" in (unreadable["config.json"].unreadable or "")


def test_missing_local_folder_is_unresolved(tmp_path: Path) -> None:
    result = LocalSource().fetch(parse_ref(str(tmp_path / "nope")))
    assert getattr(result, "code", None) == "not-found"


@pytest.mark.parametrize(
    ("text", "kind", "model_id", "revision"),
    [
        ("meta-llama/Llama-3.1-8B", "hub", "meta-llama/Llama-3.1-8B", None),
        ("example-org/x@v1.0", "hub", "example-org/x", "v1.0"),
        ("https://huggingface.co/example-org/x", "hub", "example-org/x", None),
        ("./models/thing", "local", "models/thing", None),
    ],
)
def test_parse_ref(text: str, kind: str, model_id: str, revision: str | None) -> None:
    ref = parse_ref(text)
    assert ref.kind == kind and ref.id.endswith(model_id) and ref.revision == revision


@pytest.mark.parametrize("text", ["", "not a repo id", "a/b/c/d@"])
def test_parse_ref_rejects(text: str) -> None:
    with pytest.raises(RefError):
        parse_ref(text)


def test_routing_source_counts(hub: HubServer, tmp_path: Path) -> None:
    routing = RoutingSource(hub=HubSource(endpoint=hub.endpoint, token=False), local=LocalSource())
    crawl([parse_ref("example-org/chat-sft")], routing)
    assert routing.requests == 2
