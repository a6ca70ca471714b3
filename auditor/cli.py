"""The `auditor` command line. It parses, calls the pipeline and sets exit codes; no logic lives here.

Exit codes: 0 pass; 1 findings at or above --fail-on; 2 bad input or usage; 3 audit incomplete
(some model unresolved) when nothing worse was found.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from auditor import __version__
from auditor.vocab import ExitCode

EXIT_USAGE, EXIT_INCOMPLETE = ExitCode.USAGE, ExitCode.INCOMPLETE

app = typer.Typer(
    name="auditor",
    help="License compliance and provenance auditor for open-weight AI models.\n\n"
    "Example: auditor audit examples/auditor.yaml --snapshot examples/snapshot --out audit-out",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
snapshot_app = typer.Typer(
    help="Record metadata for offline, repeatable audits.\n\n"
    "Example: auditor snapshot record Qwen/Qwen2.5-7B-Instruct --out snap/",
    no_args_is_help=True,
    rich_markup_mode=None,
)
cache_app = typer.Typer(
    help="The on-disk metadata cache ($AUDITOR_CACHE_DIR moves it).\n\nExample: auditor cache info",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(snapshot_app, name="snapshot")
app.add_typer(cache_app, name="cache")

F = TypeVar("F", bound=Callable[..., Any])


from auditor.errors import AuditorError as UserError  # noqa: E402


def _err(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def guarded(func: F) -> F:
    """Turn every expected failure into a one-line message and exit 2; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from auditor.errors import known_errors

        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except known_errors() as exc:
            _err(str(exc))
            raise typer.Exit(EXIT_USAGE) from None
        except BrokenPipeError:
            # `auditor … | head`: the reader went away. Say nothing more (not even at exit).
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(ExitCode.BROKEN_PIPE) from None
        except OSError as exc:  # a file we were told to read or write: bad input, not a bug
            where = f"{exc.filename}: " if exc.filename else ""
            _err(f"{where}{exc.strerror or exc}. Check the path and its permissions.")
            raise typer.Exit(EXIT_USAGE) from None
        except KeyboardInterrupt:
            _err("interrupted")
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except Exception as exc:  # last resort: one line, never a traceback
            if os.environ.get("AUDITOR_DEBUG"):
                raise
            _err(f"internal error (a bug in the auditor, please report it): {type(exc).__name__}: {exc} "
                 "(set AUDITOR_DEBUG=1 for a traceback)")
            raise typer.Exit(ExitCode.INTERNAL) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"auditor {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """License compliance and provenance auditor for open-weight AI models."""


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
ConcurrencyOpt = Annotated[int, typer.Option("--concurrency", min=1, max=64, help="Requests in flight.")]


def _source_options(
    snapshot: Path | None, endpoint: str | None, no_cache: bool, refresh: bool
) -> Any:
    from auditor.pipeline import SourceOptions

    return SourceOptions(snapshot=snapshot, endpoint=endpoint, no_cache=no_cache, refresh=refresh)


def _progress() -> Any:
    """A progress callback on stderr when it is a terminal; None otherwise."""
    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int, current: str) -> None:
        sys.stderr.write(f"\rresolving lineage: {done}/{total} models  {current[:60]:<60}")
        if done >= total:
            sys.stderr.write("\r" + " " * 100 + "\r")
        sys.stderr.flush()

    return report


def _without_run_stats(graph: Any) -> Any:
    """The graph without this run's request/cache counters: those differ between a cold run, a warm
    run and a snapshot replay, and would make results that should be identical differ."""
    return graph.model_copy(update={"requests": 0, "cache_hits": 0})


def _stats_line(graph: Any) -> str:
    def count(n: int, noun: str) -> str:
        return f"{n} {noun}{'' if n == 1 else 's'}"

    unresolved = sum(1 for n in graph.nodes if n.unresolved is not None)
    return (f"lineage: {count(len(graph.nodes), 'model')} ({unresolved} unresolved), "
            f"{count(graph.requests, 'Hub request')}, {count(graph.cache_hits, 'cache hit')}")


def _parse_refs(refs: list[str]) -> list[Any]:
    from auditor.lineage import RefError, parse_ref

    try:
        return [parse_ref(r) for r in refs]
    except RefError as exc:
        raise UserError(str(exc)) from None


# --------------------------------------------------------------------------- lineage


@app.command()
@guarded
def lineage(
    refs: Annotated[list[str], typer.Argument(help="Hub repo ids (owner/name[@revision]) or model folders.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="tree | json | dot | graphml")] = "tree",
    depth: DepthOpt = 10,
    snapshot: SnapshotOpt = None,
    endpoint: EndpointOpt = None,
    no_cache: NoCacheOpt = False,
    refresh: RefreshOpt = False,
    concurrency: ConcurrencyOpt = 8,
) -> None:
    """Resolve a model's provenance: every ancestor, its declared license and the relation.

    Example: auditor lineage unsloth/Llama-3.2-11B-Vision-Instruct --format tree

    Exit code 3 when some model could not be read (the graph is incomplete).
    """
    from auditor.lineage_render import FORMATS, render
    from auditor.pipeline import build_source, resolve_lineage

    if fmt not in FORMATS:
        raise UserError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    source = build_source(_source_options(snapshot, endpoint, no_cache, refresh))
    graph = resolve_lineage(
        _parse_refs(refs), source, depth=depth, concurrency=concurrency, progress=_progress()
    )
    label = _rule_label() if fmt == "tree" else None  # only the tree shows rule ids
    typer.echo(render(_without_run_stats(graph), fmt, label), nl=False)
    if any(n.unresolved is not None for n in graph.nodes):
        raise typer.Exit(EXIT_INCOMPLETE)


def _rule_label() -> Any:
    """Label tree nodes with the declared license and the rule id it normalises to."""
    from auditor.lineage_render import declared_text
    from auditor.rules.loader import load_rules
    from auditor.rules.normalize import normalise_declared

    try:
        rules = load_rules([])
    except Exception:
        return None

    def label(node: Any) -> str:
        raw = declared_text(node)
        if node.facts is None:
            return raw
        ids = normalise_declared(node.facts.declared, rules).rule_ids
        if not ids or ", ".join(ids) == raw:
            return raw
        return f"{raw} → {', '.join(ids)}"

    return label


# --------------------------------------------------------------------------- snapshot


@snapshot_app.command("record")
@guarded
def snapshot_record(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write snapshot.json into.")],
    refs: Annotated[
        list[str] | None, typer.Argument(help="Hub repo ids or model folders to record, with ancestors.")
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option("--manifest", "-m", help="Also record everything `auditor audit MANIFEST` reads."),
    ] = None,
    depth: DepthOpt = 10,
    snapshot: Annotated[  # not $AUDITOR_SNAPSHOT: re-recording must read the Hub unless told otherwise
        Path | None, typer.Option("--snapshot", help="Re-record from another snapshot folder instead of the Hub.")
    ] = None,
    endpoint: EndpointOpt = None,
    no_cache: NoCacheOpt = False,
    refresh: RefreshOpt = False,
) -> None:
    """Record every answer of a crawl, so the audit can be repeated offline, bit for bit.

    The crawl follows the same lineage the audit follows: the curated lineage kept beside the rules
    and, with --manifest, the parents declared in the manifest.

    Example, then a replay that needs no network:

    \b
      auditor snapshot record --manifest auditor.yaml --out snap/
      auditor audit auditor.yaml --snapshot snap/
      auditor snapshot record meta-llama/Llama-3.2-1B ./models/my-adapter --out snap/
      auditor lineage meta-llama/Llama-3.2-1B --snapshot snap/
    """
    from auditor.audit import crawl_entries
    from auditor.pipeline import build_source
    from auditor.sources.snapshot import RecordingSource

    if not refs and manifest is None:
        raise UserError("nothing to record: give model refs, or --manifest auditor.yaml")
    entries: list[Any] = []
    rule_dirs: list[Path] = []
    if manifest is not None:
        from auditor.manifest import load_manifest
        from auditor.manifest_entries import audit_entries

        loaded = load_manifest(manifest)
        entries, rule_dirs = audit_entries(loaded), loaded.rule_dirs
    recorder = RecordingSource(build_source(_source_options(snapshot, endpoint, no_cache, refresh)))
    graph = crawl_entries(entries, recorder, _load_rules(rule_dirs), extra_refs=_parse_refs(refs or []),
                          depth=depth, progress=_progress())
    path = recorder.write(out, __version__)
    unresolved = sum(1 for n in graph.nodes if n.unresolved is not None)
    typer.echo(f"recorded {len(recorder.records)} answers ({unresolved} unresolved) to {path}")


# --------------------------------------------------------------------------- cache


@cache_app.command("info")
@guarded
def cache_info() -> None:
    """Where the metadata cache is and what it holds. Example: auditor cache info"""
    from auditor.sources.cache import MetadataCache, default_cache_dir

    stats = MetadataCache(default_cache_dir()).stats()
    typer.echo(f"path: {stats.path}\nentries: {stats.entries} ({stats.pinned} pinned to a commit)")
    typer.echo(f"size: {stats.size_bytes} bytes")


@cache_app.command("clear")
@guarded
def cache_clear() -> None:
    """Delete every cached entry. Example: auditor cache clear"""
    from auditor.sources.cache import MetadataCache, default_cache_dir

    removed = MetadataCache(default_cache_dir()).clear()
    typer.echo(f"removed {removed} entries")


def main() -> None:
    """Run the app; a usage error (unknown option, bad number…) is one line and exit 2, as all bad input."""
    import click

    try:
        code = app(standalone_mode=False)
    except click.exceptions.UsageError as exc:
        where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        _err(f"{exc.format_message()}{where}")
        sys.exit(ExitCode.USAGE)
    except click.exceptions.Abort:
        _err("interrupted")
        sys.exit(ExitCode.INTERRUPTED)
    except click.exceptions.ClickException as exc:
        _err(exc.format_message())
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


# --------------------------------------------------------------------------- rules, explain

rules_app = typer.Typer(
    help="The license rule files.\n\nExample: auditor rules validate ./legal/rules",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(rules_app, name="rules")
RulesOpt = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="An extra folder of organisation rule files (repeatable)."),
]


def _load_rules(extra: list[Path] | None) -> Any:
    from auditor.rules.loader import load_rules

    return load_rules(extra or [])


@rules_app.command("list")
@guarded
def rules_list(extra: RulesOpt = None) -> None:
    """List every license the rules know. Example: auditor rules list --rules ./legal/rules"""
    ruleset = _load_rules(extra)
    width = max(len(r) for r in ruleset.rules)
    for rule in ruleset.rules.values():
        typer.echo(f"{rule.id:<{width}}  {rule.kind:<15} {rule.spdx:<45} {rule.name}")
    typer.echo(f"{len(ruleset.rules)} licenses, {len(ruleset.lineage)} curated lineage facts; "
               f"rule set {ruleset.version}")


@rules_app.command("validate")
@guarded
def rules_validate(
    dirs: Annotated[list[Path] | None, typer.Argument(help="Folders of rule files (default: the bundled rules).")]
    = None,
) -> None:
    """Check rule files against the schema, with line-numbered errors.

    Example: auditor rules validate ./legal/rules
    """
    from auditor.paths import bundled_rules_dir
    from auditor.rules.loader import validate_dirs

    errors, count = validate_dirs(dirs or [bundled_rules_dir()])
    for error in errors:
        typer.echo(error, err=True)
    if errors:
        typer.echo(f"{len(errors)} error(s) in {count} file(s)", err=True)
        raise typer.Exit(EXIT_USAGE)
    typer.echo(f"{count} rule file(s) valid")


@app.command()
@guarded
def explain(
    license_id: Annotated[str, typer.Argument(metavar="LICENSE", help="A rule id, Hub tag, license_name or SPDX id.")],
    extra: RulesOpt = None,
) -> None:
    """Print a license's terms in plain language, each with the clause it comes from.

    Example: auditor explain llama3.1
    """
    from auditor.rules.normalize import fold
    from auditor.summary import explain_rule

    ruleset = _load_rules(extra)
    rule_id = ruleset.index[0].get(fold(license_id))
    if rule_id is None:
        import difflib

        close = difflib.get_close_matches(license_id.lower(), list(ruleset.rules), n=3)
        hint = f" Did you mean: {', '.join(close)}?" if close else " See `auditor rules list`."
        raise UserError(f"no rule for license {license_id!r}.{hint}")
    typer.echo(explain_rule(ruleset.rules[rule_id], ruleset.sources[rule_id]), nl=False)


# --------------------------------------------------------------------------- check

FailOnOpt = Annotated[
    str, typer.Option("--fail-on", help="Exit 1 on findings at or above: error | warning | never.")
]
FormatsOpt = Annotated[
    str | None,
    typer.Option("--format", help="Reports to write, comma-separated: html,json,spdx-json,spdx-tv,cyclonedx,"
                                  "sarif,markdown,notice (or 'all')."),
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Folder for the reports.")]
QuietOpt = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Print nothing on a clean pass; otherwise only the overall verdict line."),
]


def _check_fail_on(value: str) -> str:
    if value not in ("error", "warning", "never"):
        raise UserError(f"--fail-on {value!r} must be one of: error, warning, never")
    return value


def _check_outputs(formats: str | None, out: Path) -> None:
    """Reject bad --format / --out before any crawling, not after it."""
    if not formats:
        return
    from auditor.pipeline import parse_formats

    parse_formats(formats)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a folder. Give a folder for the reports.")


def _emit(result: Any, formats: str | None, out: Path, fail_on: str, quiet: bool, verbose: bool,
          manifest_path: str | None = None) -> None:
    from auditor.pipeline import write_reports
    from auditor.summary import exit_code, problem_lines, render_summary

    for line in problem_lines(result):
        if not (quiet and line.startswith("warning: ")):  # notices stay in the reports' `notices`
            typer.echo(line, err=True)
    if verbose:
        typer.echo(_stats_line(result.graph), err=True)
    result = result.model_copy(update={"graph": _without_run_stats(result.graph)})
    if formats:
        written = write_reports(result, formats, out, manifest_path=manifest_path)
        if not quiet:
            typer.echo(f"reports: {', '.join(str(p) for p in written)}", err=True)
    typer.echo(render_summary(result, verbose=verbose, quiet=quiet), nl=False)
    raise typer.Exit(exit_code(result, fail_on))


@app.command()
@guarded
def check(
    ref: Annotated[str, typer.Argument(help="A Hub repo id (owner/name[@revision]) or a model folder.")],
    commercial: Annotated[
        bool | None, typer.Option("--commercial/--non-commercial", help="Is the use commercial?")
    ] = None,
    mau: Annotated[int | None, typer.Option("--mau", min=0, help="Monthly active users.")] = None,
    revenue: Annotated[int | None, typer.Option("--revenue", min=0, help="Annual revenue in USD.")] = None,
    distribution: Annotated[
        str | None, typer.Option("--distribution", help="internal | saas | weights (weights = redistributed).")
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
    out: OutOpt = Path("audit-out"),
    depth: DepthOpt = 10,
    snapshot: SnapshotOpt = None,
    endpoint: EndpointOpt = None,
    no_cache: NoCacheOpt = False,
    refresh: RefreshOpt = False,
    quiet: QuietOpt = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print every finding with its fix.")] = False,
) -> None:
    """One model, one answer: what it owes and forbids for your declared use.

    Example: auditor check meta-llama/Llama-3.1-8B-Instruct --commercial --mau 2000000 --distribution saas --region EU
    """
    from auditor.audit import AuditEntry, run_audit
    from auditor.pipeline import build_source

    _check_fail_on(fail_on)
    _check_outputs(formats, out)
    use = _declared_use(
        commercial=commercial, monthly_active_users=mau, annual_revenue_usd=revenue, distribution=distribution,
        regions=region, domicile=domicile, markets=market, purposes=purpose,
    )
    ruleset = _load_rules(extra)
    org_policy = _load_policy(policy, ruleset)
    source = build_source(_source_options(snapshot, endpoint, no_cache, refresh))
    result = run_audit(
        [AuditEntry(ref=_parse_refs([ref])[0])], source, ruleset, use, org_policy, depth=depth,
        policy_name=str(policy) if policy else None, progress=_progress(),
    )
    _emit(result, formats, out, fail_on, quiet, verbose)


def _load_policy(path: Path | None, rules: Any) -> Any:
    if path is None:
        return None
    from auditor.policy import load_policy

    return load_policy(path, rules)


_OPTION_OF = {"monthly_active_users": "--mau", "annual_revenue_usd": "--revenue", "regions": "--region",
              "markets": "--market", "domicile": "--domicile", "purposes": "--purpose",
              "distribution": "--distribution"}


def _declared_use(**fields: Any) -> Any:
    """The declared use from command-line options, validated against the vocabulary."""
    from pydantic import ValidationError

    from auditor.model import DeclaredUse

    given = {k: v for k, v in fields.items() if v not in (None, [])}
    try:
        return DeclaredUse.model_validate(given)
    except ValidationError as exc:
        error = exc.errors()[0]
        option = _OPTION_OF.get(str(error["loc"][0]), str(error["loc"][0]))
        raise UserError(f"{option}: {error['msg']}") from None


# --------------------------------------------------------------------------- report, schema


@app.command()
@guarded
def report(
    result_json: Annotated[Path, typer.Argument(metavar="RESULT.json", help="A saved audit.json.")],
    formats: Annotated[str, typer.Option("--format", help="Comma-separated formats, or 'all'.")] = "all",
    out: OutOpt = Path("audit-out"),
) -> None:
    """Re-render reports from a saved JSON result, without touching the network.

    Example: auditor report audit-out/audit.json --format html,sarif --out again/
    """
    from pydantic import ValidationError

    from auditor.model import AuditResult
    from auditor.pipeline import write_reports

    _check_outputs(formats, out)
    try:
        result = AuditResult.model_validate_json(result_json.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{result_json}: cannot read ({exc.strerror})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "".join(f"{p}: " for p in [".".join(str(p) for p in first["loc"])] if p)
        raise UserError(f"{result_json}: {where}{first['msg']}. Pass an audit.json written by `auditor audit`.") \
            from None
    written = write_reports(result, formats, out, manifest_path=result.manifest)
    typer.echo("\n".join(str(p) for p in written))


schema_app = typer.Typer(
    help="JSON Schemas of the manifest and the result.\n\nExample: auditor schema manifest > auditor.schema.json",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(schema_app, name="schema")
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"  # what pydantic generates


@schema_app.command("result")
@guarded
def schema_result() -> None:
    """The JSON Schema of audit.json. Example: auditor schema result > result.schema.json"""
    import json

    from auditor.model import AuditResult

    schema = {"$schema": JSON_SCHEMA_DIALECT, **AuditResult.model_json_schema()}
    typer.echo(json.dumps(schema, indent=2, sort_keys=True))


@schema_app.command("manifest")
@guarded
def schema_manifest() -> None:
    """The JSON Schema of auditor.yaml. Example: auditor schema manifest > auditor.schema.json"""
    import json

    from auditor.manifest import manifest_json_schema

    schema = {"$schema": JSON_SCHEMA_DIALECT, **manifest_json_schema()}
    typer.echo(json.dumps(schema, indent=2, sort_keys=True))


# --------------------------------------------------------------------------- audit, init, scan


@app.command()
@guarded
def audit(
    manifest: Annotated[Path, typer.Argument(help="The model manifest.")] = Path("auditor.yaml"),
    formats: FormatsOpt = "html,json,spdx-json,cyclonedx,sarif,markdown,notice",
    out: OutOpt = Path("audit-out"),
    fail_on: FailOnOpt = "error",
    depth: DepthOpt = 10,
    snapshot: SnapshotOpt = None,
    endpoint: EndpointOpt = None,
    no_cache: NoCacheOpt = False,
    refresh: RefreshOpt = False,
    concurrency: ConcurrencyOpt = 8,
    quiet: QuietOpt = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print every finding with its fix.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colour (output is plain text anyway).")] = False,
) -> None:
    """The main job: crawl every model's lineage, evaluate it, write the reports, print a summary.

    Example: auditor audit examples/auditor.yaml --snapshot examples/snapshot --out audit-out

    Exit codes: 0 pass; 1 findings at or above --fail-on; 2 bad input; 3 incomplete (a model could
    not be read) when nothing worse was found.
    """
    from auditor.audit import run_audit
    from auditor.manifest import load_manifest
    from auditor.manifest_entries import audit_entries
    from auditor.pipeline import build_source

    _check_fail_on(fail_on)
    _check_outputs(formats, out)
    loaded = load_manifest(manifest)
    ruleset = _load_rules(loaded.rule_dirs)
    org_policy = _load_policy(loaded.policy_path, ruleset)
    source = build_source(_source_options(snapshot, endpoint, no_cache, refresh))
    result = run_audit(
        audit_entries(loaded), source, ruleset, loaded.use, org_policy, depth=depth, concurrency=concurrency,
        product=loaded.product, manifest=str(manifest), policy_name=loaded.policy, progress=_progress(),
    )
    _emit(result, formats, out, fail_on, quiet, verbose, manifest_path=str(manifest))


@app.command()
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
        raise UserError(f"{path}: already exists. Use --force to overwrite it.")
    path.write_text(starter_manifest(), encoding="utf-8")
    typer.echo(f"wrote {path}; edit `use:` and `models:`, then run `auditor audit {path}`")


@app.command()
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
        raise UserError(f"{path}: no such file or folder")
    hits = scan_path(path)
    if fmt == "text":
        for hit in hits:
            typer.echo(f"{hit.file}:{hit.line}: {hit.ref} ({hit.kind})")
    elif fmt == "yaml":
        typer.echo(proposed_manifest_entries(hits), nl=False)
    else:
        raise UserError(f"--format {fmt!r} must be yaml or text")
    typer.echo(f"{len({h.ref for h in hits})} model reference(s) in {len({h.file for h in hits})} file(s)", err=True)


# --------------------------------------------------------------------------- vocab

VOCAB_LISTS = ("codes", "purposes", "regions", "severities", "distributions", "relations", "kinds", "exit-codes")


@app.command()
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

        raise UserError(str(unknown_value("list", which, VOCAB_LISTS, "LIST")).replace(
            "See `auditor vocab LIST` for the list", f"Choose one of: {', '.join(VOCAB_LISTS)}"))
    typer.echo(render_vocab(which), nl=False)
