"""Recorded snapshots: what every source answered during one crawl, replayed offline bit for bit.

A snapshot is a folder holding `snapshot.json`:
`{"format": "auditor-snapshot/1", "records": {"<requested ref>": {"facts": {...}} | {"unresolved": {...}}}}`.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from auditor.errors import AuditorError
from auditor.model import ModelFacts, ModelRef, Unresolved
from auditor.sources.base import Source, WrappedSource, now_iso

FORMAT = "auditor-snapshot/1"
FILE_NAME = "snapshot.json"
MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024  # refused before parsing when larger


class SnapshotError(AuditorError):
    """A snapshot folder that can't be used (message is one line, names the file and the fix)."""


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")
    facts: ModelFacts | None = None
    unresolved: Unresolved | None = None


class SnapshotFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: str = FORMAT
    recorded_at: str
    tool_version: str
    records: dict[str, Record]


def load_snapshot(directory: Path) -> SnapshotFile:
    path = directory / FILE_NAME if directory.is_dir() else directory
    if not path.is_file():
        raise SnapshotError(f"{path}: no snapshot here. Record one with `auditor snapshot record REF… --out DIR`.")
    if path.stat().st_size > MAX_SNAPSHOT_BYTES:
        raise SnapshotError(f"{path}:1: snapshot: over the {MAX_SNAPSHOT_BYTES:,}-byte limit. Record fewer models "
                            "per snapshot.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"{path}: not a readable JSON snapshot ({exc}). Re-record it.") from None
    except RecursionError:
        raise SnapshotError(f"{path}: snapshot nested too deeply to read. Re-record it.") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SnapshotError(f"{path}: field 'format' must be {FORMAT!r}. Re-record it with this version.")
    try:
        return SnapshotFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SnapshotError(f"{path}: field {where}: {first['msg']}. Re-record the snapshot.") from exc


class SnapshotSource:
    """Answers from a recorded snapshot only; anything not recorded is unresolved."""

    name = "snapshot"

    def __init__(self, snapshot: SnapshotFile) -> None:
        self._records = snapshot.records
        self.requests = 0
        self.cache_hits = 0

    def fetch(self, ref: ModelRef) -> ModelFacts | Unresolved:
        record = self._records.get(ref.key)
        if record is None and ref.revision is not None:
            record = self._at_commit(ref)
        if record is not None and record.facts is not None:
            return record.facts
        if record is not None and record.unresolved is not None:
            return record.unresolved
        return Unresolved(
            id=ref.id,
            requested=ref.key,
            source="snapshot",
            code="not-found",
            reason="not in the recorded snapshot (record it again including this model)",
            revision=ref.revision,
        )


    def _at_commit(self, ref: ModelRef) -> Record | None:
        """A reference pinned to a commit (an `auditor.lock`) is answered by the record of that repo made
        at that very commit; any other commit is not in the snapshot."""
        record = self._records.get(ref.id)
        if record is not None and record.facts is not None and record.facts.sha == ref.revision:
            return Record(facts=record.facts.model_copy(update={"requested": ref.key, "revision": ref.revision}))
        return None


class RecordingSource(WrappedSource):
    """Wraps another source and remembers every answer, to be written as a snapshot."""

    def __init__(self, inner: Source) -> None:
        super().__init__(inner)
        self._lock = threading.Lock()
        self.records: dict[str, Record] = {}

    def fetch(self, ref: ModelRef) -> ModelFacts | Unresolved:
        result = self.inner.fetch(ref)
        record = Record(facts=result) if isinstance(result, ModelFacts) else Record(unresolved=result)
        with self._lock:
            self.records[ref.key] = record
        return result

    def write(self, directory: Path, tool_version: str) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        snapshot = SnapshotFile(recorded_at=now_iso(), tool_version=tool_version, records=dict(self.records))
        path = directory / FILE_NAME
        text = json.dumps(snapshot.model_dump(mode="json", exclude_none=True), indent=2, sort_keys=True)
        path.write_text(text + "\n", encoding="utf-8")
        return path
