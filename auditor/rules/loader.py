"""Load and validate rule files: the bundled `license_rules/` plus organisation folders.

Errors are one line each: `<file>:<line>: <field>: <problem>`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from auditor.errors import AuditorError
from auditor.paths import bundled_rules_dir
from auditor.rules.schema import LicenseRule, LineageFact

MAX_RULE_BYTES = 1024 * 1024


class RuleError(AuditorError):
    """A rule file that does not validate."""


@dataclass(frozen=True, eq=False)
class RuleSet:
    rules: dict[str, LicenseRule]
    lineage: list[LineageFact]
    digest: str
    sources: dict[str, str]  # rule id -> file path
    overridden: list[str] = field(default_factory=list)  # bundled ids replaced by an organisation folder

    def get(self, rule_id: str) -> LicenseRule | None:
        return self.rules.get(rule_id)

    @cached_property
    def index(self) -> tuple[dict[str, str], dict[str, str]]:
        from auditor.rules.normalize import build_index

        return build_index(self.rules)

    @property
    def version(self) -> str:
        from auditor import __version__

        return f"{__version__}+{self.digest[:12]}"


def _line_of(root: yaml.Node | None, loc: Iterable[Any]) -> int | None:
    """1-based line of the YAML node at a pydantic error location (best effort)."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
            if match is None:
                key = next((k for k, _ in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
                return key.start_mark.line + 1 if key is not None else line
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def _parse_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    if path.stat().st_size > MAX_RULE_BYTES:
        raise RuleError(f"{path}: larger than {MAX_RULE_BYTES} bytes; a rule file is small data")
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise RuleError(f"{path}{line}: {problem}. Fix the YAML syntax.") from None
    return data, node


def _validate(path: Path, model: type[BaseModel]) -> tuple[BaseModel | None, list[str]]:
    """Validate one file; return the object and every error as a one-line message."""
    try:
        data, node = _parse_yaml(path)
    except RuleError as exc:
        return None, [str(exc)]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{path}: unreadable ({exc}). Check the file."]
    if not isinstance(data, dict):
        return None, [f"{path}:1: the file must be a YAML mapping of fields (see auditor/rules/schema.py)"]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        messages = []
        for error in exc.errors():
            loc = [p for p in error["loc"]]
            field_path = ".".join(str(p) for p in loc) or "(top level)"
            line = _line_of(node, loc)
            hint = "remove it or check its spelling" if error["type"] == "extra_forbidden" else "fix the value"
            messages.append(f"{path}:{line or 1}: {field_path}: {error['msg']} ({hint})")
        return None, messages


def validate_dirs(dirs: Iterable[Path]) -> tuple[list[str], int]:
    """Every error in every rule file of these folders; and how many files were checked."""
    errors: list[str] = []
    count = 0
    seen: dict[str, Path] = {}
    aliases: dict[str, tuple[str, Path]] = {}
    for directory in dirs:
        if not directory.is_dir():
            errors.append(f"{directory}: not a folder of rule files")
            continue
        for path in sorted(directory.glob("*.yaml")):
            count += 1
            rule, problems = _validate(path, LicenseRule)
            errors.extend(problems)
            if isinstance(rule, LicenseRule):
                if path.stem != rule.id:
                    errors.append(f"{path}:1: id: {rule.id!r} must match the file name {path.stem!r}")
                if rule.id in seen and seen[rule.id].parent == path.parent:
                    errors.append(f"{path}: id {rule.id!r} is also defined in {seen[rule.id]}")
                seen[rule.id] = path
                for alias in _alias_keys(rule):
                    other = aliases.get(alias)
                    if other is not None and other[0] != rule.id and other[1].parent == path.parent:
                        errors.append(f"{path}: alias {alias!r} is also an alias of {other[0]!r} ({other[1]})")
                    aliases[alias] = (rule.id, path)
        for path in sorted((directory / "lineage").glob("*.yaml")):
            count += 1
            errors.extend(_validate(path, LineageFact)[1])
    return errors, count


def _alias_keys(rule: LicenseRule) -> list[str]:
    from auditor.rules.normalize import fold, fold_link

    keys = [fold(rule.id), *(fold(a) for a in rule.aliases.tags + rule.aliases.names)]
    keys += [f"link:{fold_link(a)}" for a in rule.aliases.links]
    return sorted(set(keys))


def load_rules(extra_dirs: Iterable[Path] = ()) -> RuleSet:
    """The bundled rules, then each organisation folder (a same id replaces the bundled rule)."""
    dirs = [bundled_rules_dir(), *extra_dirs]
    errors, _count = validate_dirs(dirs)
    if errors:
        more = f" (and {len(errors) - 1} more; run `auditor rules validate`)" if len(errors) > 1 else ""
        raise RuleError(errors[0] + more)
    rules: dict[str, LicenseRule] = {}
    sources: dict[str, str] = {}
    lineage: list[LineageFact] = []
    overridden: list[str] = []
    digest = hashlib.sha256()
    for index, directory in enumerate(dirs):
        for path in sorted(directory.glob("*.yaml")):
            rule = LicenseRule.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
            if rule.id in rules and index > 0:
                overridden.append(rule.id)
            rules[rule.id] = rule
            sources[rule.id] = str(path)
            digest.update(path.read_bytes())
        for path in sorted((directory / "lineage").glob("*.yaml")):
            lineage.append(LineageFact.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))))
            digest.update(path.read_bytes())
    return RuleSet(
        rules=dict(sorted(rules.items())),
        lineage=lineage,
        digest=digest.hexdigest(),
        sources=sources,
        overridden=sorted(set(overridden)),
    )
