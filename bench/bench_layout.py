"""Layout benchmark: the report's own layered layout against grandalf's SugiyamaLayout (and Graphviz
`dot`, when installed) on the same lineage graphs with the same box sizes.

    pip install 'grandalf==0.8'          # the bench needs it; the product does not
    apt-get install graphviz             # optional: adds `dot` to the comparison
    python bench/bench_layout.py [--no-dot] [--no-scenarios] [--sizes 50,200,1000] [--repeat 3]

Every engine lays out each connected component on its own (cycles' back edges set aside the
same way for all, as the report does), and the components are packed on shelves by the report's
own packer, so only the per-component layout differs. The report's fitting to the page (layers
of more than `MAX_PER_ROW` boxes, or wider than the page, split into rows) is off in the
comparison, which no library does; the "shipped" line is the report as it is.

Per graph and engine (columns):
  cross    edge segments that cross (between consecutive layers: the usual bilayer count; long
           edges run through one slot per layer they cross);
  length   total length of the edges' polylines (box bottom centre -> slots -> box top centre);
  bends    points where a polyline changes direction (the report draws each segment between two
           layers as an S-curve with vertical ends, so its bends are smooth, not corners);
  overlap  box/box and box/slot intersections (must be 0); tight: slot/slot ones (two edges
           closer than a slot; dot's slots are estimated from its splines, so its long edges may
           run closer than that without touching);
  thru     edge segments that pass through a box that is not one of their ends;
  width, height of the packed drawing; ms: the layout itself, best of `--repeat` (dot: one run,
           one process per component).
"shipped" is the report as it is (fitted to the page); "ours" is the same code without fitting.
Then what each engine does natively with cycles, and whether the coordinates are the same in
another process (another hash seed).
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import importlib.util
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.model import EdgeRecord, Evidence, LineageGraph, NodeRecord, Relation  # noqa: E402
from auditor.reports import _graph as G  # noqa: E402

Edge = tuple[str, str]
Engine = Callable[[list[str], list[str], dict[str, list[str]], set[Edge]], G._Block]
STEP = G.BOX_H + G.ROW_GAP


# --------------------------------------------------------------------------- graphs


def _ev(parent: str) -> Evidence:
    return Evidence(source="hub", field="cardData.base_model", value=parent)


def make_graph(roots: list[str], edges: list[tuple[str, str, Relation]]) -> LineageGraph:
    ids = list(dict.fromkeys([*roots, *(n for c, p, _ in edges for n in (c, p))]))
    return LineageGraph(
        roots=roots,
        nodes=[NodeRecord(id=i) for i in ids],
        edges=[EdgeRecord(child=c, parent=p, relation=r, evidence=[_ev(p)]) for c, p, r in edges],
    )


def forest(nodes: int, seed: int = 7) -> LineageGraph:
    """A deterministic lineage forest of `nodes` models: families of about 25 models grown from
    a base (fine-tunes, adapters, quantizations, each on a model of its family), 12% of them merges
    of two or three models (one in five of those across families), audited models = the leaves."""
    rng = random.Random(seed)
    families: list[list[str]] = []
    edges: list[tuple[str, str, Relation]] = []
    kinds: list[Relation] = ["finetune", "adapter", "quantized"]
    for i in range(nodes):
        if i % 25 == 0:
            families.append([f"example-org/base-{len(families):03d}"])
            continue
        fam = families[-1]
        me = f"example-org/m{i:04d}"
        if rng.random() < 0.12 and len(fam) > 2:
            pool = fam if rng.random() < 0.8 or len(families) < 2 else fam + rng.choice(families[:-1])
            for parent in rng.sample(pool, rng.choice([2, 2, 3]) if len(pool) > 2 else 2):
                edges.append((me, parent, "merge"))
        else:
            recent = fam[max(0, len(fam) - 8) :]
            edges.append((me, rng.choice(recent), rng.choice(kinds)))
        fam.append(me)
    parents_of = {p for _, p, _ in edges}
    return make_graph([n for fam in families for n in fam if n not in parents_of], edges)


def fixture_graph() -> LineageGraph:
    from tests.report_fixtures import build_result

    return build_result().graph


def example_graph() -> LineageGraph:
    from auditor.model import AuditResult
    from tests.report_fixtures import run_example_audit

    with tempfile.TemporaryDirectory() as tmp:
        run = run_example_audit(Path(tmp) / "out", "--format", "json")
        if run.exit_code not in (0, 1, 3):
            raise SystemExit(f"example audit failed: {run.output}")
        text = (Path(tmp) / "out" / "audit.json").read_text(encoding="utf-8")
    return AuditResult.model_validate_json(text).graph


def scenario_graphs() -> list[tuple[str, LineageGraph]]:
    """The recorded scenario lineages (tests/test_scenarios.py) and the synthetic shapes
    (tests/hub/synthetic.py: a 4-level chain, merges, a 2-cycle, a self-reference, missing and
    gated parents), crawled from the loopback Hub in one graph each."""
    from auditor.lineage import CrawlOptions, crawl
    from auditor.model import ModelRef
    from auditor.sources.cache import MetadataCache
    from auditor.sources.hub import HubSource
    from tests.conftest import FAST_RETRY, default_state
    from tests.hub.server import HubServer
    from tests.hub.synthetic import SYNTHETIC_CARDS
    from tests.test_scenarios import SCENARIOS

    shapes = [
        "example-org/chat-lora-q4", "example-org/merge-7b", "example-org/cycle-a", "example-org/self-ref",
        "example-org/orphan-ft", "example-org/gated-child", "example-org/visible-gated-child",
        "example-org/mixed-evidence", "example-org/points-at-old-name",
    ]
    scenario_refs = list(dict.fromkeys(r for s in SCENARIOS for r in s.refs))
    synthetic = [r for r in SYNTHETIC_CARDS if r not in {"example-org/flaky", "example-org/throttled",
                                                         "example-org/slow", "example-org/broken-json"}]
    out = []
    with HubServer(default_state()) as hub, tempfile.TemporaryDirectory() as tmp:
        for name, refs in (("shapes", shapes), ("scenarios", scenario_refs), ("scen+synth", scenario_refs + synthetic)):
            source = HubSource(endpoint=hub.endpoint, token=False, cache=MetadataCache(Path(tmp) / name),
                               retry=FAST_RETRY, seed=1)
            graph = crawl([ModelRef(kind="hub", id=r) for r in refs], source, CrawlOptions(concurrency=4))
            out.append((name, graph))
    return out


# --------------------------------------------------------------------------- engines


def ours(members: list[str], roots: list[str], parents: dict[str, list[str]], dag: set[Edge]) -> G._Block:
    return G._layout_component(members, roots, parents, dag, fit_page=False)


def shipped(members: list[str], roots: list[str], parents: dict[str, list[str]], dag: set[Edge]) -> G._Block:
    return G._layout_component(members, roots, parents, dag)


class _View:
    def __init__(self, w: float, h: float) -> None:
        self.w, self.h = w, h
        self.xy = (0.0, 0.0)


def _component_edges(members: list[str], parents: dict[str, list[str]], dag: set[Edge]) -> list[Edge]:
    inside = set(members)
    return sorted((c, p) for c, ps in parents.items() if c in inside for p in ps if (c, p) in dag)


def grandalf_engine(members: list[str], roots: list[str], parents: dict[str, list[str]], dag: set[Edge]) -> G._Block:
    """grandalf's SugiyamaLayout on the component's DAG edges (roots = the sources, audited first)."""
    from grandalf.graphs import Edge as GEdge
    from grandalf.graphs import Vertex, graph_core
    from grandalf.layouts import SugiyamaLayout

    edges = _component_edges(members, parents, dag)
    vs = {n: Vertex(n) for n in members}
    for v in vs.values():
        v.view = _View(G.BOX_W, G.BOX_H)
    ges = {(c, p): GEdge(vs[c], vs[p]) for c, p in edges}
    # graph_core, not Graph: Graph() collects each component's edges in a set, whose order follows
    # the objects' addresses, and the layout then differs from run to run
    sug = SugiyamaLayout(graph_core(list(vs.values()), list(ges.values())))
    sug.xspace, sug.yspace, sug.dw, sug.dh = G.COL_GAP, G.ROW_GAP, G.VSLOT, G.BOX_H
    has_child = {p for _, p in edges}
    sources = [r for r in roots if r in vs and r not in has_child]
    sources += [n for n in members if n not in has_child and n not in sources]
    sug.init_all(roots=[vs[n] for n in sources], inverted_edges=[])
    sug.draw(3)
    left = min(v.view.xy[0] - v.view.w / 2 for layer in sug.layers for v in layer)
    top = min(v.view.xy[1] - v.view.h / 2 for layer in sug.layers for v in layer)
    pos = {n: (v.view.xy[0] - G.BOX_W / 2 - left, v.view.xy[1] - G.BOX_H / 2 - top) for n, v in vs.items()}
    routes: dict[Edge, list[tuple[float, float]]] = {}
    for key, e in ges.items():
        ctrl = sug.ctrls.get(e, {})
        ranks = sorted(r for r in ctrl if ctrl[r] not in (vs[key[0]], vs[key[1]]))
        routes[key] = [(ctrl[r].view.xy[0] - left, ctrl[r].view.xy[1] - G.BOX_H / 2 - top) for r in ranks]
    width = max(v.view.xy[0] + v.view.w / 2 for layer in sug.layers for v in layer) - left
    height = len(sug.layers) * STEP - G.ROW_GAP
    back = sorted((c, p) for c in members for p in parents.get(c, []) if (c, p) not in dag)
    return G._Block(width=width, height=height, pos=pos, routes=routes, back=back)


def _bezier_x_at(points: list[tuple[float, float]], y: float) -> float:
    """x where a piecewise cubic Bézier (Graphviz spline control points) is nearest to height `y`."""
    best = (math.inf, points[0][0])
    for i in range(0, len(points) - 3, 3):
        p0, p1, p2, p3 = points[i : i + 4]
        for k in range(21):
            t = k / 20
            a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t**3
            bx = a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0]
            by = a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]
            best = min(best, (abs(by - y), bx))
    return best[1]


def dot_engine(members: list[str], roots: list[str], parents: dict[str, list[str]], dag: set[Edge]) -> G._Block:
    """Graphviz `dot` (subprocess), boxes of fixed size, audited models on the first rank."""
    edges = _component_edges(members, parents, dag)
    name = {n: f"n{i}" for i, n in enumerate(members)}
    has_child = {p for _, p in edges}
    first = [name[r] for r in members if r not in has_child]
    text = [
        "digraph g {",
        f"nodesep={G.COL_GAP / 72:.4f}; ranksep=\"{G.ROW_GAP / 72:.4f} equally\";",
        f"node [shape=box fixedsize=true width={G.BOX_W / 72:.4f} height={G.BOX_H / 72:.4f} label=\"\"];",
        *(f"{name[n]};" for n in members),
        "{rank=min; " + " ".join(first) + "}",
        *(f"{name[c]} -> {name[p]};" for c, p in edges),
        "}",
    ]
    out = subprocess.run(["dot", "-Tplain"], input="\n".join(text), capture_output=True, text=True, check=True).stdout
    back_name = {v: k for k, v in name.items()}
    centre: dict[str, tuple[float, float]] = {}
    splines: dict[Edge, list[tuple[float, float]]] = {}
    height_in = 0.0
    for line in out.splitlines():
        f = line.split()
        if f[0] == "graph":
            height_in = float(f[3])
        elif f[0] == "node":
            centre[back_name[f[1]]] = (float(f[2]) * 72, (height_in - float(f[3])) * 72)
        elif f[0] == "edge":
            n = int(f[3])
            pts = [(float(f[4 + 2 * i]) * 72, (height_in - float(f[5 + 2 * i])) * 72) for i in range(n)]
            splines[(back_name[f[1]], back_name[f[2]])] = pts
    ys = sorted({round(y, 1) for _, y in centre.values()})
    layer = {n: ys.index(round(y, 1)) for n, (_, y) in centre.items()}
    left = min(x for x, _ in centre.values()) - G.BOX_W / 2
    pos = {n: (x - G.BOX_W / 2 - left, float(layer[n] * STEP)) for n, (x, _) in centre.items()}
    routes: dict[Edge, list[tuple[float, float]]] = {}
    for c, p in edges:
        pts = splines[(c, p)]
        span = range(layer[c] + 1, layer[p])
        # dot's rank centres are `ys`; the slot's x is the spline's x at that rank's centre
        routes[(c, p)] = [(_bezier_x_at(pts, ys[k]) - left, k * STEP) for k in span]
    width = max(x for x, _ in pos.values()) + G.BOX_W
    height = (max(layer.values()) + 1) * STEP - G.ROW_GAP
    back = sorted((c, p) for c in members for p in parents.get(c, []) if (c, p) not in dag)
    return G._Block(width=width, height=height, pos=pos, routes=routes, back=back)


# --------------------------------------------------------------------------- measuring


def prepare(graph: LineageGraph) -> tuple[list[list[str]], list[str], dict[str, list[str]], set[Edge]]:
    """The report's own preparation: ids, parents, DAG edges (back edges of cycles set aside), components."""
    ends = [n for e in graph.edges for n in (e.child, e.parent)]
    ids = list(dict.fromkeys([*graph.roots, *sorted(n.id for n in graph.nodes), *ends]))
    parents: dict[str, list[str]] = {}
    for e in sorted(graph.edges, key=lambda e: (e.child, e.parent, e.relation)):
        parents.setdefault(e.child, [])
        if e.parent not in parents[e.child]:
            parents[e.child].append(e.parent)
    dag = G._dag_edges(ids, parents)
    return G._components(ids, parents), graph.roots, parents, dag


def run_engine(engine: Engine, graph: LineageGraph, repeat: int) -> tuple[float, list[G._Block]]:
    comps, roots, parents, dag = prepare(graph)
    best = math.inf
    blocks: list[G._Block] = []
    for _ in range(repeat):
        start = time.perf_counter()
        blocks = [engine(m, roots, parents, dag) for m in comps]
        best = min(best, time.perf_counter() - start)
    return best, blocks


def _polyline(c: str, p: str, pos: dict[str, tuple[float, float]], route: list[tuple[float, float]]) -> list[tuple[float, float]]:
    (cx, cy), (px, py) = pos[c], pos[p]
    pts = [(cx + G.BOX_W / 2, cy + G.BOX_H)]
    for vx, vy in route:
        pts += [(vx, vy), (vx, vy + G.BOX_H)]
    return [*pts, (px + G.BOX_W / 2, py)]


Seg = tuple[float, float, float, float, str, str]  # x0, y0 (top), x1, y1 (below), end on top, end below


def _bilayer_crossings(segments: list[Seg]) -> int:
    """Crossings among segments that all run from one height to another (x on top, x below):
    pairs whose order on top and below differ; segments that share an end never count."""
    pairs = sorted((s[0], s[2]) for s in segments)
    total, i = 0, 0
    below: list[float] = []
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        for _, xb in pairs[i:j]:  # segments further left on top that end further right below
            total += len(below) - bisect.bisect_right(below, xb)
        for _, xb in pairs[i:j]:
            bisect.insort(below, xb)
        i = j
    return total


def _proper_cross(a: Seg, b: Seg) -> bool:
    def orient(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    p1, p2, q1, q2 = (a[0], a[1]), (a[2], a[3]), (b[0], b[1]), (b[2], b[3])
    d1, d2, d3, d4 = orient(q1, q2, p1), orient(q1, q2, p2), orient(p1, p2, q1), orient(p1, p2, q2)
    return d1 * d2 < 0 and d3 * d4 < 0


def _segments(pos: dict[str, tuple[float, float]], routes: dict[Edge, list[tuple[float, float]]]) -> tuple[list[Seg], float, int]:
    """Every edge as a polyline (box bottom centre -> slots -> box top centre): its segments,
    the total length and the number of bends."""
    segs: list[Seg] = []
    length, bends = 0.0, 0
    for (c, p), route in routes.items():
        pts = _polyline(c, p, pos, route)
        ends = [c, *(f"{c}|{p}|{k}" for k in range(len(route)) for _ in (0, 1)), p]
        for k in range(len(pts) - 1):
            (x0, y0), (x1, y1) = pts[k], pts[k + 1]
            length += math.hypot(x1 - x0, y1 - y0)
            segs.append((round(x0, 1), round(y0, 1), round(x1, 1), round(y1, 1), ends[k], ends[k + 1]))
        for k in range(1, len(pts) - 1):
            (ax, ay), (bx, by), (cx, cy) = pts[k - 1], pts[k], pts[k + 1]
            if abs((bx - ax) * (cy - by) - (by - ay) * (cx - bx)) > 0.5 * math.hypot(cx - bx, cy - by):
                bends += 1
    return segs, length, bends


def _crossings(segs: list[Seg]) -> int:
    """Bilayer count among segments spanning the same heights (all of them, in a layered drawing);
    a plain geometric test between segments of different, overlapping spans."""
    spans: dict[tuple[float, float], list[Seg]] = {}
    for s in segs:
        if s[1] != s[3]:
            spans.setdefault((s[1], s[3]), []).append(s)
    total = sum(_bilayer_crossings(group) for group in spans.values())
    keys = sorted(spans)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            if b[0] >= a[1] or a == b:
                continue
            for s in spans[a]:
                for t in spans[b]:
                    if not {s[4], s[5]} & {t[4], t[5]} and _proper_cross(s, t):
                        total += 1
    return total


def _through_boxes(segs: list[Seg], pos: dict[str, tuple[float, float]]) -> int:
    """Segments that pass through a box other than their own ends' (approximated by 9 samples)."""
    rows: dict[float, list[tuple[str, float]]] = {}
    for n, (x, y) in pos.items():
        rows.setdefault(y, []).append((n, x))
    hits = 0
    for x0, y0, x1, y1, a, b in segs:
        for top, boxes in rows.items():
            if top + G.BOX_H <= y0 or top >= y1:
                continue
            for n, bx in boxes:
                if n in (a, b):
                    continue
                for k in range(1, 10):
                    t = k / 10
                    px, py = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
                    if bx < px < bx + G.BOX_W and top < py < top + G.BOX_H:
                        hits += 1
                        break
    return hits


def measure(blocks: list[G._Block]) -> dict[str, float]:
    width, height, pos, routes, _ = G._pack(blocks)
    segs, length, bends = _segments(pos, routes)
    boxes = [(x, y, x + G.BOX_W, y + G.BOX_H) for x, y in pos.values()]
    slots = [(vx - G.VSLOT / 2, vy, vx + G.VSLOT / 2, vy + G.BOX_H) for r in routes.values() for vx, vy in r]
    return {"crossings": _crossings(segs), "length": length, "bends": bends,
            "overlaps": _overlaps(boxes + slots) - _overlaps(slots), "tight": _overlaps(slots),
            "through": _through_boxes(segs, pos), "width": width, "height": height}


def _overlaps(rects: list[tuple[float, float, float, float]]) -> int:
    rects = sorted(rects)
    count = 0
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            if b[0] >= a[2] - 0.05:
                break
            if a[1] < b[3] - 0.05 and b[1] < a[3] - 0.05:
                count += 1
    return count


def digest(blocks: list[G._Block]) -> str:
    _, _, pos, routes, _ = G._pack(blocks)
    data = json.dumps([sorted(pos.items()), sorted((f"{c}>{p}", r) for (c, p), r in routes.items())])
    return hashlib.sha256(data.encode()).hexdigest()[:12]


# --------------------------------------------------------------------------- cycles, natively


def native_cycles() -> list[str]:
    """What each library does when handed the cycles themselves (no back edges set aside)."""
    lines = []
    cases = {
        "2-cycle a<->b under c": [("c", "a"), ("a", "b"), ("b", "a")],
        "self-loop s->s, t->s": [("t", "s"), ("s", "s")],
        "3-cycle x->y->z->x": [("x", "y"), ("y", "z"), ("z", "x")],
    }
    from grandalf.graphs import Edge as GEdge
    from grandalf.graphs import Vertex, graph_core
    from grandalf.layouts import SugiyamaLayout

    for label, edges in cases.items():
        names = list(dict.fromkeys(n for e in edges for n in e))
        vs = {n: Vertex(n) for n in names}
        for v in vs.values():
            v.view = _View(G.BOX_W, G.BOX_H)
        try:
            sug = SugiyamaLayout(graph_core(list(vs.values()), [GEdge(vs[a], vs[b]) for a, b in edges]))
            sug.init_all()
            sug.draw()
            ys = {n: round(v.view.xy[1]) for n, v in vs.items()}
            lines.append(f"  grandalf, {label}: ok, y = {ys}, inverted {[(e.v[0].data, e.v[1].data) for e in sug.alt_e]}")
        except Exception as exc:  # we report whatever the library does
            lines.append(f"  grandalf, {label}: {type(exc).__name__}: {exc}")
        ours_graph = make_graph([edges[0][0]], [(a, b, "finetune") for a, b in edges])
        box = G._layout_component(*_args(ours_graph))
        lines.append(f"  ours,     {label}: y = { {n: round(y) for n, (_, y) in box.pos.items()} }, back edges {box.back}")
    return lines


def _args(graph: LineageGraph) -> tuple[list[str], list[str], dict[str, list[str]], set[Edge]]:
    comps, roots, parents, dag = prepare(graph)
    assert len(comps) == 1
    return comps[0], roots, parents, dag


# --------------------------------------------------------------------------- main


def graphs(args: argparse.Namespace) -> list[tuple[str, LineageGraph]]:
    out = [("fixture", fixture_graph()), ("example", example_graph())]
    if not args.no_scenarios:
        out += scenario_graphs()
    out += [(f"forest-{n}", forest(n)) for n in args.sizes]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-dot", action="store_true")
    parser.add_argument("--no-scenarios", action="store_true")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[50, 200, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--digest", action="store_true", help="print coordinate digests only (used for determinism)")
    args = parser.parse_args()

    if importlib.util.find_spec("grandalf") is None:
        raise SystemExit("bench_layout needs grandalf, which the product does not: pip install 'grandalf==0.8'")
    engines: dict[str, Engine] = {"ours": ours, "grandalf": grandalf_engine}
    if not args.no_dot and shutil.which("dot"):
        engines["dot"] = dot_engine
    todo = graphs(args)
    if args.digest:
        print(json.dumps({f"{g}/{e}": digest(run_engine(fn, graph, 1)[1]) for g, graph in todo for e, fn in engines.items()}))
        return

    from importlib.metadata import version

    print(f"python {sys.version.split()[0]}, grandalf {version('grandalf')}, "
          f"dot {'yes' if 'dot' in engines else 'no'}; box {G.BOX_W}x{G.BOX_H}, gaps {G.COL_GAP}/{G.ROW_GAP}, slot {G.VSLOT}")
    head = f"{'graph':<12} {'nodes':>5} {'edges':>5} {'comps':>5} {'engine':<9} {'cross':>6} {'length':>9} {'bends':>6} {'overlap':>7} {'tight':>5} {'thru':>5} {'width':>7} {'height':>7} {'ms':>9}"
    print(head)
    print("-" * len(head))
    results: dict[str, dict[str, str]] = {}
    for name, graph in todo:
        comps, _, _, _ = prepare(graph)
        results[name] = {}
        rows = [("shipped", shipped), *engines.items()]
        for engine_name, fn in rows:
            repeat = 1 if engine_name == "dot" else args.repeat
            seconds, blocks = run_engine(fn, graph, repeat)
            m = measure(blocks)
            results[name][engine_name] = digest(blocks)
            again = digest(run_engine(fn, graph, 1)[1])
            same = "" if again == results[name][engine_name] else "  (NOT deterministic in-process)"
            print(f"{name:<12} {len(graph.nodes):>5} {len(graph.edges):>5} {len(comps):>5} {engine_name:<9} "
                  f"{m['crossings']:>6} {m['length']:>9.0f} {m['bends']:>6} {m['overlaps']:>7} {m['tight']:>5} {m['through']:>5} {m['width']:>7.0f} "
                  f"{m['height']:>7.0f} {seconds * 1000:>9.1f}{same}")
    print()
    print("cycles handed to the library itself:")
    for line in native_cycles():
        print(line)
    print()
    env = dict(os.environ, PYTHONHASHSEED="12345")
    cmd = [sys.executable, __file__, "--digest", "--sizes", ",".join(map(str, args.sizes))]
    if args.no_scenarios:
        cmd.append("--no-scenarios")
    if "dot" not in engines:
        cmd.append("--no-dot")
    other: dict[str, Any] = json.loads(subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
    differ = [k for k, v in other.items() if results[k.split("/")[0]][k.split("/")[1]] != v]
    print(f"determinism across processes (PYTHONHASHSEED=12345 vs this run): {len(other) - len(differ)}/{len(other)} same"
          + (f"; differ: {', '.join(differ)}" if differ else ""))


if __name__ == "__main__":
    main()
