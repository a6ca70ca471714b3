"""`auditor init` and `auditor scan`: start a manifest, and find the models a codebase uses."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from auditor.cli._common import guarded
from auditor.errors import AuditorError
from auditor.vocab import ExitCode

if TYPE_CHECKING:
    from auditor.scan import ScanHit


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(scan)


@guarded
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the starter manifest.")] = Path("auditor.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter manifest.

    Example: auditor init auditor.yaml

    Then run `auditor scan .` and copy the entries it proposes into the file's `models:` list.
    """
    from auditor.manifest import starter_manifest

    if path.exists() and not force:
        raise AuditorError(f"{path}: already exists. Use --force to overwrite it.")
    path.write_text(starter_manifest(), encoding="utf-8")
    typer.echo(f"wrote {path}; edit `use:` and `models:`, then run `auditor audit {path}`")


SCAN_FORMATS = ("yaml", "text", "json")


@guarded
def scan(
    path: Annotated[Path, typer.Argument(help="A codebase (folder or file) to search for model references.")] = Path("."),
    fmt: Annotated[str, typer.Option("--format", help="yaml (manifest entries) | text | json")] = "yaml",
    check: Annotated[Path | None, typer.Option("--check", metavar="MANIFEST",
                                               help="Exit 1 when the code loads a model this manifest does not "
                                                    "list (a pull-request gate).")] = None,
    update: Annotated[Path | None, typer.Option("--update", metavar="MANIFEST",
                                                help="Add the models the manifest does not list to its `models:`, "
                                                     "keeping its comments and order.")] = None,
    include_api: Annotated[bool, typer.Option("--include-api", help="Also report hosted-API model names "
                                                                    "(openai/gpt-4o…), which cannot be audited.")] = False,
) -> None:
    """Find the models code loads: transformers/diffusers/PEFT/vLLM/llama.cpp/MLX/LangChain/Ollama calls,
    CLI flags in scripts, Dockerfiles, compose, Kubernetes and .env files, notebooks, and config keys.

    Example: auditor scan ./src > proposed.yaml

    `--check auditor.yaml` exits 1 naming each model the code loads and the manifest does not list;
    `--update auditor.yaml` adds them.
    """
    from auditor import scan as scanning

    if fmt not in SCAN_FORMATS:
        from auditor.vocab import suggest

        close = suggest(fmt, SCAN_FORMATS)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise AuditorError(f"--format {fmt!r}: unknown format.{hint} Choose one of: {', '.join(SCAN_FORMATS)}")
    if check is not None and update is not None:
        raise AuditorError("--check and --update go one at a time: update, review the diff, then check")
    if not path.exists():
        raise AuditorError(f"{path}: no such file or folder")
    report = scanning.scan(path, include_api=include_api)
    for skipped in report.skipped:
        typer.echo(f"note: skipped {skipped}", err=True)
    if check is not None or update is not None:
        _sync(report.hits, path, check, update)
        return
    _print(report.hits, fmt)
    typer.echo(f"{len(scanning.grouped(report.hits))} model reference(s) in {len({h.file for h in report.hits})} "
               "file(s)", err=True)


def _print(hits: list[ScanHit], fmt: str) -> None:
    from auditor.scan import proposed_manifest_entries

    if fmt == "text":
        for hit in hits:
            typer.echo(f"{hit.where}: {hit.target} {hit.ref} ({hit.kind}, {hit.confidence} confidence)")
    elif fmt == "json":
        import json

        typer.echo(json.dumps([h.model_dump(mode="json") for h in hits], indent=2, ensure_ascii=False))
    else:
        typer.echo(proposed_manifest_entries(hits), nl=False)


def _sync(hits: list[ScanHit], root: Path, check: Path | None, update: Path | None) -> None:
    from auditor.scan import manifest_sync

    manifest = check or update
    assert manifest is not None
    items = manifest_sync.missing(hits, root, manifest)
    if update is not None:
        added, unsupported = manifest_sync.update(update, items, root)
        typer.echo(f"{update}: added {added} model(s)" + (" (review the diff, then run `auditor audit`)" if added else ""))
        for item in unsupported:
            typer.echo(f"note: {item.line()}; this version cannot audit {item.target} references", err=True)
        return
    for item in items:
        typer.echo(item.line())
    if items:
        typer.echo(f"{manifest}: {len(items)} model(s) loaded by the code are not listed; add them with "
                   f"`auditor scan {root} --update {manifest}`", err=True)
        raise typer.Exit(ExitCode.FINDINGS)
    typer.echo(f"{manifest}: lists every model the code loads ({len(manifest_sync.grouped(hits))})")
