"""A small layered layout of the lineage graph for the HTML report's inline SVG.

Roots (the audited models) sit in the top row; each parent sits one row below its furthest
child (longest-path layering over the graph with back edges of cycles set aside), so the
drawing grows down the page, which prints well. Within a row, nodes are ordered by the mean
position of their children (one barycentre sweep), ties broken by id, so the drawing is
deterministic. Coordinates are plain numbers; the
template turns them into SVG (so every string is auto-escaped there).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.model import LineageGraph, NodeRecord
from auditor.reports._common import KIND_LABELS, LicenseInfo, dominant_kind, raw_declared

BOX_W = 300
BOX_H = 70
COL_GAP = 36  # between boxes of one layer
ROW_GAP = 70  # between layers (room for the relation label)
PAD = 16
MAX_PER_ROW = 4
ID_CHARS = 36  # characters of the id that fit the box at the SVG font size
LINE_CHARS = 42


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
    line1: str  # id (truncated)
    line2: str  # license (truncated)
    line3: str  # kind / revision or unresolved code
    unresolved: bool
    root: bool


@dataclass
class EdgePath:
    child: str
    parent: str
    relation: str
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


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


def layout(graph: LineageGraph, licenses: dict[str, list[LicenseInfo]]) -> GraphLayout:
    records: dict[str, NodeRecord] = {n.id: n for n in graph.nodes}
    ids: list[str] = []
    for node_id in [*graph.roots, *sorted(records)]:
        if node_id not in ids:
            ids.append(node_id)
    for e in graph.edges:
        for node_id in (e.child, e.parent):
            if node_id not in ids:
                ids.append(node_id)
    parents: dict[str, list[str]] = {}
    for e in sorted(graph.edges, key=lambda e: (e.child, e.parent, e.relation)):
        parents.setdefault(e.child, [])
        if e.parent not in parents[e.child]:
            parents[e.child].append(e.parent)

    dag = _dag_edges(ids, parents)
    # longest-path layering, by relaxation in topological order (DAG edges only)
    layer = dict.fromkeys(ids, 0)
    indeg = dict.fromkeys(ids, 0)
    for _child, parent in dag:
        indeg[parent] += 1
    ready = [i for i in ids if indeg[i] == 0]
    while ready:
        node = ready.pop(0)
        for parent in parents.get(node, []):
            if (node, parent) not in dag:
                continue
            layer[parent] = max(layer[parent], layer[node] + 1)
            indeg[parent] -= 1
            if indeg[parent] == 0:
                ready.append(parent)

    columns: dict[int, list[str]] = {}
    for node_id in ids:
        columns.setdefault(layer[node_id], []).append(node_id)
    row: dict[str, float] = {}
    children: dict[str, list[str]] = {}
    for child, parent in sorted(dag):
        children.setdefault(parent, []).append(child)
    for col in sorted(columns):
        members = columns[col]
        if col == 0:
            roots = [r for r in graph.roots if r in members]
            members = roots + sorted(m for m in members if m not in roots)
        else:

            def bary(node_id: str) -> tuple[float, str]:
                kids = [row[k] for k in children.get(node_id, []) if k in row]
                return (sum(kids) / len(kids) if kids else float("inf"), node_id)

            members = sorted(members, key=bary)
        columns[col] = members
        for i, node_id in enumerate(members):
            row[node_id] = i

    # a layer wider than MAX_PER_ROW wraps onto several visual rows (keeps text readable)
    rows: list[list[str]] = []
    for _layer, members in sorted(columns.items()):
        rows += [members[i : i + MAX_PER_ROW] for i in range(0, len(members), MAX_PER_ROW)]
    widest = max((len(r) for r in rows), default=1)
    width = PAD * 2 + widest * BOX_W + (widest - 1) * COL_GAP
    height = PAD * 2 + len(rows) * BOX_H + (len(rows) - 1) * ROW_GAP
    out = GraphLayout(width=width, height=height)

    pos: dict[str, tuple[float, float]] = {}
    root_set = set(graph.roots)
    kinds: set[str] = set()
    for r, members in enumerate(rows):
        offset = (widest - len(members)) * (BOX_W + COL_GAP) / 2
        for i, node_id in enumerate(members):
            x = PAD + offset + i * (BOX_W + COL_GAP)
            y = PAD + r * (BOX_H + ROW_GAP)
            pos[node_id] = (x, y)
            out.nodes.append(_box(node_id, x, y, records.get(node_id), licenses.get(node_id, []), root_set))
            kinds.add(out.nodes[-1].kind)

    for e in sorted(graph.edges, key=lambda e: (e.child, e.parent, e.relation)):
        if e.child not in pos or e.parent not in pos:
            continue
        cx, cy = pos[e.child]
        px, py = pos[e.parent]
        label_w = 7.0 * len(e.relation) + 14
        if py > cy:  # forward: child's bottom edge to parent's top edge
            x1, y1 = cx + BOX_W / 2, cy + BOX_H
            x2, y2 = px + BOX_W / 2, py
            dy = (y2 - y1) / 2
            d = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + dy:.1f} {x2:.1f},{y2 - dy:.1f} {x2:.1f},{y2:.1f}"
            lx, ly = (x1 + x2) / 2, (y1 + y2) / 2
            back = False
        else:  # back edge of a cycle: loop out of the right-hand sides
            x1, y1 = cx + BOX_W, cy + BOX_H / 2
            x2, y2 = px + BOX_W, py + BOX_H / 2
            bulge = COL_GAP * 1.6
            d = f"M{x1:.1f},{y1:.1f} C{x1 + bulge:.1f},{y1:.1f} {x2 + bulge:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
            lx, ly = max(x1, x2) + bulge * 0.75, (y1 + y2) / 2
            back = True
            out.width = max(out.width, lx + label_w / 2 + PAD, max(x1, x2) + bulge + PAD)
        out.edges.append(
            EdgePath(
                child=e.child,
                parent=e.parent,
                relation=e.relation,
                weak=e.weak,
                d=d,
                label_x=round(lx, 1),
                label_y=round(ly, 1),
                label_w=label_w,
                back=back,
            )
        )
    out.kinds = sorted(kinds, key=lambda k: list(KIND_LABELS).index(k) if k in KIND_LABELS else 99)
    return out


def _box(
    node_id: str,
    x: float,
    y: float,
    rec: NodeRecord | None,
    lics: list[LicenseInfo],
    roots: set[str],
) -> NodeBox:
    kind = dominant_kind(lics) if lics else "unknown"
    if lics:
        lic_text = " AND ".join(lic.name for lic in lics)
    elif rec is not None and rec.facts is not None:
        raw = raw_declared(rec)
        lic_text = f"{raw} (not recognised)" if raw else "no license declared"
    else:
        lic_text = "license not known"
    if rec is not None and rec.unresolved is not None:
        line3 = f"UNRESOLVED: {rec.unresolved.code}"
    elif rec is None or rec.facts is None:
        line3 = "UNRESOLVED: not read"
    else:
        sha = rec.facts.sha or rec.facts.revision or ""
        line3 = KIND_LABELS.get(kind, kind) + (f" · {sha[:10]}" if sha else "")
    return NodeBox(
        id=node_id,
        x=x,
        y=y,
        w=BOX_W,
        h=BOX_H,
        kind=kind,
        kind_label=KIND_LABELS.get(kind, kind),
        title=f"{node_id}\n{lic_text}\n{line3}",
        line1=_clip(node_id, ID_CHARS),
        line2=_clip(lic_text, LINE_CHARS),
        line3=_clip(line3, LINE_CHARS),
        unresolved=rec is None or rec.facts is None,
        root=node_id in roots,
    )
