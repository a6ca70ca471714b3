"""What every command module shares: the `guarded` decorator, the shared options, colour and the
progress line.

Importing this module must stay cheap (typer, the vocabulary, the reporter registry): every heavy
module is imported inside the commands that need it.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer

from auditor.reports.base import DEFAULT_FORMATS, REPORTERS
from auditor.vocab import FAIL_ON, ExitCode

if TYPE_CHECKING:
    from auditor.pipeline import SourceOptions

P = ParamSpec("P")
R = TypeVar("R")


def err(message: str) -> None:
    """One `error: …` line on stderr."""
    typer.echo(f"error: {message}", err=True)


def _required_parameters(func: Callable[..., object]) -> list[str]:
    """Parameters without a default: the command's required arguments."""
    import inspect

    return [name for name, param in inspect.signature(func).parameters.items()
            if param.default is inspect.Parameter.empty]


def guarded(func: Callable[P, R]) -> Callable[P, R]:
    """Turn every expected failure into a one-line message and exit 2; never a traceback."""

    required = _required_parameters(func)

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from auditor.errors import known_errors

        missing = [name for name in required if name in kwargs and kwargs[name] is None]
        if missing:  # some typer/click pairs pass None for a missing required argument instead of refusing
            err(f"missing argument {missing[0].upper()} (see `auditor {func.__name__.replace('_', ' ')} --help`)")
            raise typer.Exit(ExitCode.USAGE)
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except known_errors() as exc:
            err(str(exc))
            raise typer.Exit(ExitCode.USAGE) from None
        except BrokenPipeError:
            # `auditor … | head`: the reader went away. Say nothing more (not even at exit).
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(ExitCode.BROKEN_PIPE) from None
        except OSError as exc:  # a file we were told to read or write: bad input, not a bug
            where = f"{exc.filename}: " if exc.filename else ""
            err(f"{where}{exc.strerror or exc}. Check the path and its permissions.")
            raise typer.Exit(ExitCode.USAGE) from None
        except KeyboardInterrupt:
            err("interrupted")
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except Exception as exc:  # last resort: one line, never a traceback
            if os.environ.get("AUDITOR_DEBUG"):
                raise
            err(f"internal error (a bug in the auditor, please report it): {type(exc).__name__}: {exc} "
                "(set AUDITOR_DEBUG=1 for a traceback)")
            raise typer.Exit(ExitCode.INTERNAL) from None

    return wrapper


def sub_app(help_text: str) -> typer.Typer:
    """A command group (`auditor NAME …`); `help_text` ends with an example."""
    return typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None)


# --------------------------------------------------------------------------- shared options

SnapshotOpt = Annotated[
    Path | None,
    typer.Option(
        "--snapshot",
        envvar="AUDITOR_SNAPSHOT",
        help="Read metadata from a recorded snapshot folder instead of the Hub (offline). "
        "Default: $AUDITOR_SNAPSHOT when set.",
    ),
]
DepthOpt = Annotated[int, typer.Option("--depth", min=0, help="How many ancestor levels to follow.")]
EndpointOpt = Annotated[
    str | None, typer.Option("--endpoint", help="Hub endpoint (default: $HF_ENDPOINT or https://huggingface.co).")
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the on-disk cache.")]
RefreshOpt = Annotated[bool, typer.Option("--refresh", help="Ignore cached entries and fetch again.")]
ConcurrencyOpt = Annotated[int, typer.Option(
    "--concurrency", min=1, max=64,
    help="Requests in flight at the start; rises while the Hub answers fast (up to 4x, at most 20 unless "
    "higher), halves on 429/5xx.",
)]
RulesOpt = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="An extra folder of organisation rule files (repeatable)."),
]
FailOnOpt = Annotated[
    str, typer.Option("--fail-on", help=f"Exit 1 on findings at or above: {' | '.join(FAIL_ON)}.")
]
FORMATS_HELP = f"Reports to write, comma-separated: {','.join(REPORTERS)} (or 'all')."
FormatsOpt = Annotated[str | None, typer.Option("--format", help=FORMATS_HELP)]
DEFAULT_FORMATS_ARG = ",".join(DEFAULT_FORMATS)  # what `auditor audit` writes without --format
OUT_HELP = ("Folder for the reports, or - to print one report (json, sarif, spdx-json, cyclonedx or markdown) "
            "to stdout and nothing else.")
OutOpt = Annotated[Path, typer.Option("--out", "-o", help=OUT_HELP)]
CheckOutOpt = Annotated[
    Path | None,
    typer.Option("--out", "-o", help=OUT_HELP + " Default: audit-out, or stdout when --format names one of "
                                                "those formats alone."),
]
QuietOpt = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Print nothing on a clean pass; otherwise only the overall verdict line."),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Print every finding with its fix.")]


def source_options(snapshot: Path | None, endpoint: str | None, no_cache: bool, refresh: bool) -> SourceOptions:
    from auditor.pipeline import SourceOptions

    return SourceOptions(snapshot=snapshot, endpoint=endpoint, no_cache=no_cache, refresh=refresh)


# --------------------------------------------------------------------------- terminal


def progress() -> Callable[[int, int, str], None] | None:
    """A progress callback on stderr when it is a terminal; None otherwise."""
    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int, current: str) -> None:
        sys.stderr.write(f"\rresolving lineage: {done}/{total} models  {current[:60]:<60}")
        if done >= total:
            sys.stderr.write("\r" + " " * 100 + "\r")
        sys.stderr.flush()

    return report


COLOURS: Mapping[str, str] = {  # each verdict and severity (auditor.vocab), as the terminal summary shows it
    "fail": "red", "error": "red", "review": "yellow", "warning": "yellow", "pass": "green", "info": "cyan",
}


def colour_disabled_by_environment() -> bool:
    """NO_COLOR set to anything but the empty string turns colour off (https://no-color.org)."""
    return bool(os.environ.get("NO_COLOR"))


def disable_colour(ctx: typer.Context) -> None:
    """No colour for the rest of this invocation: every `typer.echo` strips ANSI styles."""
    ctx.color = False


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def painter(ctx: typer.Context) -> Callable[[str, str], str] | None:
    """How to colour a verdict or severity word on stdout; None for plain text: stdout is not a
    terminal, or colour is off (`--no-color`, NO_COLOR)."""
    if ctx.color is False or colour_disabled_by_environment():
        return None
    if ctx.color is None and not stdout_is_terminal():
        return None

    def paint(text: str, key: str) -> str:
        return typer.style(text, fg=COLOURS.get(key), bold=key in ("fail", "error") or None)

    return paint
