"""What each command does, as plain functions: the CLI parses options and calls one of these.

Every step between "the options a user gave" and "a result to print" lives here or deeper in the
pipeline, never in `auditor/cli/`: loading a manifest with its rules and policy, the declared use of
`auditor check`, recording a snapshot, reading a saved result. Bad input raises `AuditorError`, whose
message names the input and the fix; the CLI prints it as one line and exits 2.

Importing this module loads the pipeline (pydantic, the engine…): the CLI imports it inside its
commands, never at the top, so `auditor --help` stays fast.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from auditor import __version__
from auditor.audit import AuditEntry, crawl_entries, run_audit
from auditor.errors import AuditorError
from auditor.lineage import RefError, parse_ref
from auditor.model import AuditResult, DeclaredUse, LineageGraph, ModelRef, NodeRecord
from auditor.pipeline import SourceOptions, build_source, parse_formats, resolve_lineage
from auditor.policy import Policy
from auditor.rules import loader
from auditor.rules.loader import RuleSet
from auditor.vocab import FAIL_ON

if TYPE_CHECKING:
    from auditor.lock import LockFile

Progress = Callable[[int, int, str], None]
Label = Callable[[NodeRecord], str]


# --------------------------------------------------------------------------- inputs


def parse_refs(refs: Iterable[str]) -> list[ModelRef]:
    """Model references as typed on the command line (`owner/name[@revision]` or a folder)."""
    try:
        return [parse_ref(r) for r in refs]
    except RefError as exc:
        raise AuditorError(str(exc)) from None


def load_rules(extra_dirs: Sequence[Path] | None = None) -> RuleSet:
    """The bundled license rules plus an organisation's folders."""
    return loader.load_rules(list(extra_dirs or []))  # looked up at call time: tests swap it


def load_policy(path: Path | None, rules: RuleSet) -> Policy | None:
    if path is None:
        return None
    from auditor.policy import load_policy as load

    return load(path, rules)


def check_fail_on(value: str) -> str:
    """`--fail-on`: a severity or `never`."""
    if value not in FAIL_ON:
        raise AuditorError(f"--fail-on {value!r} must be one of: {', '.join(FAIL_ON)}")
    return value


def check_outputs(formats: str | None, out: Path) -> None:
    """Reject a bad `--format` / `--out` before any crawling, not after it (`--out -`: standard
    output, one machine-readable format)."""
    if is_stdout(out):
        check_stdout_formats(formats)
        return
    if not formats:
        return
    parse_formats(formats)
    if out.exists() and not out.is_dir():
        raise AuditorError(f"--out {out}: exists and is not a folder. Give a folder for the reports.")


def is_stdout(out: Path | None) -> bool:
    """`--out -`: the report goes to standard output."""
    from auditor.reports.base import STDOUT

    return out is not None and str(out) == STDOUT


def check_stdout_formats(formats: str | None) -> str:
    """The one format `--out -` prints; an error unless exactly one machine-readable format is asked."""
    from auditor.reports.base import STDOUT_FORMATS

    choices = ", ".join(STDOUT_FORMATS)
    names = parse_formats(formats) if formats else []
    if len(names) != 1:
        given = f"{len(names)} formats ({', '.join(names)})" if names else "no --format"
        raise AuditorError(f"--out -: standard output takes exactly one report, got {given}. Give one --format "
                           f"({choices}), or --out FOLDER for several")
    if names[0] not in STDOUT_FORMATS:
        raise AuditorError(f"--out -: the {names[0]} report is written to a file only. Print one of {choices}, "
                           f"or give --out FOLDER")
    return names[0]


def output_target(formats: str | None, out: Path | None, *, default: Path, single_to_stdout: bool = False) -> Path:
    """Where the reports go: `out` as given (`-` for standard output), else, with `single_to_stdout`
    (`auditor check`) and a single machine-readable `--format`, standard output, else `default`.
    Checked before any crawling (`check_outputs`)."""
    from auditor.reports.base import STDOUT, STDOUT_FORMATS

    if out is None:
        names = parse_formats(formats) if formats else []
        single = single_to_stdout and len(names) == 1 and names[0] in STDOUT_FORMATS
        out = Path(STDOUT) if single else default
    check_outputs(formats, out)
    return out


def declared_use(fields: Mapping[str, object], labels: Mapping[str, str] | None = None) -> DeclaredUse:
    """The declared use from separate values (unset: None or []), validated against the vocabulary.
    An invalid value is an error naming it as `labels` does (e.g. the command-line option)."""
    given = {k: v for k, v in fields.items() if v is not None and v != []}
    try:
        return DeclaredUse.model_validate(given)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0])
        raise AuditorError(f"{(labels or {}).get(name, name)}: {error['msg']}") from None


def licensor_problems(use: DeclaredUse, rules: RuleSet) -> list[tuple[int, str]]:
    """(index, problem) for each `registered` licensor that no loaded rule asks registration with: it would
    change nothing, and is most likely misspelt."""
    from auditor.vocab import suggest

    known = sorted({org for rule in rules.rules.values() if rule.commercial.registration_required
                    for org in rule.registration_licensors})
    problems = []
    for index, name in enumerate(use.registered or []):
        if name not in known:
            close = suggest(name, known)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else " Remove it."
            problems.append((index, f"no license rule asks for registration with {name!r}.{hint} Licensors that "
                                    f"require registration: {', '.join(known) or 'none'}"))
    return problems


def release_count_problems(use: DeclaredUse, rules: RuleSet) -> list[tuple[str, str]]:
    """(key, problem) for each license id in `monthly_active_users_at_release` that no loaded rule measures at
    its release date: the count would answer nothing, and the id is most likely misspelt."""
    from auditor.vocab import suggest

    declared = use.monthly_active_users_at_release
    if not isinstance(declared, dict):
        return []
    known = sorted(rule.id for rule in rules.rules.values()
                   if any(t.measured_at == "release_date" for t in rule.thresholds))
    problems = []
    for key in declared:
        if key not in known:
            close = suggest(key, known)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else " Remove it."
            problems.append((key, f"no license rule measures users at its release date under the id {key!r}.{hint} "
                                  f"Licenses that do: {', '.join(known) or 'none'}"))
    return problems


# --------------------------------------------------------------------------- audit, check


def ollama_entries(listed: Sequence[AuditEntry]) -> list[AuditEntry]:
    """`--ollama`: an entry for every tag in the local Ollama store that the manifest does not list."""
    from auditor.sources.ollama import list_tags, store_dir

    store = store_dir()
    tags = list_tags(store)
    if not tags:
        raise AuditorError(f"--ollama: the Ollama store {store} holds no tags. Pull one (`ollama pull NAME`) or "
                           "set OLLAMA_MODELS to the store that has them")
    keys = {entry.ref.key for entry in listed}
    refs = [ModelRef(kind="ollama", id=name.short) for name in tags]
    return [AuditEntry(ref=ref) for ref in refs if ref.key not in keys]


def audit_manifest(
    manifest: Path,
    source: SourceOptions,
    *,
    depth: int = 10,
    concurrency: int = 8,
    progress: Progress | None = None,
    lock: LockFile | None = None,
    ollama: bool = False,
) -> AuditResult:
    """`auditor audit`: the manifest, its rules and policy, then every model's lineage, evaluated (each
    Hub node at its commit in `lock`, when given; with `ollama`, every tag of the local Ollama store too)."""
    from auditor.manifest import load_manifest
    from auditor.manifest_entries import audit_entries

    loaded = load_manifest(manifest)
    rules = load_rules(loaded.rule_dirs)
    for index, problem in licensor_problems(loaded.use, rules)[:1]:
        raise loaded.error_at(("use", "registered", index), problem)
    for key, problem in release_count_problems(loaded.use, rules)[:1]:
        raise loaded.error_at(("use", "monthly_active_users_at_release", key), problem)
    policy = load_policy(loaded.policy_path, rules)
    entries = audit_entries(loaded)
    entries += ollama_entries(entries) if ollama else []
    source = replace(source, rule_dirs=tuple(loaded.rule_dirs))
    built = build_source(source)
    if lock is not None:
        from auditor.lock import PinnedSource

        built = PinnedSource(built, lock.pins())
    return run_audit(
        entries, built, rules, loaded.use, policy, depth=depth,
        concurrency=concurrency, product=loaded.product, manifest=str(manifest), policy_name=loaded.policy,
        progress=progress,
    )


def check_model(
    ref: str,
    use: DeclaredUse,
    source: SourceOptions,
    *,
    rule_dirs: Sequence[Path] | None = None,
    policy: Path | None = None,
    depth: int = 10,
    progress: Progress | None = None,
) -> AuditResult:
    """`auditor check`: one model audited for a declared use."""
    rules = load_rules(rule_dirs)
    for _, problem in licensor_problems(use, rules)[:1]:
        raise AuditorError(f"--registered: {problem}")
    for _, problem in release_count_problems(use, rules)[:1]:
        raise AuditorError(f"--mau-at-release: {problem}")
    org_policy = load_policy(policy, rules)
    built = build_source(replace(source, rule_dirs=tuple(rule_dirs or ())))
    return run_audit(
        [AuditEntry(ref=parse_refs([ref])[0])], built, rules, use, org_policy, depth=depth,
        policy_name=str(policy) if policy else None, progress=progress,
    )


def without_run_stats(result: AuditResult) -> AuditResult:
    """The result without this run's request/cache counters: those differ between a cold run, a warm
    run and a snapshot replay, and would make results that should be identical differ."""
    return result.model_copy(update={"graph": graph_without_run_stats(result.graph)})


def graph_without_run_stats(graph: LineageGraph) -> LineageGraph:
    return graph.model_copy(update={"requests": 0, "cache_hits": 0})


def run_stats(graph: LineageGraph) -> str:
    """This run's crawl statistics, one line."""

    def count(n: int, noun: str) -> str:
        return f"{n} {noun}{'' if n == 1 else 's'}"

    unresolved = sum(1 for n in graph.nodes if n.unresolved is not None)
    return (f"lineage: {count(len(graph.nodes), 'model')} ({unresolved} unresolved), "
            f"{count(graph.requests, 'Hub request')}, {count(graph.cache_hits, 'cache hit')}")


def load_result(path: Path) -> AuditResult:
    """A saved `audit.json`, validated."""
    try:
        return AuditResult.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AuditorError(f"{path}: cannot read ({exc.strerror})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "".join(f"{p}: " for p in [".".join(str(p) for p in first["loc"])] if p)
        raise AuditorError(f"{path}: {where}{first['msg']}. Pass an audit.json written by `auditor audit`.") \
            from None


# --------------------------------------------------------------------------- lineage, snapshot


def lineage(
    refs: Iterable[str],
    source: SourceOptions,
    *,
    depth: int = 10,
    concurrency: int = 8,
    progress: Progress | None = None,
) -> LineageGraph:
    """`auditor lineage`: the provenance graph of some models (the Hub's lineage only)."""
    built = build_source(source)
    return resolve_lineage(parse_refs(refs), built, depth=depth, concurrency=concurrency, progress=progress)


def rule_label() -> Label | None:
    """A tree-node label: the declared license and the rule id it normalises to (None without rules)."""
    from auditor.lineage_render import declared_text
    from auditor.rules.normalize import normalise_declared

    try:
        rules = load_rules()
    except Exception:
        return None

    def label(node: NodeRecord) -> str:
        raw = declared_text(node)
        if node.facts is None:
            return raw
        ids = normalise_declared(node.facts.declared, rules).rule_ids
        if not ids or ", ".join(ids) == raw:
            return raw
        return f"{raw} → {', '.join(ids)}"

    return label


@dataclass(frozen=True)
class Recording:
    """What `record_snapshot` wrote."""

    path: Path
    answers: int
    unresolved: int


def record_snapshot(
    out: Path,
    source: SourceOptions,
    *,
    refs: Sequence[str] = (),
    manifest: Path | None = None,
    depth: int = 10,
    progress: Progress | None = None,
) -> Recording:
    """`auditor snapshot record`: crawl what the audit of `manifest` (and `refs`) reads, recording
    every answer, and write it to `out`."""
    from auditor.sources.snapshot import RecordingSource

    if not refs and manifest is None:
        raise AuditorError("nothing to record: give model refs, or --manifest auditor.yaml")
    entries: list[AuditEntry] = []
    rule_dirs: list[Path] = []
    if manifest is not None:
        from auditor.manifest import load_manifest
        from auditor.manifest_entries import audit_entries

        loaded = load_manifest(manifest)
        entries, rule_dirs = audit_entries(loaded), loaded.rule_dirs
    recorder = RecordingSource(build_source(source))
    rules = load_rules(rule_dirs)
    graph = crawl_entries(entries, recorder, rules, extra_refs=parse_refs(refs), depth=depth, progress=progress)
    path = recorder.write(out, __version__)
    unresolved = sum(1 for n in graph.nodes if n.unresolved is not None)
    return Recording(path=path, answers=len(recorder.records), unresolved=unresolved)


# --------------------------------------------------------------------------- lock


def lock_manifest(
    manifest: Path,
    source: SourceOptions,
    *,
    depth: int = 10,
    concurrency: int = 8,
    progress: Progress | None = None,
) -> LockFile:
    """`auditor lock`: crawl what the audit of `manifest` reads and pin every node to the commit read."""
    from auditor.lock import build_lock
    from auditor.manifest import load_manifest
    from auditor.manifest_entries import audit_entries

    loaded = load_manifest(manifest)
    rules = load_rules(loaded.rule_dirs)
    graph = crawl_entries(audit_entries(loaded), build_source(source), rules, depth=depth,
                          concurrency=concurrency, progress=progress)
    return build_lock(graph, manifest, rules.version, rules.digest)


# --------------------------------------------------------------------------- rules


def find_rule(rules: RuleSet, license_id: str) -> str:
    """The rule id a license name, Hub tag or SPDX id stands for; an error with close matches otherwise."""
    from auditor.rules.normalize import fold

    rule_id = rules.index[0].get(fold(license_id))
    if rule_id is None:
        close = difflib.get_close_matches(license_id.lower(), list(rules.rules), n=3)
        hint = f" Did you mean: {', '.join(close)}?" if close else " See `auditor rules list`."
        raise AuditorError(f"no rule for license {license_id!r}.{hint}")
    return rule_id
