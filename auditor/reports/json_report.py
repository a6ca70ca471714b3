"""`json` format: the `AuditResult` itself (sorted keys, 2-space indent, trailing newline).

Written piece by piece (`_common.write_canonical_json`): one audited model, graph node or edge at
a time, never a second copy of the whole result; a file is written by a second thread while the next
piece is encoded (`_common.background_writes`).
"""

from __future__ import annotations

import io
from typing import IO

from auditor.model import AuditResult
from auditor.reports._common import background_writes, write_canonical_json


def write(result: AuditResult, fp: IO[bytes], *, manifest_path: str | None = None) -> None:
    del manifest_path  # the result carries its own `manifest`
    with background_writes(fp) as put:  # a file is written by a second thread while the next bytes are encoded
        write_canonical_json(result, put)


def render(result: AuditResult, *, manifest_path: str | None = None) -> bytes:
    buffer = io.BytesIO()
    write(result, buffer, manifest_path=manifest_path)
    return buffer.getvalue()
