"""`auditor diff OLD.json NEW.json`: what changed between two audit results (license drift)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from auditor.cli._common import guarded
from auditor.errors import AuditorError

DIFF_FORMATS = ("text", "markdown", "json")


def register(app: typer.Typer) -> None:
    app.command(name="diff")(diff)


@guarded
def diff(
    old: Annotated[Path, typer.Argument(metavar="OLD.json", help="The earlier audit.json (e.g. the base branch's).")],
    new: Annotated[Path, typer.Argument(metavar="NEW.json", help="The later audit.json.")],
    fmt: Annotated[str, typer.Option("--format", help=" | ".join(DIFF_FORMATS))] = "text",
    exit_code: Annotated[
        bool, typer.Option("--exit-code", help="Exit 1 when anything changed (as `git diff --exit-code`).")
    ] = False,
) -> None:
    """What changed between two audits: models, licenses at each node (with both shas), lineage,
    findings, verdicts, obligations and the rule set. Reads only the two files; no network.

    Example: auditor diff base/audit.json audit-out/audit.json --format markdown >> "$GITHUB_STEP_SUMMARY"
    """
    from auditor import service
    from auditor.diff import diff_results, render_markdown, render_text

    if fmt not in DIFF_FORMATS:
        from auditor.vocab import suggest

        close = suggest(fmt, DIFF_FORMATS)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise AuditorError(f"--format: unknown diff format {fmt!r}.{hint} Choose one of: {', '.join(DIFF_FORMATS)}")
    result = diff_results(service.load_result(old), service.load_result(new))
    if fmt == "json":
        typer.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(render_markdown(result) if fmt == "markdown" else render_text(result), nl=False)
    if exit_code and result.changes:
        raise typer.Exit(1)
