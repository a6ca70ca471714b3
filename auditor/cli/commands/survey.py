"""`auditor survey`: a license study of every Hub model matching a filter, by family."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from auditor.cli._common import (
    ConcurrencyOpt,
    DepthOpt,
    EndpointOpt,
    NoCacheOpt,
    QuietOpt,
    RefreshOpt,
    RulesOpt,
    guarded,
    source_options,
)
from auditor.errors import AuditorError
from auditor.vocab import DISTRIBUTIONS

if TYPE_CHECKING:
    from auditor.survey import Survey
    from auditor.survey.listing import Page

SURVEY_FORMATS = ("json", "md", "html")  # auditor.survey.render.FORMATS (kept light: this module loads with --help)
_LABELS = {"distribution": "--distribution", "regions": "--region", "purposes": "--purpose"}


def register(app: typer.Typer) -> None:
    app.command()(survey)


def _formats(value: str, out: Path) -> list[str]:
    names = list(SURVEY_FORMATS) if value.strip() == "all" else [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in SURVEY_FORMATS]
    if unknown or not names:
        from auditor.vocab import suggest

        close = suggest(unknown[0], SURVEY_FORMATS) if unknown else []
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise AuditorError(f"--format {value!r}: choose from {', '.join(SURVEY_FORMATS)} or all.{hint}")
    if str(out) == "-" and len(names) > 1:
        raise AuditorError("--out -: stdout takes one format; give --format json or --format md")
    if str(out) != "-" and out.exists() and not out.is_dir():
        raise AuditorError(f"--out {out}: exists and is not a folder. Give a folder, or - for stdout.")
    return list(dict.fromkeys(names))


def _page_progress(quiet: bool) -> Callable[[Page, int], None] | None:
    if quiet:
        return None

    def report(page: Page, models: int) -> None:
        where = "cache" if page.cached else "Hub"
        typer.echo(f"survey: page {page.number} from the {where}: {len(page.models):,} models "
                   f"({models:,} read so far)", err=True)

    return report


def _write(data: dict[str, object], formats: list[str], out: Path, quiet: bool) -> None:
    from auditor.survey.render import FORMATS, render

    if str(out) == "-":
        typer.echo(render(data, formats[0]), nl=False)
        return
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = out / FORMATS[fmt]
        path.write_text(render(data, fmt), encoding="utf-8")
        written.append(str(path))
    if not quiet:
        typer.echo(f"reports: {', '.join(written)}", err=True)


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _summary(result: Survey, data: dict[str, object]) -> str:
    totals = data["totals"]
    assert isinstance(totals, dict)
    cases = ", ".join(f"{code} {n:,}" for code, n in totals["cases_by_code"].items())
    return (f"survey: {totals['models']:,} models in {totals['families']:,} families; laundering and conflict "
            f"cases: {cases}\n")


@guarded
def survey(
    author: Annotated[str | None, typer.Option("--author", help="Only this user's or organisation's models.")] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", help="Only models with this Hub tag (repeatable: every tag must hold), e.g. "
                                   "license:apache-2.0 or base_model:finetune:owner/name."),
    ] = None,
    base_model: Annotated[
        str | None,
        typer.Option("--base-model", help="Only the models whose card names this base (the Hub's "
                                          "base_model:<id> tag: its finetunes, adapters, quantizations, merges)."),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Stop after this many models.")] = None,
    page_size: Annotated[int, typer.Option("--page-size", help="Models per request (the Hub's largest: 1000).")] = 1000,
    follow_parents: Annotated[
        bool, typer.Option("--follow-parents", help="Read the parents that are not in the listing (one request "
                                                    "each, cached); without it they are recorded as not read.")
    ] = False,
    commercial: Annotated[
        bool | None, typer.Option("--commercial/--non-commercial", help="Is the use commercial?")
    ] = None,
    distribution: Annotated[
        str | None, typer.Option("--distribution", help=f"{' | '.join(DISTRIBUTIONS)}.")
    ] = None,
    region: Annotated[list[str] | None, typer.Option("--region", help="Domicile and market, e.g. EU,US.")] = None,
    purpose: Annotated[list[str] | None, typer.Option("--purpose", help="Intended purposes (repeatable).")] = None,
    policy: Annotated[Path | None, typer.Option("--policy", help="An organisation policy YAML.")] = None,
    extra: RulesOpt = None,
    formats: Annotated[str, typer.Option("--format", help="json,md,html (or all).")] = "json,md",
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for survey.json / survey.md, or - for stdout "
                                                          "(one format).")] = Path("survey-out"),
    depth: DepthOpt = 10,
    endpoint: EndpointOpt = None,
    no_cache: NoCacheOpt = False,
    refresh: RefreshOpt = False,
    concurrency: ConcurrencyOpt = 8,
    quiet: QuietOpt = False,
) -> None:
    """Survey the Hub: list every model matching a filter a page at a time, build their lineage, evaluate it
    and count the laundering (relabelled, license-conflict) and conflict findings by family (root base model).

    Example: auditor survey --base-model mistralai/Mistral-7B-v0.1 --format md -o -

    Pages are cached with their cursor: an interrupted survey resumes, a warm rerun sends no request.
    """
    from auditor import service
    from auditor.survey import SurveyQuery, run_survey
    from auditor.survey.render import survey_dict

    chosen = _formats(formats, out)
    query = SurveyQuery(author=author, tags=tuple(tag or ()), base_model=base_model, limit=limit,
                        page_size=page_size)
    use = service.declared_use({"commercial": commercial, "distribution": distribution, "regions": region,
                                "purposes": purpose}, labels=_LABELS)
    rules = service.load_rules(extra)
    result = run_survey(query, source_options(None, endpoint, no_cache, refresh), rules, use,
                        service.load_policy(policy, rules), follow_parents=follow_parents, depth=depth,
                        concurrency=concurrency, progress=_page_progress(quiet))
    if not result.listing.facts:
        raise AuditorError(f"the listing at {result.endpoint} matched no model ({query.describe()}): check the "
                           "spelling (owner names, tags and repo ids are case-sensitive)")
    if not quiet:
        typer.echo(f"survey: listing {_n(result.listing.pages, 'page')}, {_n(result.page_requests, 'request')}, "
                   f"{result.page_cache_hits} from the cache; parents: {_n(result.parent_requests, 'request')}",
                   err=True)
    data = survey_dict(result)
    _write(data, chosen, out, quiet)
    if str(out) != "-":
        typer.echo(_summary(result, data), nl=False)
