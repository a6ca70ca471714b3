"""A small layered layout of the lineage graph for the HTML report's inline SVG.

The graph is split into its connected components (model families that share no ancestor), each
laid out on its own and packed left to right on "shelves" no wider than `MAX_PER_ROW` boxes, so a
manifest of many unrelated models stays readable instead of becoming one very wide drawing.

Within a component: audited models (roots) sit at the top; each parent sits one layer below its
furthest child (longest-path layering over the graph with back edges of cycles set aside), so the
drawing grows down the page, which prints well. An edge that spans several layers runs through a
narrow reserved slot in each layer it crosses, so it never cuts through a box. The order within a
layer comes from barycentre sweeps and, while edges still cross, exchanges of neighbours
(transpose); x positions are the least-squares fit to the neighbours' positions that keeps boxes
apart (pool-adjacent-violators). The first order is the roots' (manifest) order, then ids, and
every sort is stable, so the drawing depends only on the input. A layer of more than
`MAX_PER_ROW` boxes, or too wide for the page with the edges passing through it, is split into
rows, each a layer of its own (so edges pass them through slots too), and each row is moved
within the page where it fits.

Why not a library: bench/bench_layout.py lays out the example, the scenario lineages and
forests of 50-1000 models with this code, grandalf's SugiyamaLayout and Graphviz `dot`. This
code has as few crossings as grandalf or fewer on every graph, shorter edges, a drawing as
narrow or narrower on all but the smallest graph, and runs faster; grandalf (GPLv2 or EPL-1.0,
alpha, last release 2023) draws long edges with fewer bends, but is deterministic only when
handed a `graph_core` (its `Graph` orders edges by object address). `dot` has the fewest
crossings but is a system binary the product cannot require.

A very large lineage is not drawn whole (`select_families`): past `DRAW_MAX_NODES` boxes, or with
a family of more than `FAMILY_MAX_NODES`, only whole families are drawn, those holding failing
models first, up to `DRAW_MAX_NODES` boxes, and the report says which families are left out (a
drawing of thousands of boxes is unreadable, megabytes of SVG, and its layout grows faster than
the graph).

Coordinates are plain numbers; the template turns them into SVG (every string is auto-escaped
there).
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field

from auditor.model import EdgeRecord, LineageGraph, NodeRecord
from auditor.reports._common import (
    KIND_LABELS,
    VERDICT_WORDS,
    LicenseInfo,
    dominant_kind,
    kind_rank,
    raw_declared,
)

BOX_W = 260
BOX_H = 84
COL_GAP = 30  # between boxes of one layer
ROW_GAP = 64  # between layers (room for the relation label)
PAD = 16
COMP_GAP = 56  # between two components on a shelf
SHELF_GAP = 44  # between shelves
VSLOT = 20  # width reserved in a layer for an edge passing through it
MAX_PER_ROW = 4
ORDER_ROUNDS = 2  # rounds of exchanges and sweeps while edges cross (more gain little: bench/bench_layout.py)
MAX_WIDTH = PAD * 2 + MAX_PER_ROW * BOX_W + (MAX_PER_ROW - 1) * COL_GAP
DRAW_MAX_NODES = 300  # boxes drawn at most (bench/bench_reports.py: the layout of 300 takes about a second)
FAMILY_MAX_NODES = 150  # a family (connected component) larger than this is not drawn
TEXT_X = 10  # text inset in a box
TEXT_W = BOX_W - 2 * TEXT_X
# font size (px) and boldness of each line of a box, as in report.css
FONTS: dict[str, tuple[float, bool]] = {
    "owner": (11.5, False),
    "name": (13.5, True),
    "license": (12.5, False),
    "meta": (11.5, False),
}
SQUEEZE = 1.18  # text up to this much too wide is condensed (SVG textLength) rather than cut

RELATION_LABELS: dict[str, str] = {
    "finetune": "fine-tune",
    "adapter": "adapter",
    "quantized": "quantized",
    "merge": "merge",
    "trained-on": "trained on",
    "unknown": "relation unknown",
}


@dataclass
class NodeBox:
    id: str
    x: float
    y: float
    w: float
    h: float
    kind: str
    kind_label: str
    title: str  # full text for the tooltip
    owner: str  # "meta-llama/" (fitted to the box), may be empty
    name: str  # the rest of the id (fitted)
    license: str  # license line (fitted)
    badge: str  # "FAIL" / "NOT READ" / "" (audited verdict or unresolved)
    badge_class: str  # "fail" | "review" | "pass" | "unresolved" | ""
    status: str  # the rest of the last line (fitted)
    lengths: dict[str, float | None]  # line -> SVG textLength when the line is condensed
    unresolved: bool
    root: bool


@dataclass
class EdgePath:
    child: str
    parent: str
    relation: str
    label: str
    weak: bool
    d: str  # SVG path data
    label_x: float
    label_y: float
    label_w: float
    back: bool = False


@dataclass
class GraphLayout:
    width: float
    height: float
    nodes: list[NodeBox] = field(default_factory=list)
    edges: list[EdgePath] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # kinds present, for the legend
    components: int = 0


def text_width(text: str, px: float, bold: bool = False) -> float:
    """Estimated rendered width of `text` in a sans-serif font (calibrated on DejaVu Sans, the
    widest common fallback, so real widths are rarely larger; a 5% margin is added on top)."""
    em = 0.0
    for ch in text:
        if ch in " .,:;'|!·":
            em += 0.32
        elif ch in "ijlI":
            em += 0.29
        elif ch in "ftr()[]/-":
            em += 0.40
        elif ch in "mwMW@":
            em += 0.92
        elif ch == "…":
            em += 1.0
        elif ch.isupper():
            em += 0.72
        elif ch.isdigit():
            em += 0.64
        elif ch.islower():
            em += 0.61
        else:
            em += 0.66
    return em * px * (1.1 if bold else 1.0) * 1.05


def fit(text: str, line: str) -> tuple[str, float | None]:
    """`text` made to fit one line of a box: as is; condensed to the box width (returns the
    SVG `textLength` to set); or cut with an ellipsis and condensed."""
    px, bold = FONTS[line]
    if text_width(text, px, bold) <= TEXT_W:
        return text, None
    if text_width(text, px, bold) <= TEXT_W * SQUEEZE:
        return text, float(TEXT_W)
    cut = text
    while len(cut) > 1 and text_width(cut + "…", px, bold) > TEXT_W * SQUEEZE:
        cut = cut[:-1]
    return cut.rstrip() + "…", float(TEXT_W)


def _dag_edges(order: list[str], parents: dict[str, list[str]]) -> set[tuple[str, str]]:
    """Edges child->parent that are not back edges of a cycle (iterative DFS from `order`)."""
    keep: set[tuple[str, str]] = set()
    state: dict[str, int] = {}  # 1 = on stack, 2 = done
    for start in order:
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        state[start] = 1
        while stack:
            node, i = stack[-1]
            succ = parents.get(node, [])
            if i < len(succ):
                stack[-1] = (node, i + 1)
                nxt = succ[i]
                if state.get(nxt) == 1:
                    continue  # back edge: part of a cycle
                keep.add((node, nxt))
                if not state.get(nxt):
                    state[nxt] = 1
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                stack.pop()
    return keep


def _components(ids: list[str], parents: dict[str, list[str]]) -> list[list[str]]:
    """Connected components (edges taken undirected), each in `ids` order, ordered by first member."""
    link: dict[str, str] = {i: i for i in ids}
    rank = {node_id: i for i, node_id in enumerate(ids)}

    def find(x: str) -> str:
        while link[x] != x:
            link[x] = link[link[x]]
            x = link[x]
        return x

    for child, ps in parents.items():
        for p in ps:
            a, b = find(child), find(p)
            if a != b:
                link[max(a, b, key=rank.__getitem__)] = min(a, b, key=rank.__getitem__)
    groups: dict[str, list[str]] = {}
    for i in ids:
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def _layers(members: list[str], parents: dict[str, list[str]], dag: set[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layering by relaxation in topological order (DAG edges only)."""
    inside = set(members)
    layer = dict.fromkeys(members, 0)
    indeg = dict.fromkeys(members, 0)
    for child, parent in dag:
        if child in inside:
            indeg[parent] += 1
    ready = [i for i in members if indeg[i] == 0]
    while ready:
        node = ready.pop(0)
        for parent in parents.get(node, []):
            if (node, parent) not in dag:
                continue
            layer[parent] = max(layer[parent], layer[node] + 1)
            indeg[parent] -= 1
            if indeg[parent] == 0:
                ready.append(parent)
    return layer


def _isotonic(targets: list[float]) -> list[float]:
    """Non-decreasing least-squares fit of `targets` (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [sum, count]
    for t in targets:
        blocks.append([t, 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, n = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += n
    out: list[float] = []
    for s, n in blocks:
        out += [s / n] * int(n)
    return out


@dataclass
class _Block:
    """One component laid out at the origin."""

    width: float
    height: float
    pos: dict[str, tuple[float, float]]  # real node -> top-left
    routes: dict[tuple[str, str], list[tuple[float, float]]]  # dag edge -> points (virtual slots)
    back: list[tuple[str, str]]


def _width(node: str) -> float:
    return VSLOT if node.startswith("\x00") else BOX_W


def _layout_component(
    members: list[str],
    roots: list[str],
    parents: dict[str, list[str]],
    dag: set[tuple[str, str]],
    *,
    fit_page: bool = True,
) -> _Block:
    """One component laid out at the origin. With `fit_page` (always, but in the benchmark), a
    layer of more than `MAX_PER_ROW` boxes, or wider than the page with the edges that pass
    through it, is split into rows, and every row is moved within the page where it can be."""
    inside = set(members)
    layer = _layers(members, parents, dag)
    edges = sorted((c, p) for c, ps in parents.items() if c in inside for p in ps)
    dag_edges = [e for e in edges if e in dag]
    back = [e for e in edges if e not in dag]
    by_layer: list[list[str]] = [[] for _ in range(max(layer.values()) + 1)]
    for node in members:
        by_layer[layer[node]].append(node)
    # initial order: roots first in manifest order
    first = by_layer[0]
    by_layer[0] = [r for r in roots if r in first] + sorted(n for n in first if n not in roots)
    if fit_page:
        by_layer = _split_wide(by_layer, dag_edges)
    layer.update({n: k for k, nodes in enumerate(by_layer) for n in nodes})
    depth = len(by_layer)

    chains = _chains(dag_edges, layer, by_layer)
    up: dict[str, list[str]] = {}
    down: dict[str, list[str]] = {}
    for chain in chains.values():
        for a, b in itertools.pairwise(chain):
            down.setdefault(a, []).append(b)
            up.setdefault(b, []).append(a)

    by_layer = _order(by_layer, up, down)
    x = _x_positions(by_layer, up, down)
    if fit_page:
        _fit_page(by_layer, x)
    width = max(x[n] + _width(n) for n in x)
    pos = {n: (x[n], float(layer[n] * (BOX_H + ROW_GAP))) for n in members}
    routes: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for (child, parent), chain in chains.items():
        routes[(child, parent)] = [(x[v] + VSLOT / 2, layer[v] * (BOX_H + ROW_GAP)) for v in chain[1:-1]]
    height = depth * BOX_H + (depth - 1) * ROW_GAP
    return _Block(width=width, height=height, pos=pos, routes=routes, back=back)


def _split_wide(by_layer: list[list[str]], dag_edges: list[tuple[str, str]]) -> list[list[str]]:
    """Each layer split, in order, into rows of at most `MAX_PER_ROW` boxes that fit the page
    with a slot for each edge passing down through them (a layer that fits stays whole); every
    row is then a layer of its own, so edges pass other rows through slots, never through a box."""
    rows: list[list[str]] = []
    placed: set[str] = set()
    for nodes in by_layer:
        rest = list(nodes)
        pending = [p for c, p in dag_edges if c in placed and p not in placed]
        while rest:
            row = [rest.pop(0)]
            while rest and _fits([*row, rest[0]], pending):
                row.append(rest.pop(0))
            rows.append(row)
            placed.update(row)
            pending = [p for p in pending if p not in row] + [p for c, p in dag_edges if c in row]
    return rows


def _fits(row: list[str], pending: list[str]) -> bool:
    """Whether `row` and a slot for each edge passing through it (pending edges whose parent is
    not in the row) fit on the page."""
    passing = sum(1 for p in pending if p not in row)
    need = len(row) * (BOX_W + COL_GAP) + passing * (VSLOT + COL_GAP) - COL_GAP
    return len(row) <= MAX_PER_ROW and need <= MAX_WIDTH - 2 * PAD


def _chains(
    dag_edges: list[tuple[str, str]], layer: dict[str, int], by_layer: list[list[str]]
) -> dict[tuple[str, str], list[str]]:
    """Each DAG edge as the chain of nodes it passes between consecutive layers: a long edge gets
    one virtual node per layer crossed (added to `layer` and `by_layer`)."""
    chains: dict[tuple[str, str], list[str]] = {}
    for child, parent in dag_edges:
        chain = [child]
        for k in range(layer[child] + 1, layer[parent]):
            v = f"\x00{child}\x00{parent}\x00{k}"
            by_layer[k].append(v)
            layer[v] = k
            chain.append(v)
        chain.append(parent)
        chains[(child, parent)] = chain
    return chains


def _order(by_layer: list[list[str]], up: dict[str, list[str]], down: dict[str, list[str]]) -> list[list[str]]:
    """The order within each layer: barycentre sweeps down, up and down again; while edges still
    cross, rounds of exchanges of neighbours (transpose) and sweeps up and down. The result is the
    latest order with the fewest crossings seen after any step (so a tree, which the upward sweep
    orders without crossings, is drawn without)."""
    depth = len(by_layer)
    index = {n: float(i) for nodes in by_layer for i, n in enumerate(nodes)}
    downward, upward = (range(1, depth), up), (range(depth - 2, -1, -1), down)
    steps = [downward, upward, downward, *([None, upward, downward] * ORDER_ROUNDS)]
    best, fewest = by_layer, -1
    for i, step in enumerate(steps):
        if i >= 3 and fewest == 0:
            break
        if step is None:
            _transpose(by_layer, index, up, down)
        else:
            _sweep(by_layer, index, *step)
        count = _crossings(by_layer, index, down)
        if fewest < 0 or count <= fewest:
            best, fewest = [list(nodes) for nodes in by_layer], count
    return best


def _crossings(by_layer: list[list[str]], index: dict[str, float], down: dict[str, list[str]]) -> int:
    """Edges between consecutive layers that cross (pairs whose ends are in opposite orders)."""
    total = 0
    for nodes in by_layer[:-1]:
        ends: list[float] = []
        for n in nodes:
            for end in sorted(index[m] for m in down.get(n, [])):
                total += len(ends) - bisect.bisect_right(ends, end)
                bisect.insort(ends, end)
    return total


def _transpose(
    by_layer: list[list[str]], index: dict[str, float], up: dict[str, list[str]], down: dict[str, list[str]]
) -> None:
    """Swap neighbours in a layer wherever that leaves fewer crossings with the layers above and
    below, until no swap helps (at most `ORDER_ROUNDS` passes)."""
    for _ in range(ORDER_ROUNDS):
        swapped = False
        for nodes in by_layer:
            for i in range(len(nodes) - 1):
                a, b = nodes[i], nodes[i + 1]
                if _pair_crossings(b, a, index, up, down) < _pair_crossings(a, b, index, up, down):
                    nodes[i], nodes[i + 1] = b, a
                    index[a], index[b] = float(i + 1), float(i)
                    swapped = True
        if not swapped:
            return


def _pair_crossings(
    left: str, right: str, index: dict[str, float], up: dict[str, list[str]], down: dict[str, list[str]]
) -> int:
    """Crossings among the edges of two nodes of one layer, `left` placed before `right`."""
    return sum(
        1
        for side in (up, down)
        for a in side.get(left, [])
        for b in side.get(right, [])
        if index[a] > index[b]
    )


def _sweep(
    by_layer: list[list[str]], index: dict[str, float], order: range, neighbours: dict[str, list[str]]
) -> None:
    """One barycentre sweep: each layer in `order` sorted by its neighbours' mean position."""
    for k in order:

        def key(n: str) -> float:
            ns = [index[m] for m in neighbours.get(n, [])]
            return sum(ns) / len(ns) if ns else index[n]

        by_layer[k].sort(key=key)  # stable: ties keep the order they had, which depends only on the input
        for i, n in enumerate(by_layer[k]):
            index[n] = float(i)


def _x_positions(
    by_layer: list[list[str]], up: dict[str, list[str]], down: dict[str, list[str]]
) -> dict[str, float]:
    """x of every node: start packed, then pull each node towards its neighbours' centres,
    keeping the gaps, layer by layer down and then up (more passes change next to nothing:
    bench/bench_layout.py); shifted so the leftmost is at 0."""
    depth = len(by_layer)
    x: dict[str, float] = {}
    for nodes in by_layer:
        cursor = 0.0
        for n in nodes:
            x[n] = cursor
            cursor += _width(n) + COL_GAP
    for k in range(1, depth):
        _place(by_layer[k], x, up)
    for k in range(depth - 2, -1, -1):
        _place(by_layer[k], x, down)
    left = min(x.values())
    return {n: round(v - left, 1) for n, v in x.items()}


def _fit_page(by_layer: list[list[str]], x: dict[str, float]) -> None:
    """Every layer moved within the page: each node clamped between where it would be with the
    layer packed against the left edge and packed against the right edge, which keeps the gaps
    (a layer wider than the page ends up packed against the left edge)."""
    limit = MAX_WIDTH - 2 * PAD
    for nodes in by_layer:
        packed = sum(_width(n) for n in nodes) + COL_GAP * (len(nodes) - 1)
        offset = 0.0
        for n in nodes:
            x[n] = max(offset, min(x[n], limit - packed + offset))
            offset += _width(n) + COL_GAP


def _place(nodes: list[str], x: dict[str, float], neighbours: dict[str, list[str]]) -> None:
    """Move one layer's nodes towards their neighbours' centres, in order, without overlap."""
    offsets, targets, acc = [], [], 0.0
    for n in nodes:
        ns = neighbours.get(n, [])
        centre = sum(x[m] + _width(m) / 2 for m in ns) / len(ns) if ns else x[n] + _width(n) / 2
        offsets.append(acc)
        targets.append(centre - _width(n) / 2 - acc)
        acc += _width(n) + COL_GAP
    for n, off, y in zip(nodes, offsets, _isotonic(targets), strict=True):
        x[n] = y + off


def short_license(info: LicenseInfo) -> str:
    """A license as short as it stays recognisable: a plain SPDX id, else its name without a
    trailing "(Community) License Agreement" ("Llama 3.1 Community License Agreement" -> "Llama 3.1")."""
    spdx = info.spdx.strip()
    if spdx and " " not in spdx and not spdx.startswith(("LicenseRef-", "NOASSERTION", "NONE")):
        return spdx
    short = re.sub(r"\s+(Community\s+)?License\s+Agreement$", "", info.name.strip())
    return short or info.name


def layout(
    graph: LineageGraph,
    licenses: dict[str, list[LicenseInfo]],
    verdicts: dict[str, str] | None = None,
    *,
    inherited: dict[str, list[LicenseInfo]] | None = None,
) -> GraphLayout:
    """Lay out `graph`. `licenses`: each node's own licenses (colour and license line);
    `verdicts`: audited models' verdicts (badge); `inherited`: licenses an audited model is bound
    by through its lineage, named on its last line ("FAIL · inherits Llama 3.1")."""
    records: dict[str, NodeRecord] = {n.id: n for n in graph.nodes}
    ids, parents = _ids_and_parents(graph)  # roots first, each once
    dag = _dag_edges(ids, parents)

    # lay out each component, then pack them on shelves (rows of components)
    blocks = [_layout_component(m, graph.roots, parents, dag) for m in _components(ids, parents)]
    width, height, pos, routes, back = _pack(blocks)
    out = GraphLayout(width=round(width, 1), height=round(height, 1), components=len(blocks))

    root_set = set(graph.roots)
    kinds: set[str] = set()
    for node_id in ids:
        bx, by = pos[node_id]
        box = _box(
            node_id,
            bx,
            by,
            records.get(node_id),
            licenses.get(node_id, []),
            root_set,
            verdicts or {},
            (inherited or {}).get(node_id, []),
        )
        out.nodes.append(box)
        kinds.add(box.kind)

    pairs = _edge_pairs(graph)
    out.edges = _forward_paths(pairs, pos, routes) + _back_paths(back, pairs, pos, out)
    out.kinds = sorted(kinds, key=lambda k: list(KIND_LABELS).index(k) if k in KIND_LABELS else 99)
    return out


@dataclass(frozen=True)
class Family:
    """A connected part of the lineage (models that share an ancestor): named by its first model
    (an audited model when it has one), with its size and worst verdict."""

    name: str
    size: int
    verdict: str  # worst verdict of its audited models ("fail", "review", "pass"), "" when none
    members: tuple[str, ...] = field(default=(), compare=False, repr=False)  # its models' ids

    def too_large(self, max_family: int = FAMILY_MAX_NODES) -> bool:
        """More models than one drawing holds legibly: listed as text instead."""
        return self.size > max_family


@dataclass
class FamilySelection:
    """What is drawn of a lineage too large to draw whole: the families drawn and those left out."""

    families: int  # families in the lineage
    nodes: int  # models in the lineage
    drawn: list[Family] = field(default_factory=list)
    left_out: list[Family] = field(default_factory=list)

    @property
    def drawn_nodes(self) -> int:
        return sum(f.size for f in self.drawn)

    @property
    def left_out_nodes(self) -> int:
        return sum(f.size for f in self.left_out)


_VERDICT_ORDER = {"fail": 0, "review": 1, "pass": 2, "": 3}


def select_families(
    graph: LineageGraph,
    verdicts: dict[str, str],
    *,
    max_nodes: int = DRAW_MAX_NODES,
    max_family: int = FAMILY_MAX_NODES,
) -> tuple[LineageGraph, FamilySelection | None]:
    """The part of `graph` to draw: the whole graph when it is small enough (no selection), else
    whole families, those whose audited models fare worst first (then in the order of their first
    model), each at most `max_family` models, up to `max_nodes` models in all."""
    ids, parents = _ids_and_parents(graph)
    if len(ids) <= max_nodes and all(len(m) <= max_family for m in _components(ids, parents)):
        return graph, None
    families: list[tuple[Family, list[str]]] = []
    for members in _components(ids, parents):
        worst = min((verdicts[m] for m in members if m in verdicts), key=lambda v: _VERDICT_ORDER.get(v, 3), default="")
        families.append((Family(members[0], len(members), worst, tuple(members)), members))
    order = sorted(range(len(families)), key=lambda i: (_VERDICT_ORDER.get(families[i][0].verdict, 3), i))
    selection = FamilySelection(families=len(families), nodes=len(ids))
    keep: set[str] = set()
    for i in order:
        family, members = families[i]
        if family.size <= max_family and selection.drawn_nodes + family.size <= max_nodes:
            selection.drawn.append(family)
            keep.update(members)
        else:
            selection.left_out.append(family)
    subgraph = LineageGraph(
        roots=[r for r in graph.roots if r in keep],
        nodes=[n for n in graph.nodes if n.id in keep],
        edges=[e for e in graph.edges if e.child in keep],
        cycles=[c for c in graph.cycles if c and c[0] in keep],
    )
    return subgraph, selection


def _ids_and_parents(graph: LineageGraph) -> tuple[list[str], dict[str, list[str]]]:
    """Every node id (roots first, each once) and each node's parents (sorted edges, each once)."""
    ends = [node_id for e in graph.edges for node_id in (e.child, e.parent)]
    ids = list(dict.fromkeys([*graph.roots, *sorted(n.id for n in graph.nodes), *sorted(ends)]))
    parents: dict[str, list[str]] = {}
    for e in sorted(graph.edges, key=lambda e: (e.child, e.parent, e.relation)):
        parents.setdefault(e.child, [])
        if e.parent not in parents[e.child]:
            parents[e.child].append(e.parent)
    return ids, parents


_Point = tuple[float, float]
_Packed = tuple[float, float, dict[str, _Point], dict[tuple[str, str], list[_Point]], list[tuple[str, str]]]


def _pack(blocks: list[_Block]) -> _Packed:
    """Components packed on shelves (rows of components, each centred): the drawing's width and
    height, every node's top-left, every edge route and the back edges."""
    shelves: list[list[_Block]] = [[]]
    used = 0.0
    for block in blocks:
        need = block.width + (COMP_GAP if shelves[-1] else 0)
        if shelves[-1] and PAD * 2 + used + need > MAX_WIDTH:
            shelves.append([])
            used, need = 0.0, block.width
        shelves[-1].append(block)
        used += need
    widths = [sum(b.width for b in s) + COMP_GAP * (len(s) - 1) for s in shelves]
    width = PAD * 2 + max(widths, default=BOX_W)
    pos: dict[str, tuple[float, float]] = {}
    routes: dict[tuple[str, str], list[tuple[float, float]]] = {}
    back: list[tuple[str, str]] = []
    top = float(PAD)
    for shelf, shelf_w in zip(shelves, widths, strict=True):
        left = (width - shelf_w) / 2
        for block in shelf:
            for n, (bx, by) in block.pos.items():
                pos[n] = (round(left + bx, 1), round(top + by, 1))
            for key, pts in block.routes.items():
                routes[key] = [(round(left + px, 1), round(top + py, 1)) for px, py in pts]
            back += block.back
            left += block.width + COMP_GAP
        top += max(b.height for b in shelf) + SHELF_GAP
    return width, top - SHELF_GAP + PAD, pos, routes, back


def _spread(count: int) -> list[float]:
    """Offsets from a box's centre for `count` edge ends on one side."""
    step = min(28.0, (BOX_W - 60) / max(count, 1))
    return [(i - (count - 1) / 2) * step for i in range(count)]


def _edge_pairs(graph: LineageGraph) -> dict[tuple[str, str], EdgeRecord]:
    """One edge per (child, parent): several relations claimed for one pair are drawn as one
    arrow labelled with all of them (weak only if every claim is weak)."""
    pairs: dict[tuple[str, str], EdgeRecord] = {}
    for e in sorted(graph.edges, key=lambda e: (e.child, e.parent, e.relation)):
        seen = pairs.get((e.child, e.parent))
        if seen is None:
            pairs[(e.child, e.parent)] = e
        elif e.relation not in seen.relation.split("/"):
            pairs[(e.child, e.parent)] = seen.model_copy(
                update={"relation": f"{seen.relation}/{e.relation}", "weak": seen.weak and e.weak}
            )
    return pairs


def _label(relation: str) -> str:
    return " / ".join(RELATION_LABELS.get(r, r) for r in relation.split("/"))


def _forward_paths(
    pairs: dict[tuple[str, str], EdgeRecord],
    pos: dict[str, tuple[float, float]],
    routes: dict[tuple[str, str], list[tuple[float, float]]],
) -> list[EdgePath]:
    edges = [e for key, e in pairs.items() if key in routes and e.child in pos and e.parent in pos]
    # ends on a box side are spread out, ordered by where the edge goes next (fewer crossings)
    out_ends: dict[str, list[tuple[float, int]]] = {}
    in_ends: dict[str, list[tuple[float, int]]] = {}
    for i, e in enumerate(edges):
        pts = routes[(e.child, e.parent)]
        nxt = pts[0][0] if pts else pos[e.parent][0] + BOX_W / 2
        prev = pts[-1][0] if pts else pos[e.child][0] + BOX_W / 2
        out_ends.setdefault(e.child, []).append((nxt, i))
        in_ends.setdefault(e.parent, []).append((prev, i))
    start: dict[int, float] = {}
    end: dict[int, float] = {}
    for ends, into in ((out_ends, start), (in_ends, end)):
        for items in ends.values():
            for (_, i), off in zip(sorted(items), _spread(len(items)), strict=True):
                into[i] = off

    paths: list[EdgePath] = []
    for i, e in enumerate(edges):
        cx, cy = pos[e.child]
        px, py = pos[e.parent]
        points = [(cx + BOX_W / 2 + start[i], cy + BOX_H)]
        for vx, vy in routes[(e.child, e.parent)]:
            points += [(vx, vy), (vx, vy + BOX_H)]
        points.append((px + BOX_W / 2 + end[i], py))
        d = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
        for k in range(1, len(points)):
            (x0, y0), (x1, y1) = points[k - 1], points[k]
            if k % 2 == 0:  # through a slot reserved in a layer: straight down
                d += f" L{x1:.1f},{y1:.1f}"
            else:
                dy = (y1 - y0) / 2
                d += f" C{x0:.1f},{y0 + dy:.1f} {x1:.1f},{y1 - dy:.1f} {x1:.1f},{y1:.1f}"
        (x0, y0), (x1, y1) = points[0], points[1]
        label = _label(e.relation)
        paths.append(
            EdgePath(
                child=e.child,
                parent=e.parent,
                relation=e.relation,
                label=label,
                weak=e.weak,
                d=d,
                label_x=round((x0 + x1) / 2, 1),
                label_y=round((y0 + y1) / 2, 1),
                label_w=6.6 * len(label) + 14,
            )
        )
    return paths


def _back_paths(
    back: list[tuple[str, str]],
    pairs: dict[tuple[str, str], EdgeRecord],
    pos: dict[str, tuple[float, float]],
    out: GraphLayout,
) -> list[EdgePath]:
    """Back edges of cycles: loops out of the right-hand sides of the two boxes."""
    paths = []
    for child, parent in sorted(back):
        relation, weak = pairs[(child, parent)].relation, pairs[(child, parent)].weak
        cx, cy = pos[child]
        px, py = pos[parent]
        x1, y1 = cx + BOX_W, cy + BOX_H / 2
        x2, y2 = px + BOX_W, py + BOX_H / 2
        bulge = COL_GAP * 1.6
        d = f"M{x1:.1f},{y1:.1f} C{x1 + bulge:.1f},{y1:.1f} {x2 + bulge:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
        label = _label(relation)
        label_w = 6.6 * len(label) + 14
        lx, ly = max(x1, x2) + bulge * 0.75, (y1 + y2) / 2
        out.width = round(max(out.width, lx + label_w / 2 + PAD, max(x1, x2) + bulge + PAD), 1)
        paths.append(
            EdgePath(
                child=child,
                parent=parent,
                relation=relation,
                label=label,
                weak=weak,
                d=d,
                label_x=round(lx, 1),
                label_y=round(ly, 1),
                label_w=label_w,
                back=True,
            )
        )
    return paths


def _box(
    node_id: str,
    x: float,
    y: float,
    rec: NodeRecord | None,
    lics: list[LicenseInfo],
    roots: set[str],
    verdicts: dict[str, str],
    inherits: list[LicenseInfo],
) -> NodeBox:
    kind = dominant_kind(lics) if lics else "unknown"
    kind_label = KIND_LABELS.get(kind, kind)
    unresolved = rec is None or rec.facts is None
    if lics:
        names = [lic.name for lic in lics]
        lic_text = full_text = " AND ".join(names)
        if text_width(lic_text, *FONTS["license"]) > TEXT_W:  # a long name: its SPDX id, when it is a plain one, is shorter
            short = [
                lic.spdx if lic.spdx and not lic.spdx.startswith(("LicenseRef-", "NOASSERTION")) else lic.name
                for lic in lics
            ]
            lic_text = min(lic_text, " AND ".join(short), key=len)
    elif rec is not None and rec.facts is not None:
        raw = raw_declared(rec)
        lic_text = full_text = f"{raw} (not recognised)" if raw else "no license declared"
    else:
        lic_text = full_text = "license not known"

    badge, badge_class, status = "", "", kind_label
    code = rec.unresolved.code if rec is not None and rec.unresolved is not None else "not read"
    if node_id in verdicts:
        verdict = verdicts[node_id]
        badge, badge_class = VERDICT_WORDS.get(verdict, verdict.upper()), verdict
        if unresolved:
            status = f"not read ({code})"
        elif inherits:  # most restrictive first: it is what the reader must not miss
            ordered = sorted(inherits, key=lambda lic: kind_rank(lic.kind))
            status = "inherits " + ", ".join(dict.fromkeys(short_license(lic) for lic in ordered))
    elif unresolved:
        badge, badge_class = "NOT READ", "unresolved"
        status = code + (" · curated license" if lics else "")

    owner, sep, name = node_id.rpartition("/")
    sha = ""
    if rec is not None and rec.facts is not None:
        sha = rec.facts.sha or rec.facts.revision or ""
    shown = kind_label if inherits and not unresolved else status
    title_lines = [node_id, full_text, " · ".join(p for p in (badge, shown) if p)]
    if inherits and not unresolved:
        title_lines.append("inherits " + ", ".join(dict.fromkeys(lic.name for lic in inherits)))
    if sha:
        title_lines.append(f"revision {sha}")
    fitted = {
        "owner": fit(owner + sep, "owner"),
        "name": fit(name, "name"),
        "license": fit(lic_text, "license"),
    }
    meta_text, meta_len = fit(f"{badge} · {status}" if badge else status, "meta")
    if badge:
        status = meta_text[len(badge) + 3 :] if meta_text.startswith(f"{badge} · ") else ""
    else:
        status = meta_text
    return NodeBox(
        id=node_id,
        x=x,
        y=y,
        w=BOX_W,
        h=BOX_H,
        kind=kind,
        kind_label=kind_label,
        title="\n".join(title_lines),
        owner=fitted["owner"][0],
        name=fitted["name"][0],
        license=fitted["license"][0],
        badge=badge,
        badge_class=badge_class,
        status=status,
        lengths={**{k: v[1] for k, v in fitted.items()}, "meta": meta_len},
        unresolved=unresolved,
        root=node_id in roots,
    )
