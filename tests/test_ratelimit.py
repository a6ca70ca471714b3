"""Rate limits, retry budgets and unreachable endpoints ("never a false PASS").

Behind the loopback Hub with a real per-window quota (`HubState.quota`, shared by all clients), cold crawls
and audits of six real recorded models must be complete and identical to an unthrottled crawl; a server
that asks for more than the retry budget ends the request at once, as `rate-limited`, naming the wait; an
endpoint that cannot be reached is named in the reason, within seconds.
"""

from __future__ import annotations

import ast
import importlib.metadata
import itertools
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from auditor.audit import AuditEntry, run_audit
from auditor.lineage import CrawlOptions, crawl, parse_ref
from auditor.model import DeclaredUse, LineageGraph, ModelFacts, ModelRef, Unresolved, Verdict
from auditor.rules.loader import RuleSet, load_rules
from auditor.sources.hub import (
    HubSource,
    RateGate,
    RetryPolicy,
    _network_error,
    _parse_ratelimit_fallback,
    parse_ratelimit,
)
from tests.hub.recorded import all_real_bodies
from tests.hub.server import Fault, HubServer, HubState

ROOT = Path(__file__).resolve().parents[1]
# Six real recorded models whose whole lineage is recorded: 11 distinct models, up to 3 levels deep.
SIX = (
    "bartowski/Qwen2.5-Coder-7B-Instruct-GGUF",  # -> Qwen2.5-Coder-7B-Instruct -> Qwen2.5-Coder-7B -> Qwen2.5-7B
    "Qwen/Qwen2.5-7B-Instruct-GGUF",  # -> Qwen2.5-7B-Instruct -> Qwen2.5-7B
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",  # -> Qwen2.5-32B
    "Qwen/Qwen2-72B-Instruct",  # -> Qwen2-72B
    "CohereForAI/c4ai-command-r-plus",
    "microsoft/phi-4",
)
DISTINCT = 11
# A failure must not hang the suite for the default 360 s budget.
QUOTA_RETRY = RetryPolicy(budget_seconds=30.0, timeout=5.0)
USE = DeclaredUse(commercial=True, monthly_active_users=2_000_000, annual_revenue_usd=5_000_000,
                  distribution="saas", regions=["EU", "US"], purposes=["customer-support"])
EPOCH = "1733011200"  # SOURCE_DATE_EPOCH: retrieved_at is the same in every run


@pytest.fixture(scope="module")
def bodies() -> dict[str, dict[str, Any]]:
    return all_real_bodies()


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


def _refs() -> list[ModelRef]:
    return [parse_ref(m) for m in SIX]


def _canonical(graph: LineageGraph, endpoint: str) -> str:
    """The graph as JSON, less the request counts, with the server's port replaced."""
    return graph.model_dump_json(exclude={"requests", "cache_hits"}).replace(endpoint, "http://hub")


def _crawl(endpoint: str, retry: RetryPolicy = QUOTA_RETRY) -> tuple[LineageGraph, HubSource]:
    source = HubSource(endpoint=endpoint, token=False, retry=retry, seed=1)  # no cache: every run is cold
    return crawl(_refs(), source, CrawlOptions(concurrency=8)), source


@pytest.fixture(scope="module")
def reference(bodies: dict[str, dict[str, Any]]) -> str:
    """The six models crawled from a Hub with no rate limit."""
    with pytest.MonkeyPatch.context() as mp, HubServer(HubState(models=bodies)) as hub:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        graph, _ = _crawl(hub.endpoint)
    assert len(graph.nodes) == DISTINCT and all(n.facts is not None for n in graph.nodes)
    return _canonical(graph, hub.endpoint)


def _assert_complete(graph: LineageGraph) -> None:
    unresolved = {n.id: n.unresolved.reason for n in graph.nodes if n.unresolved is not None}
    assert not unresolved
    assert len(graph.nodes) == DISTINCT


# ------------------------------------------------------------------------------------ quota behind the Hub


@pytest.mark.parametrize("run", [1, 2, 3])
def test_cold_crawl_at_3_a_window_is_complete_and_identical(
    run: int, bodies: dict[str, dict[str, Any]], reference: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three cold runs (one per test, each on a fresh quota so each stays under ~4 s)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    state = HubState(models=bodies, quota=3, window=1)
    with HubServer(state) as hub:
        graph, source = _crawl(hub.endpoint)
    _assert_complete(graph)
    assert _canonical(graph, hub.endpoint) == reference
    # The first round (up to the six roots) goes out before any answer can announce the budget, so the Hub refuses
    # what it holds beyond 3; from the first answer on, the RateLimit headers slow the crawl down before the
    # Hub has to refuse anything more. Every refused request is asked again once (after its Retry-After).
    assert 1 <= source.gate.unannounced_sent <= len(SIX)
    assert state.refused == source.rate_limited <= max(0, source.gate.unannounced_sent - 3)
    assert source.requests == DISTINCT + state.refused and source.gate.waits > 0


def test_three_cold_crawls_at_15_a_window_are_complete_and_identical(
    bodies: dict[str, dict[str, Any]], reference: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three cold runs in a row against one quota (33 requests, 15 a window): the later runs are throttled."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    state = HubState(models=bodies, quota=15, window=1)
    with HubServer(state) as hub:
        runs = [_crawl(hub.endpoint) for _ in range(3)]
    for graph, _ in runs:
        _assert_complete(graph)
        assert _canonical(graph, hub.endpoint) == reference
    # A later run's first round goes out before any answer announces what is left of the window: only those
    # requests may be refused (each asked again once); none after a run's first answer.
    assert state.refused <= sum(source.gate.unannounced_sent for _, source in runs[1:])
    assert state.total_requests() == 3 * DISTINCT + state.refused
    assert sum(source.gate.waits for _, source in runs) > 0


def test_audit_verdicts_agree_under_rate_limit(bodies: dict[str, dict[str, Any]], rules: RuleSet) -> None:
    """The whole audit, three cold runs behind 15 requests a window, gives the verdicts of an unthrottled one."""

    unannounced: list[int] = []  # each run's requests sent before its first answer

    def verdicts(endpoint: str) -> tuple[Verdict, bool, list[tuple[str, Verdict, list[str]]]]:
        source = HubSource(endpoint=endpoint, token=False, retry=QUOTA_RETRY, seed=1)
        result = run_audit([AuditEntry(ref=r) for r in _refs()], source, rules, USE)
        unannounced.append(source.gate.unannounced_sent)
        models = [(m.id, m.verdict, sorted({f.code for f in m.findings})) for m in result.models]
        return result.verdict, result.complete, models

    with HubServer(HubState(models=bodies)) as hub:
        expected = verdicts(hub.endpoint)
    assert expected[0] == "fail" and expected[1]  # Command R+ is non-commercial
    state = HubState(models=bodies, quota=15, window=1)
    with HubServer(state) as hub:
        runs = [verdicts(hub.endpoint) for _ in range(3)]
    assert runs == [expected] * 3
    assert state.refused <= sum(unannounced[2:])  # only a later run's first round, before its first answer


# ------------------------------------------------------------------------------------ 429 and the budget


def test_a_429_pauses_every_worker(hub: HubServer, hub_state: HubState) -> None:
    """A 429 with Retry-After seen by one worker holds the others: their requests wait for it."""
    source = HubSource(endpoint=hub.endpoint, token=False, retry=QUOTA_RETRY, seed=1)
    first: list[ModelFacts | Unresolved] = []
    worker = threading.Thread(target=lambda: first.append(source.fetch(parse_ref("example-org/throttled"))))
    worker.start()
    deadline = time.monotonic() + 3
    while source.gate.paused_for() == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    paused = source.gate.paused_for()
    assert paused > 0.5  # Retry-After: 1
    start = time.monotonic()
    other = source.fetch(parse_ref("example-org/chat-sft"))
    waited = time.monotonic() - start
    worker.join(5)
    assert isinstance(other, ModelFacts) and first and isinstance(first[0], ModelFacts)
    assert waited >= paused - 0.05
    assert hub_state.hits["example-org/throttled"] == 2 and source.rate_limited == 1


def test_retry_after_beyond_the_budget_ends_rate_limited_at_once(hub: HubServer, hub_state: HubState) -> None:
    hub_state.faults["example-org/throttled-long"] = Fault(rate_limit=1000, retry_after=3600)
    source = HubSource(endpoint=hub.endpoint, token=False, retry=RetryPolicy(budget_seconds=5.0), seed=1)
    start = time.monotonic()
    result = source.fetch(parse_ref("example-org/throttled-long"))
    assert time.monotonic() - start < 2.0
    assert isinstance(result, Unresolved) and result.code == "rate-limited"
    assert hub.endpoint in result.reason and "3600s" in result.reason and "budget" in result.reason
    assert "\n" not in result.reason and "HF_TOKEN" not in result.reason
    assert hub_state.hits["example-org/throttled-long"] == 1  # asked once, not hammered
    # the other workers obey the same Retry-After: they give up without sending anything
    start = time.monotonic()
    other = source.fetch(parse_ref("example-org/chat-sft"))
    assert time.monotonic() - start < 1.0
    assert isinstance(other, Unresolved) and other.code == "rate-limited" and "budget" in other.reason
    assert hub_state.hits["example-org/chat-sft"] == 0


def test_retry_after_within_the_budget_is_waited_for(hub: HubServer, hub_state: HubState) -> None:
    """No fixed count of attempts: three 429s in a row are retried (Retry-After: 0 -> jittered backoff)."""
    hub_state.faults["example-org/throttled-thrice"] = Fault(rate_limit=3, retry_after=0)
    hub_state.models["example-org/throttled-thrice"] = hub_state.models["example-org/chat-sft"]
    retry = RetryPolicy(max_retries=0, base_delay=0.01, max_delay=0.05, budget_seconds=5.0)
    source = HubSource(endpoint=hub.endpoint, token=False, retry=retry, seed=1)
    assert isinstance(source.fetch(parse_ref("example-org/throttled-thrice")), ModelFacts)
    assert hub_state.hits["example-org/throttled-thrice"] == 4 and source.rate_limited == 3


def test_server_errors_are_retried_until_the_budget(hub: HubServer, hub_state: HubState) -> None:
    hub_state.faults["example-org/down"] = Fault(fail_503=10_000)
    retry = RetryPolicy(max_retries=1, base_delay=0.05, max_delay=0.1, budget_seconds=1.0)
    source = HubSource(endpoint=hub.endpoint, token=False, retry=retry, seed=1)
    start = time.monotonic()
    result = source.fetch(parse_ref("example-org/down"))
    assert time.monotonic() - start < 2.0
    assert isinstance(result, Unresolved) and result.code == "unreachable"
    assert "HTTP 503" in result.reason and "budget" in result.reason and hub.endpoint in result.reason
    assert hub_state.hits["example-org/down"] > retry.max_retries + 1  # the budget, not a count, ended it


# ------------------------------------------------------------------------------------ unreachable


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_endpoint_is_named_within_seconds() -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    source = HubSource(endpoint=endpoint, token=False, seed=1)  # the default policy
    start = time.monotonic()
    graph = crawl(_refs(), source)
    assert time.monotonic() - start < 3.0  # a few attempts, not the whole budget
    assert {n.id for n in graph.nodes} == set(SIX)
    for node in graph.nodes:
        assert node.unresolved is not None and node.unresolved.code == "unreachable"
        reason = node.unresolved.reason
        assert reason.startswith(
            f"cannot reach the Hub at {endpoint} (HF_ENDPOINT / --endpoint): connection refused (ConnectError)"
        )
        assert "\n" not in reason and "HF_TOKEN" not in reason
    # one reason for all (no timings in it): the summary shows it once, and reports are reproducible
    assert len({n.unresolved.reason for n in graph.nodes if n.unresolved is not None}) == 1
    assert source.requests == len(SIX) * (RetryPolicy().max_retries + 1)


def test_offline_mode_is_not_retried(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    source = HubSource(endpoint=hub.endpoint, token=False, seed=1)
    result = source.fetch(parse_ref("example-org/chat-sft"))
    assert isinstance(result, Unresolved) and result.code == "unreachable"
    assert "HF_HUB_OFFLINE" in result.reason and hub.endpoint in result.reason
    assert source.requests == 1


def _chain(*excs: BaseException) -> BaseException:
    for outer, inner in itertools.pairwise(excs):
        outer.__cause__ = inner
    return excs[0]


class ConnectError(Exception):
    """Stands for the HTTP library's error: only the standard-library cause under it is read."""


@pytest.mark.parametrize(
    ("root", "expected"),
    [
        (ConnectionRefusedError(111, "Connection refused"), "connection refused"),
        (socket.gaierror(-2, "Name or service not known"), "host name not found (DNS)"),
        (TimeoutError("timed out"), "timed out after 7s"),
        (ConnectionResetError(104, "reset"), "connection reset"),
    ],
)
def test_network_error_is_read_from_the_standard_library_cause(root: BaseException, expected: str) -> None:
    exc = _chain(ConnectError("[Errno] something\nsecond line"), RuntimeError("transport"), root)
    assert _network_error(exc, 7.0) == expected
    assert _network_error(ConnectError("all connections busy\nmore"), 7.0) == "all connections busy"


# ------------------------------------------------------------------------------------ the gate (fake time)


@dataclass
class FakeTime:
    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _headers(remaining: int, reset: int, quota: int | None = None, window: int = 10) -> dict[str, str]:
    out = {"RateLimit": f'"api";r={remaining};t={reset}'}
    if quota is not None:
        out["RateLimit-Policy"] = f'"fixed window";"api";q={quota};w={window}'
    return out


def test_gate_spends_the_window_then_waits_for_the_reset() -> None:
    t = FakeTime()
    gate = RateGate(sleep=t.sleep, clock=t.clock)
    assert gate.before_request() == 0.0  # the probe
    gate.after_response(_headers(2, 10, quota=3))
    for _ in range(2):
        assert gate.before_request() == 0.0
    assert t.slept == []
    gate.after_response(_headers(1, 10, quota=3))
    gate.after_response(_headers(0, 10, quota=3))
    assert gate.paused_for() == 10.0
    assert gate.before_request() == 0.0  # waited for the reset; the policy's 3 are known again
    assert t.slept == [10.0] and gate.waits == 1
    assert gate.before_request() == 0.0 and gate.before_request() == 0.0 and t.slept == [10.0]


def test_gate_counts_requests_in_flight_and_ignores_stale_answers() -> None:
    t = FakeTime()
    gate = RateGate(sleep=t.sleep, clock=t.clock)
    gate.before_request()
    gate.after_response(_headers(3, 5))
    for _ in range(3):
        gate.before_request()  # three out, none answered
    assert gate.paused_for() == 5.0
    gate.after_response(_headers(1, 5))  # two still in flight: nothing left
    assert gate.paused_for() == 5.0
    gate.after_response(_headers(2, 5))  # an older answer arriving late does not give a request back
    assert gate.paused_for() == 5.0


def test_gate_deadline_and_hold() -> None:
    t = FakeTime()
    gate = RateGate(sleep=t.sleep, clock=t.clock)
    gate.before_request()
    gate.after_response({})  # no RateLimit headers: no pacing
    gate.hold(50)
    assert gate.before_request(deadline=t.now + 10) == 50.0 and t.slept == []  # too long: no wait, no turn
    assert gate.before_request(deadline=t.now + 60) == 0.0 and t.slept == [50.0]


def test_gate_probes_with_one_request_until_the_first_answer() -> None:
    gate = RateGate()
    gate.before_request()
    second = threading.Event()

    def go() -> None:
        gate.before_request()
        second.set()

    thread = threading.Thread(target=go)
    thread.start()
    assert not second.wait(0.2)  # waits for the probe's answer
    gate.after_response({})  # no RateLimit headers: everyone may go
    assert second.wait(2)
    thread.join(2)
    gate.before_request()  # two in flight, no waiting
    assert gate.paused_for() == 0.0


def test_gate_stops_probing_when_nothing_answers() -> None:
    t = FakeTime()
    gate = RateGate(sleep=t.sleep, clock=t.clock)
    gate.before_request()
    gate.after_response(None)  # connection refused: do not try the others one at a time
    gate.before_request()
    gate.before_request()
    assert t.slept == [] and gate.paused_for() == 0.0


@pytest.mark.parametrize(
    "headers",
    [
        _headers(0, 55, quota=500, window=300),
        _headers(12, 3),
        {"ratelimit": '"api";r=7;t=1', "ratelimit-policy": '"fixed window";"api";q=9;w=1'},
        {"RateLimit": "garbage"},
        {},
    ],
)
def test_fallback_parser_matches_huggingface_hub(headers: dict[str, str]) -> None:
    """huggingface_hub 1.0 has no parse_ratelimit_headers: the fallback reads the same format the same way."""
    assert _parse_ratelimit_fallback(headers) == parse_ratelimit(headers)


# ------------------------------------------------------------------------------------ honest dependencies


def _imported_top_levels(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


def test_the_package_imports_only_declared_dependencies() -> None:
    """No transitive dependency (httpx, httpx2, httpcore, pydantic_core…) is imported: only what pyproject
    declares, so the floors CI tests are the floors of everything the code touches."""
    declared = {
        re.split(r"[\s\[<>=!~;(]", req, maxsplit=1)[0].lower().replace("_", "-")
        for req in importlib.metadata.requires("model-license-auditor") or []
        if "extra ==" not in req
    }
    distributions = importlib.metadata.packages_distributions()
    undeclared: dict[str, str] = {}
    for path in sorted((ROOT / "auditor").rglob("*.py")):
        for top in _imported_top_levels(path):
            if top in sys.stdlib_module_names or top == "auditor":
                continue
            owners = {d.lower().replace("_", "-") for d in distributions.get(top, [])}
            if not owners & declared:
                undeclared[top] = path.name
    assert undeclared == {}
