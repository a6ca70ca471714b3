"""Report renderers (HTML, JSON, SPDX, CycloneDX, SARIF, Markdown, NOTICE).

`auditor.reports.base.REPORTERS` is the registry of formats (name -> `Reporter`); render one with
`auditor.reports.base.render(result, fmt)`. Adding a format: see `auditor/reports/base.py`.
"""

from auditor.reports.base import FORMATS, REPORTERS, Reporter, render, write_reports

__all__ = ["FORMATS", "REPORTERS", "Reporter", "render", "write_reports"]
