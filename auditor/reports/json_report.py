"""`json` format: the `AuditResult` itself (sorted keys, 2-space indent, trailing newline)."""

from __future__ import annotations

from auditor.model import AuditResult
from auditor.reports._common import canonical_json


def render(result: AuditResult, *, manifest_path: str | None = None) -> bytes:
    del manifest_path  # the result carries its own `manifest`
    return canonical_json(result).encode("utf-8")
