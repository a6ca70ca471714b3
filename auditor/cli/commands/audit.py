"""`auditor audit`, `auditor check` and `auditor report`: audit results and their reports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from auditor.cli._common import (
    DEFAULT_FORMATS_ARG,
    FORMATS_HELP,
    CheckOutOpt,
    ConcurrencyOpt,
    DepthOpt,
    EndpointOpt,
    FailOnOpt,
    FormatsOpt,
    NoCacheOpt,
    OutOpt,
    QuietOpt,
    RefreshOpt,
    RulesOpt,
    SnapshotOpt,
    VerboseOpt,
    disable_colour,
    guarded,
    painter,
    progress,
    source_options,
)
from auditor.vocab import DISTRIBUTIONS

if TYPE_CHECKING:
    from auditor.lock import LockFile
    from auditor.model import AuditResult


def register(app: typer.Typer) -> None:
    app.command()(check)
    app.command()(report)
    app.command()(audit)


def _emit(ctx: typer.Context, result: AuditResult, formats: str | None, out: Path, fail_on: str, *,
          quiet: bool, verbose: bool, manifest_path: str | None = None) -> NoReturn:
    """Problems and (with --verbose) run statistics on stderr, the reports into `out`, the summary on
    stdout; exit with the code the result and --fail-on give."""
    from auditor import service
    from auditor.pipeline import write_reports
    from auditor.reports.base import write_stdout
    from auditor.summary import exit_code, problem_lines, render_summary

    for line in problem_lines(result):
        if not (quiet and line.startswith("warning: ")):  # notices stay in the reports' `notices`
            typer.echo(line, err=True)
    if verbose:
        typer.echo(service.run_stats(result.graph), err=True)
    result = service.without_run_stats(result)
    if service.is_stdout(out):  # the report is stdout's only content; the summary goes to stderr
        write_stdout(result, service.check_stdout_formats(formats), manifest_path=manifest_path)
        typer.echo(render_summary(result, verbose=verbose, quiet=quiet, style=None), nl=False, err=True)
        raise typer.Exit(exit_code(result, fail_on))
    if formats:
        written = write_reports(result, formats, out, manifest_path=manifest_path)
        if not quiet:
            typer.echo(f"reports: {', '.join(str(p) for p in written)}", err=True)
    typer.echo(render_summary(result, verbose=verbose, quiet=quiet, style=painter(ctx)), nl=False)
    raise typer.Exit(exit_code(result, fail_on))


# The command-line option of each declared-use field, to name it in an error.
_OPTION_OF = {"monthly_active_users": "--mau", "annual_revenue_usd": "--revenue", "regions": "--region",
              "markets": "--market", "domicile": "--domicile", "purposes": "--purpose",
              "distribution": "--distribution", "production": "--production", "registered": "--registered",
              "trains_on_outputs": "--trains-on-outputs",
              "monthly_active_users_at_release": "--mau-at-release"}


def _mau_at_release(items: list[str] | None) -> object:
    """`--mau-at-release N` (one count for every license that asks) or `--mau-at-release llama3.1=N`
    (repeatable): the value of `monthly_active_users_at_release`, validated by the declared use."""
    if not items:
        return None
    if len(items) == 1 and "=" not in items[0]:
        return items[0]
    pairs = [item.partition("=") for item in items]
    return {key.strip(): count.strip() if sep else item for (key, sep, count), item in zip(pairs, items, strict=True)}


@guarded
def check(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="A Hub repo id (owner/name[@revision]), a model folder, a GGUF file "
                                            "(PATH.gguf) or an Ollama tag (ollama:NAME[:TAG]).")],
    commercial: Annotated[
        bool | None, typer.Option("--commercial/--non-commercial", help="Is the use commercial?")
    ] = None,
    mau: Annotated[int | None, typer.Option("--mau", min=0, help="Monthly active users.")] = None,
    revenue: Annotated[int | None, typer.Option("--revenue", min=0, help="Annual revenue in USD.")] = None,
    distribution: Annotated[
        str | None,
        typer.Option("--distribution", help=f"{' | '.join(DISTRIBUTIONS)} (weights = redistributed)."),
    ] = None,
    region: Annotated[
        list[str] | None,
        typer.Option("--region", help="Shorthand for --domicile and --market together, e.g. EU,US or Germany."),
    ] = None,
    domicile: Annotated[
        list[str] | None,
        typer.Option("--domicile", help="Where your organisation is domiciled (ISO code, name, EU or EEA; "
                                        "comma lists). See `auditor vocab regions`."),
    ] = None,
    market: Annotated[
        list[str] | None,
        typer.Option("--market", help="Where the product is offered or used (same values as --domicile)."),
    ] = None,
    purpose: Annotated[
        list[str] | None,
        typer.Option("--purpose", help="Intended purposes, repeatable or comma-separated. See `auditor vocab "
                                       "purposes`."),
    ] = None,
    policy: Annotated[Path | None, typer.Option("--policy", help="An organisation policy YAML.")] = None,
    extra: RulesOpt = None,
    fail_on: FailOnOpt = "error",
    formats: FormatsOpt = None,
    production: Annotated[
        bool | None,
        typer.Option("--production/--non-production",
                     help="Is the use production (live use with end users), or only research, evaluation or testing?"),
    ] = None,
    registered: Annotated[
        list[str] | None,
        typer.Option("--registered", help="Licensors you registered with for commercial use, by Hub organisation "
                                          "(repeatable or comma-separated)."),
    ] = None,
    trains_on_outputs: Annotated[
        bool | None,
        typer.Option("--trains-on-outputs/--no-trains-on-outputs",
                     help="Do you use the model's outputs to train or improve another model (distillation, "
                          "synthetic data)?"),
    ] = None,
    mau_at_release: Annotated[
        list[str] | None,
        typer.Option("--mau-at-release", help="Monthly active users in the calendar month before a license's "
                                              "release date (Llama, Tencent Hunyuan): N for every such license, "
                                              "or LICENSE=N, repeatable (e.g. llama3.1=0)."),
    ] = None,
    out: CheckOutOpt = None,
    depth: DepthOpt = 10,
    snapshot: SnapshotOpt = None,
    endpoint: EndpointOpt = None,
    no_cache: NoCacheOpt = False,
    refresh: RefreshOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    what_if: Annotated[
        bool, typer.Option("--what-if", help="Instead of one answer, the verdict under every distribution × "
                                             "commercial × EU-or-not × user and revenue band (as `auditor matrix`); "
                                             "the other declared fields are kept.")
    ] = False,
) -> None:
    """One model, one answer: what it owes and forbids for your declared use.

    Example: auditor check meta-llama/Llama-3.1-8B-Instruct --commercial --mau 2000000 --distribution saas --region EU

    With one machine-readable --format and no --out, that report is printed to stdout (the summary
    goes to stderr): auditor check MODEL --format json | jq .verdict
    """
    from auditor import service

    service.check_fail_on(fail_on)
    target = service.output_target(formats, out, default=Path("audit-out"), single_to_stdout=True)
    use = service.declared_use(
        {"commercial": commercial, "monthly_active_users": mau, "annual_revenue_usd": revenue,
         "distribution": distribution, "regions": region, "domicile": domicile, "markets": market,
         "purposes": purpose, "production": production, "registered": registered,
         "trains_on_outputs": trains_on_outputs,
         "monthly_active_users_at_release": _mau_at_release(mau_at_release)},
        labels=_OPTION_OF,
    )
    result = service.check_model(
        ref, use, source_options(snapshot, endpoint, no_cache, refresh), rule_dirs=extra, policy=policy,
        depth=depth, progress=progress(),
    )
    if what_if:
        _what_if(result, ref, extra, policy)
        return
    _emit(ctx, result, formats, target, fail_on, quiet=quiet, verbose=verbose)


def _what_if(result: AuditResult, ref: str, extra: list[Path] | None, policy: Path | None) -> None:
    """`check --what-if`: the matrix of uses for the lineage just read (exit 0: it answers a question)."""
    from auditor import service, whatif

    rules = service.load_rules(extra)
    cells = whatif.matrix(result, rules, service.load_policy(policy, rules))
    typer.echo(whatif.render_text(cells, f"What-if: {ref}"), nl=False)


@guarded
def report(
    result_json: Annotated[Path, typer.Argument(metavar="RESULT.json", help="A saved audit.json.")],
    formats: Annotated[str, typer.Option("--format", help=FORMATS_HELP)] = "all",
    out: OutOpt = Path("audit-out"),
) -> None:
    """Re-render reports from a saved JSON result, without touching the network.

    Example: auditor report audit-out/audit.json --format html,sarif --out again/
    """
    from auditor import service
    from auditor.pipeline import write_reports
    from auditor.reports.base import write_stdout

    service.check_outputs(formats, out)
    result = service.load_result(result_json)
    if service.is_stdout(out):
        write_stdout(result, service.check_stdout_formats(formats), manifest_path=result.manifest)
        return
    written = write_reports(result, formats, out, manifest_path=result.manifest)
    typer.echo("\n".join(str(p) for p in written))


def _lock_for(manifest: Path, given: Path | None, *, quiet: bool) -> LockFile | None:
    """The lock to read at: `--lock`, else auditor.lock beside the manifest; say when the manifest moved."""
    from auditor import lock as locking

    path = given or locking.default_path(manifest)
    if given is None and not path.is_file():
        return None
    loaded = locking.load_lock(path)
    if not quiet:
        stale = manifest.is_file() and locking.file_sha256(manifest) != loaded.manifest_sha256
        note = (" (the manifest changed since: models it added are read at their latest commit; run "
                f"`auditor lock {manifest}`)") if stale else ""
        typer.echo(f"lock: {path}, {len(loaded.pins())} pinned references{note}", err=True)
    return loaded


@guarded
def audit(
    ctx: typer.Context,
    manifest: Annotated[Path, typer.Argument(help="The model manifest.")] = Path("auditor.yaml"),
    formats: FormatsOpt = DEFAULT_FORMATS_ARG,
    out: OutOpt = Path("audit-out"),
    fail_on: FailOnOpt = "error",
    depth: DepthOpt = 10,
    snapshot: SnapshotOpt = None,
    endpoint: EndpointOpt = None,
    no_cache: NoCacheOpt = False,
    refresh: RefreshOpt = False,
    concurrency: ConcurrencyOpt = 8,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="No colour (as `auditor --no-color audit`, or NO_COLOR set).")
    ] = False,
    lock: Annotated[
        Path | None, typer.Option("--lock", help="Read each model at its commit in this lock file (default: "
                                                  "auditor.lock beside the manifest, when there is one).")
    ] = None,
    no_lock: Annotated[bool, typer.Option("--no-lock", help="Ignore auditor.lock; read the latest commits.")] = False,
    ollama: Annotated[
        bool, typer.Option("--ollama", help="Also audit every tag in the local Ollama store ($OLLAMA_MODELS, "
                                            "default ~/.ollama/models).")
    ] = False,
) -> None:
    """The main job: crawl every model's lineage, evaluate it, write the reports, print a summary.

    Example: auditor audit examples/auditor.yaml --snapshot examples/snapshot --out audit-out

    Exit codes: 0 pass; 1 findings at or above --fail-on; 2 bad input; 3 incomplete (a model could
    not be read) when nothing worse was found.
    """
    from auditor import service

    if no_color:
        disable_colour(ctx)
    service.check_fail_on(fail_on)
    service.check_outputs(formats, out)
    result = service.audit_manifest(
        manifest, source_options(snapshot, endpoint, no_cache, refresh), depth=depth, concurrency=concurrency,
        progress=progress(), ollama=ollama,
        lock=None if no_lock else _lock_for(manifest, lock, quiet=quiet),
    )
    _emit(ctx, result, formats, out, fail_on, quiet=quiet, verbose=verbose, manifest_path=str(manifest))
