"""Test helper: an `audit.json` (schema 1.3) read with every model's findings whole, as reports read it.

Schema 1.3 keeps the findings about a lineage node once, in `lineage_findings` (`auditor/findings.py`); tests that ask
what a model was found to have read them through the same resolution the reports use."""

from __future__ import annotations

import json
from typing import Any

from auditor.findings import resolved
from auditor.model import AuditResult
from auditor.reports._common import canonical_json


def whole_json(data: dict[str, Any]) -> dict[str, Any]:
    """The audit.json data with each model's `findings` complete (nothing left in `lineage_findings`)."""
    data = json.loads(canonical_json(resolved(AuditResult.model_validate(data))))
    return data
