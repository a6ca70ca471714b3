"""The Hugging Face Hub, through the real `huggingface_hub` client.

We send `GET /api/models/{id}[/revision/{rev}]?expand=…` through huggingface_hub's own HTTP session,
header builder (token, user agent) and error mapping (`hf_raise_for_status` -> typed errors), exactly as
`HfApi.model_info` does, but keep the response object so the Hub's `RateLimit` headers can slow the crawl
down before it is refused (`model_info` discards them).

Only huggingface_hub's public API is imported, never the HTTP library under it: huggingface_hub 1.x runs on
`httpx`, 2.x on `httpx2`, and neither is our dependency (see `_transport_errors`).
"""

from __future__ import annotations

import functools
import json
import math
import os
import random
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, urlencode

from auditor.model import ModelFacts, ModelRef, SourceKind, Unresolved, UnresolvedCode
from auditor.sources import pacing
from auditor.sources.base import now_iso
from auditor.sources.cache import CachedFailure, MetadataCache
from auditor.sources.card import (
    as_str_list,
    declared_license,
    gate_flags,
    is_repo_id,
    parent_claims_from_card,
)

EXPAND = [
    "author",
    "cardData",
    "disabled",
    "gated",
    "lastModified",
    "library_name",
    "pipeline_tag",
    "private",
    "sha",
    "tags",
]
RETRY_STATUS = {500, 502, 503, 504}
# Failures the Hub answered (and, for `unreachable`, answered with an HTTP error after every retry): kept in
# the cache for its failure TTL. Not kept: rate limiting (our pace, not the model's state), a body we could
# not parse (a parser fix must apply), and no answer at all (our network, offline mode).
_CACHED_CODES: tuple[UnresolvedCode, ...] = ("not-found", "gated", "disabled", "revision-not-found", "unreachable")
CACHED_FAILURES: dict[str, UnresolvedCode] = {code: code for code in _CACHED_CODES}
LIBRARY_NAME = "model-license-auditor"
MAX_BODY_BYTES = 10 * 1024 * 1024  # a model's metadata is kilobytes; a larger answer is not parsed
ENDPOINT_HINT = "HF_ENDPOINT / --endpoint"
_PROBE_POLL = 0.5  # seconds between checks while the first request (the probe) is out
# Requests a Hub source sends before any answer has said whether the Hub announces a budget (RateLimit
# headers). The smallest budget the Hub documents is the anonymous one, 500 API requests per 5-minute window
# (https://huggingface.co/docs/hub/rate-limits): a first round of 20 is 4% of it, where a lone probe would
# cost every crawl one whole round trip. The first answer's RateLimit applies to every request after it
# (the ones still out are counted against it); a Hub that refuses part of the first round is waited for
# (`Retry-After`) and the crawl's limit halves (`pacing.AdaptiveLimit`).
UNANNOUNCED_ROUND = 20


def default_endpoint() -> str:
    from huggingface_hub import constants

    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


# ------------------------------------------------------------------------------------------------ RateLimit


@dataclass(frozen=True)
class RateWindow:
    """The Hub's `RateLimit` / `RateLimit-Policy` headers (IETF draft: whole seconds)."""

    remaining: int
    reset_in_seconds: float
    limit: int | None = None
    window_seconds: float | None = None


_RATELIMIT = re.compile(r"\"(?P<resource>\w+)\"\s*;\s*r\s*=\s*(?P<r>\d+)\s*;\s*t\s*=\s*(?P<t>\d+)")
_RATELIMIT_POLICY = re.compile(r"q\s*=\s*(?P<q>\d+).*?w\s*=\s*(?P<w>\d+)")


def _parse_ratelimit_fallback(headers: Mapping[str, str]) -> RateWindow | None:
    """Same format as huggingface_hub's `parse_ratelimit_headers`, which huggingface_hub 1.0 lacks."""
    lowered = {key.lower(): value for key, value in headers.items()}
    match = _RATELIMIT.search(lowered.get("ratelimit", ""))
    if match is None:
        return None
    policy = _RATELIMIT_POLICY.search(lowered.get("ratelimit-policy", ""))
    return RateWindow(
        remaining=int(match.group("r")),
        reset_in_seconds=float(match.group("t")),
        limit=int(policy.group("q")) if policy else None,
        window_seconds=float(policy.group("w")) if policy else None,
    )


def parse_ratelimit(headers: Mapping[str, str]) -> RateWindow | None:
    """huggingface_hub's own parser where it has one (it follows the Hub's format), else ours."""
    import huggingface_hub.utils as hf_utils

    parse = getattr(hf_utils, "parse_ratelimit_headers", None)
    if parse is None:
        return _parse_ratelimit_fallback(headers)
    info = parse(headers)
    if info is None:
        return None
    return RateWindow(
        remaining=int(info.remaining),
        reset_in_seconds=float(info.reset_in_seconds),
        limit=info.limit,
        window_seconds=float(info.window_seconds) if info.window_seconds is not None else None,
    )


@dataclass
class RateGate:
    """Client-side pacing shared by every worker of a crawl (one per `HubSource`; thread-safe).

    - `RateLimit: "api";r=R;t=T`: at most R more requests go out before the Hub's window resets in T s, then
      every worker waits for the reset. Requests still in flight are counted against R, so the workers do not
      overrun the window together. With `RateLimit-Policy: …;q=Q;w=W` the next window's Q requests are known
      and go out without asking first.
    - Until the first answer shows whether the server sends these headers, at most `unannounced` requests
      are out at once (1: a probe; the others wait for its answer; `HubSource` sends a first round of
      `UNANNOUNCED_ROUND`). After a window reset whose size is unknown, one request at a time goes out.
    - `hold(s)` (a 429's `Retry-After`): no worker sends anything for s seconds.
    """

    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    unannounced: int = 1  # requests out at once before the first answer (see the docstring)
    waits: int = 0  # times a worker slept before sending
    unannounced_sent: int = 0  # requests sent before any answer came back
    _cond: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _not_before: float = 0.0
    _tokens: int | None = None  # requests the current window still allows (None: unknown)
    _reset_at: float = 0.0  # when the current window ends
    _limit: int | None = None  # RateLimit-Policy q
    _window: float | None = None  # RateLimit-Policy w
    _headers: bool | None = None  # does the server send RateLimit headers? (None: no answer yet)
    _inflight: int = 0

    def before_request(self, deadline: float = math.inf) -> float:
        """Wait for this request's turn and take it (returns 0.0), or return the wait, without waiting or
        taking a turn, when the turn comes after `deadline` (a `clock()` time)."""
        while True:
            with self._cond:
                now = self.clock()
                start = self._earliest(now)
                if start is None:  # the probe is out: wait for its answer
                    self._cond.wait(timeout=_PROBE_POLL)
                    continue
                if start <= now:
                    self._inflight += 1
                    if self._tokens is not None:
                        self._tokens -= 1
                    elif self._headers is None:
                        self.unannounced_sent += 1
                    return 0.0
                if start > deadline:
                    return start - now
                self.waits += 1
            self.sleep(start - now)

    def after_response(self, headers: Mapping[str, str] | None) -> None:
        """Every `before_request` turn ends here, with the answer's headers (None: no answer)."""
        info = parse_ratelimit(headers) if headers is not None else None
        with self._cond:
            self._inflight = max(0, self._inflight - 1)
            if info is not None:
                self._observe(info)
            elif self._headers is None:
                # No RateLimit headers, or no answer at all (an unreachable endpoint must not be probed one
                # request at a time): stop probing; headers seen later still turn pacing on.
                self._headers = False
            self._cond.notify_all()

    def _observe(self, info: RateWindow) -> None:
        """Take in one answer's RateLimit. Caller holds the lock.

        Answers can arrive out of order, and `t` is rounded up to whole seconds, so an answer cannot tell
        which window it belongs to. Staying on the safe side: within the window we believe in, the count
        only goes down (the requests still in flight are taken off it) and the reset only moves later; a new
        count comes only with a reset (`_roll`). Every reset we compute is at or after the server's."""
        self._roll(self.clock())
        left = max(0, info.remaining - self._inflight)
        self._tokens = left if self._tokens is None else min(self._tokens, left)
        self._reset_at = max(self._reset_at, self.clock() + info.reset_in_seconds)
        self._headers = True
        if info.limit and info.window_seconds:
            self._limit, self._window = info.limit, info.window_seconds

    def hold(self, seconds: float) -> None:
        with self._cond:
            self._not_before = max(self._not_before, self.clock() + seconds)

    def paused_for(self) -> float:
        """Seconds before any request may go (a `hold` or a spent window); 0.0 when one may go now."""
        with self._cond:
            now = self.clock()
            start = self._earliest(now)
            return 0.0 if start is None else max(0.0, start - now)

    def _roll(self, now: float) -> None:
        """At the reset: the policy's full window (less what is in flight), or unknown. Caller holds the lock."""
        if self._tokens is not None and now >= self._reset_at:
            self._tokens = max(0, self._limit - self._inflight) if self._limit else None
            self._reset_at = now + (self._window or 0.0)

    def _earliest(self, now: float) -> float | None:
        """When the next request may go; None while the probe (or the unannounced first round) is out, until
        its answer. Caller holds the lock."""
        self._roll(now)
        if now < self._not_before:
            return self._not_before
        if self._tokens is None:
            if self._headers is False or self._inflight == 0:
                return now
            first_round = self._headers is None and self._inflight < max(1, self.unannounced)
            return now if first_round else None
        return now if self._tokens > 0 else self._reset_at


# ------------------------------------------------------------------------------------------------ retries


@dataclass(frozen=True)
class RetryPolicy:
    """How long one request keeps trying.

    - 429 and 5xx: retried while the time spent on the request (waiting for its turn, `Retry-After`, backoff)
      stays within `budget_seconds`. A `Retry-After` longer than the budget left (or than `max_retry_after`,
      when set) ends the request at once: no point in asking again before the Hub says so.
    - No answer at all (connection refused, DNS, timeout, reset): `max_retries` more attempts with backoff,
      so a wrong or unreachable endpoint fails in seconds instead of burning the whole budget.
    """

    max_retries: int = 2  # extra attempts after a network failure
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float | None = None  # the longest single Retry-After accepted (None: the budget left)
    timeout: float = 30.0
    budget_seconds: float = 360.0  # one full Hub window (300 s) and the retry after it

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with full jitter."""
        return rng.uniform(0, min(self.max_delay, self.base_delay * (2**attempt)))


Retry = Literal["no", "network", "budget"]


class _Attempt(Exception):
    """One failed attempt: the code and reason if it is the last, and how it may be retried."""

    def __init__(
        self,
        code: UnresolvedCode,
        reason: str,
        *,
        retry: Retry = "no",
        wait: float | None = None,
        answered: bool = True,
    ) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.retry = retry
        self.wait = wait  # what the server asked for (Retry-After, or a spent RateLimit window)
        self.answered = answered  # False: no HTTP answer at all (network, offline mode)


def _transport_errors() -> tuple[type[BaseException], ...]:
    """The exceptions of a request that got no HTTP answer (refused, DNS, timeout, reset, TLS, offline).

    huggingface_hub's session is an `httpx.Client` in 1.x and an `httpx2.Client` in 2.x, and neither library
    is our dependency, so we do not import it. Both major versions declare their public
    `errors.HfHubHTTPError(HTTPError, OSError)` on that library's `HTTPError`, the base of all its transport
    errors (`ConnectError`, `ReadTimeout`, …), so its bases name the class to catch, whichever library is
    underneath. `OSError` adds `OfflineModeIsEnabled` (HF_HUB_OFFLINE=1, raised by huggingface_hub's request
    hook) and any raw socket error. What went wrong is then read from the standard-library exception at the
    root of the chain (`_network_error`), not from the library's class names.
    """
    from huggingface_hub.errors import HfHubHTTPError

    library = tuple(
        base
        for base in HfHubHTTPError.__bases__
        if issubclass(base, Exception) and not issubclass(base, OSError) and base is not Exception
    )
    return (*library, OSError) if library else (Exception,)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _network_error(exc: BaseException, timeout: float) -> str:
    """What went wrong, in a few words, from the standard-library exception under the HTTP library's own."""
    for cause in _causes(exc):
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host name not found (DNS)"
        if isinstance(cause, TimeoutError):
            return f"timed out after {timeout:g}s"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {_one_line(cause)}"
    if "timeout" in type(exc).__name__.lower():
        return f"timed out after {timeout:g}s"
    return _one_line(exc) or "connection failed"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


class HubSource:
    """Reads model metadata from the Hub (or anything speaking its API: `HF_ENDPOINT`).

    All the workers of a crawl share one `HubSource`, hence one `RateGate`: a 429 seen by one worker makes
    every worker wait.
    """

    name = "hub"
    # Hooks for the Hub's other repo types (`auditor.sources.hub_dataset`): the `expand` fields its API takes.
    expand: tuple[str, ...] = tuple(EXPAND)

    def __init__(
        self,
        endpoint: str | None = None,
        token: str | bool | None = None,
        cache: MetadataCache | None = None,
        refresh: bool = False,
        retry: RetryPolicy | None = None,
        gate: RateGate | None = None,
        seed: int | None = None,
    ) -> None:
        self.endpoint = (endpoint or default_endpoint()).rstrip("/")
        self._token = token
        self.cache = cache
        self.refresh = refresh
        self.retry = retry or RetryPolicy()
        self.gate = gate or RateGate(unannounced=UNANNOUNCED_ROUND)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._headers: dict[str, str] | None = None
        # `?expand=…&expand=…` built once: handing the client a finished URL instead of `params` spares it a
        # second parse of the whole URL on every request.
        self._query = urlencode([("expand", name) for name in self.expand])
        self.requests = 0
        self.cache_hits = 0
        self.rate_limited = 0  # 429 answers received

    # ---------------------------------------------------------------- public

    def fetch(self, ref: ModelRef) -> ModelFacts | Unresolved:
        if not self.accepts(ref.id):
            return self._unresolved(ref, "invalid-ref", f"not a Hub repo id: {ref.id!r}")
        key = MetadataCache.key(self.endpoint, ref.id, ref.revision)
        pinned = MetadataCache.is_pinned(ref.revision)
        cached = self._from_cache(ref, key, pinned)
        if cached is not None:
            return cached
        try:
            body = self._get_with_retries(ref)
        except _Attempt as failure:
            unresolved = self._unresolved(ref, failure.code, failure.reason)
            if self.cache is not None and failure.answered and failure.code in CACHED_FAILURES:
                self.cache.put_failure(key, CachedFailure(failure.code, failure.reason, unresolved.retrieved_at or ""))
            return unresolved
        retrieved_at = now_iso()
        facts = self._parse(ref, body, retrieved_at)
        if self.cache is not None and isinstance(facts, ModelFacts):
            self.cache.put(key, body, retrieved_at, pinned=pinned)
            if facts.id != ref.id:  # renamed (redirected): the new name is read from the cache too
                self.cache.put(MetadataCache.key(self.endpoint, facts.id, ref.revision), body, retrieved_at,
                               pinned=pinned)
        return facts

    def _from_cache(self, ref: ModelRef, key: str, pinned: bool) -> ModelFacts | Unresolved | None:
        """The cached answer (facts, or a failure within its short expiry) unless `--refresh`; None: ask."""
        if self.cache is None or self.refresh:
            return None
        found = self.cache.lookup(key, pinned=pinned)
        if found is None:
            return None
        with self._lock:
            self.cache_hits += 1
        if isinstance(found, CachedFailure):
            return self._cached_failure(ref, found)
        return self._parse(ref, found.body, found.retrieved_at)

    def _cached_failure(self, ref: ModelRef, failure: CachedFailure) -> Unresolved:
        """A failure replayed from the cache: the same unresolved node as when it was read (same reason, same
        `retrieved_at`), so a warm run's output is byte-identical to the cold run's, as it is for facts."""
        code = CACHED_FAILURES.get(failure.code, "unreachable")  # a cache file written by someone else
        reason = failure.reason or f"the Hub refused this lookup ({code})"
        return Unresolved(id=ref.id, requested=ref.key, source="hub", code=code, reason=reason,
                          revision=ref.revision, retrieved_at=failure.retrieved_at or None)

    def accepts(self, repo_id: str) -> bool:
        """Is this an id this source can ask the Hub about (a hook for the other repo types)?"""
        return is_repo_id(repo_id)

    # ---------------------------------------------------------------- HTTP

    def _url(self, ref: ModelRef) -> str:
        base = f"{self.endpoint}/api/models/{ref.id}"
        return base if ref.revision is None else f"{base}/revision/{quote(ref.revision, safe='')}"

    def _get_with_retries(self, ref: ModelRef) -> str:
        deadline = self.gate.clock() + self.retry.budget_seconds
        attempt = network_failures = 0
        while True:
            try:
                return self._get_once(ref, deadline)
            except _Attempt as failure:
                if failure.retry == "network":
                    network_failures += 1
                    if network_failures > self.retry.max_retries:
                        raise _Attempt(failure.code, f"{failure.reason}, {network_failures} attempts",
                                       answered=False) from None
                elif failure.retry == "no":
                    raise
                self._wait_before_retry(failure, attempt, deadline)
                attempt += 1

    def _wait_before_retry(self, failure: _Attempt, attempt: int, deadline: float) -> None:
        """Wait before the next attempt, or give up (raise) when that would pass the request's budget.

        The wait is the jittered backoff, and never less than what the server asked for (`Retry-After`, a
        spent `RateLimit` window). A 429, or any answer that names a wait, holds every worker of the crawl."""
        now = self.gate.clock()
        with self._lock:
            delay = self.retry.backoff(attempt, self._rng)
        asked = failure.wait
        if asked is not None:
            self._check_asked_wait(failure, asked, now, deadline)
            self.gate.hold(max(asked, delay) if now + max(asked, delay) <= deadline else asked)
            return
        if now + delay > deadline:
            raise _Attempt(failure.code, f"{failure.reason}, through this request's whole retry budget "
                                         f"({self._budget_name()})")
        if failure.code == "rate-limited":
            self.gate.hold(delay)
        else:
            self.gate.sleep(delay)

    def _budget_name(self) -> str:
        return f"RetryPolicy.budget_seconds = {self.retry.budget_seconds:g}s"

    def _check_asked_wait(self, failure: _Attempt, asked: float, now: float, deadline: float) -> None:
        """Give up at once when the server asks for a longer wait than this request may spend."""
        cap = self.retry.max_retry_after
        if cap is not None and asked > cap:
            limit = f"RetryPolicy.max_retry_after = {cap:g}s"
        elif now + asked > deadline:
            limit = f"what is left of this request's retry budget, {self._budget_name()}"
        else:
            return
        self.gate.hold(asked)  # the other workers need not ask either
        raise _Attempt(failure.code, f"{failure.reason}: it asks to wait {asked:g}s, more than allowed ({limit})")

    def _get_once(self, ref: ModelRef, deadline: float = math.inf) -> str:
        """One attempt. The crawl's slot is taken before the gate's turn: a worker waiting for a slot holds no
        turn, so the first round before any answer is the crawl's start concurrency, not every worker."""
        with pacing.slot() as held:
            if self.gate.before_request(deadline) > 0:
                held.cancel()  # nothing was sent: nothing to report
                raise _Attempt(
                    "rate-limited",
                    f"rate limited by the Hub at {self.endpoint}: the wait it asked for (Retry-After / RateLimit) "
                    f"goes past this request's retry budget ({self._budget_name()})",
                )
            with self._lock:
                self.requests += 1
            response = self._send(ref, held)
        return self._read(ref, response)

    def request_headers(self) -> dict[str, str]:
        """The headers of every request: built once per source (the token is read once, not per request).

        Not `build_hf_headers`: from huggingface_hub 2.x on it detects AI coding agents for its user agent,
        and on a machine whose HF_HOME has no copy of the agent registry (every fresh CI runner) that means
        a GET of `/api/agent-harnesses` per process, or one per worker when they start together. The token
        is chosen by huggingface_hub's own `get_token_to_send` (explicit token, `False`, the saved token or
        HF_TOKEN, `HF_HUB_DISABLE_IMPLICIT_TOKEN`), as `build_hf_headers` chooses it."""
        with self._lock:
            if self._headers is None:
                self._headers = hub_headers(self._token)
            return dict(self._headers)

    def _send(self, ref: ModelRef, held: pacing.Slot) -> Any:
        """One GET through huggingface_hub's session; the gate and the crawl's adaptive limit hear how it
        went, answer or not (no answer: the slot's exit reports it)."""
        held.start()  # the round trip starts now, not when the slot was taken (the gate may have made it wait)
        response = self._send_in_slot(ref)
        held.done(response.status_code)
        return response

    def _send_in_slot(self, ref: ModelRef) -> Any:
        hf = _hf()
        headers: Mapping[str, str] | None = None
        try:
            response = hf.get_session().get(
                f"{self._url(ref)}?{self._query}", headers=self.request_headers(), timeout=self.retry.timeout
            )
            headers = response.headers
        except _transport_errors() as exc:
            offline = isinstance(exc, hf.errors.OfflineModeIsEnabled)
            what = "offline mode (HF_HUB_OFFLINE=1)" if offline else _network_error(exc, self.retry.timeout)
            retry: Retry = "no" if offline else "network"
            raise _Attempt(
                "unreachable",
                f"cannot reach the Hub at {self.endpoint} ({ENDPOINT_HINT}): {what} ({type(exc).__name__})",
                retry=retry,
                answered=False,
            ) from exc
        finally:
            self.gate.after_response(headers)
        return response

    def _read(self, ref: ModelRef, response: Any) -> str:
        hf = _hf()
        errors = hf.errors
        status = response.status_code
        if status == 429:
            with self._lock:
                self.rate_limited += 1
            raise _Attempt("rate-limited", f"rate limited by the Hub at {self.endpoint} (HTTP 429)",
                           retry="budget", wait=_server_wait(response.headers))
        if status in RETRY_STATUS:
            raise _Attempt("unreachable", f"the Hub at {self.endpoint} answered HTTP {status}",
                           retry="budget", wait=_retry_after(response.headers))
        try:
            hf.raise_for_status(response)
        except errors.GatedRepoError as exc:
            raise _Attempt("gated", "gated repository: accept its terms on the Hub and set HF_TOKEN") from exc
        except errors.RevisionNotFoundError as exc:
            raise _Attempt("revision-not-found", f"revision {ref.revision!r} not found") from exc
        except errors.DisabledRepoError as exc:
            raise _Attempt("disabled", "repository disabled on the Hub") from exc
        except errors.RepositoryNotFoundError as exc:
            raise _Attempt(
                "not-found", "repository not found (or private: set HF_TOKEN if you have access)"
            ) from exc
        except errors.HfHubHTTPError as exc:
            raise _Attempt("unreachable", f"HTTP {status} from the Hub at {self.endpoint}") from exc
        if len(response.content) > MAX_BODY_BYTES:
            raise _Attempt("malformed", f"the Hub answered with {len(response.content):,} bytes of metadata, over the "
                                        f"{MAX_BODY_BYTES:,}-byte limit; not parsed")
        return str(response.text)

    # ---------------------------------------------------------------- parsing

    def _parse(self, ref: ModelRef, body: str, retrieved_at: str) -> ModelFacts | Unresolved:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return self._unresolved(ref, "malformed", "the Hub answered with a body that is not JSON")
        if not isinstance(data, dict):
            return self._unresolved(ref, "malformed", "the Hub answered with JSON that is not an object")
        return facts_from_api(data, ref, source="hub", retrieved_at=retrieved_at, endpoint=self.endpoint)

    def _unresolved(self, ref: ModelRef, code: UnresolvedCode, reason: str) -> Unresolved:
        return Unresolved(
            id=ref.id,
            requested=ref.key,
            source="hub",
            code=code,
            reason=reason,
            revision=ref.revision,
            retrieved_at=now_iso(),
        )


@dataclass(frozen=True)
class _HfClient:
    """The huggingface_hub functions every request uses, looked up once (its `utils` is a lazy module whose
    attribute lookups cost more than the call): `get_session` is still called per request, so a session
    huggingface_hub replaces (`set_client_factory`, `close_session`, after a fork) is the one used."""

    get_session: Callable[[], Any]
    raise_for_status: Callable[[Any], None]
    errors: Any


@functools.cache
def _hf() -> _HfClient:
    from huggingface_hub import errors
    from huggingface_hub.utils import get_session, hf_raise_for_status

    return _HfClient(get_session=get_session, raise_for_status=hf_raise_for_status, errors=errors)


def hub_headers(token: str | bool | None) -> dict[str, str]:
    """User agent and authorization for the Hub, without huggingface_hub's agent detection (see
    `HubSource.request_headers`)."""
    import platform

    import huggingface_hub
    from huggingface_hub.utils import get_token_to_send

    from auditor import __version__

    agent = f"{LIBRARY_NAME}/{__version__}; hf_hub/{huggingface_hub.__version__}; python/{platform.python_version()}"
    headers = {"user-agent": agent}
    token_to_send = get_token_to_send(token)
    if token_to_send is not None:
        headers["authorization"] = f"Bearer {token_to_send}"
    return headers


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """`Retry-After` in seconds (the Hub sends seconds; an HTTP date is not understood: None)."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _server_wait(headers: Mapping[str, str]) -> float | None:
    """How long a 429 asks us to wait: `Retry-After`, else the reset of a spent `RateLimit` window."""
    after = _retry_after(headers)
    if after is not None:
        return after
    info = parse_ratelimit(headers)
    return info.reset_in_seconds if info is not None and info.remaining <= 0 else None


def facts_from_api(
    data: dict[str, Any], ref: ModelRef, *, source: str, retrieved_at: str, endpoint: str
) -> ModelFacts | Unresolved:
    """A Hub `/api/models` body (untrusted) to facts."""
    raw_id = data.get("id") or data.get("modelId")
    model_id = raw_id if isinstance(raw_id, str) and is_repo_id(raw_id) else ref.id
    card = data.get("cardData")
    card = card if isinstance(card, dict) else {}
    tags = [t for t in as_str_list(data.get("tags"))]
    sha = data.get("sha") if isinstance(data.get("sha"), str) else None
    location = f"https://huggingface.co/{model_id}" if "huggingface.co" in endpoint else f"{endpoint}/{model_id}"
    src: SourceKind = "snapshot" if source == "snapshot" else "hub"
    declared = declared_license(card, tags, source=src, location=location, revision=sha)
    parents, notes = parent_claims_from_card(card, tags, source=src, location=location, revision=sha)
    gated = data.get("gated")
    return ModelFacts(
        id=model_id,
        requested=ref.key,
        source=src,
        revision=ref.revision,
        sha=sha,
        author=data.get("author") if isinstance(data.get("author"), str) else model_id.split("/")[0],
        last_modified=data.get("lastModified") if isinstance(data.get("lastModified"), str) else None,
        retrieved_at=retrieved_at,
        gated=gated if isinstance(gated, str) else None,
        private=data.get("private") if isinstance(data.get("private"), bool) else None,
        disabled=data.get("disabled") if isinstance(data.get("disabled"), bool) else None,
        pipeline_tag=data.get("pipeline_tag") if isinstance(data.get("pipeline_tag"), str) else None,
        library_name=data.get("library_name") if isinstance(data.get("library_name"), str) else None,
        tags=sorted(set(tags)),
        declared=declared,
        parents=parents,
        gate_eu_disallowed=gate_flags(card),
        url=location,
        lineage_notes=notes,
    )
