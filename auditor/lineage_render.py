"""Render a lineage graph as a text tree, JSON, DOT or GraphML."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

from auditor.model import LineageGraph, NodeRecord

FORMATS = ("tree", "json", "dot", "graphml")


def declared_text(node: NodeRecord) -> str:
    if node.facts is None:
        return "?"
    d = node.facts.declared
    parts = list(d.license)
    if d.license_name:
        parts.append(f"name={d.license_name}")
    if not parts and d.tag_licenses:
        parts = d.tag_licenses
    return ", ".join(parts) if parts else "no license declared"


def _node_line(node_id: str, nodes: dict[str, NodeRecord], describe: Callable[[NodeRecord], str]) -> str:
    """One node as the tree shows it: id, declared license (or why it is unresolved), gating, sha."""
    node = nodes.get(node_id)
    if node is None:
        return node_id
    if node.unresolved is not None:
        return f"{node_id}  UNRESOLVED ({node.unresolved.code}): {node.unresolved.reason}"
    extra = []
    if node.facts is not None and node.facts.gated:
        extra.append(f"gated={node.facts.gated}")
    if node.facts is not None and node.facts.sha:
        extra.append(f"sha={node.facts.sha[:12]}")
    suffix = f"  ({'; '.join(extra)})" if extra else ""
    return f"{node_id}  [{describe(node)}]{suffix}"


def render_tree(graph: LineageGraph, label: Callable[[NodeRecord], str] | None = None) -> str:
    """Each root with its ancestors below it; relation on every edge; cycles cut and marked."""
    nodes = {n.id: n for n in graph.nodes}
    parents: dict[str, list[tuple[str, str, bool]]] = {}
    for edge in graph.edges:
        parents.setdefault(edge.child, []).append((edge.parent, edge.relation, edge.weak))
    describe = label or declared_text
    lines: list[str] = []

    def walk(node_id: str, prefix: str, path: tuple[str, ...]) -> None:
        children = sorted(parents.get(node_id, []))
        for i, (parent, relation, weak) in enumerate(children):
            last = i == len(children) - 1
            branch = "└── " if last else "├── "
            tag = f"{relation}{', weak evidence' if weak else ''}"
            if parent in path:
                lines.append(f"{prefix}{branch}{tag} → {parent}  (CYCLE: already above)")
                continue
            lines.append(f"{prefix}{branch}{tag} → {_node_line(parent, nodes, describe)}")
            walk(parent, prefix + ("    " if last else "│   "), (*path, parent))

    for root in graph.roots:
        lines.append(_node_line(root, nodes, describe))
        walk(root, "", (root,))
    if graph.cycles:
        lines.append("")
        lines.extend("cycle: " + " → ".join([*c, c[0]]) for c in graph.cycles)
    if graph.disagreements:
        lines.append("")
        lines.extend(f"note: {d.model}: {d.message}" for d in graph.disagreements)
    return "\n".join(lines) + "\n"


def render_json(graph: LineageGraph) -> str:
    return json.dumps(graph.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render_dot(graph: LineageGraph) -> str:
    out = ["digraph lineage {", "  rankdir=LR;", "  node [shape=box];"]
    for node in graph.nodes:
        label = f"{node.id}\n{declared_text(node)}" if node.unresolved is None else f"{node.id}\nUNRESOLVED"
        style = ' style="dashed"' if node.unresolved is not None else ""
        out.append(f"  {_dot_quote(node.id)} [label={_dot_quote(label)}{style}];")
    for edge in graph.edges:
        out.append(f"  {_dot_quote(edge.child)} -> {_dot_quote(edge.parent)} [label={_dot_quote(edge.relation)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def render_graphml(graph: LineageGraph) -> str:
    import networkx as nx

    g = nx.DiGraph()
    for node in graph.nodes:
        g.add_node(
            node.id,
            declared=declared_text(node),
            unresolved=node.unresolved.code if node.unresolved else "",
            sha=(node.facts.sha or "") if node.facts else "",
            source=node.facts.source if node.facts else (node.unresolved.source if node.unresolved else ""),
        )
    for edge in graph.edges:
        g.add_edge(
            edge.child,
            edge.parent,
            relation=edge.relation,
            weak=edge.weak,
            evidence="; ".join(f"{e.field}={e.value}" for e in edge.evidence),
        )
    buf = io.BytesIO()
    nx.write_graphml(g, buf)
    return buf.getvalue().decode("utf-8")


def render(graph: LineageGraph, fmt: str, label: Callable[[NodeRecord], str] | None = None) -> str:
    if fmt == "tree":
        return render_tree(graph, label)
    if fmt == "json":
        return render_json(graph)
    if fmt == "dot":
        return render_dot(graph)
    if fmt == "graphml":
        return render_graphml(graph)
    raise ValueError(f"unknown lineage format {fmt!r} (choose from {', '.join(FORMATS)})")
