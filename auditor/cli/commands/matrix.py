"""`auditor matrix`: which uses a lineage allows, as one table (what-if)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from auditor.cli._common import (
    DepthOpt,
    EndpointOpt,
    NoCacheOpt,
    RefreshOpt,
    RulesOpt,
    SnapshotOpt,
    guarded,
    progress,
    source_options,
)
from auditor.errors import AuditorError

MATRIX_FORMATS = ("text", "markdown", "json")


def register(app: typer.Typer) -> None:
    app.command()(matrix)


def _saved_policy(path: Path, name: str | None, manifest: str | None) -> Path | None:
    """The policy a saved result was audited with, found beside its manifest; never silently dropped
    (without it, a use the policy denies would show as allowed)."""
    if name is None:
        return None
    candidate = Path(manifest).parent / name if manifest else Path(name)
    if candidate.is_file():
        return candidate
    raise AuditorError(f"{path}: the result was audited with policy {name!r}, which is not at {candidate}; "
                       "pass it with --policy FILE")


@guarded
def matrix(
    target: Annotated[str, typer.Argument(metavar="MANIFEST|RESULT.json|REF",
                                          help="A manifest, a saved audit.json (no network), or one model.")],
    fmt: Annotated[str, typer.Option("--format", help=" | ".join(MATRIX_FORMATS))] = "text",
    policy: Annotated[Path | None, typer.Option("--policy", help="An organisation policy (RESULT.json / REF).")] = None,
    extra: RulesOpt = None,
    depth: DepthOpt = 10,
    snapshot: SnapshotOpt = None,
    endpoint: EndpointOpt = None,
    no_cache: NoCacheOpt = False,
    refresh: RefreshOpt = False,
) -> None:
    """What-if: evaluate the lineage under every combination of distribution (internal / saas / weights),
    commercial or not, in the EU or not, and user and revenue bands around each threshold of its licenses;
    print the verdict of each and its first blocking clause. Other fields of the declared use (purposes,
    production, registrations…) stay as the manifest declares them.

    Example: auditor matrix examples/auditor.yaml --snapshot examples/snapshot
    """
    from auditor import service, whatif

    if fmt not in MATRIX_FORMATS:
        from auditor.vocab import suggest

        close = suggest(fmt, MATRIX_FORMATS)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise AuditorError(f"--format: unknown format {fmt!r}.{hint} Choose one of: {', '.join(MATRIX_FORMATS)}")
    path = Path(target)
    sources = source_options(snapshot, endpoint, no_cache, refresh)
    if path.suffix.lower() == ".json":
        result = service.load_result(path)
        rules = service.load_rules(extra)
        if rules.digest != result.rules.digest:
            typer.echo(f"warning: {path} was audited with rules {result.rules.version}; evaluating with "
                       f"{rules.version}", err=True)
        org_policy = service.load_policy(policy or _saved_policy(path, result.policy, result.manifest), rules)
    elif path.suffix.lower() in (".yaml", ".yml"):
        from auditor.manifest import load_manifest

        loaded = load_manifest(path)
        rules = service.load_rules(loaded.rule_dirs)
        org_policy = service.load_policy(loaded.policy_path, rules)
        result = service.audit_manifest(path, sources, depth=depth, progress=progress())
    else:
        from auditor.model import DeclaredUse

        rules = service.load_rules(extra)
        org_policy = service.load_policy(policy, rules)
        result = service.check_model(target, DeclaredUse(), sources, rule_dirs=extra, policy=policy, depth=depth,
                                     progress=progress())
    cells = whatif.matrix(result, rules, org_policy)
    title = f"What-if: {result.product or target} ({len(result.models)} model{'s' if len(result.models) != 1 else ''})"
    if fmt == "json":
        typer.echo(json.dumps({"target": target, "cells": whatif.as_json(cells)}, indent=2, ensure_ascii=False))
    else:
        typer.echo((whatif.render_markdown if fmt == "markdown" else whatif.render_text)(cells, title), nl=False)
