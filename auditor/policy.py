"""Organisation policy as code: allow / review / deny by license id (globs), severity overrides, waivers.

Modeled on OSS Review Toolkit: a waiver (ORT's "resolution") needs a justification, an approver and
an expiry date; an expired waiver stops applying and says so.

The format is in README.md (section Policy) and in `examples/policy.yaml`.

Every value is checked: codes and severities against the vocabulary, license ids against the rules
(a misspelt id is an error with the closest ids; a glob matching no rule is a notice).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError
from pydantic_core import PydanticCustomError

from auditor import vocab, yamlio
from auditor.errors import AuditorError
from auditor.vocab import Severity

if TYPE_CHECKING:
    from auditor.rules.loader import RuleSet

_GLOB_CHARS = set("*?[")


class PolicyError(AuditorError):
    """A policy file that does not validate."""


def _vocab(check: Any) -> Any:
    def run(value: str) -> str:
        try:
            check(value)
        except vocab.VocabError as err:
            raise PydanticCustomError("vocab", str(err)) from None
        return value

    return run


CodeName = Annotated[str, AfterValidator(_vocab(vocab.check_code))]


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    model: str = Field(min_length=1)  # model id (glob allowed); a former name of a renamed repo matches too
    code: CodeName  # finding code
    license: str | None = None  # optionally only for this license (rule id)
    justification: str = Field(min_length=10)
    approver: str = Field(min_length=1)
    expires: dt.date


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    allow: list[str] = Field(default_factory=list)
    review: list[str] = Field(default_factory=list)
    deny: list[str] = Field(default_factory=list)
    severity: dict[CodeName, Severity] = Field(default_factory=dict)
    waivers: list[Waiver] = Field(default_factory=list)

    _file: str = PrivateAttr(default="")
    _lines: dict[tuple[str | int, ...], int] = PrivateAttr(default_factory=dict)

    @property
    def file(self) -> str:
        return self._file

    def line(self, *loc: str | int) -> int:
        """1-based line of a key or list item (1 when unknown)."""
        return self._lines.get(tuple(loc), 1)


def matches_any(value: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in patterns)


def classify(license_id: str, policy: Policy) -> Literal["deny", "review", "allow", "unlisted"]:
    """Deny wins over review, review over allow. With an allow list, anything unlisted needs review."""
    if matches_any(license_id, policy.deny):
        return "deny"
    if matches_any(license_id, policy.review):
        return "review"
    if matches_any(license_id, policy.allow):
        return "allow"
    return "unlisted"


def waiver_matches(waiver: Waiver, names: Iterable[str]) -> str | None:
    """The first of a model's names (id, then former names) the waiver's model glob matches."""
    return next((n for n in names if fnmatch.fnmatchcase(n.lower(), waiver.model.lower())), None)


def find_waiver(policy: Policy, names: list[str], code: str, license_id: str | None) -> tuple[Waiver, str] | None:
    """The waiver for a finding of a model known by `names`, with the name it matched."""
    for waiver in policy.waivers:
        if waiver.code != code or (waiver.license is not None and waiver.license != license_id):
            continue
        name = waiver_matches(waiver, names)
        if name is not None:
            return waiver, name
    return None


# --------------------------------------------------------------------------- loading


def _line_map(node: Any) -> dict[tuple[str | int, ...], int]:
    """Line of each key / list item, two levels deep (enough for allow/deny entries and waivers)."""
    import yaml

    lines: dict[tuple[str | int, ...], int] = {}
    if not isinstance(node, yaml.MappingNode):
        return lines
    for key, value in node.value:
        lines[(key.value,)] = key.start_mark.line + 1
        items = value.value if isinstance(value, yaml.SequenceNode | yaml.MappingNode) else []
        for index, item in enumerate(items):
            sub = item[0] if isinstance(item, tuple) else item
            lines[(key.value, sub.value if isinstance(item, tuple) else index)] = sub.start_mark.line + 1
    return lines


def _license_entry_error(entry: str, rules: RuleSet) -> str | None:
    """An allow/review/deny entry that is no rule id (a glob is checked later, as a notice)."""
    if _GLOB_CHARS & set(entry) or entry.lower() in rules.rules:
        return None
    canonical = rules.index[0].get(entry.strip().lower().replace(" ", "-").replace("_", "-"))
    if canonical is not None:
        return f"'{entry}' is an alias of the rule id '{canonical}'. Write '{canonical}'"
    close = vocab.suggest(entry, rules.rules)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown license id '{entry}'.{hint} See `auditor rules list` for the ids"


def _check_license_ids(policy: Policy, rules: RuleSet) -> None:
    for key in ("allow", "review", "deny"):
        for index, entry in enumerate(getattr(policy, key)):
            problem = _license_entry_error(entry, rules)
            if problem:
                raise PolicyError(f"{policy.file}:{policy.line(key, index)}: {key}[{index}]: {problem}")
    for index, waiver in enumerate(policy.waivers):
        if waiver.license is not None and waiver.license not in rules.rules:
            problem = _license_entry_error(waiver.license, rules) or f"unknown license id '{waiver.license}'"
            raise PolicyError(f"{policy.file}:{policy.line('waivers', index)}: waivers[{index}].license: {problem}")


def unused_globs(policy: Policy, rules: RuleSet) -> list[tuple[int, str]]:
    """(line, message) for each allow/review/deny glob that matches no rule id."""
    found = []
    for key in ("allow", "review", "deny"):
        for index, entry in enumerate(getattr(policy, key)):
            if _GLOB_CHARS & set(entry) and not any(fnmatch.fnmatchcase(r, entry.lower()) for r in rules.rules):
                found.append((policy.line(key, index), f"{key}[{index}]: '{entry}' matches no license rule id"))
    return found


def _validation_error(err: ValidationError, file: str, node: Any) -> PolicyError:
    error = err.errors()[0]
    loc = tuple(error["loc"])
    line = yamlio.line_of(node, loc)
    where = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(loc))
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        allowed = list(Waiver.model_fields if "waivers" in loc else Policy.model_fields)
        close = vocab.suggest(str(loc[-1]), allowed)
        message = f"unknown key{f'. Did you mean {close[0]!r}?' if close else ''} (allowed: {', '.join(allowed)})"
    elif error["type"] == "literal_error":
        message = f"invalid value {error.get('input')!r}: {message}"
    return PolicyError(f"{file}:{line}: {where or 'policy'}: {message}. See the Policy section of README.md")


def load_policy(path: Path, rules: RuleSet | None = None) -> Policy:
    """Read and validate a policy file; with `rules`, license ids are checked against them too."""
    file = str(path)
    text = yamlio.read_text(path, yamlio.POLICY_LIMITS)
    try:
        data, node = yamlio.load(text, file, yamlio.POLICY_LIMITS)
    except yamlio.YamlError as err:
        raise PolicyError(str(err)) from None
    if data is None:
        return Policy()
    if not isinstance(data, dict):
        raise PolicyError(f"{file}:1: policy: a policy is a mapping with allow/review/deny/severity/waivers")
    try:
        policy = Policy.model_validate(data)
    except ValidationError as err:
        raise _validation_error(err, file, node) from None
    policy._file = file
    policy._lines = _line_map(node)
    if rules is not None:
        _check_license_ids(policy, rules)
    return policy
