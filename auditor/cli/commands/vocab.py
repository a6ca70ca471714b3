"""`auditor vocab LIST`: the vocabulary, with the meaning of each value."""

from __future__ import annotations

from typing import Annotated

import typer

from auditor.cli._common import guarded
from auditor.errors import AuditorError

VOCAB_LISTS = ("codes", "purposes", "regions", "severities", "distributions", "relations", "kinds", "exit-codes")


def register(app: typer.Typer) -> None:
    app.command()(vocab)


@guarded
def vocab(
    which: Annotated[str, typer.Argument(metavar="LIST", help=" | ".join(VOCAB_LISTS))] = "codes",
) -> None:
    """Print one list of the vocabulary with the meaning of each value: finding codes, purposes, regions…

    Example: auditor vocab purposes
    """
    from auditor.vocab_text import render_vocab

    if which not in VOCAB_LISTS:
        from auditor.vocab import unknown_value

        raise AuditorError(str(unknown_value("list", which, VOCAB_LISTS, "LIST")).replace(
            "See `auditor vocab LIST` for the list", f"Choose one of: {', '.join(VOCAB_LISTS)}"))
    typer.echo(render_vocab(which), nl=False)
