"""Properties of the HTML report's lineage-graph layout (auditor/reports/_graph.py), on chosen
graphs (the report fixture, an example-like lineage, cycles, many components, wide layers) and on
random ones (hypothesis): every model drawn once, boxes inside the drawing and apart, each edge
drawn once from its child's box to its parent's box, parents below children (back edges of
cycles excepted, drawn on the boxes' right-hand sides), edges clear of other boxes, the same
coordinates whatever the input order. Nothing here compares bytes: the report goldens do that.
"""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.model import EdgeRecord, Evidence, LineageGraph, NodeRecord, Relation
from auditor.reports import _graph as G
from auditor.reports._graph import GraphLayout, NodeBox, layout

STEP = G.BOX_H + G.ROW_GAP
EPS = 0.11  # coordinates are rounded to 0.1 px


def graph_of(roots: list[str], edges: list[tuple[str, str]], relation: Relation = "finetune") -> LineageGraph:
    ids = list(dict.fromkeys([*roots, *(n for e in edges for n in e)]))
    return LineageGraph(
        roots=roots,
        nodes=[NodeRecord(id=i) for i in ids],
        edges=[
            EdgeRecord(
                child=c,
                parent=p,
                relation=relation,
                evidence=[Evidence(source="hub", field="cardData.base_model", value=p)],
            )
            for c, p in edges
        ],
    )


# --------------------------------------------------------------------------- geometry


def _path(d: str) -> list[list[tuple[float, float]]]:
    """An SVG path of M, L and C commands as its pieces: [p0, p1] lines and [p0, c1, c2, p1] curves."""
    tokens = re.findall(r"[MLC]|-?\d+(?:\.\d+)?,-?\d+(?:\.\d+)?", d)
    pieces: list[list[tuple[float, float]]] = []
    current: tuple[float, float] | None = None
    command = ""
    buffer: list[tuple[float, float]] = []
    for tok in tokens:
        if tok in "MLC":
            command, buffer = tok, []
            continue
        x, y = (float(v) for v in tok.split(","))
        buffer.append((x, y))
        if command == "M":
            current = (x, y)
        elif (command == "L" and len(buffer) == 1) or (command == "C" and len(buffer) == 3):
            assert current is not None, d
            pieces.append([current, *buffer])
            current, buffer = buffer[-1], []
    return pieces


def _samples(piece: list[tuple[float, float]], steps: int = 24) -> list[tuple[float, float]]:
    if len(piece) == 2:
        (x0, y0), (x1, y1) = piece
        return [(x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps) for k in range(steps + 1)]
    p0, c1, c2, p1 = piece
    out = []
    for k in range(steps + 1):
        t = k / steps
        a, b, c, e = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t**3
        out.append((a * p0[0] + b * c1[0] + c * c2[0] + e * p1[0], a * p0[1] + b * c1[1] + c * c2[1] + e * p1[1]))
    return out


def _inside(box: NodeBox, x: float, y: float, margin: float = 1.0) -> bool:
    return box.x + margin < x < box.x + box.w - margin and box.y + margin < y < box.y + box.h - margin


def check_layout(graph: LineageGraph, g: GraphLayout) -> None:
    """Every property a drawing of `graph` must have."""
    ids = {n.id for n in graph.nodes} | {n for e in graph.edges for n in (e.child, e.parent)}
    assert sorted(b.id for b in g.nodes) == sorted(ids)  # every model once
    pairs = {(e.child, e.parent) for e in graph.edges}
    assert sorted((e.child, e.parent) for e in g.edges) == sorted(pairs)  # each edge drawn once
    _check_boxes(g)
    _check_edge_ends(g)
    _check_edges_clear_of_boxes(g)


def _check_boxes(g: GraphLayout) -> None:
    """Boxes inside the drawing, none overlapping another."""
    for b in g.nodes:
        assert b.w == G.BOX_W and b.h == G.BOX_H
        assert b.x >= 0 and b.y >= 0 and b.x + b.w <= g.width + EPS and b.y + b.h <= g.height + EPS, b.id
    ordered = sorted(g.nodes, key=lambda b: (b.x, b.y))
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.x >= a.x + a.w:
                break
            assert a.y + a.h <= b.y + EPS or b.y + b.h <= a.y + EPS, (a.id, b.id)


def _check_edge_ends(g: GraphLayout) -> None:
    """Each edge from its child's box to its parent's: out of the bottom and into the top of a box
    whole layers (rows) below; a cycle's back edge out of and into the boxes' right-hand sides."""
    box = {b.id: b for b in g.nodes}
    for e in g.edges:
        child, parent = box[e.child], box[e.parent]
        pieces = _path(e.d)
        (x0, y0), (x1, y1) = pieces[0][0], pieces[-1][-1]
        if e.back:
            assert abs(x0 - (child.x + child.w)) < EPS and child.y <= y0 <= child.y + child.h, e
            assert abs(x1 - (parent.x + parent.w)) < EPS and parent.y <= y1 <= parent.y + parent.h, e
            continue
        assert parent.y > child.y, ("parent not below its child", e.child, e.parent)
        steps = (parent.y - child.y) / STEP
        assert abs(steps - round(steps)) * STEP < EPS, (e.child, e.parent, steps)
        assert abs(y0 - (child.y + child.h)) < EPS and child.x <= x0 <= child.x + child.w, ("start", e)
        assert abs(y1 - parent.y) < EPS and parent.x <= x1 <= parent.x + parent.w, ("end", e)


def _check_edges_clear_of_boxes(g: GraphLayout) -> None:
    for e in g.edges:
        if e.back:
            continue
        others = [b for b in g.nodes if b.id not in (e.child, e.parent)]
        for piece in _path(e.d):
            for x, y in _samples(piece):
                hit = [b.id for b in others if _inside(b, x, y)]
                assert not hit, (e.child, e.parent, "runs through", hit)


def crossings(g: GraphLayout) -> int:
    """Edges whose polylines (through their pieces' end points) cross, not counting shared ends."""
    segs = []
    for e in g.edges:
        if e.back:
            continue
        for piece in _path(e.d):
            segs.append((e.child, e.parent, piece[0], piece[-1]))

    def orient(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    count = 0
    for i, (c1, p1, a, b) in enumerate(segs):
        for c2, p2, c, d in segs[i + 1 :]:
            if (c1, p1) == (c2, p2):
                continue
            if orient(c, d, a) * orient(c, d, b) < 0 and orient(a, b, c) * orient(a, b, d) < 0:
                count += 1
    return count


def coordinates(g: GraphLayout) -> tuple[object, ...]:
    return (g.width, g.height, sorted((b.id, b.x, b.y) for b in g.nodes), sorted((e.child, e.parent, e.d) for e in g.edges))


# --------------------------------------------------------------------------- chosen graphs

# An example-like lineage: three audited models on one base (a long edge through a layer), a
# quantization chain, and a second family with a merge of two bases.
EXAMPLE_LIKE = graph_of(
    ["org/gguf", "org/adapter", "org/ranker", "org/merge", "org/vision"],
    [
        ("org/gguf", "qwen/coder-instruct"),
        ("qwen/coder-instruct", "qwen/coder"),
        ("qwen/coder", "qwen/base"),
        ("org/adapter", "qwen/instruct"),
        ("qwen/instruct", "qwen/base"),
        ("org/ranker", "qwen/base"),
        ("org/merge", "llama/a"),
        ("org/merge", "mistral/b"),
        ("org/vision", "llama/a"),
    ],
)
CYCLES = graph_of(
    ["org/a", "org/self", "org/x", "org/top"],
    [
        ("org/a", "org/b"),
        ("org/b", "org/a"),
        ("org/self", "org/self"),
        ("org/x", "org/y"),
        ("org/y", "org/z"),
        ("org/z", "org/x"),
        ("org/top", "org/mid"),
        ("org/mid", "org/low"),
        ("org/low", "org/mid"),
    ],
)
MANY_COMPONENTS = graph_of(
    [f"org/m{i}" for i in range(13)], [(f"org/m{i}", f"org/base{i % 9}") for i in range(13)]
)
WIDE = graph_of(  # nine fine-tunes of one base, and a second base under five of them
    [f"org/m{i}" for i in range(9)],
    [*((f"org/m{i}", "org/base") for i in range(9)), *((f"org/m{i}", "org/other") for i in range(0, 9, 2))],
)
# a chain with shortcuts: edges across one, two and three layers
SHORTCUTS = graph_of(
    ["org/l0"],
    [("org/l0", "org/l1"), ("org/l1", "org/l2"), ("org/l2", "org/l3"), ("org/l3", "org/l4"),
     ("org/l0", "org/l2"), ("org/l0", "org/l4"), ("org/l1", "org/l4")],
)


def test_the_report_fixture() -> None:
    from tests.report_fixtures import build_result

    graph = build_result().graph
    g = layout(graph, {})
    check_layout(graph, g)
    assert crossings(g) == 0


@pytest.mark.parametrize(
    "graph", [EXAMPLE_LIKE, CYCLES, MANY_COMPONENTS, WIDE, SHORTCUTS], ids=["example", "cycles", "many", "wide", "shortcuts"]
)
def test_chosen_graphs(graph: LineageGraph) -> None:
    check_layout(graph, layout(graph, {}))


def test_example_like_lineage_is_drawn_without_crossings_and_audited_models_on_top() -> None:
    g = layout(EXAMPLE_LIKE, {})
    assert crossings(g) == 0
    y = {b.id: b.y for b in g.nodes}
    qwen = ["org/gguf", "org/adapter", "org/ranker", "qwen/coder-instruct", "qwen/coder", "qwen/instruct", "qwen/base"]
    other = ["org/merge", "org/vision", "llama/a", "mistral/b"]
    for family in (qwen, other):  # audited models on their family's first layer
        top = min(y[n] for n in family)
        assert {y[n] for n in family if n in EXAMPLE_LIKE.roots} == {top}
    assert y["qwen/base"] == y["org/gguf"] + 3 * STEP  # below the longest chain onto it
    assert y["llama/a"] == y["mistral/b"] == y["org/merge"] + STEP
    assert g.components == 2


def test_cycles_are_drawn_with_back_edges_and_every_other_edge_downwards() -> None:
    g = layout(CYCLES, {})
    back = sorted((e.child, e.parent) for e in g.edges if e.back)
    assert back == [("org/b", "org/a"), ("org/low", "org/mid"), ("org/self", "org/self"), ("org/z", "org/x")]
    y = {b.id: b.y for b in g.nodes}
    assert y["org/a"] < y["org/b"] and y["org/x"] < y["org/y"] < y["org/z"] and y["org/top"] < y["org/mid"] < y["org/low"]
    loop = next(e for e in g.edges if e.child == "org/self")
    assert loop.label_x > next(b for b in g.nodes if b.id == "org/self").x + G.BOX_W  # beside its box
    assert all(e.label_x + e.label_w / 2 <= g.width for e in g.edges if e.back)  # label inside the drawing


def test_many_small_components_are_packed_on_shelves_no_wider_than_the_page() -> None:
    g = layout(MANY_COMPONENTS, {})
    assert g.components == 13 - 4  # bases 0..3 have two children each
    assert g.width <= G.MAX_WIDTH
    assert len({b.y for b in g.nodes}) > 2  # more than one shelf


def test_a_wide_layer_is_split_into_rows_within_the_page_and_edges_pass_through_slots() -> None:
    g = layout(WIDE, {})
    check_layout(WIDE, g)
    assert g.width <= G.MAX_WIDTH
    rows: dict[float, int] = {}
    for b in g.nodes:
        rows[b.y] = rows.get(b.y, 0) + 1
    assert max(rows.values()) <= G.MAX_PER_ROW and len(rows) >= 4  # 9 models: three rows or more, then bases
    y = {b.id: b.y for b in g.nodes}
    assert y["org/base"] == y["org/other"] == max(y.values())
    long_edges = [e for e in g.edges if y[e.parent] - y[e.child] > STEP + EPS]
    assert long_edges and all(" L" in e.d for e in long_edges)  # straight down through a slot


def test_the_same_coordinates_whatever_the_input_order() -> None:
    rng = random.Random(3)
    for graph in (EXAMPLE_LIKE, CYCLES, SHORTCUTS, WIDE):
        expected = coordinates(layout(graph, {}))
        for _ in range(5):
            nodes, edges = list(graph.nodes), list(graph.edges)
            rng.shuffle(nodes)
            rng.shuffle(edges)
            shuffled = graph.model_copy(update={"nodes": nodes, "edges": edges})
            assert coordinates(layout(shuffled, {})) == expected


def test_ordering_removes_crossings_a_first_order_would_have() -> None:
    """Two families whose first order (roots first, then ids) crosses: the sweeps untangle them."""
    graph = graph_of(
        ["org/a", "org/b", "org/c"],
        [("org/a", "zz/p"), ("org/b", "aa/q"), ("org/c", "zz/p"), ("org/a", "mm/r"), ("org/c", "aa/q")],
    )
    g = layout(graph, {})
    check_layout(graph, g)
    assert crossings(g) == 0


# --------------------------------------------------------------------------- random graphs

NAMES = [f"org/m{i}" for i in range(14)]


@st.composite
def lineage_graphs(draw: st.DrawFn, *, trees: bool = False) -> LineageGraph:
    n = draw(st.integers(1, len(NAMES)))
    names = NAMES[:n]
    if trees:  # each model on at most one base, bases later in the list: a forest, no cycle
        edges = [(names[i], names[p]) for i in range(n - 1) if (p := draw(st.integers(i, n - 1))) != i]
    else:
        edges = draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(names)), max_size=2 * n))
    derived = {p for _, p in edges}
    roots = [x for x in names if x not in derived] or names[:1]
    roots = draw(st.permutations(roots))
    relations: list[Relation] = ["finetune", "adapter", "quantized", "merge", "unknown"]
    relation = draw(st.sampled_from(relations))
    return graph_of(list(roots), list(dict.fromkeys(edges)), relation)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lineage_graphs())
def test_random_graphs_keep_every_property(graph: LineageGraph) -> None:
    g = layout(graph, {})
    check_layout(graph, g)
    assert coordinates(layout(graph, {})) == coordinates(g)


@settings(max_examples=100, deadline=None)
@given(lineage_graphs(trees=True))
def test_random_trees_are_drawn_without_crossings(graph: LineageGraph) -> None:
    g = layout(graph, {})
    check_layout(graph, g)
    assert crossings(g) == 0
