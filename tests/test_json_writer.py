"""`audit.json`'s writer encodes a long list of records a batch at a time (`_common._write_batched`): the bytes must
be those of `json.dumps(..., sort_keys=True, indent=2)` at every list length around the batch size."""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path

import pytest

from auditor.model import DeclaredLicense, EdgeRecord, Evidence, LineageGraph, ModelFacts, NodeRecord
from auditor.reports import _common as c


def _graph(n: int) -> LineageGraph:
    ids = [f"example-org/w{i:04d}" for i in range(n)]
    nodes = [NodeRecord(id=i, facts=ModelFacts(id=i, requested=i, source="hub",
                                               declared=DeclaredLicense(license=["mit"]))) for i in ids]
    edges = [EdgeRecord(child=a, parent=b, relation="finetune",
                        evidence=[Evidence(source="hub", field="cardData.base_model", value=b)])
             for a, b in zip(ids[1:], ids, strict=False)]
    return LineageGraph(roots=ids[-1:], nodes=nodes, edges=edges)


@pytest.mark.parametrize("n", [0, 1, c._BATCH - 1, c._BATCH, c._BATCH + 1, c._BATCH + 2, 2 * c._BATCH,
                               2 * c._BATCH + 1, 3 * c._BATCH + 5])
def test_a_batched_list_has_the_standard_librarys_bytes(n: int) -> None:
    graph = _graph(n)
    written: list[bytes] = []
    c.write_canonical_json(graph, written.append)
    expected = json.dumps(graph.model_dump(mode="json"), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert b"".join(written).decode("utf-8") == expected
    # Deeper lists (a result's models at depth 1, its graph's nodes at depth 2):
    # tests/test_engine_regression.py::test_a_large_result_reaches_the_file_in_chunks.


# Strings a card may hold: quotes, backslashes, control characters (short and \u escapes), DEL, the JavaScript line
# separators, non-ASCII and astral characters, markup.
HOSTILE = ['é "quoted" \\ back\x01slash\u2028line\u2029\U0001f600 <script>', "\x00\x08\t\n\x0b\x0c\r\x1f\x7f",
           "", "ümlaut/ß/日本語", "\ud7ff\ue000\uffff"]


@pytest.mark.parametrize("text", HOSTILE)
def test_orjson_writes_the_standard_librarys_bytes_for_hostile_strings(text: str) -> None:
    value = {text: [text, {"b": text, "a": None}], "k": [True, False, 0, -1, 2**63 - 1, -2**63], "e": [[], {}]}
    expected = json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False).encode("utf-8")
    assert c.dumps_sorted(value) == expected
    node = NodeRecord(id=text, facts=ModelFacts(id=text, requested=text, source="hub",
                                                 declared=DeclaredLicense(license=[text])))
    encoded = json.dumps(node.model_dump(mode="json"), sort_keys=True, indent=2, ensure_ascii=False)
    assert c._sorted_json(node) == encoded.encode("utf-8")
    assert c._sorted_json([node, node]) == ("[\n  " + encoded.replace("\n", "\n  ") + ",\n  "
                                            + encoded.replace("\n", "\n  ") + "\n]").encode("utf-8")


@pytest.mark.parametrize("value", [{1: "a", 2: ["b"]}, {"big": 2**64 + 1}, [-(2**70)]])
def test_what_orjson_refuses_is_written_by_the_fallback_encoder(value: object) -> None:
    """Keys that are not strings and integers beyond 64 bits: orjson refuses them; the fallback writes the standard
    library's bytes (keys as strings, sorted; integers whole)."""
    expected = json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False).encode("utf-8")
    assert c.dumps_sorted(value) == expected


class _FailingFile(io.RawIOBase):
    """A file with a descriptor whose writes fail after `good` of them (a full disk)."""

    def __init__(self, good: int) -> None:
        self.good, self.written = good, b""

    def fileno(self) -> int:
        return 2

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self.good <= 0:
            raise OSError(28, "No space left on device")
        self.good -= 1
        self.written += bytes(data)
        return len(data)


def test_a_file_is_written_whole_by_the_writer_thread(tmp_path: Path) -> None:
    graph = _graph(3 * c._BATCH)
    path = tmp_path / "graph.json"
    with path.open("wb") as fp, c.background_writes(fp) as put:
        c.write_canonical_json(graph, put)
    expected = json.dumps(graph.model_dump(mode="json"), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert path.read_text(encoding="utf-8") == expected
    assert not [t for t in threading.enumerate() if t.name == "auditor-report-writer"]


def test_an_in_memory_buffer_is_written_directly() -> None:
    buffer = io.BytesIO()
    with c.background_writes(buffer) as put:
        put(b"abc")
        assert buffer.getvalue() == b"abc"  # no thread: written at once


@pytest.mark.parametrize("good", [0, 2])
def test_a_failing_file_raises_its_error_in_the_caller(good: int) -> None:
    fp = _FailingFile(good)
    with pytest.raises(OSError, match="No space left"), c.background_writes(fp) as put:  # type: ignore[arg-type]
        for _ in range(100):
            put(b"x" * 10)
            time.sleep(0.001)
    assert fp.written == b"x" * 10 * good
    assert not [t for t in threading.enumerate() if t.name == "auditor-report-writer"]


def test_an_error_while_encoding_stops_the_writer_thread(tmp_path: Path) -> None:
    with (tmp_path / "x.json").open("wb") as fp, pytest.raises(RuntimeError, match="encoder"), \
            c.background_writes(fp) as put:
        put(b"{")
        raise RuntimeError("encoder failed")
    assert (tmp_path / "x.json").read_bytes() == b"{"
    assert not [t for t in threading.enumerate() if t.name == "auditor-report-writer"]
