"""`auditor init` and `auditor scan`: start a manifest, and find the models a codebase uses."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from auditor.cli._common import guarded
from auditor.errors import AuditorError
from auditor.vocab import ExitCode

if TYPE_CHECKING:
    from auditor.scan import ScanReport


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command(epilog=SCAN_EPILOG)(scan)


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
SCAN_EPILOG = """\b
Unresolved loads: a loading call whose model argument is not a literal or a constant of the file (a
variable, an f-string, an attribute, a call, a legacy id without an owner such as "gpt2") is listed
with file:line and why, in every format; --check exits 1 on it. Acknowledge one on its line (or the
line above) with a comment:
  # auditor: loads owner/name   the model it loads (then counted as that reference)
  # auditor: ignore             reviewed: it loads no model to audit
A default of an environment lookup (os.getenv("M", "org/x"), os.environ.get("M") or "org/x") is
reported as kind python:env-default: the deployed value may differ.
Files that do not parse (Python, notebooks, YAML, JSON, TOML) are listed as skipped: plain scan says
so on stderr and exits 0; --check exits 2 naming them (use --exclude for files that are not meant to
parse, such as Helm templates).
"""


@guarded
def scan(
    path: Annotated[Path, typer.Argument(help="A codebase (folder or file) to search for model references.")] = Path("."),
    fmt: Annotated[str, typer.Option("--format", help="yaml (manifest entries) | text | json")] = "yaml",
    check: Annotated[Path | None, typer.Option("--check", metavar="MANIFEST",
                                               help="Exit 1 when the code loads a model this manifest does not "
                                                    "list, or a model the scan cannot name (a pull-request "
                                                    "gate); exit 2 when a file does not parse.")] = None,
    update: Annotated[Path | None, typer.Option("--update", metavar="MANIFEST",
                                                help="Add the models the manifest does not list to its `models:`, "
                                                     "keeping its comments and order.")] = None,
    include_api: Annotated[bool, typer.Option("--include-api", help="Also report hosted-API model names "
                                                                    "(openai/gpt-4o…), which cannot be audited.")] = False,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", metavar="GLOB",
                                                      help="Do not read paths matching this glob, relative to PATH "
                                                           "(a folder excludes what is under it); repeatable.")] = None,
) -> None:
    """Find the models code loads: transformers/diffusers/PEFT/vLLM/llama.cpp/MLX/LangChain/Ollama calls,
    CLI flags in scripts, Dockerfiles, compose, Kubernetes and .env files, notebooks, and config keys.

    Example: auditor scan ./src > proposed.yaml

    `--check auditor.yaml` exits 1 naming each model the code loads and the manifest does not list, and
    each load the scan cannot name; `--update auditor.yaml` adds the models it can name.
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
    if any(not pattern.strip() for pattern in exclude or []):
        raise AuditorError("--exclude: an empty pattern; give a glob such as 'charts/*/templates'")
    report = scanning.scan(path, include_api=include_api, exclude=exclude or [])
    for skipped in report.skipped:
        typer.echo(f"note: skipped {skipped}", err=True)
    if check is not None or update is not None:
        _sync(report, path, check, update)
        return
    _print(report, fmt)
    unresolved = f"; {len(report.unresolved)} unresolved load(s)" if report.unresolved else ""
    not_read = f"; {len(report.skipped)} file(s) skipped" if report.skipped else ""
    typer.echo(f"{len(scanning.grouped(report.hits))} model reference(s) in {len({h.file for h in report.hits})} "
               f"file(s){unresolved}{not_read}", err=True)


def _print(report: ScanReport, fmt: str) -> None:
    from auditor.scan import proposed_manifest_entries, unresolved_comment_block

    if fmt == "text":
        for hit in report.hits:
            note = f"; {hit.note}" if hit.note else ""
            typer.echo(f"{hit.where}: {hit.target} {hit.ref} ({hit.kind}, {hit.confidence} confidence{note})")
        for load in report.unresolved:
            typer.echo(f"{load.where}: unresolved `{load.call}`: {load.reason}")
        for skipped in report.skipped:
            typer.echo(f"{skipped}: skipped")
    elif fmt == "json":
        import json

        document = {"references": [h.model_dump(mode="json") for h in report.hits],
                    "unresolved": [u.model_dump(mode="json") for u in report.unresolved],
                    "skipped": [s.model_dump(mode="json") for s in report.skipped]}
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        typer.echo(proposed_manifest_entries(report.hits), nl=False)
        typer.echo(unresolved_comment_block(report), nl=False)


def _sync(report: ScanReport, root: Path, check: Path | None, update: Path | None) -> None:
    from auditor.scan import manifest_sync

    hits = report.hits
    manifest = check or update
    assert manifest is not None
    items = manifest_sync.missing(hits, root, manifest)
    if update is not None:
        added, unsupported = manifest_sync.update(update, items, root)
        typer.echo(f"{update}: added {added} model(s)" + (" (review the diff, then run `auditor audit`)" if added else ""))
        for item in unsupported:
            typer.echo(f"note: {item.line()}; this version cannot audit {item.target} references", err=True)
        for load in report.unresolved:
            typer.echo(f"note: {load.message()}", err=True)
        return
    for item in items:
        typer.echo(item.line())
    for load in report.unresolved:
        typer.echo(load.message())
    if report.unparseable:
        for skipped in report.unparseable:
            typer.echo(f"error: {skipped}: the gate cannot answer for a file it cannot read; fix the file or "
                       f"--exclude it", err=True)
        raise typer.Exit(ExitCode.USAGE)
    if items:
        typer.echo(f"{manifest}: {len(items)} model(s) loaded by the code are not listed; add them with "
                   f"`auditor scan {root} --update {manifest}`", err=True)
    if report.unresolved:
        typer.echo(f"{manifest}: {len(report.unresolved)} load(s) the scan cannot name; list each model and mark "
                   "its line `# auditor: loads owner/name`, or `# auditor: ignore`", err=True)
    if items or report.unresolved:
        raise typer.Exit(ExitCode.FINDINGS)
    typer.echo(f"{manifest}: lists every model the code loads ({len(manifest_sync.grouped(hits))})")
