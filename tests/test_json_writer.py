"""`audit.json`'s writer encodes a long list of records a batch at a time (`_common._write_batched`): the bytes must
be those of `json.dumps(..., sort_keys=True, indent=2)` at every list length around the batch size."""

from __future__ import annotations

import json

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
