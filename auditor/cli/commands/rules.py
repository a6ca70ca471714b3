"""`auditor rules list|validate` and `auditor explain`: the license rule files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from auditor.cli._common import RulesOpt, guarded, sub_app
from auditor.vocab import ExitCode

rules_app = sub_app("The license rule files.\n\nExample: auditor rules validate ./legal/rules")


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
    app.command()(explain)


@rules_app.command("list")
@guarded
def rules_list(extra: RulesOpt = None) -> None:
    """List every license the rules know; `text` marks a rule that bundles the license's full text.

    Example: auditor rules list --rules ./legal/rules
    """
    from auditor import service

    ruleset = service.load_rules(extra)
    width = max(len(r) for r in ruleset.rules)
    for rule in ruleset.rules.values():
        typer.echo(f"{rule.id:<{width}}  {rule.kind:<15} {_text_marker(rule.text_file)} {rule.spdx:<45} {rule.name}")
    texts = sum(rule.text_file is not None for rule in ruleset.rules.values())
    facts = len(ruleset.lineage) + len(ruleset.license_facts)
    typer.echo(f"{len(ruleset.rules)} licenses, {facts} curated lineage facts, "
               f"{texts} full license texts; rule set {ruleset.version}")


def _text_marker(text_file: str | None) -> str:
    """`text` where the rule bundles the full license text, `-` where it does not."""
    return "text" if text_file is not None else "-   "


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
        raise typer.Exit(ExitCode.USAGE)
    typer.echo(f"{count} rule file(s) valid")


@guarded
def explain(
    license_id: Annotated[str, typer.Argument(metavar="LICENSE", help="A rule id, Hub tag, license_name or SPDX id.")],
    extra: RulesOpt = None,
) -> None:
    """Print a license's terms in plain language, each with the clause it comes from.

    Example: auditor explain llama3.1
    """
    from auditor import service
    from auditor.summary import explain_rule

    ruleset = service.load_rules(extra)
    rule_id = service.find_rule(ruleset, license_id)
    typer.echo(explain_rule(ruleset.rules[rule_id], ruleset.sources[rule_id]), nl=False)
