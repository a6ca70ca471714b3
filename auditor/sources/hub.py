"""The Hugging Face Hub, through the real `huggingface_hub` client.

We send `GET /api/models/{id}[/revision/{rev}]?expand=…` through huggingface_hub's own HTTP session,
header builder (token, user agent) and error mapping (`hf_raise_for_status` -> typed errors), exactly as
`HfApi.model_info` does, but keep the response object so the Hub's `RateLimit` headers can slow the crawl
down before it is refused (`model_info` discards them).
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from auditor.model import ModelFacts, ModelRef, SourceKind, Unresolved, UnresolvedCode
from auditor.sources.base import now_iso
from auditor.sources.cache import MetadataCache
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


def default_endpoint() -> str:
    from huggingface_hub import constants

    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


@dataclass
class RateGate:
    """Client-side pacing from the Hub's `RateLimit` headers (thread-safe, per crawl).

    When few requests remain in the window, requests are spaced so the window is not exhausted;
    when none remain (or a 429 says so), everyone waits until the window resets.
    """

    low_water: int = 20
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _not_before: float = 0.0
    _spacing: float = 0.0
    _last: float = 0.0
    waits: int = 0

    def before_request(self) -> None:
        with self._lock:
            now = self.clock()
            start = max(now, self._not_before, self._last + self._spacing)
            self._last = start
        if start > now:
            self.waits += 1
            self.sleep(start - now)

    def observe(self, headers: Any) -> None:
        from huggingface_hub.utils import parse_ratelimit_headers

        info = parse_ratelimit_headers(headers)
        if info is None:
            return
        with self._lock:
            now = self.clock()
            if info.remaining <= 0:
                self._not_before = max(self._not_before, now + info.reset_in_seconds)
                self._spacing = 0.0
            elif info.remaining < self.low_water:
                self._spacing = info.reset_in_seconds / info.remaining
            else:
                self._spacing = 0.0

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._not_before = max(self._not_before, self.clock() + seconds)


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 120.0
    timeout: float = 30.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with full jitter."""
        return rng.uniform(0, min(self.max_delay, self.base_delay * (2**attempt)))


class _Attempt(Exception):
    def __init__(self, code: UnresolvedCode, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.retry_after = retry_after


class HubSource:
    """Reads model metadata from the Hub (or anything speaking its API: `HF_ENDPOINT`)."""

    name = "hub"

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
        self.gate = gate or RateGate()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.requests = 0
        self.cache_hits = 0

    # ---------------------------------------------------------------- public

    def fetch(self, ref: ModelRef) -> ModelFacts | Unresolved:
        if not is_repo_id(ref.id):
            return self._unresolved(ref, "invalid-ref", f"not a Hub repo id: {ref.id!r}")
        key = MetadataCache.key(self.endpoint, ref.id, ref.revision)
        pinned = MetadataCache.is_pinned(ref.revision)
        if self.cache is not None and not self.refresh:
            entry = self.cache.get(key, pinned=pinned)
            if entry is not None:
                with self._lock:
                    self.cache_hits += 1
                return self._parse(ref, entry.body, entry.retrieved_at)
        try:
            body = self._get_with_retries(ref)
        except _Attempt as failure:
            return self._unresolved(ref, failure.code, failure.reason)
        retrieved_at = now_iso()
        facts = self._parse(ref, body, retrieved_at)
        if self.cache is not None and isinstance(facts, ModelFacts):
            self.cache.put(key, body, retrieved_at, pinned=pinned)
        return facts

    # ---------------------------------------------------------------- HTTP

    def _url(self, ref: ModelRef) -> str:
        base = f"{self.endpoint}/api/models/{ref.id}"
        return base if ref.revision is None else f"{base}/revision/{quote(ref.revision, safe='')}"

    def _get_with_retries(self, ref: ModelRef) -> str:
        last: _Attempt | None = None
        for attempt in range(self.retry.max_retries + 1):
            try:
                return self._get_once(ref)
            except _Attempt as failure:
                last = failure
                if failure.code not in ("unreachable", "rate-limited") or attempt == self.retry.max_retries:
                    raise
                if failure.retry_after is not None:
                    self.gate.hold(min(failure.retry_after, self.retry.max_retry_after))
                else:
                    with self._lock:
                        delay = self.retry.backoff(attempt, self._rng)
                    time.sleep(delay)
        assert last is not None
        raise last

    def _get_once(self, ref: ModelRef) -> str:
        import httpx2
        from huggingface_hub import errors
        from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

        self.gate.before_request()
        with self._lock:
            self.requests += 1
        try:
            headers = build_hf_headers(token=self._token, library_name="model-license-auditor")
            response = get_session().get(
                self._url(ref), headers=headers, params={"expand": EXPAND}, timeout=self.retry.timeout
            )
        except httpx2.TimeoutException as exc:
            raise _Attempt("unreachable", f"timed out after {self.retry.timeout:g}s") from exc
        except httpx2.HTTPError as exc:
            raise _Attempt("unreachable", f"connection failed: {type(exc).__name__}") from exc
        self.gate.observe(response.headers)
        status = response.status_code
        if status == 429:
            raise _Attempt("rate-limited", "rate limited by the Hub (HTTP 429)", _retry_after(response.headers))
        if status in RETRY_STATUS:
            raise _Attempt("unreachable", f"server error HTTP {status}")
        try:
            hf_raise_for_status(response)
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
            raise _Attempt("unreachable", f"HTTP {status} from the Hub") from exc
        return response.text

    # ---------------------------------------------------------------- parsing

    def _parse(self, ref: ModelRef, body: str, retrieved_at: str) -> ModelFacts | Unresolved:
        try:
            data = json.loads(body)
        except ValueError:
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


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


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
