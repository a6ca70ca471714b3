"""Report renderers (HTML, JSON, SPDX, CycloneDX, SARIF, Markdown, NOTICE).

Use `auditor.reports.base.render(result, fmt)`; see `FORMATS` there for the format names.
"""

from auditor.reports.base import FORMATS, FormatSpec, render, write_reports

__all__ = ["FORMATS", "FormatSpec", "render", "write_reports"]
