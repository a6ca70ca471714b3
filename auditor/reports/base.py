"""The report interface and the registry of report formats.

A format is a `Reporter`: a name (`--format NAME`), the file it is written to, a one-line
description and a `render(result, *, manifest_path=None) -> bytes` call. `REPORTERS` is the
registry, keyed by name, in the order the formats are listed and written. The format list of
`--format`, the README's formats table and the tests all come from it.

Adding a format is one new file plus one registration line:

1. `auditor/reports/<name>.py` with `def render(result: AuditResult, *, manifest_path: str | None = None)
   -> bytes`. It must be deterministic: the same `AuditResult` gives byte-identical output (times
   from `result.generated_at`, identifiers from the result's content, never the clock or uuid4),
   and it must never fetch or read rule files (everything it shows is in the result).
2. One `Reporter(...)` line in `_REGISTERED` below.
   A format whose file can be large may also have a streaming writer, `def write(result, fp, *,
   manifest_path=None) -> None` writing the same bytes to a binary file (`writer=` in its
   registration); `write_reports` then uses it, so the file is never held in memory whole.
3. Its tests: `UPDATE_GOLDEN=1 python -m pytest tests/test_reports.py tests/test_reporters_registry.py`
   writes its golden file and the README's formats table; review the diff.

Importing this module stays cheap (no pydantic, jinja2, spdx-tools or cyclonedx): a reporter's
module is imported only when its format is rendered, so `auditor --help` stays fast.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import IO, TYPE_CHECKING, cast

if TYPE_CHECKING:
    from auditor.model import AuditResult

Renderer = Callable[..., bytes]
Writer = Callable[..., None]


@dataclass(frozen=True)
class Reporter:
    """One report format.

    `target` is where the render function lives, as "module.path:function"; it is imported on the
    first `render` call, not when the registry is built. `default` formats are the ones
    `auditor audit` writes when no `--format` is given. `writer`, when set, is a streaming writer
    ("module.path:function", `write(result, fp, *, manifest_path=None)`) of the same bytes.
    """

    name: str
    file_name: str
    description: str  # one line, shown in the README's formats table
    target: str  # "module.path:function"
    default: bool = True
    writer: str | None = None  # "module.path:function"

    @property
    def extension(self) -> str:
        """The file name's extension(s): `.html`, `.spdx.json`, `.txt`."""
        return "".join(Path(self.file_name).suffixes)

    def renderer(self) -> Renderer:
        """Import and return the render function."""
        return cast(Renderer, _function(self.target))

    def render(self, result: AuditResult, *, manifest_path: str | None = None) -> bytes:
        """The report file's bytes for `result`."""
        return self.renderer()(result, manifest_path=manifest_path)

    def write(self, result: AuditResult, fp: IO[bytes], *, manifest_path: str | None = None) -> None:
        """Write the report file's bytes for `result` to `fp` (streamed when the format has a writer)."""
        if self.writer:
            cast(Writer, _function(self.writer))(result, fp, manifest_path=manifest_path)
        else:
            fp.write(self.render(result, manifest_path=manifest_path))


def _function(target: str) -> Callable[..., object]:
    module_name, _, func_name = target.partition(":")
    return cast(Callable[..., object], getattr(importlib.import_module(module_name), func_name))


# The registry: one line per format, in the order formats are listed and written.
_REGISTERED: tuple[Reporter, ...] = (
    Reporter("html", "audit.html", "Self-contained HTML report for legal review", "auditor.reports.html:render",
             writer="auditor.reports.html:write"),
    Reporter("json", "audit.json", "The audit result as JSON (`auditor schema result`)",
             "auditor.reports.json_report:render", writer="auditor.reports.json_report:write"),
    Reporter("spdx-json", "audit.spdx.json", "SPDX 2.3 document, JSON", "auditor.reports.spdx:render_json"),
    Reporter("spdx-tv", "audit.spdx", "SPDX 2.3 document, tag-value", "auditor.reports.spdx:render_tag_value",
             default=False),
    Reporter("cyclonedx", "audit.cdx.json", "CycloneDX 1.6 ML-BOM, JSON", "auditor.reports.cyclonedx:render",
             writer="auditor.reports.cyclonedx:write"),
    Reporter("sarif", "audit.sarif", "SARIF 2.1.0 for code scanning", "auditor.reports.sarif:render",
             writer="auditor.reports.sarif:write"),
    Reporter("markdown", "audit.md", "Short summary for a pull-request comment or job summary",
             "auditor.reports.markdown:render"),
    Reporter("notice", "NOTICE.txt", "Attribution notices and obligations, ready to paste",
             "auditor.reports.notice:render"),
    Reporter("third-party-notices", "THIRD_PARTY_NOTICES.txt",
             "Redistribution bundle: per license, the notices to ship, copyright lines and the full text",
             "auditor.reports.notice:render_third_party", default=False),
)


def _registry(reporters: Iterable[Reporter]) -> Mapping[str, Reporter]:
    """The registry keyed by name; a repeated name or file name is a programming error."""
    by_name: dict[str, Reporter] = {}
    files: set[str] = set()
    for reporter in reporters:
        if reporter.name in by_name or reporter.file_name in files:
            raise ValueError(f"report format {reporter.name!r} ({reporter.file_name}) is registered twice")
        by_name[reporter.name] = reporter
        files.add(reporter.file_name)
    return MappingProxyType(by_name)


REPORTERS: Mapping[str, Reporter] = _registry(_REGISTERED)
FORMATS = REPORTERS  # the same registry, under the name older code uses
REPORT_FILE_NAMES: frozenset[str] = frozenset(r.file_name for r in REPORTERS.values())
DEFAULT_FORMATS: tuple[str, ...] = tuple(name for name, r in REPORTERS.items() if r.default)
# Formats a pipe can take (`-o -`, or `auditor check` with one of them and no `--out`): one
# machine-readable document each. HTML, the tag-value SPDX and NOTICE are written to files only.
STDOUT_FORMATS: tuple[str, ...] = ("json", "sarif", "spdx-json", "cyclonedx", "markdown")
STDOUT = "-"  # `--out -`: the report on standard output


def reporter_for(fmt: str) -> Reporter:
    """The registered reporter named `fmt` (KeyError naming the known formats otherwise)."""
    try:
        return REPORTERS[fmt]
    except KeyError:
        known = ", ".join(REPORTERS)
        raise KeyError(f"unknown report format {fmt!r} (known: {known})") from None


def renderer_for(fmt: str) -> Renderer:
    """Import and return the render function of `fmt` (raises KeyError for an unknown format)."""
    return reporter_for(fmt).renderer()


def render(result: AuditResult, fmt: str, *, manifest_path: str | None = None) -> bytes:
    """Render `result` in format `fmt` and return the file's bytes."""
    return reporter_for(fmt).render(result, manifest_path=manifest_path)


def remove_known_reports(out_dir: str | Path) -> list[Path]:
    """Delete, from `out_dir`, every file named like one of this tool's reports (any format), so a
    folder written again holds only the new audit's reports. Nothing else is touched: other
    files, sub-folders, and a report name that is a folder stay. Returns the files removed."""
    out = Path(out_dir)
    removed: list[Path] = []
    for name in sorted(REPORT_FILE_NAMES):
        path = out / name
        if path.is_symlink() or path.is_file():
            path.unlink()
            removed.append(path)
    return removed


def write_reports(
    result: AuditResult,
    out_dir: str | Path,
    formats: Iterable[str] | None = None,
    *,
    manifest_path: str | None = None,
) -> dict[str, Path]:
    """Render each format (all when None) and write it into `out_dir` under its file name;
    returns format -> path written.

    Every report is written first to a hidden partial file in `out_dir` (streamed when its format
    has a writer, so no report is held in memory whole and only one at a time); only when all are
    written are the reports of any earlier audit in the folder removed (`remove_known_reports`) and
    the new ones moved into place, so the folder never mixes two audits' reports. When a report
    fails, its partial files are removed and no earlier report is touched. An unknown format
    raises KeyError before anything is written."""
    reporters = [reporter_for(fmt) for fmt in (formats if formats is not None else REPORTERS)]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Reporter, Path]] = []
    written: dict[str, Path] = {}
    try:
        for reporter in reporters:
            partial = out / f".{reporter.file_name}.{os.getpid()}.partial"
            staged.append((reporter, partial))
            with partial.open("wb") as fp:
                reporter.write(result, fp, manifest_path=manifest_path)
        remove_known_reports(out)
        for reporter, partial in staged:
            path = out / reporter.file_name
            os.replace(partial, path)
            written[reporter.name] = path
    finally:
        for _, partial in staged:
            partial.unlink(missing_ok=True)
    return written


def write_stdout(result: AuditResult, fmt: str, *, manifest_path: str | None = None) -> None:
    """Write the one report `fmt` to standard output (bytes, streamed when the format has a writer),
    and nothing else. A format not in `STDOUT_FORMATS` is a ValueError (the CLI refuses it first)."""
    import sys

    if fmt not in STDOUT_FORMATS:
        raise ValueError(f"format {fmt!r} cannot be written to standard output")
    out = sys.stdout.buffer
    reporter_for(fmt).write(result, out, manifest_path=manifest_path)
    out.flush()


def formats_table() -> str:
    """The README's formats table (Markdown), generated from the registry."""
    lines = ["| `--format` | file | what it is | `auditor audit` writes it by default |", "|---|---|---|---|"]
    for r in REPORTERS.values():
        lines.append(f"| `{r.name}` | `{r.file_name}` | {r.description} | {'yes' if r.default else 'no'} |")
    return "\n".join(lines) + "\n"
