"""The report interface: one name per format, one `render` call, renderers imported lazily.

Importing this module stays cheap (no jinja2, spdx-tools or cyclonedx at import time): each
renderer module is imported only when its format is rendered.

Every renderer is a function `render(result, *, manifest_path=None) -> bytes` and is
deterministic: the same `AuditResult` gives byte-identical output (times come from
`result.generated_at`, identifiers from the result's content, never from the clock or uuid4).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from auditor.model import AuditResult


@dataclass(frozen=True)
class FormatSpec:
    """A report format: the file it is written to and where its renderer lives."""

    file_name: str
    renderer: str  # "module.path:function"
    description: str = ""


FORMATS: dict[str, FormatSpec] = {
    "html": FormatSpec("audit.html", "auditor.reports.html:render", "self-contained HTML report"),
    "json": FormatSpec("audit.json", "auditor.reports.json_report:render", "the AuditResult as JSON"),
    "spdx-json": FormatSpec("audit.spdx.json", "auditor.reports.spdx:render_json", "SPDX 2.3 JSON"),
    "spdx-tv": FormatSpec("audit.spdx", "auditor.reports.spdx:render_tag_value", "SPDX 2.3 tag-value"),
    "cyclonedx": FormatSpec("audit.cdx.json", "auditor.reports.cyclonedx:render", "CycloneDX 1.6 JSON"),
    "sarif": FormatSpec("audit.sarif", "auditor.reports.sarif:render", "SARIF 2.1.0"),
    "markdown": FormatSpec("audit.md", "auditor.reports.markdown:render", "PR-comment summary"),
    "notice": FormatSpec("NOTICE.txt", "auditor.reports.notice:render", "attribution notices"),
}

Renderer = Callable[..., bytes]


def renderer_for(fmt: str) -> Renderer:
    """Import and return the renderer function of `fmt` (raises KeyError for an unknown format)."""
    try:
        spec = FORMATS[fmt]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise KeyError(f"unknown report format {fmt!r} (known: {known})") from None
    module_name, _, func_name = spec.renderer.partition(":")
    module = importlib.import_module(module_name)
    return cast(Renderer, getattr(module, func_name))


def render(result: AuditResult, fmt: str, *, manifest_path: str | None = None) -> bytes:
    """Render `result` in format `fmt` and return the file's bytes."""
    return renderer_for(fmt)(result, manifest_path=manifest_path)


def write_reports(
    result: AuditResult,
    out_dir: str | Path,
    formats: Iterable[str] | None = None,
    *,
    manifest_path: str | None = None,
) -> dict[str, Path]:
    """Render each format into `out_dir` under its file name; returns format -> path written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for fmt in formats if formats is not None else FORMATS:
        data = render(result, fmt, manifest_path=manifest_path)  # KeyError for an unknown format
        path = out / FORMATS[fmt].file_name
        path.write_bytes(data)
        written[fmt] = path
    return written
