"""Persistent metadata cache (SQLite in the user cache dir).

Entries read at a commit sha never expire; entries read at a branch (or the default branch)
expire after a TTL. Values are the raw Hub response bodies, so a parser fix applies on replay.

Failed lookups (not found, gated, disabled, unreachable…) are kept too, in their own table, for a short
time (`failure_ttl_seconds`, 1 h by default) whatever the revision: a warm run does not ask again, yet a
repository that appears, or a gate accepted, is seen within the hour (or at once with `--refresh`). A
cached failure is only ever replayed as the same failure: it never stands in for facts.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHA_RE = re.compile(r"^[0-9a-f]{40}$")
DEFAULT_TTL_SECONDS = 24 * 3600
DEFAULT_FAILURE_TTL_SECONDS = 3600
MAX_REASON_CHARS = 1000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    retrieved_at TEXT NOT NULL,
    stored_at REAL NOT NULL,
    pinned INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS failures (
    key TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    retrieved_at TEXT NOT NULL,
    stored_at REAL NOT NULL
);
CREATE TRIGGER IF NOT EXISTS entries_replace_failure AFTER INSERT ON entries BEGIN
    DELETE FROM failures WHERE key = NEW.key;
END;
"""
# An answer and a failure under one key, in one statement (`lookup`): the answer's row first.
_LOOKUP = (
    "SELECT 1, body, retrieved_at, stored_at, pinned FROM entries WHERE key = ?1 "
    "UNION ALL SELECT 0, code, reason, retrieved_at, stored_at FROM failures WHERE key = ?1"
)


def default_cache_dir() -> Path:
    env = os.environ.get("AUDITOR_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("model-license-auditor"))


@dataclass(frozen=True)
class CacheEntry:
    body: str
    retrieved_at: str


@dataclass(frozen=True)
class CachedFailure:
    """A lookup that failed, as it was answered (`code` is an `UnresolvedCode`)."""

    code: str
    reason: str
    retrieved_at: str


@dataclass(frozen=True)
class CacheStats:
    path: str
    entries: int
    pinned: int
    size_bytes: int
    failures: int = 0


class MetadataCache:
    """A small thread-safe key/value store. `key` includes endpoint, repo id and revision."""

    def __init__(
        self,
        directory: Path,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        failure_ttl_seconds: int = DEFAULT_FAILURE_TTL_SECONDS,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "metadata.sqlite3"
        self.ttl_seconds = ttl_seconds
        self.failure_ttl_seconds = failure_ttl_seconds
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: no fsync per commit (a crash may lose the last entries, never corrupt the file);
            # a crawl commits once per model read.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
            self._conn.commit()

    @staticmethod
    def key(endpoint: str, repo_id: str, revision: str | None) -> str:
        return f"{endpoint.rstrip('/')}|{repo_id}|{revision or ''}"

    @staticmethod
    def is_pinned(revision: str | None) -> bool:
        return bool(revision and SHA_RE.match(revision))

    def get(self, key: str, *, pinned: bool) -> CacheEntry | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT body, retrieved_at, stored_at, pinned FROM entries WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else self._entry(row, pinned)

    def _entry(self, row: tuple[Any, ...], pinned: bool) -> CacheEntry | None:
        body, retrieved_at, stored_at, row_pinned = row
        if not (pinned or row_pinned) and time.time() - float(stored_at) > self.ttl_seconds:
            return None
        return CacheEntry(body=body, retrieved_at=retrieved_at)

    def lookup(self, key: str, *, pinned: bool) -> CacheEntry | CachedFailure | None:
        """`get`, else `get_failure`, in one query (every cold lookup of a crawl asks both)."""
        with self._lock:
            rows = self._conn.execute(_LOOKUP, (key,)).fetchall()
        for is_entry, *row in rows:  # the answer's row comes first
            found = self._entry(tuple(row), pinned) if is_entry == 1 else self._failure(tuple(row[:4]))
            if found is not None:
                return found
        return None

    def put(self, key: str, body: str, retrieved_at: str, *, pinned: bool) -> None:
        """Store an answer; a failure cached under the same key is dropped (by the `entries` trigger)."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO entries (key, body, retrieved_at, stored_at, pinned) VALUES (?,?,?,?,?)",
                (key, body, retrieved_at, time.time(), int(pinned)),
            )
            self._conn.commit()

    def get_failure(self, key: str) -> CachedFailure | None:
        """A failure cached under `key` within `failure_ttl_seconds`, else None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT code, reason, retrieved_at, stored_at FROM failures WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else self._failure(row)

    def _failure(self, row: tuple[Any, ...]) -> CachedFailure | None:
        code, reason, retrieved_at, stored_at = row
        age = time.time() - float(stored_at)
        if not 0 <= age <= self.failure_ttl_seconds:  # expired, or stored "in the future" (clock moved)
            return None
        return CachedFailure(code=str(code), reason=str(reason), retrieved_at=str(retrieved_at))

    def put_failure(self, key: str, failure: CachedFailure) -> None:
        """Remember a failed lookup for `failure_ttl_seconds` (0: never). A good answer cached under the same
        key is kept: a failure never replaces facts on disk (`get` still ages them out by their own TTL)."""
        if self.failure_ttl_seconds <= 0:
            return
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO failures (key, code, reason, retrieved_at, stored_at) VALUES (?,?,?,?,?)",
                (key, failure.code[:64], failure.reason[:MAX_REASON_CHARS], failure.retrieved_at[:64], time.time()),
            )
            self._conn.commit()

    def stats(self) -> CacheStats:
        with self._lock:
            total, pinned = self._conn.execute("SELECT COUNT(*), COALESCE(SUM(pinned), 0) FROM entries").fetchone()
            failures = self._conn.execute("SELECT COUNT(*) FROM failures").fetchone()[0]
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*"))
        return CacheStats(path=str(self.path), entries=int(total), pinned=int(pinned), size_bytes=size,
                          failures=int(failures))

    def clear(self) -> int:
        """Remove every entry and cached failure; returns how many entries there were."""
        with self._lock:
            count = self._conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
            self._conn.execute("DELETE FROM entries")
            self._conn.execute("DELETE FROM failures")
            self._conn.commit()
        return int(count)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
