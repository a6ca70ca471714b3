"""`json` format: the `AuditResult` itself (sorted keys, 2-space indent, trailing newline).

Written piece by piece (`_common.write_canonical_json`): one audited model, graph node or edge at
a time, never a second copy of the whole result.
"""

from __future__ import annotations

import io
from typing import IO

from auditor.model import AuditResult
from auditor.reports._common import write_canonical_json


def write(result: AuditResult, fp: IO[bytes], *, manifest_path: str | None = None) -> None:
    del manifest_path  # the result carries its own `manifest`
    write_canonical_json(result, fp.write)


def render(result: AuditResult, *, manifest_path: str | None = None) -> bytes:
    buffer = io.BytesIO()
    write(result, buffer, manifest_path=manifest_path)
    return buffer.getvalue()
