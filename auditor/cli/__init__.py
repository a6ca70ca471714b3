"""The `auditor` command line. It parses options, calls `auditor.service` and sets exit codes; no
logic lives here.

Layout: `commands/<group>.py` holds one group of commands and a `register(app)` that adds them;
`commands/__init__.py` lists those modules (`GROUPS`); `_common.py` holds what they share (the
`guarded` decorator, shared options, colour, the progress line). See CONTRIBUTING.md, "Adding a
command".

Exit codes (`auditor.vocab.ExitCode`): 0 pass; 1 findings at or above --fail-on; 2 bad input or
usage; 3 audit incomplete (some model unresolved) when nothing worse was found.
"""

from __future__ import annotations

import sys
from typing import Annotated, Protocol, cast

import typer

from auditor import __version__
from auditor.cli._common import colour_disabled_by_environment, disable_colour, err
from auditor.cli.commands import GROUPS
from auditor.cli.commands.audit import audit  # the command function (its options are read by tests)
from auditor.vocab import ExitCode

__all__ = ["app", "audit", "main"]

app = typer.Typer(
    name="auditor",
    help="License compliance and provenance auditor for open-weight AI models.\n\n"
    "Example: auditor audit examples/auditor.yaml --snapshot examples/snapshot --out audit-out",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

for _group in GROUPS:
    _group.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"auditor {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _main(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    no_color: Annotated[
        bool,
        typer.Option("--no-color", help="No colour in the output; also when NO_COLOR is set or stdout is not "
                                        "a terminal."),
    ] = False,
) -> None:
    """License compliance and provenance auditor for open-weight AI models."""
    if no_color or colour_disabled_by_environment():
        disable_colour(ctx)


class _ClickError(Protocol):
    """What `main` reads of a click exception."""

    exit_code: int
    ctx: typer.Context | None

    def format_message(self) -> str: ...


def _click_error_types() -> tuple[type[Exception], type[Exception]]:
    """(UsageError, ClickException) of the click typer runs on. Recent typer versions carry their own
    copy of click, whose exceptions are not the `click` package's; `typer.BadParameter` is a
    UsageError of whichever click typer uses."""
    bases = {cls.__name__: cls for cls in typer.BadParameter.__mro__}
    return bases["UsageError"], bases["ClickException"]


def main() -> None:
    """Run the app; a usage error (unknown option, bad number…) is one line and exit 2, as all bad input."""
    usage_error, click_error = _click_error_types()
    try:
        code = app(standalone_mode=False)
    except usage_error as exc:
        error = cast(_ClickError, exc)
        if type(exc).__name__ == "NoArgsIsHelpError":  # `auditor` or `auditor rules` alone (click >= 8.2)
            typer.echo(error.format_message(), err=True)
        else:
            where = f" (see `{error.ctx.command_path} --help`)" if error.ctx is not None else ""
            err(f"{error.format_message()}{where}")
        sys.exit(ExitCode.USAGE)
    except typer.Abort:
        err("interrupted")
        sys.exit(ExitCode.INTERRUPTED)
    except click_error as exc:
        error = cast(_ClickError, exc)
        err(error.format_message())
        sys.exit(error.exit_code)
    sys.exit(code if isinstance(code, int) else ExitCode.OK)
