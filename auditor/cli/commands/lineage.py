"""`auditor lineage`: a model's provenance graph."""

from __future__ import annotations

from typing import Annotated

import typer

from auditor.cli._common import (
    ConcurrencyOpt,
    DepthOpt,
    EndpointOpt,
    NoCacheOpt,
    RefreshOpt,
    SnapshotOpt,
    guarded,
    progress,
    source_options,
)
from auditor.errors import AuditorError
from auditor.vocab import ExitCode


def register(app: typer.Typer) -> None:
    app.command()(lineage)


@guarded
def lineage(
    refs: Annotated[list[str], typer.Argument(help="Hub repo ids (owner/name[@revision]) or model folders.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="tree | json | dot | graphml")] = "tree",
    depth: DepthOpt = 10,
    snapshot: SnapshotOpt = None,
    endpoint: EndpointOpt = None,
    no_cache: NoCacheOpt = False,
    refresh: RefreshOpt = False,
    concurrency: ConcurrencyOpt = 8,
) -> None:
    """Resolve a model's provenance: every ancestor, its declared license and the relation.

    Example: auditor lineage unsloth/Llama-3.2-11B-Vision-Instruct --format tree

    Exit code 3 when some model could not be read (the graph is incomplete).
    """
    from auditor import service
    from auditor.lineage_render import FORMATS, render

    if fmt not in FORMATS:
        raise AuditorError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    graph = service.lineage(refs, source_options(snapshot, endpoint, no_cache, refresh), depth=depth,
                            concurrency=concurrency, progress=progress())
    label = service.rule_label() if fmt == "tree" else None  # only the tree shows rule ids
    typer.echo(render(service.graph_without_run_stats(graph), fmt, label), nl=False)
    if any(n.unresolved is not None for n in graph.nodes):
        raise typer.Exit(ExitCode.INCOMPLETE)
