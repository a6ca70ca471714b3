"""The `auditor` command line. It parses, calls the pipeline and sets exit codes; no logic lives here.

Exit codes: 0 pass; 1 findings at or above --fail-on; 2 bad input or usage; 3 audit incomplete
(some model unresolved) when nothing worse was found.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from auditor import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3

app = typer.Typer(
    name="auditor",
    help="License compliance and provenance auditor for open-weight AI models.\n\n"
    "Example: auditor audit examples/auditor.yaml --snapshot examples/snapshot --out audit-out",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
snapshot_app = typer.Typer(help="Record and inspect offline snapshots.", no_args_is_help=True)
cache_app = typer.Typer(help="The on-disk metadata cache.", no_args_is_help=True)
app.add_typer(snapshot_app, name="snapshot")
app.add_typer(cache_app, name="cache")

F = TypeVar("F", bound=Callable[..., Any])


from auditor.errors import AuditorError as UserError  # noqa: E402


def _err(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def guarded(func: F) -> F:
    """Turn every expected failure into a one-line message and exit 2; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from auditor.errors import known_errors

        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except known_errors() as exc:
            _err(str(exc))
            raise typer.Exit(EXIT_USAGE) from None
        except KeyboardInterrupt:
            _err("interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:  # last resort: one line, never a traceback
            if os.environ.get("AUDITOR_DEBUG"):
                raise
            _err(f"internal error: {type(exc).__name__}: {exc} (set AUDITOR_DEBUG=1 for a traceback)")
            raise typer.Exit(EXIT_USAGE) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"auditor {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """License compliance and provenance auditor for open-weight AI models."""


# --------------------------------------------------------------------------- shared options

SnapshotOpt = Annotated[
    Path | None,
    typer.Option("--snapshot", help="Read metadata from a recorded snapshot folder instead of the Hub (offline)."),
]
DepthOpt = Annotated[int, typer.Option("--depth", min=0, help="How many ancestor levels to follow.")]
EndpointOpt = Annotated[
    str | None, typer.Option("--endpoint", help="Hub endpoint (default: $HF_ENDPOINT or https://huggingface.co).")
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the on-disk cache.")]
RefreshOpt = Annotated[bool, typer.Option("--refresh", help="Ignore cached entries and fetch again.")]
ConcurrencyOpt = Annotated[int, typer.Option("--concurrency", min=1, max=64, help="Requests in flight.")]


def _source_options(
    snapshot: Path | None, endpoint: str | None, no_cache: bool, refresh: bool
) -> Any:
    from auditor.pipeline import SourceOptions

    return SourceOptions(snapshot=snapshot, endpoint=endpoint, no_cache=no_cache, refresh=refresh)


def _progress() -> Any:
    """A progress callback on stderr when it is a terminal; None otherwise."""
    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int, current: str) -> None:
        sys.stderr.write(f"\rresolving lineage: {done}/{total} models  {current[:60]:<60}")
        if done >= total:
            sys.stderr.write("\r" + " " * 100 + "\r")
        sys.stderr.flush()

    return report


def _parse_refs(refs: list[str]) -> list[Any]:
    from auditor.lineage import RefError, parse_ref

    try:
        return [parse_ref(r) for r in refs]
    except RefError as exc:
        raise UserError(str(exc)) from None


# --------------------------------------------------------------------------- lineage


@app.command()
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
    from auditor.lineage_render import FORMATS, render
    from auditor.pipeline import build_source, resolve_lineage

    if fmt not in FORMATS:
        raise UserError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    source = build_source(_source_options(snapshot, endpoint, no_cache, refresh))
    graph = resolve_lineage(
        _parse_refs(refs), source, depth=depth, concurrency=concurrency, progress=_progress()
    )
    label = _rule_label()
    typer.echo(render(graph, fmt, label), nl=False)
    if any(n.unresolved is not None for n in graph.nodes):
        raise typer.Exit(EXIT_INCOMPLETE)


def _rule_label() -> Any:
    """Label tree nodes with the declared license and the rule id it normalises to."""
    from auditor.lineage_render import declared_text
    from auditor.rules.loader import load_rules
    from auditor.rules.normalize import normalise_declared

    try:
        rules = load_rules([])
    except Exception:
        return None

    def label(node: Any) -> str:
        raw = declared_text(node)
        if node.facts is None:
            return raw
        ids = normalise_declared(node.facts.declared, rules).rule_ids
        if not ids or ", ".join(ids) == raw:
            return raw
        return f"{raw} → {', '.join(ids)}"

    return label


# --------------------------------------------------------------------------- snapshot


@snapshot_app.command("record")
@guarded
def snapshot_record(
    refs: Annotated[list[str], typer.Argument(help="Hub repo ids or model folders to record, with ancestors.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write snapshot.json into.")],
    depth: DepthOpt = 10,
    snapshot: SnapshotOpt = None,
    endpoint: EndpointOpt = None,
    no_cache: NoCacheOpt = False,
    refresh: RefreshOpt = False,
) -> None:
    """Record every answer of a crawl, so the audit can be repeated offline, bit for bit.

    Example: auditor snapshot record meta-llama/Llama-3.2-1B ./models/my-adapter --out snap/
    then:    auditor lineage meta-llama/Llama-3.2-1B --snapshot snap/
    """
    from auditor.pipeline import build_source, resolve_lineage
    from auditor.sources.snapshot import RecordingSource

    recorder = RecordingSource(build_source(_source_options(snapshot, endpoint, no_cache, refresh)))
    graph = resolve_lineage(_parse_refs(refs), recorder, depth=depth, progress=_progress())
    path = recorder.write(out, __version__)
    unresolved = sum(1 for n in graph.nodes if n.unresolved is not None)
    typer.echo(f"recorded {len(recorder.records)} answers ({unresolved} unresolved) to {path}")


# --------------------------------------------------------------------------- cache


@cache_app.command("info")
@guarded
def cache_info() -> None:
    """Where the metadata cache is and what it holds. Example: auditor cache info"""
    from auditor.sources.cache import MetadataCache, default_cache_dir

    stats = MetadataCache(default_cache_dir()).stats()
    typer.echo(f"path: {stats.path}\nentries: {stats.entries} ({stats.pinned} pinned to a commit)")
    typer.echo(f"size: {stats.size_bytes} bytes")


@cache_app.command("clear")
@guarded
def cache_clear() -> None:
    """Delete every cached entry. Example: auditor cache clear"""
    from auditor.sources.cache import MetadataCache, default_cache_dir

    removed = MetadataCache(default_cache_dir()).clear()
    typer.echo(f"removed {removed} entries")


def main() -> None:
    app()
