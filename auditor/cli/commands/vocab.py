"""`auditor vocab LIST`: the vocabulary, with the meaning of each value."""

from __future__ import annotations

from typing import Annotated

import typer

from auditor.cli._common import guarded
from auditor.errors import AuditorError
from auditor.vocab_text import VOCAB_LISTS, render_vocab


def register(app: typer.Typer) -> None:
    app.command()(vocab)


@guarded
def vocab(
    which: Annotated[str, typer.Argument(metavar="LIST", help=" | ".join(VOCAB_LISTS))] = "codes",
) -> None:
    """Print one list of the vocabulary with the meaning of each value: finding codes, purposes, regions…

    Example: auditor vocab purposes
    """
    if which not in VOCAB_LISTS:
        from auditor.vocab import suggest

        close = suggest(which, VOCAB_LISTS)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise AuditorError(f"unknown list {which!r}.{hint} Choose one of: {', '.join(VOCAB_LISTS)}")
    typer.echo(render_vocab(which), nl=False)
