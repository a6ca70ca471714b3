"""How many requests a crawl keeps in flight: a limit that rises while the Hub answers fast and backs off
when it pushes back.

- Slow start: every fast answer raises the limit by `growth` − 1 (it is multiplied by `growth` each round trip:
  2 doubles it, as TCP does; a crawl triples it, `lineage.make_limit`) up to the ceiling.
- An answer is fast when it comes within `fast_factor` × the fastest round trip seen (plus a little slack):
  the server is not queueing our requests. A slow answer ends the slow start; after that the limit grows
  by 1/limit per fast answer (one more request in flight per round trip).
- A 429, any 5xx or no answer at all halves the limit (never below `floor`), once per round: the answers to
  requests sent before the cut do not cut it again. The wait itself (`Retry-After`, a spent `RateLimit`
  window) is the `RateGate`'s business; this only decides how many go out after it.

The crawl owns one `AdaptiveLimit` and makes it the active one in each of its workers (`active`); the Hub
source takes a slot around each request it sends (`slot`), so answers read from the cache take none. Outside
a crawl there is no active limit and nothing is limited here.
"""

from __future__ import annotations

import contextvars
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

FAST_SLACK_SECONDS = 0.005  # scheduling noise on a busy machine is not a slow server

_ACTIVE: contextvars.ContextVar[AdaptiveLimit | None] = contextvars.ContextVar("auditor_crawl_limit", default=None)


def backs_off(status: int | None) -> bool:
    """The answers that lower the limit: rate limited, a server error, or none at all."""
    return status is None or status == 429 or status >= 500


@dataclass
class AdaptiveLimit:
    """A thread-safe adaptive bound on requests in flight (see the module docstring)."""

    start: int = 8
    ceiling: int = 32
    floor: int = 1
    fast_factor: float = 2.0
    growth: float = 2.0  # slow start: the limit is multiplied by this each round trip of fast answers
    clock: Callable[[], float] = time.monotonic
    peak: int = 0  # most requests in flight at once
    backoffs: int = 0  # times the limit was cut
    _limit: float = 0.0
    _inflight: int = 0
    _issued: int = 0  # slots handed out so far (a slot's ticket is its number)
    _cut_after: int = 0  # answers to tickets up to this one do not cut again
    _slow_start: bool = True
    _fastest: float | None = None
    _cond: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def __post_init__(self) -> None:
        self.floor = max(1, self.floor)
        self.ceiling = max(self.floor, self.ceiling)
        self.start = min(self.ceiling, max(self.floor, self.start))
        self._limit = float(self.start)
        self.growth = max(1.0, self.growth) if math.isfinite(self.growth) else 2.0  # NaN, inf: the default

    @property
    def current(self) -> int:
        """Requests allowed in flight now."""
        with self._cond:
            return int(self._limit)

    def acquire(self) -> int:
        """Wait for a free slot and take it; returns its ticket (for `report`)."""
        with self._cond:
            while self._inflight >= int(self._limit):
                self._cond.wait()
            self._inflight += 1
            self._issued += 1
            self.peak = max(self.peak, self._inflight)
            return self._issued

    def release(self) -> None:
        with self._cond:
            self._inflight = max(0, self._inflight - 1)
            self._wake()

    def report(self, ticket: int, status: int | None, seconds: float) -> None:
        """How the request holding `ticket` went: its HTTP status (None: no answer) and round trip."""
        with self._cond:
            if backs_off(status):
                self._cut(ticket)
            else:
                self._answered(seconds)
            self._wake()

    def _wake(self) -> None:
        """Wake as many waiting workers as there are free slots (not all of them: the others would only go back
        to waiting). Caller holds the lock."""
        free = int(self._limit) - self._inflight
        if free > 0:
            self._cond.notify(free)

    def _cut(self, ticket: int) -> None:
        """Halve the limit, once for all the requests that were already out. Caller holds the lock."""
        self._slow_start = False
        if ticket <= self._cut_after:
            return
        self._limit = max(float(self.floor), self._limit / 2)
        self._cut_after = self._issued
        self.backoffs += 1

    def _answered(self, seconds: float) -> None:
        """A good answer: grow while it came fast. Caller holds the lock."""
        self._fastest = seconds if self._fastest is None else min(self._fastest, seconds)
        if seconds > self._fastest * self.fast_factor + FAST_SLACK_SECONDS:
            self._slow_start = False
            return
        step = self.growth - 1.0 if self._slow_start else 1.0 / max(1.0, self._limit)
        self._limit = min(float(self.ceiling), self._limit + step)


def current() -> AdaptiveLimit | None:
    """The limit of the crawl this worker runs for, if any."""
    return _ACTIVE.get()


@contextmanager
def active(limit: AdaptiveLimit | None) -> Iterator[None]:
    """Make `limit` the one requests made in this block (this thread) take their slots from."""
    token = _ACTIVE.set(limit)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


class Slot:
    """One request's place in flight; `done(status)` reports how it went (call it once)."""

    def __init__(self, limit: AdaptiveLimit | None) -> None:
        self._limit = limit
        self._ticket = limit.acquire() if limit is not None else 0
        self._started = limit.clock() if limit is not None else 0.0
        self._reported = False

    def start(self) -> None:
        """The request goes out now: its round trip is timed from here."""
        if self._limit is not None:
            self._started = self._limit.clock()

    def cancel(self) -> None:
        """Nothing was sent: no report (the slot is still released)."""
        self._reported = True

    def done(self, status: int | None) -> None:
        if self._limit is None or self._reported:
            return
        self._reported = True
        self._limit.report(self._ticket, status, self._limit.clock() - self._started)


@contextmanager
def slot() -> Iterator[Slot]:
    """Hold a slot of the active limit (none: no wait) for one request; no report counts as no answer."""
    limit = current()
    held = Slot(limit)
    try:
        yield held
    finally:
        held.done(None)
        if limit is not None:
            limit.release()
