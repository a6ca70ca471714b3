"""The Hub's paged model listing (`GET /api/models`), read a page at a time, each page cached with its cursor.

This is the request `HfApi.list_models(author=…, filter=[…], limit=…, expand=[…])` sends, and its pages are
followed the way huggingface_hub's `paginate` follows them (the `Link: <…>; rel="next"` header, which carries
the Hub's cursor). We send it through huggingface_hub's own session, headers and error mapping, but one page
at a time, so that:

- each page is cached (`MetadataCache`) under its own address, with the next page's address: an interrupted
  survey replays the pages it has and asks only for the rest, and a warm rerun asks for nothing;
- the Hub's `RateLimit` headers and a 429's `Retry-After` pace the requests (the crawl's `RateGate` and
  `RetryPolicy`), which `list_models` does not expose.

Every page is untrusted: a size cap, JSON that must be a list of objects, and a next address that must stay
on the endpoint and never repeat.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from auditor.errors import AuditorError
from auditor.sources.base import now_iso
from auditor.sources.cache import MetadataCache
from auditor.sources.hub import (
    ENDPOINT_HINT,
    EXPAND,
    RETRY_STATUS,
    RateGate,
    RetryPolicy,
    _network_error,
    _retry_after,
    _server_wait,
    _transport_errors,
)
from auditor.sources.repo_id import repo_id_problem
from auditor.vocab import RELATIONS, suggest

PAGE_SIZE_MAX = 1000  # the Hub's largest page (`limit`)
MAX_PAGE_BYTES = 64 * 1024 * 1024  # 1,000 models' metadata is a few MB; a larger answer is not parsed
MAX_TAG = 200
_OWNER_RE = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?$")
_CACHE_PREFIX = "@survey-page/"  # no repo id starts with '@': page entries never meet model entries


class ListingError(AuditorError):
    """A page of the listing could not be read (after the retries the budget allows)."""


@dataclass(frozen=True)
class SurveyQuery:
    """What to list: every filter must hold (the Hub ANDs `filter` values)."""

    author: str | None = None
    tags: tuple[str, ...] = ()
    base_model: str | None = None  # every model whose card names it as a base (the Hub's `base_model:<id>` tag)
    limit: int | None = None  # stop after this many models
    page_size: int = PAGE_SIZE_MAX

    def filters(self) -> list[str]:
        extra = [f"base_model:{self.base_model}"] if self.base_model else []
        return list(dict.fromkeys([*self.tags, *extra]))

    def params(self) -> list[tuple[str, str]]:
        """The query `HfApi.list_models` sends for these options (`limit` is the Hub's page size)."""
        out: list[tuple[str, str]] = []
        if self.author:
            out.append(("author", self.author))
        out.extend(("filter", f) for f in self.filters())
        size = min(self.page_size, self.limit) if self.limit else self.page_size
        out.append(("limit", str(size)))
        out.extend(("expand", e) for e in EXPAND)
        return out

    def describe(self) -> str:
        parts = [f"author={self.author}"] if self.author else []
        parts += [f"filter={f}" for f in self.filters()]
        return ", ".join(parts) or "every model"


def check_query(query: SurveyQuery) -> None:
    """Refuse a query the Hub could only answer with nothing (or everything by mistake): one line, the fix."""
    if query.author is not None and not _OWNER_RE.match(query.author):
        raise AuditorError(f"--author {query.author!r}: not a Hub user or organisation name (letters, digits, "
                           "'-', '_', '.'; e.g. --author meta-llama)")
    if query.base_model is not None:
        problem = repo_id_problem(query.base_model)
        if problem:
            raise AuditorError(f"--base-model: {problem}")
    for tag in query.tags:
        _check_tag(tag)
    if not 1 <= query.page_size <= PAGE_SIZE_MAX:
        raise AuditorError(f"--page-size {query.page_size}: must be 1 to {PAGE_SIZE_MAX} (the Hub's largest page)")
    if query.limit is not None and query.limit < 1:
        raise AuditorError(f"--limit {query.limit}: must be at least 1 (leave it out to read every match)")


def _check_tag(tag: str) -> None:
    if not tag.strip() or len(tag) > MAX_TAG or any(ord(c) < 32 or c.isspace() for c in tag):
        raise AuditorError(f"--tag {tag[:60]!r}: a Hub tag is one word of at most {MAX_TAG} characters, "
                           "e.g. --tag license:apache-2.0 or --tag base_model:finetune:owner/name")
    prefix, _, rest = tag.partition(":")
    relation, sep, base = rest.partition(":")
    if prefix == "base_model" and sep and "/" not in relation and relation not in RELATIONS:
        close = suggest(relation, RELATIONS)
        hint = f" Did you mean {' or '.join(repr(f'base_model:{c}:{base}') for c in close)}?" if close else ""
        raise AuditorError(f"--tag {tag!r}: {relation!r} is not a relation the Hub tags "
                           f"({', '.join(RELATIONS)}).{hint}")


@dataclass(frozen=True)
class Page:
    """One page: its address, its models (raw API bodies), the next page's address, and whether it came
    from the cache."""

    number: int
    url: str
    models: list[dict[str, Any]]
    next_url: str | None
    retrieved_at: str
    cached: bool


@dataclass
class PageReader:
    """Reads the listing page by page (see the module docstring). Counters: `requests` (HTTP requests sent,
    retries included), `cache_hits` (pages replayed from the cache), `rate_limited` (429 answers)."""

    endpoint: str
    token: str | bool | None = None
    cache: MetadataCache | None = None
    refresh: bool = False
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    gate: RateGate = field(default_factory=RateGate)
    seed: int | None = None
    requests: int = 0
    cache_hits: int = 0
    rate_limited: int = 0

    def __post_init__(self) -> None:
        self.endpoint = self.endpoint.rstrip("/")
        self._rng = random.Random(self.seed)
        self._last_network_error = ""

    def first_url(self, query: SurveyQuery) -> str:
        return f"{self.endpoint}/api/models?{urlencode(query.params())}"

    def pages(self, query: SurveyQuery) -> Generator[Page, None, None]:
        """Every page of the listing, in order; stop iterating to stop asking."""
        url: str | None = self.first_url(query)
        seen: set[str] = set()
        number = 0
        while url is not None:
            seen.add(url)
            number += 1
            page = self._cached(url, number) or self._fetch(url, number)
            yield page
            url = page.next_url
            if url is not None and url in seen:
                raise ListingError(f"listing page {number} ({page.url}): its Link header points back to a page "
                                   "already read; the listing ends here (the Hub's answer is inconsistent)")

    # ---------------------------------------------------------------- cache

    def _key(self, url: str) -> str:
        return MetadataCache.key(self.endpoint, _CACHE_PREFIX + hashlib.sha256(url.encode()).hexdigest(), None)

    def _cached(self, url: str, number: int) -> Page | None:
        if self.cache is None or self.refresh:
            return None
        entry = self.cache.get(self._key(url), pinned=False)
        if entry is None:
            return None
        try:
            stored = json.loads(entry.body)
            models, next_url = stored["models"], stored["next"]
        except (ValueError, KeyError, TypeError):
            return None  # an entry we did not write: read the page again
        if not isinstance(models, list) or not (next_url is None or isinstance(next_url, str)):
            return None
        self.cache_hits += 1
        return Page(number, url, [m for m in models if isinstance(m, dict)], next_url, entry.retrieved_at,
                    cached=True)

    def _store(self, page: Page) -> None:
        if self.cache is not None:
            body = json.dumps({"url": page.url, "next": page.next_url, "models": page.models})
            self.cache.put(self._key(page.url), body, page.retrieved_at, pinned=False)

    # ---------------------------------------------------------------- HTTP

    def _fetch(self, url: str, number: int) -> Page:
        response = self._get_with_retries(url, number)
        models = _models(response, f"listing page {number} ({url})")
        page = Page(number, url, models, self._next_url(response, url, number), now_iso(), cached=False)
        self._store(page)
        return page

    def _get_with_retries(self, url: str, number: int) -> Any:
        deadline = self.gate.clock() + self.retry.budget_seconds
        where = f"listing page {number} ({url})"
        attempt = failures = 0
        while True:
            if self.gate.before_request(deadline) > 0:
                raise ListingError(f"{where}: rate limited by the Hub past the retry budget "
                                   f"({self.retry.budget_seconds:g}s); {_RESUME}")
            self.requests += 1
            response = self._send(url, where)
            if response is None:
                failures += 1
                if failures > self.retry.max_retries:
                    raise ListingError(f"{where}: cannot reach the Hub at {self.endpoint} ({ENDPOINT_HINT}): "
                                       f"{self._last_network_error}, {failures} attempts; {_RESUME}")
                self.gate.sleep(self.retry.backoff(attempt, self._rng))
            elif not self._should_retry(response, where, deadline, attempt):
                return response
            attempt += 1

    def _send(self, url: str, where: str) -> Any:
        """One GET through huggingface_hub's session; None when no answer came (the gate hears either)."""
        from huggingface_hub.errors import OfflineModeIsEnabled
        from huggingface_hub.utils import get_session

        from auditor.sources.hub import hub_headers

        try:
            headers = hub_headers(self.token)  # not build_hf_headers: its agent detection asks the Hub
            response = get_session().get(url, headers=headers, timeout=self.retry.timeout)
        except _transport_errors() as exc:
            self.gate.after_response(None)
            if isinstance(exc, OfflineModeIsEnabled):
                raise ListingError(f"{where}: offline mode (HF_HUB_OFFLINE=1); {_RESUME}") from None
            self._last_network_error = _network_error(exc, self.retry.timeout)
            return None
        self.gate.after_response(response.headers)
        return response

    def _should_retry(self, response: Any, where: str, deadline: float, attempt: int) -> bool:
        """True after waiting when the answer asks for another try (429, 5xx) within the budget."""
        status = response.status_code
        if status != 429 and status not in RETRY_STATUS:
            return False
        asked = _server_wait(response.headers) if status == 429 else _retry_after(response.headers)
        if status == 429:
            self.rate_limited += 1
        delay = max(asked or 0.0, self.retry.backoff(attempt, self._rng))
        if self.gate.clock() + delay > deadline:
            raise ListingError(f"{where}: the Hub answered HTTP {status} and asks to wait {delay:g}s, past the "
                               f"retry budget ({self.retry.budget_seconds:g}s); {_RESUME}")
        self.gate.hold(delay)  # every later request waits too
        return True

    def _next_url(self, response: Any, url: str, number: int) -> str | None:
        """The `Link: <…>; rel="next"` address (as huggingface_hub's `paginate` reads it), kept on the endpoint."""
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        target = urljoin(url, str(link))
        mine, theirs = urlsplit(self.endpoint), urlsplit(target)
        if (theirs.scheme, theirs.netloc) != (mine.scheme, mine.netloc):
            raise ListingError(f"listing page {number} ({url}): its Link header leads away from the endpoint "
                               f"{self.endpoint} (to {theirs.scheme}://{theirs.netloc[:80]}); not followed")
        return target


_RESUME = "the pages read so far are cached: run the same command again to resume"


def _models(response: Any, where: str) -> list[dict[str, Any]]:
    """The page's models: the answer must be a JSON list; entries that are not objects are dropped."""
    from huggingface_hub import errors
    from huggingface_hub.utils import hf_raise_for_status

    try:
        hf_raise_for_status(response)
    except errors.HfHubHTTPError:
        raise ListingError(f"{where}: the Hub answered HTTP {response.status_code}; check --author / --tag / "
                           f"--base-model and the endpoint ({ENDPOINT_HINT})") from None
    content = response.content
    if len(content) > MAX_PAGE_BYTES:
        raise ListingError(f"{where}: {len(content):,} bytes, over the {MAX_PAGE_BYTES:,}-byte limit of a page; "
                           "not parsed (try a smaller --page-size)")
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):
        raise ListingError(f"{where}: the answer is not JSON; {_RESUME}") from None
    if not isinstance(data, list):
        raise ListingError(f"{where}: the answer is JSON but not a list of models")
    return [m for m in data if isinstance(m, dict)]


