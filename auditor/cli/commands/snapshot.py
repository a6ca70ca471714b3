"""`auditor snapshot record`: recorded metadata for offline, repeatable audits."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from auditor.cli._common import (
    DepthOpt,
    EndpointOpt,
    NoCacheOpt,
    RefreshOpt,
    guarded,
    progress,
    source_options,
    sub_app,
)

snapshot_app = sub_app("Record metadata for offline, repeatable audits.\n\n"
                       "Example: auditor snapshot record Qwen/Qwen2.5-7B-Instruct --out snap/")


def register(app: typer.Typer) -> None:
    app.add_typer(snapshot_app, name="snapshot")


@snapshot_app.command("record")
@guarded
def snapshot_record(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write snapshot.json into.")],
    refs: Annotated[
        list[str] | None, typer.Argument(help="Hub repo ids or model folders to record, with ancestors.")
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option("--manifest", "-m", help="Also record everything `auditor audit MANIFEST` reads."),
    ] = None,
    depth: DepthOpt = 10,
    snapshot: Annotated[  # not $AUDITOR_SNAPSHOT: re-recording must read the Hub unless told otherwise
        Path | None, typer.Option("--snapshot", help="Re-record from another snapshot folder instead of the Hub.")
    ] = None,
    endpoint: EndpointOpt = None,
    no_cache: NoCacheOpt = False,
    refresh: RefreshOpt = False,
) -> None:
    """Record every answer of a crawl, so the audit can be repeated offline, bit for bit.

    The crawl follows the same lineage the audit follows: the curated lineage kept beside the rules
    and, with --manifest, the parents declared in the manifest.

    Example, then a replay that needs no network:

    \b
      auditor snapshot record --manifest auditor.yaml --out snap/
      auditor audit auditor.yaml --snapshot snap/
      auditor snapshot record meta-llama/Llama-3.2-1B ./models/my-adapter --out snap/
      auditor lineage meta-llama/Llama-3.2-1B --snapshot snap/
    """
    from auditor import service

    recording = service.record_snapshot(
        out, source_options(snapshot, endpoint, no_cache, refresh), refs=refs or [], manifest=manifest,
        depth=depth, progress=progress(),
    )
    typer.echo(f"recorded {recording.answers} answers ({recording.unresolved} unresolved) to {recording.path}")
