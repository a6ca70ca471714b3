"""Organisation policy as code: allow / review / deny by license id (globs), severity overrides, waivers.

Modeled on OSS Review Toolkit: a waiver (ORT's "resolution") needs a justification, an approver and
an expiry date; an expired waiver stops applying and says so.

```yaml
allow: [apache-2.0, mit, "llama3*"]
review: ["cc-by-4.0"]
deny: ["cc-by-nc-*", "agpl-3.0"]
severity: {license-conflict: error}
waivers:
  - model: example-org/support-bot
    code: needs-input
    justification: Purposes reviewed by legal in ticket LEGAL-42
    approver: jane.doe@example.com
    expires: 2027-06-30
```
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from auditor.errors import AuditorError

SeverityName = Literal["error", "warning", "info"]


class PolicyError(AuditorError):
    """A policy file that does not validate."""


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    model: str = Field(min_length=1)  # model id (glob allowed)
    code: str = Field(min_length=1)  # finding code
    license: str | None = None  # optionally only for this license
    justification: str = Field(min_length=10)
    approver: str = Field(min_length=1)
    expires: dt.date


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    allow: list[str] = Field(default_factory=list)
    review: list[str] = Field(default_factory=list)
    deny: list[str] = Field(default_factory=list)
    severity: dict[str, SeverityName] = Field(default_factory=dict)
    waivers: list[Waiver] = Field(default_factory=list)


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


def find_waiver(policy: Policy, model: str, code: str, license_id: str | None) -> Waiver | None:
    for waiver in policy.waivers:
        if waiver.code != code or not fnmatch.fnmatchcase(model, waiver.model):
            continue
        if waiver.license is not None and waiver.license != license_id:
            continue
        return waiver
    return None


def load_policy(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the policy file ({exc.strerror}). Check the path.") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise PolicyError(f"{path}{line}: invalid YAML. Fix the syntax.") from None
    if data is None:
        return Policy()
    if not isinstance(data, dict):
        raise PolicyError(f"{path}:1: a policy is a mapping with allow/review/deny/severity/waivers")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        from auditor.rules.loader import _line_of

        error = exc.errors()[0]
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        line_no = _line_of(node, error["loc"]) or 1
        where = ".".join(str(p) for p in error["loc"])
        raise PolicyError(f"{path}:{line_no}: {where}: {error['msg']}. See the Policy section of README.md for the format.") from None
