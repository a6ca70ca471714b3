"""`auditor survey` against the loopback Hub serving a paged listing of the 3,405-card corpus.

What the data shows is read from the corpus rows here (the cards' own `license` and `base_model`), never
from running the survey: the page count, the families and the laundering cases are checked against it.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.errors import AuditorError
from auditor.sources.cache import MetadataCache
from auditor.sources.hub import RetryPolicy
from auditor.survey import read_listing
from auditor.survey.listing import ListingError, PageReader, SurveyQuery, _models
from auditor.survey.render import _cell
from tests.hub.recorded import all_real_bodies, corpus_bodies, corpus_rows
from tests.hub.server import Fault, HubServer, HubState, listing_key

EPOCH = "1733011200"
CORPUS = 3405
PAGE = 500


pytestmark = pytest.mark.usefixtures("bundled_rules_once")  # rule files parsed once per module


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def cli(*args: object) -> Run:
    result = CliRunner().invoke(app, ["survey", *(str(a) for a in args)], catch_exceptions=False)
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream and "internal error" not in stream
    return Run(result.exit_code, result.stdout, result.stderr)


def listing_hits(state: HubState) -> dict[int, int]:
    """Listing requests by page offset."""
    with state.lock:
        return {int(k.split("#")[1]): v for k, v in state.hits.items() if k.startswith("/api/models#")}


def model_hits(state: HubState) -> int:
    with state.lock:
        return sum(v for k, v in state.hits.items() if not k.startswith("/api/models#"))


# --------------------------------------------------------------------------- what the corpus says


def _cards() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in corpus_rows():
        card = row.get("card")
        out[row["id"]] = card if isinstance(card, dict) else {}
    return out


def _bases(card: dict[str, Any]) -> list[str]:
    value = card.get("base_model")
    values = [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] if isinstance(
        value, list) else []
    return [v for v in values if v.count("/") == 1 and "://" not in v]


def corpus_family_sizes() -> Counter[str]:
    """How many corpus models descend from each root, following the cards' `base_model` alone."""
    cards = _cards()
    memo: dict[str, frozenset[str]] = {}

    def roots(model: str, path: tuple[str, ...]) -> frozenset[str]:
        if model not in memo:
            parents = [p for p in _bases(cards.get(model, {})) if p not in path and p != model]
            found = frozenset().union(*(roots(p, (*path, model)) for p in parents)) if parents else frozenset([model])
            memo[model] = found
        return memo[model]

    return Counter(r for model in cards for r in roots(model, ()))


# --------------------------------------------------------------------------- the corpus survey, cold then warm


@dataclass
class CorpusRuns:
    state: HubState
    cold: Run
    cold_hits: dict[int, int]
    cold_json: dict[str, Any]
    cold_md: str
    warm: Run
    warm_hits: dict[int, int]
    warm_json: dict[str, Any]


@pytest.fixture(scope="module")
def corpus_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CorpusRuns]:
    tmp = tmp_path_factory.mktemp("survey")
    state = HubState(models=corpus_bodies())
    with pytest.MonkeyPatch.context() as mp, HubServer(state) as hub:
        mp.setenv("AUDITOR_CACHE_DIR", str(tmp / "cache"))
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        mp.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
        cold = cli("--endpoint", hub.endpoint, "--page-size", PAGE, "-o", tmp / "cold")
        cold_hits = listing_hits(state)
        warm = cli("--endpoint", hub.endpoint, "--page-size", PAGE, "-o", tmp / "warm")
        yield CorpusRuns(state, cold, cold_hits, json.loads((tmp / "cold" / "survey.json").read_text()),
                         (tmp / "cold" / "survey.md").read_text(), warm, listing_hits(state),
                         json.loads((tmp / "warm" / "survey.json").read_text()))


def test_the_corpus_listing_is_read_in_pages_one_request_each(corpus_runs: CorpusRuns) -> None:
    assert corpus_runs.cold.code == 0, corpus_runs.cold.err
    pages = math.ceil(CORPUS / PAGE)
    assert corpus_runs.cold_hits == {i * PAGE: 1 for i in range(pages)}  # each page asked once, in pages of 500
    assert model_hits(corpus_runs.state) == 0  # no request per model
    listing = corpus_runs.cold_json["listing"]
    assert listing == {"pages": pages, "models": CORPUS, "skipped": 0, "truncated_at_limit": False}
    assert corpus_runs.cold_json["totals"]["models"] == CORPUS
    assert f"survey: page {pages} from the Hub: {CORPUS - (pages - 1) * PAGE} models" in corpus_runs.cold.err
    assert f"{pages} requests, 0 from the cache" in corpus_runs.cold.err


def test_a_warm_rerun_makes_no_request_and_gives_the_same_report(corpus_runs: CorpusRuns) -> None:
    assert corpus_runs.warm.code == 0, corpus_runs.warm.err
    assert corpus_runs.warm_hits == corpus_runs.cold_hits  # not one more request
    assert "0 requests" in corpus_runs.warm.err and "survey: page 1 from the cache" in corpus_runs.warm.err
    assert corpus_runs.warm_json == corpus_runs.cold_json


@pytest.mark.parametrize("root", ["mistralai/Mistral-7B-v0.1", "stabilityai/stable-diffusion-xl-base-1.0",
                                  "Qwen/Qwen2-0.5B", "meta-llama/Meta-Llama-3.1-8B-Instruct"])
def test_families_are_counted_from_the_cards_lineage(corpus_runs: CorpusRuns, root: str) -> None:
    expected = corpus_family_sizes()[root]
    family = {f["root"]: f for f in corpus_runs.cold_json["families"]}[root]
    assert expected > 1 and family["models"] == expected
    assert sum(family["verdicts"].values()) == expected
    assert family["root_read"] == (root in _cards())  # a root outside the listing is named, not read


def test_a_relabelled_adaptation_in_the_corpus_is_reported_in_both_its_families(corpus_runs: CorpusRuns) -> None:
    """OpenGVLab/InternVL2-1B's card declares `mit` and names Qwen/Qwen2-0.5B-Instruct (card: `apache-2.0`,
    base Qwen/Qwen2-0.5B) and OpenGVLab/InternViT-300M-448px as its bases."""
    cards = _cards()
    model, parent = "OpenGVLab/InternVL2-1B", "Qwen/Qwen2-0.5B-Instruct"
    assert cards[model]["license"] == "mit" and parent in _bases(cards[model])
    assert cards[parent]["license"] == "apache-2.0" and _bases(cards[parent]) == ["Qwen/Qwen2-0.5B"]
    families = {f["root"]: f for f in corpus_runs.cold_json["families"]}
    for root in ("Qwen/Qwen2-0.5B", *[b for b in _bases(cards[model]) if b != parent]):
        cases = [c for c in families[root]["cases"] if c["model"] == model]
        assert [c["code"] for c in cases] == ["relabelled"], root
        assert parent in cases[0]["via"] and families[root]["cases_by_code"]["relabelled"] >= 1
    assert "| OpenGVLab/InternVL2-1B | relabelled |" in corpus_runs.cold_md


def test_a_card_contradicting_itself_is_a_license_conflict(corpus_runs: CorpusRuns) -> None:
    """01-ai/Yi-VL-34B's card says `license: apache-2.0` and `license_name: yi-license`."""
    card = _cards()["01-ai/Yi-VL-34B"]
    assert card["license"] == "apache-2.0" and card["license_name"] == "yi-license"
    cases = [c for f in corpus_runs.cold_json["families"] for c in f["cases"] if c["model"] == "01-ai/Yi-VL-34B"]
    assert cases and {c["code"] for c in cases} == {"license-conflict"}
    totals = corpus_runs.cold_json["totals"]
    assert totals["cases_by_code"]["license-conflict"] >= 1 and totals["cases_by_code"]["relabelled"] >= 1
    assert set(totals["cases_by_code"]) == {"relabelled", "license-conflict", "incompatible-merge"}


def test_families_are_sorted_most_cases_first(corpus_runs: CorpusRuns) -> None:
    fams = corpus_runs.cold_json["families"]
    keys = [(-len(f["cases"]), -f["models"], f["root"]) for f in fams]
    assert keys == sorted(keys) and len(fams[0]["cases"]) > 0
    assert "## Families" in corpus_runs.cold_md and f"and {len(fams) - 50:,} more families" in corpus_runs.cold_md


# --------------------------------------------------------------------------- filters and limits


def test_base_model_filter_lists_its_derivatives_in_one_request(hub: HubServer, hub_state: HubState) -> None:
    base = "mistralai/Mistral-7B-v0.1"
    hub_state.models = corpus_bodies()
    expected = sorted(m for m, card in _cards().items() if base in _bases(card))
    run = cli("--endpoint", hub.endpoint, "--base-model", base, "--format", "json", "-o", "-")
    assert run.code == 0, run.err
    data = json.loads(run.out)
    assert data["query"]["filter"] == [f"base_model:{base}"] and data["listing"]["models"] == len(expected) > 10
    assert listing_hits(hub_state) == {0: 1}
    family = {f["root"]: f for f in data["families"]}[base]
    assert family["models"] == len(expected) and not family["root_read"]  # the base itself is not listed


def test_author_and_tag_filters_are_both_applied(hub: HubServer, hub_state: HubState) -> None:
    hub_state.models = corpus_bodies()
    cards = _cards()
    expected = [m for m, c in cards.items() if m.startswith("TheBloke/") and c.get("license") == "llama2"]
    run = cli("--endpoint", hub.endpoint, "--author", "TheBloke", "--tag", "license:llama2", "--format", "json",
              "-o", "-")
    assert run.code == 0, run.err
    assert json.loads(run.out)["listing"]["models"] == len(expected) > 0


def test_limit_stops_asking_for_pages(hub: HubServer, hub_state: HubState) -> None:
    hub_state.models = corpus_bodies()
    run = cli("--endpoint", hub.endpoint, "--limit", 150, "--page-size", 100, "--format", "json", "-o", "-")
    assert run.code == 0, run.err
    assert json.loads(run.out)["listing"] == {"pages": 2, "models": 150, "skipped": 0, "truncated_at_limit": True}
    assert listing_hits(hub_state) == {0: 1, 100: 1}
    run = cli("--endpoint", hub.endpoint, "--limit", 30, "--format", "json", "-o", "-")  # a page of 30 asked for
    assert json.loads(run.out)["listing"]["models"] == 30 and listing_hits(hub_state)[0] == 2


# --------------------------------------------------------------------------- resume, rate limits


def _subset(n: int) -> dict[str, dict[str, Any]]:
    bodies = corpus_bodies()
    return {k: bodies[k] for k in sorted(bodies)[:n]}


def test_an_interrupted_survey_resumes_with_the_pages_it_lacks(hub: HubServer, hub_state: HubState,
                                                               tmp_path: Path) -> None:
    """The process is killed while page 3 is out; the rerun replays pages 1-2 from the cache and asks for 3-6."""
    hub_state.models = _subset(600)
    stall = 2.0
    hub_state.faults[listing_key(200)] = Fault(stall_seconds=stall, stall_times=1)
    env = {**os.environ, "AUDITOR_CACHE_DIR": os.environ["AUDITOR_CACHE_DIR"]}
    proc = subprocess.Popen([sys.executable, "-m", "auditor", "survey", "--endpoint", hub.endpoint,
                             "--page-size", "100", "-o", str(tmp_path / "first")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while listing_hits(hub_state).get(200, 0) < 1 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    stalled_at = time.monotonic()
    assert listing_hits(hub_state) == {0: 1, 100: 1, 200: 1}
    assert not (tmp_path / "first" / "survey.json").exists()
    time.sleep(max(0.0, stalled_at + stall + 0.5 - time.monotonic()))  # the stalled answer goes nowhere, here
    run = cli("--endpoint", hub.endpoint, "--page-size", 100, "-o", tmp_path / "second")
    assert run.code == 0, run.err
    assert listing_hits(hub_state) == {0: 1, 100: 1, 200: 2, 300: 1, 400: 1, 500: 1}
    assert "survey: page 2 from the cache" in run.err and "survey: page 3 from the Hub" in run.err
    assert json.loads((tmp_path / "second" / "survey.json").read_text())["listing"]["models"] == 600


def test_a_429_with_retry_after_is_honoured(hub: HubServer, hub_state: HubState) -> None:
    hub_state.models = _subset(50)
    hub_state.faults[listing_key(0)] = Fault(rate_limit=1, retry_after=1)
    started = time.monotonic()
    run = cli("--endpoint", hub.endpoint, "--format", "json", "-o", "-")
    assert run.code == 0, run.err
    assert time.monotonic() - started >= 1.0  # waited as asked
    assert listing_hits(hub_state) == {0: 2} and hub_state.refused == 1
    assert json.loads(run.out)["listing"]["models"] == 50


def test_the_rate_budget_paces_pages_without_a_refusal(hub: HubServer, hub_state: HubState,
                                                        cache_dir: Path) -> None:
    """3 requests a 1-second window: the RateLimit headers make the reader wait instead of being refused."""
    hub_state.models = _subset(500)
    hub_state.quota, hub_state.window = 3, 1.0
    reader = PageReader(endpoint=hub.endpoint, token=False, cache=MetadataCache(cache_dir), seed=1,
                        retry=RetryPolicy(budget_seconds=30.0, timeout=5.0))
    listing = read_listing(reader, SurveyQuery(page_size=50))
    assert len(listing.facts) == 500 and listing.pages == 10
    assert reader.requests == 10 + reader.rate_limited and hub_state.refused == reader.rate_limited <= 1


def test_follow_parents_reads_the_ancestors_outside_the_listing(hub: HubServer, hub_state: HubState) -> None:
    hub_state.models = all_real_bodies()
    args = ("--endpoint", hub.endpoint, "--author", "OpenGVLab", "--format", "json", "-o", "-")
    without = json.loads(cli(*args).out)["totals"]
    assert without["ancestors_outside_listing"] > 0
    assert without["ancestors_unresolved"] == without["ancestors_outside_listing"] and model_hits(hub_state) == 0
    run = cli(*args, "--follow-parents")
    followed = json.loads(run.out)["totals"]
    assert model_hits(hub_state) > 0 and followed["ancestors_unresolved"] < without["ancestors_unresolved"]


# --------------------------------------------------------------------------- bad and hostile input


@pytest.mark.parametrize(("args", "message"), [
    (["--tag", "base_model:finetun:mistralai/Mistral-7B-v0.1"], "Did you mean 'base_model:finetune:mistralai/"),
    (["--tag", ""], "a Hub tag is one word"),
    (["--tag", "x" * 5000], "a Hub tag is one word"),
    (["--tag", "license:mit\nevil"], "a Hub tag is one word"),
    (["--author", ""], "not a Hub user or organisation name"),
    (["--author", "../etc"], "not a Hub user or organisation name"),
    (["--base-model", "not-a-repo"], "--base-model: 'not-a-repo' is not a Hub repo id"),
    (["--page-size", "0"], "--page-size 0: must be 1 to 1000"),
    (["--page-size", "5000"], "must be 1 to 1000"),
    (["--limit", "0"], "--limit 0: must be at least 1"),
    (["--format", "jsn"], "Did you mean 'json'?"),
    (["--format", ""], "--format ''"),
    (["--format", "json,md", "-o", "-"], "stdout takes one format"),
    (["--distribution", "sass"], "--distribution"),
])
def test_bad_options_are_one_line_errors(hub: HubServer, hub_state: HubState, args: list[str], message: str) -> None:
    run = cli("--endpoint", hub.endpoint, *args)
    assert run.code == 2 and message in run.err and run.err.count("\n") == 1, run.err
    assert listing_hits(hub_state) == {}  # refused before any request


def test_a_listing_that_matches_nothing_is_an_error_not_an_empty_pass(hub: HubServer, hub_state: HubState) -> None:
    hub_state.models = _subset(20)
    run = cli("--endpoint", hub.endpoint, "--author", "nobody-here")
    assert run.code == 2 and "matched no model (author=nobody-here)" in run.err


def test_a_page_that_is_not_json_is_located_and_resumable(hub: HubServer, hub_state: HubState) -> None:
    hub_state.models = _subset(30)
    hub_state.faults[listing_key(10)] = Fault(malformed=True)
    run = cli("--endpoint", hub.endpoint, "--page-size", 10)
    assert run.code == 2 and run.err.splitlines()[-1].startswith("error: listing page 2 (")
    assert "not JSON" in run.err and "run the same command again to resume" in run.err


def test_an_unreachable_endpoint_fails_in_one_line(tmp_path: Path) -> None:
    run = cli("--endpoint", "http://127.0.0.1:9", "-o", tmp_path)
    assert run.code == 2 and "cannot reach the Hub at http://127.0.0.1:9" in run.err


def test_bad_model_entries_in_a_page_are_skipped(hub: HubServer, hub_state: HubState, cache_dir: Path) -> None:
    hub_state.models = {**_subset(5), "zz/bad": {"id": "../../etc/passwd", "tags": []},
                        "zz/dup": {**corpus_bodies()[sorted(corpus_bodies())[0]]}}
    reader = PageReader(endpoint=hub.endpoint, token=False, cache=MetadataCache(cache_dir))
    listing = read_listing(reader, SurveyQuery())
    assert len(listing.facts) == 5 and listing.skipped == 2


class _FakeResponse:
    def __init__(self, content: bytes, links: dict[str, dict[str, str]] | None = None) -> None:
        self.status_code = 200
        self.headers: dict[str, str] = {}
        self.content = content
        self.links = links or {}
        self.request = None

    def raise_for_status(self) -> None:
        return None


def test_a_page_must_be_a_list_and_not_huge(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ListingError, match="not a list of models"):
        _models(_FakeResponse(b'{"models": []}'), "page 1")
    import auditor.survey.listing as listing

    monkeypatch.setattr(listing, "MAX_PAGE_BYTES", 100)
    with pytest.raises(ListingError, match="over the 100-byte limit"):
        _models(_FakeResponse(b"[" + b"{}," * 100 + b"{}]"), "page 1")
    assert _models(_FakeResponse(b'[1, "x", {"id": "a/b"}]'), "page 1") == [{"id": "a/b"}]


def test_a_next_link_leading_away_from_the_endpoint_is_not_followed() -> None:
    reader = PageReader(endpoint="http://127.0.0.1:5000")
    away = _FakeResponse(b"[]", {"next": {"url": "http://evil.example/api/models?cursor=x"}})
    with pytest.raises(ListingError, match="leads away from the endpoint"):
        reader._next_url(away, "http://127.0.0.1:5000/api/models", 1)
    relative = _FakeResponse(b"[]", {"next": {"url": "/api/models?cursor=x"}})
    assert reader._next_url(relative, "http://127.0.0.1:5000/api/models", 1) == \
        "http://127.0.0.1:5000/api/models?cursor=x"


def test_a_next_link_back_to_a_page_already_read_stops_the_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.survey.listing import Page

    reader = PageReader(endpoint="http://127.0.0.1:5000")
    first = reader.first_url(SurveyQuery())
    monkeypatch.setattr(reader, "_fetch", lambda url, number: Page(number, url, [], first, "t", cached=False))
    with pytest.raises(ListingError, match="points back to a page already read"):
        list(reader.pages(SurveyQuery()))
    assert isinstance(ListingError("x"), AuditorError)  # the CLI prints it as one line, exit 2


def test_markdown_cells_cannot_break_the_table() -> None:
    assert _cell("a|b\nc<script>`x`") == "a\\|b c\\<script\\>\\`x\\`"
    assert len(_cell("x" * 1000)) == 160


def test_a_tampered_cache_entry_is_read_again_or_filtered(hub: HubServer, hub_state: HubState,
                                                          cache_dir: Path) -> None:
    hub_state.models = _subset(5)
    cache = MetadataCache(cache_dir)
    reader = PageReader(endpoint=hub.endpoint, token=False, cache=cache)
    url = reader.first_url(SurveyQuery())
    cache.put(reader._key(url), "not json", "t", pinned=False)
    assert len(read_listing(reader, SurveyQuery()).facts) == 5 and reader.requests == 1  # read again
    cache.put(reader._key(url), json.dumps({"models": [1, "x", None], "next": None}), "t", pinned=False)
    again = PageReader(endpoint=hub.endpoint, token=False, cache=cache)
    listing = read_listing(again, SurveyQuery())
    assert again.requests == 0 and listing.facts == [] and listing.pages == 1


def test_format_all_writes_json_markdown_and_an_escaped_html_page(hub: HubServer, hub_state: HubState,
                                                                 tmp_path: Path) -> None:
    from auditor.survey.render import render_html

    hub_state.models = corpus_bodies()
    out = tmp_path / "out"
    run = cli("--endpoint", hub.endpoint, "--author", "OpenGVLab", "--follow-parents", "--format", "all", "-o", out)
    assert run.code == 0, run.err
    assert sorted(p.name for p in out.iterdir()) == ["survey.html", "survey.json", "survey.md"]
    page = (out / "survey.html").read_text()
    assert "OpenGVLab/InternVL2-1B" in page and "<b>relabelled</b>" in page
    data = json.loads((out / "survey.json").read_text())
    data["families"][0]["cases"] = [{"code": "relabelled", "model": "<img src=x onerror=alert(1)>",
                                     "license": None, "via": [], "message": "<script>alert(1)</script>"}]
    hostile = render_html(data)
    assert "<script>alert" not in hostile and "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile
    assert "<img src=x" not in hostile
