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
    """1-based line of the YAML node at a pydantic error location (best effort): the line of the
    last key named in the location (an unknown key is reported where it is written)."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
            if pair is None:
                return line
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


# libyaml's safe loader when PyYAML was built with it (about 10x faster), else the pure-Python one.
# Both construct only plain data: this is what `yaml.safe_load` does, with a faster parser.
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _safe_load(text: str) -> Any:
    loader = _SAFE_LOADER(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _compose(text: str) -> yaml.Node | None:
    loader = _SAFE_LOADER(text)
    try:
        node: yaml.Node | None = loader.get_single_node()
        return node
    finally:
        loader.dispose()


def _parse_yaml(path: Path) -> tuple[Any, str]:
    if path.stat().st_size > MAX_RULE_BYTES:
        raise RuleError(f"{path}: larger than {MAX_RULE_BYTES} bytes; a rule file is small data")
    text = path.read_text(encoding="utf-8")
    try:
        data = _safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise RuleError(f"{path}{line}: {problem}. Fix the YAML syntax.") from None
    return data, text


def _validate(path: Path, model: type[BaseModel]) -> tuple[BaseModel | None, list[str]]:
    """Validate one file; return the object and every error as a one-line message."""
    try:
        data, text = _parse_yaml(path)
    except RuleError as exc:
        return None, [str(exc)]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{path}: unreadable ({exc}). Check the file."]
    if not isinstance(data, dict):
        return None, [f"{path}:1: the file must be a YAML mapping of fields (see auditor/rules/schema.py)"]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        node = _compose(text)  # only now: line numbers for the messages
        messages = []
        for error in exc.errors():
            loc = [p for p in error["loc"]]
            field_path = ".".join(str(p) for p in loc) or "(top level)"
            line = _line_of(node, loc)
            hint = "remove it or check its spelling" if error["type"] == "extra_forbidden" else "fix the value"
            messages.append(f"{path}:{line or 1}: {field_path}: {error['msg']} ({hint})")
        return None, messages


@dataclass
class _Scan:
    """Every rule file of some folders, validated once."""

    errors: list[str] = field(default_factory=list)
    count: int = 0
    rules: list[tuple[int, Path, LicenseRule]] = field(default_factory=list)  # (folder index, file, rule)
    lineage: list[tuple[Path, LineageFact]] = field(default_factory=list)


def validate_dirs(dirs: Iterable[Path]) -> tuple[list[str], int]:
    """Every error in every rule file of these folders; and how many files were checked."""
    scan = _scan(dirs)
    return scan.errors, scan.count


def _scan(dirs: Iterable[Path]) -> _Scan:
    scan = _Scan()
    errors = scan.errors
    seen: dict[str, Path] = {}
    aliases: dict[str, tuple[str, Path]] = {}
    for index, directory in enumerate(dirs):
        if not directory.is_dir():
            errors.append(f"{directory}: not a folder of rule files")
            continue
        for path in sorted(directory.glob("*.yaml")):
            scan.count += 1
            rule, problems = _validate(path, LicenseRule)
            errors.extend(problems)
            if isinstance(rule, LicenseRule):
                scan.rules.append((index, path, rule))
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
            scan.count += 1
            fact, problems = _validate(path, LineageFact)
            errors.extend(problems)
            if isinstance(fact, LineageFact):
                scan.lineage.append((path, fact))
    return scan


def _alias_keys(rule: LicenseRule) -> list[str]:
    from auditor.rules.normalize import fold, fold_link

    keys = [fold(rule.id), *(fold(a) for a in rule.aliases.tags + rule.aliases.names)]
    keys += [f"link:{fold_link(a)}" for a in rule.aliases.links]
    return sorted(set(keys))


def load_rules(extra_dirs: Iterable[Path] = ()) -> RuleSet:
    """The bundled rules, then each organisation folder (a same id replaces the bundled rule)."""
    scan = _scan([bundled_rules_dir(), *extra_dirs])
    if scan.errors:
        errors = scan.errors
        more = f" (and {len(errors) - 1} more; run `auditor rules validate`)" if len(errors) > 1 else ""
        raise RuleError(errors[0] + more)
    rules: dict[str, LicenseRule] = {}
    sources: dict[str, str] = {}
    overridden: list[str] = []
    digest = hashlib.sha256()
    for index, path, rule in scan.rules:
        if rule.id in rules and index > 0:
            overridden.append(rule.id)
        rules[rule.id] = rule
        sources[rule.id] = str(path)
        digest.update(path.read_bytes())
    for path, _fact in scan.lineage:
        digest.update(path.read_bytes())
    return RuleSet(
        rules=dict(sorted(rules.items())),
        lineage=[fact for _path, fact in scan.lineage],
        digest=digest.hexdigest(),
        sources=sources,
        overridden=sorted(set(overridden)),
    )
