"""`auditor init` and `auditor scan`: start a manifest, and find the models a codebase uses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from auditor.cli._common import guarded
from auditor.errors import AuditorError


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


@guarded
def scan(
    path: Annotated[Path, typer.Argument(help="A codebase to search for model references.")] = Path("."),
    fmt: Annotated[str, typer.Option("--format", help="yaml (manifest entries) | text")] = "yaml",
) -> None:
    """Find model references in code (from_pretrained, hf_hub_download, pipeline, vLLM, Ollama…)
    and propose manifest entries.

    Example: auditor scan ./src > proposed.yaml

    The output is a `models:` list with a comment naming where each model was found; copy its
    entries into your manifest's `models:` list.
    """
    from auditor.scan import proposed_manifest_entries, scan_path

    if not path.exists():
        raise AuditorError(f"{path}: no such file or folder")
    hits = scan_path(path)
    if fmt == "text":
        for hit in hits:
            typer.echo(f"{hit.file}:{hit.line}: {hit.ref} ({hit.kind})")
    elif fmt == "yaml":
        typer.echo(proposed_manifest_entries(hits), nl=False)
    else:
        raise AuditorError(f"--format {fmt!r} must be yaml or text")
    typer.echo(f"{len({h.ref for h in hits})} model reference(s) in {len({h.file for h in hits})} file(s)", err=True)
