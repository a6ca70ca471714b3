"""A loopback HTTP server speaking the Hub's `/api/models/{repo_id}[/revision/{rev}]` API.

It serves recorded response bodies (see `recorded.py`), honours `?expand=`, and can inject
latency and faults: 503s, 429 with `Retry-After`, timeouts (a stalled response), malformed JSON,
gated/not-found errors and redirects (renamed repos).

With `quota` set it enforces a real rate limit, like the Hub's: `quota` requests per fixed window of
`window` seconds, counted for all clients together (refused requests count too). Every answer carries
`RateLimit: "api";r=<left>;t=<seconds to the reset>` and `RateLimit-Policy: "fixed window";"api";q=…;w=…`
(whole seconds, rounded up, as the Hub sends them); past the quota the answer is 429 with `Retry-After`
= the seconds to the reset.
`GET /api/models?author=&filter=&limit=&cursor=&expand=` is the paged listing `HfApi.list_models` reads
(`_list_models`): pages of `limit` models (at most 1,000) linked by `Link: <…>; rel="next"` headers.
The real `huggingface_hub` client is pointed at it with `HF_ENDPOINT` / `HubSource(endpoint=…)`.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlencode, urlsplit


@dataclass
class Fault:
    """Fault injection for one repo id."""

    fail_503: int = 0  # answer 503 this many times first
    rate_limit: int = 0  # answer 429 this many times first
    retry_after: int = 1
    stall_seconds: float = 0.0  # sleep before answering (a timeout for a short client timeout)
    stall_times: int = 0  # how many requests stall (0 = every one)
    malformed: bool = False
    status: int | None = None  # a fixed error status (e.g. 404)
    error_code: str | None = None  # X-Error-Code (RepoNotFound, GatedRepo, RevisionNotFound)
    wait_for: str | None = None  # hold the answer until this repo id has been requested (at most 5 s)
    # hold the answer until this many `/api/models/` requests have been in flight at once (at most 5 s)
    hold_until_in_flight: int = 0


@dataclass
class HubState:
    models: dict[str, dict[str, Any]] = field(default_factory=dict)  # repo id -> API body
    # dataset id -> `/api/datasets/{id}` body; its hits, faults and revisions are keyed `datasets/<id>`
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    revisions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)  # old id -> new id
    faults: dict[str, Fault] = field(default_factory=dict)
    latency: float = 0.0
    quota: int | None = None  # requests per window, for all clients together (None: no limit, no headers)
    window: float = 300.0  # seconds
    hits: Counter[str] = field(default_factory=Counter)
    paths: Counter[str] = field(default_factory=Counter)  # every request by path, /api/models/… or not
    connections: int = 0  # TCP connections accepted (keep-alive: many requests on one)
    in_flight: int = 0  # /api/models/ requests being answered now
    peak_in_flight: int = 0
    wait_timeouts: int = 0  # `Fault.wait_for` / `hold_until_in_flight` answers sent after waiting in vain
    requested: threading.Condition = field(default_factory=threading.Condition)
    refused: int = 0  # 429 answers sent (quota and faults)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _used: int = 0
    _window_index: int = -1
    _epoch: float = field(default_factory=time.monotonic)

    def total_requests(self) -> int:
        with self.lock:
            return sum(self.hits.values())

    def take(self) -> tuple[int, int, bool]:
        """Count one request against the quota: (requests left, whole seconds to the reset, refused?).

        Windows are fixed: [epoch + k·window, epoch + (k+1)·window), the same for every client."""
        with self.lock:
            now = time.monotonic()
            index = int((now - self._epoch) // self.window)
            if index != self._window_index:
                self._window_index, self._used = index, 0
            self._used += 1
            quota = self.quota or 0
            reset = self._epoch + (index + 1) * self.window - now
            return max(0, quota - self._used), max(1, math.ceil(reset)), self._used > quota

    def count_refused(self) -> None:
        with self.lock:
            self.refused += 1

    def count_connection(self) -> None:
        with self.lock:
            self.connections += 1

    def count_path(self, path: str) -> None:
        with self.lock:
            self.paths[path] += 1

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def announce(self) -> None:
        """A request arrived: wake the answers waiting for one (`Fault.wait_for`)."""
        with self.requested:
            self.requested.notify_all()

    def wait_for_request(self, repo_id: str, timeout: float = 5.0) -> None:
        with self.requested:
            if not self.requested.wait_for(lambda: self.hits[repo_id] > 0, timeout=timeout):
                with self.lock:
                    self.wait_timeouts += 1

    def wait_for_in_flight(self, count: int, timeout: float = 5.0) -> None:
        """Hold until `count` requests have been in flight at once (the peak: the first answer to go lowers
        the count, and must not hold the others)."""

        def enough() -> bool:
            with self.lock:
                return self.peak_in_flight >= count

        with self.requested:
            if not self.requested.wait_for(enough, timeout=timeout):
                with self.lock:
                    self.wait_timeouts += 1

    def all_requests(self) -> int:
        """Every request received, including paths outside `/api/models/` (e.g. `/api/agent-harnesses`)."""
        with self.lock:
            return sum(self.paths.values())


def _select(body: dict[str, Any], expand: list[str]) -> dict[str, Any]:
    if not expand:
        return body
    keep = {"id", "_id", "modelId", *expand}
    return {k: v for k, v in body.items() if k in keep}


class _HubHandler(BaseHTTPRequestHandler):
    """Answers like the Hub from `state` (set on the subclass `_make_handler` builds for one server)."""

    state: ClassVar[HubState]
    protocol_version = "HTTP/1.1"
    # One write per response and no Nagle: otherwise delayed ACKs add ~40 ms per request on loopback.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def setup(self) -> None:
        """One call per accepted TCP connection (a keep-alive connection serves many requests)."""
        super().setup()
        self.state.count_connection()

    def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, code: str | None, message: str, extra: dict[str, str] | None = None) -> None:
        headers = dict(extra or {})
        if code:
            headers["X-Error-Code"] = code
        headers["X-Error-Message"] = message
        self._send(status, json.dumps({"error": message}).encode(), headers)

    def do_GET(self) -> None:
        state = self.state
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        state.count_path(path)
        if path == LISTING_PATH:
            self._list_models(parse_qs(parts.query))
            return
        if path.startswith("/api/datasets/"):
            self._get_dataset(path[len("/api/datasets/") :], parse_qs(parts.query).get("expand", []))
            return
        if not path.startswith("/api/models/"):
            self._error(404, None, "Not Found")
            return
        repo_id, _, revision = path[len("/api/models/") :].partition("/revision/")
        with state.lock:
            state.hits[repo_id] += 1
            hit = state.hits[repo_id]
        state.enter()
        state.announce()
        try:
            self._model(repo_id, revision, hit, parts.query)
        finally:
            state.leave()

    def _model(self, repo_id: str, revision: str, hit: int, query: str) -> None:
        state = self.state
        if state.latency:
            time.sleep(state.latency)
        headers: dict[str, str] = {}
        if self._over_quota(headers) or self._fault(repo_id, hit, headers) or self._redirect(repo_id):
            return
        self._answer(repo_id, revision, parse_qs(query).get("expand", []), headers)

    def _get_dataset(self, rest: str, expand: list[str]) -> None:
        """`/api/datasets/{id}[/revision/{rev}]`: the same quota, faults and errors as a model, keyed `datasets/<id>`."""
        state = self.state
        dataset_id, _, revision = rest.partition("/revision/")
        key = f"datasets/{dataset_id}"
        with state.lock:
            state.hits[key] += 1
            hit = state.hits[key]
        if state.latency:
            time.sleep(state.latency)
        headers: dict[str, str] = {}
        if self._over_quota(headers) or self._fault(key, hit, headers):
            return
        body = state.revisions.get((key, revision)) if revision else state.datasets.get(dataset_id)
        if body is not None:
            self._send(200, json.dumps(_select(body, expand)).encode(), headers)
        elif revision and dataset_id in state.datasets:
            self._error(404, "RevisionNotFound", "Invalid rev id", headers)
        else:
            self._error(404, "RepoNotFound", "Repository not found", headers)

    def _over_quota(self, headers: dict[str, str]) -> bool:
        """Count the request against the quota, add the RateLimit headers; answer 429 past the quota."""
        state = self.state
        if state.quota is None:
            return False
        remaining, reset, refused = state.take()
        headers["RateLimit"] = f'"api";r={remaining};t={reset}'
        headers["RateLimit-Policy"] = f'"fixed window";"api";q={state.quota};w={math.ceil(state.window)}'
        if refused:
            state.count_refused()
            self._error(429, None, "Too Many Requests", {**headers, "Retry-After": str(reset)})
        return refused

    def _fault(self, repo_id: str, hit: int, headers: dict[str, str]) -> bool:
        """Inject this repo's fault, if any; True when it answered."""
        fault = self.state.faults.get(repo_id)
        if fault is None:
            return False
        if fault.stall_seconds and (fault.stall_times == 0 or hit <= fault.stall_times):
            time.sleep(fault.stall_seconds)
        if fault.wait_for is not None:
            self.state.wait_for_request(fault.wait_for)
        if fault.hold_until_in_flight:
            self.state.wait_for_in_flight(fault.hold_until_in_flight)
        if hit <= fault.fail_503:
            self._error(503, None, "Service Unavailable", headers)
        elif hit <= fault.rate_limit:
            self.state.count_refused()
            self._error(429, None, "Too Many Requests", {**headers, "Retry-After": str(fault.retry_after)})
        elif fault.status is not None:
            self._error(fault.status, fault.error_code, "error", headers)
        elif fault.malformed:
            self._send(200, b'{"id": "' + repo_id.encode() + b'", "cardData": {', headers)
        else:
            return False
        return True

    def _redirect(self, repo_id: str) -> bool:
        target = self.state.redirects.get(repo_id)
        if target is None:
            return False
        self.send_response(307)
        self.send_header("Location", self.path.replace(f"/api/models/{repo_id}", f"/api/models/{target}", 1))
        self.send_header("Content-Length", "0")
        self.end_headers()
        return True

    def _answer(self, repo_id: str, revision: str, expand: list[str], headers: dict[str, str]) -> None:
        state = self.state
        body = state.revisions.get((repo_id, revision)) if revision else state.models.get(repo_id)
        if body is not None:
            self._send(200, json.dumps(_select(body, expand)).encode(), headers)
        elif revision and repo_id in state.models:
            self._error(404, "RevisionNotFound", "Invalid rev id", headers)
        else:
            self._error(404, "RepoNotFound", "Repository not found", headers)


    # ------------------------------------------------------------ the paged listing (`HfApi.list_models`)

    def _list_models(self, query: dict[str, list[str]]) -> None:
        """`GET /api/models?author=&filter=&limit=&cursor=&expand=`: one page of the models whose tags hold
        every `filter` (and whose owner is `author`), in id order, with the next page's address in a
        `Link: <…>; rel="next"` header as the Hub sends it (huggingface_hub's `paginate` follows it).

        Each page counts as one request under `listing_key(offset)` in `hits`, and a `Fault` under that key
        hits that page (so a test can stall or refuse page k)."""
        state = self.state
        offset = _cursor_offset(query.get("cursor", [""])[0])
        limit = _page_size(query.get("limit", [""])[0])
        key = listing_key(offset)
        with state.lock:
            state.hits[key] += 1
            hit = state.hits[key]
        if state.latency:
            time.sleep(state.latency)
        headers: dict[str, str] = {}
        if self._over_quota(headers) or self._fault(key, hit, headers):
            return
        matching = _matching(state.models, query.get("author", [""])[0], query.get("filter", []))
        page = [_select(state.models[i], query.get("expand", [])) for i in matching[offset : offset + limit]]
        if offset + limit < len(matching):
            rest = [(k, v) for k, vs in query.items() if k != "cursor" for v in vs]
            rest.append(("cursor", _cursor(offset + limit)))
            headers["Link"] = f'<http://{self.headers.get("Host", "")}{LISTING_PATH}?{urlencode(rest)}>; rel="next"'
        self._send(200, json.dumps(page).encode(), headers)


LISTING_PATH = "/api/models"
LISTING_PAGE_MAX = 1000  # the Hub's largest page


def listing_key(offset: int) -> str:
    """The `hits` / `faults` key of the listing page that starts at model `offset`."""
    return f"{LISTING_PATH}#{offset}"


def _cursor(offset: int) -> str:
    """An opaque cursor, as the Hub's are."""
    return base64.urlsafe_b64encode(json.dumps({"$o": offset}).encode()).decode()


def _cursor_offset(cursor: str) -> int:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))["$o"] if cursor else 0
    except (ValueError, KeyError, TypeError):
        return 0
    return value if isinstance(value, int) and value >= 0 else 0


def _page_size(limit: str) -> int:
    return min(LISTING_PAGE_MAX, int(limit)) if limit.isdigit() and int(limit) > 0 else LISTING_PAGE_MAX


def _matching(models: dict[str, dict[str, Any]], author: str, filters: list[str]) -> list[str]:
    """Ids (sorted) of the models owned by `author` (when given) whose tags hold every filter."""
    out = []
    for repo_id in sorted(models):
        body = models[repo_id]
        tags = body.get("tags")
        tags = tags if isinstance(tags, list) else []
        if author and repo_id.split("/")[0] != author:
            continue
        if all(f in tags for f in filters):
            out.append(repo_id)
    return out


def _make_handler(state: HubState) -> type[BaseHTTPRequestHandler]:
    class Handler(_HubHandler):
        pass

    Handler.state = state
    return Handler


class _Server(ThreadingHTTPServer):
    # A crawl opens dozens of connections at once; the default backlog (5) drops SYNs and costs a 1 s retry.
    request_queue_size = 128


class HubServer:
    """`with HubServer(state) as hub: HubSource(endpoint=hub.endpoint)`."""

    def __init__(self, state: HubState) -> None:
        self.state = state
        self._httpd = _Server(("127.0.0.1", 0), _make_handler(state))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> HubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def serve(state: HubState) -> Iterator[HubServer]:
    with HubServer(state) as server:
        yield server
