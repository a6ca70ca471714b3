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

from auditor import yamlio
from auditor.errors import AuditorError
from auditor.paths import bundled_rules_dir
from auditor.rules.schema import LicenseFact, LicenseRule, LineageFact

MAX_RULE_BYTES = yamlio.RULE_LIMITS.max_bytes
MAX_TEXT_BYTES = 1_000_000  # a license text; the longest bundled one is far below this


class RuleError(AuditorError):
    """A rule file that does not validate."""


@dataclass(frozen=True, eq=False)
class RuleSet:
    rules: dict[str, LicenseRule]
    lineage: list[LineageFact]
    digest: str
    sources: dict[str, str]  # rule id -> file path
    overridden: list[str] = field(default_factory=list)  # bundled ids replaced by an organisation folder
    # Curated license facts by lower-case model id: the text a model's shared license name means.
    license_facts: dict[str, LicenseFact] = field(default_factory=dict)

    def get(self, rule_id: str) -> LicenseRule | None:
        return self.rules.get(rule_id)

    def text_path(self, rule_id: str) -> Path | None:
        """The bundled full text of a rule's license, if the rule names one (checked at load)."""
        rule = self.rules.get(rule_id)
        if rule is None or rule.text_file is None:
            return None
        return Path(self.sources[rule_id]).parent / rule.text_file

    def license_text(self, rule_id: str) -> str | None:
        path = self.text_path(rule_id)
        return None if path is None else path.read_text(encoding="utf-8")

    @cached_property
    def index(self) -> tuple[dict[str, str], dict[str, str]]:
        from auditor.rules.normalize import build_index

        return build_index(self.rules)

    @cached_property
    def shared(self) -> dict[str, list[str]]:
        """Folded shared license value -> the rule ids of every text that uses it (the default first)."""
        from auditor.rules.normalize import build_shared

        return build_shared(self.rules)

    @property
    def version(self) -> str:
        from auditor import __version__

        return f"{__version__}+{self.digest[:12]}"


def _parse_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        return yamlio.load(yamlio.read_text(path, yamlio.RULE_LIMITS), str(path), yamlio.RULE_LIMITS)
    except yamlio.YamlError as err:
        raise RuleError(str(err)) from None


def _fact_model(data: dict[str, Any]) -> type[BaseModel]:
    """A file of the lineage folder: a license fact names a `model`, a lineage fact a `child`."""
    return LicenseFact if "model" in data and "child" not in data else LineageFact


def _validate(path: Path, model: type[BaseModel] | None) -> tuple[BaseModel | None, list[str]]:
    """Validate one file (`model` None: a lineage-folder fact of either kind); return the object and every
    error as a one-line message."""
    try:
        data, node = _parse_yaml(path)
    except RuleError as exc:
        return None, [str(exc)]
    if not isinstance(data, dict):
        return None, [f"{path}:1: the file must be a YAML mapping of fields (see auditor/rules/schema.py)"]
    model = model or _fact_model(data)
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        messages = []
        for error in exc.errors():
            loc = [p for p in error["loc"]]
            field_path = ".".join(str(p) for p in loc) or "(top level)"
            line = yamlio.line_of(node, loc)
            if error["type"] == "vocab":
                messages.append(f"{path}:{line}: {field_path}: {error['msg']}")
                continue
            hint = "remove it or check its spelling" if error["type"] == "extra_forbidden" else "fix the value"
            messages.append(f"{path}:{line}: {field_path}: {error['msg']} ({hint})")
        return None, messages


@dataclass
class _Scan:
    """Every rule file of some folders, validated once."""

    errors: list[str] = field(default_factory=list)
    count: int = 0
    rules: list[tuple[int, Path, LicenseRule]] = field(default_factory=list)  # (folder index, file, rule)
    lineage: list[tuple[Path, LineageFact]] = field(default_factory=list)
    license_facts: list[tuple[Path, LicenseFact]] = field(default_factory=list)


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
                errors.extend(_text_problems(path, rule))
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
            fact, problems = _validate(path, None)
            errors.extend(problems)
            if isinstance(fact, LineageFact):
                scan.lineage.append((path, fact))
            elif isinstance(fact, LicenseFact):
                scan.license_facts.append((path, fact))
    errors.extend(_selection_problems(scan))
    return scan


def _selection_problems(scan: _Scan) -> list[str]:
    """Each shared license value has exactly one default text; a license fact names a rule that exists."""
    from auditor.rules.normalize import fold
    from auditor.vocab import suggest

    final: dict[str, tuple[Path, LicenseRule]] = {rule.id: (path, rule) for _i, path, rule in scan.rules}
    groups: dict[str, list[tuple[Path, LicenseRule]]] = {}
    for path, rule in final.values():
        for value in rule.aliases.shared:
            groups.setdefault(fold(value), []).append((path, rule))
    problems = []
    for value, members in sorted(groups.items()):
        defaults = [rule.id for _p, rule in members if rule.aliases.shared_default]
        if len(defaults) != 1:
            path = members[0][0]
            problems.append(f"{path}:1: aliases.shared: {value!r} is shared by {sorted(r.id for _p, r in members)} "
                            f"and {len(defaults)} of them set aliases.shared_default (exactly one must: the "
                            "stricter reading)")
    for path, fact in scan.license_facts:
        if fact.license not in final:
            close = suggest(fact.license, final)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            problems.append(f"{path}:1: license: {fact.license!r} is no rule id.{hint}")
    return problems


def _text_problems(path: Path, rule: LicenseRule) -> list[str]:
    """A named license text must exist beside the rule, be UTF-8 and of a sane size."""
    if rule.text_file is None:
        return []
    text = path.parent / rule.text_file
    where = f"{path}:1: text_file: {rule.text_file!r}"
    if not text.is_file():
        return [f"{where} does not exist (put the license text there or remove the field)"]
    size = text.stat().st_size
    if not 0 < size <= MAX_TEXT_BYTES:
        return [f"{where} is {size} bytes (a license text must be 1 to {MAX_TEXT_BYTES} bytes)"]
    try:
        content = text.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        return [f"{where} is not UTF-8 (byte {err.start}); re-save it as UTF-8"]
    return _unquoted_copyright(path, rule, content)


def _unquoted_copyright(path: Path, rule: LicenseRule, content: str) -> list[str]:
    """Each `copyright` line must be quoted verbatim from the license text (whitespace folded)."""
    folded = " ".join(content.split())
    return [f"{path}:1: copyright[{i}]: {line!r} is not in {rule.text_file} (quote the text's own line verbatim)"
            for i, line in enumerate(rule.copyright) if " ".join(line.split()) not in folded]


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
        if rule.text_file is not None:
            digest.update((path.parent / rule.text_file).read_bytes())
    for path in [p for p, _f in scan.lineage] + [p for p, _f in scan.license_facts]:
        digest.update(path.read_bytes())
    return RuleSet(
        rules=dict(sorted(rules.items())),
        lineage=[fact for _path, fact in scan.lineage],
        digest=digest.hexdigest(),
        sources=sources,
        overridden=sorted(set(overridden)),
        license_facts={fact.model.lower(): fact for _path, fact in scan.license_facts},
    )
