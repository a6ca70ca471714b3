"""The one small interface every source implements."""

from __future__ import annotations

import datetime as dt
import os
from typing import Protocol

from auditor.model import ModelFacts, ModelRef, Unresolved


class Source(Protocol):
    """Fetch one model's facts. Never raises for a model that can't be read: returns `Unresolved`."""

    name: str

    def fetch(self, ref: ModelRef) -> ModelFacts | Unresolved: ...


class Stats(Protocol):
    requests: int
    cache_hits: int


def now_iso() -> str:
    """The current UTC time, or `SOURCE_DATE_EPOCH` when set (reproducible runs)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        moment = dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    else:
        moment = dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")
