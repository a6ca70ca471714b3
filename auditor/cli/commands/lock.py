"""`auditor lock`: pin the lineage an audit reads to commit shas (`auditor.lock`); `--check` says what moved."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:
    from auditor.lock import LockFile


def register(app: typer.Typer) -> None:
    app.command()(lock)


def _check_manifest(manifest: Path, path: Path, locked: LockFile) -> None:
    from auditor.lock import file_sha256

    if file_sha256(manifest) != locked.manifest_sha256:
        typer.echo(f"{manifest}: changed since {path} was written; run `auditor lock {manifest}` and commit "
                   f"{path.name} with it", err=True)
        raise typer.Exit(ExitCode.FINDINGS)
    typer.echo(f"{path}: matches {manifest}")


@guarded
def lock(
    manifest: Annotated[Path, typer.Argument(help="The model manifest.")] = Path("auditor.yaml"),
    out: Annotated[Path | None, typer.Option("--lock", help="The lock file (default: auditor.lock beside "
                                                             "the manifest).")] = None,
    check: Annotated[bool, typer.Option("--check", help="Read the Hub again (no cache) and exit 1 if any "
                                                        "locked model moved: a new commit, another license, "
                                                        "other parents; or the manifest or rules changed.")] = False,
    manifest_only: Annotated[bool, typer.Option("--manifest-only", help="With --check: only whether the "
                                                                       "manifest changed since the lock (no "
                                                                       "network), for a pull-request gate.")] = False,
    depth: DepthOpt = 10,
    snapshot: SnapshotOpt = None,
    endpoint: EndpointOpt = None,
    no_cache: NoCacheOpt = False,
    refresh: RefreshOpt = False,
    concurrency: ConcurrencyOpt = 8,
) -> None:
    """Write auditor.lock: every model of the manifest's lineage with the commit read, its declared
    license and its parents. `auditor audit` then reads each model at its locked commit, so the same lock
    gives the same verdict on every machine and every day. Rerun to update it.

    Example: auditor lock examples/auditor.yaml --snapshot examples/snapshot
    """
    from auditor import lock as locking
    from auditor import service

    path = out or locking.default_path(manifest)
    sources = source_options(snapshot, endpoint, no_cache, refresh)
    if manifest_only and not check:
        raise AuditorError("--manifest-only goes with --check")
    if check:
        if not path.is_file():
            raise AuditorError(f"{path}: no lock file to check; write one with `auditor lock {manifest}`")
        locked = locking.load_lock(path)
        if manifest_only:
            _check_manifest(manifest, path, locked)
            return
        fresh = service.lock_manifest(manifest, replace(sources, refresh=True), depth=depth,
                                      concurrency=concurrency, progress=progress())
        moves = locking.compare(locked, fresh)
        for move in moves:
            typer.echo(move.line())
        if moves:
            typer.echo(f"{path}: {len(moves)} change{'s' if len(moves) != 1 else ''} since the lock; "
                       f"review them, then run `auditor lock {manifest}`", err=True)
            raise typer.Exit(ExitCode.FINDINGS)
        typer.echo(f"{path}: up to date ({len(locked.nodes)} models)")
        return
    written = service.lock_manifest(manifest, sources, depth=depth, concurrency=concurrency, progress=progress())
    path.write_text(locking.dumps(written), encoding="utf-8")
    pinned = sum(1 for node in written.nodes if node.sha is not None)
    unread = sum(1 for node in written.nodes if node.unresolved is not None)
    typer.echo(f"wrote {path}: {len(written.nodes)} models, {pinned} pinned to a commit"
               + (f", {unread} could not be read" if unread else ""))
