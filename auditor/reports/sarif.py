"""`sarif` format: SARIF 2.1.0 for code-scanning UIs.

One rule per finding code; one result per finding that is not waived (error -> error,
warning -> warning, info -> note), located at the manifest line that requested the model
(`ModelAudit.manifest_line`, 1 when unknown) and named logically by the model id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import IO, Any

from auditor.model import AuditResult, Finding, ModelAudit
from auditor.reports import _common as c

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/model-license-auditor/"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
_RANK = {"error": 0, "warning": 1, "note": 2}


def _rules(result: AuditResult) -> list[dict[str, Any]]:
    by_code: dict[str, list[Finding]] = {}
    for model in result.models:
        for f in model.findings:
            if not f.waived:
                by_code.setdefault(f.code, []).append(f)
    rules = []
    for code in sorted(by_code):
        findings = by_code[code]
        level = min((LEVELS.get(f.severity, "warning") for f in findings), key=lambda lv: _RANK[lv])
        remedies = sorted({f.remedy for f in findings if f.remedy})
        help_text = f"{c.humanize_code(code)}. " + (
            "Remedy: " + " / ".join(remedies) if remedies else "See the finding message and the HTML report."
        )
        rules.append(
            {
                "id": code,
                "name": "".join(w.capitalize() for w in c.humanize_code(code).split()),
                "shortDescription": {"text": c.humanize_code(code)},
                "help": {"text": help_text},
                "defaultConfiguration": {"level": level},
                "properties": {"tags": ["license", "compliance"]},
            }
        )
    return rules


def _message(model: ModelAudit, f: Finding, license_name: str) -> str:
    text = f"{model.id}: {f.message}"
    if license_name:
        text += f" [{license_name}"
        text += f", {c.section_label(f.clause.section)}]" if f.clause else "]"
    if f.remedy:
        text += f" Remedy: {f.remedy}"
    return c.plain(text)


def _invocation(result: AuditResult) -> dict[str, Any]:
    """The run's invocation; an incomplete audit carries a warning notification that says so first
    and names each model that could not be read, and why (code-scanning UIs show it as a tool
    warning)."""
    invocation: dict[str, Any] = {"executionSuccessful": True, "endTimeUtc": c.iso_utc(result.generated_at)}
    if not result.complete:
        once = "it is" if len(c.unread_models(result)) == 1 else "they are"
        text = f"{c.incomplete_summary(result)} The verdict may get worse once {once} read."
        invocation["toolExecutionNotifications"] = [
            {"level": "warning", "descriptor": {"id": "incomplete"}, "message": {"text": text}}
        ]
    return invocation


def _run_properties(result: AuditResult) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "verdict": result.verdict,
        "complete": result.complete,
        "rulesVersion": result.rules.version,
        "rulesDigest": result.rules.digest,
    }
    if not result.complete:
        properties["incomplete"] = c.incomplete_headline(result)
        properties["unreadModels"] = [
            {"id": u.id, "code": u.code, "reason": c.plain(u.reason)} for u in c.unread_models(result)
        ]
    return properties


def _results(result: AuditResult, index: dict[str, int], uri: str | None) -> Iterator[dict[str, Any]]:
    """One SARIF result per finding that is not waived, produced as they are written; each names the
    source kind the model was read from (`hub`, `local`, `gguf`, …)."""
    sources = {node.id: c.node_source(node) for node in result.graph.nodes}
    for model in result.models:
        for f in model.findings:
            if f.waived:
                continue
            location: dict[str, Any] = {
                "logicalLocations": [{"name": model.id, "fullyQualifiedName": model.id, "kind": "module"}]
            }
            if uri:
                location["physicalLocation"] = {
                    "artifactLocation": {"uri": uri},
                    "region": {"startLine": model.manifest_line or 1},
                }
            key = "\x1f".join([model.id, f.code, f.license or "", "/".join(f.via), f.field or ""])
            entry: dict[str, Any] = {
                "ruleId": f.code,
                "ruleIndex": index[f.code],
                "level": LEVELS.get(f.severity, "warning"),
                "message": {"text": _message(model, f, c.license_name(result, f.license))},
                "locations": [location],
                "partialFingerprints": {"modelFinding/v1": hashlib.sha256(key.encode()).hexdigest()[:32]},
                "properties": {"model": model.id, "severity": f.severity, "source": sources.get(model.id, "")},
            }
            if f.license:
                entry["properties"]["license"] = f.license
            if f.clause:
                entry["properties"]["clause"] = {"section": f.clause.section, "quote": f.clause.quote}
            if f.via:
                entry["properties"]["via"] = list(f.via)
            yield entry


def build_log(result: AuditResult, manifest_path: str | None = None, *, streamed: bool = False) -> dict[str, Any]:
    """The SARIF log; with `streamed`, its results are a `_common.Items` produced as they are
    written (`write`), not a list held whole."""
    rules = _rules(result)
    index = {r["id"]: i for i, r in enumerate(rules)}
    uri = (manifest_path or result.manifest or "").replace("\\", "/") or None
    results = _results(result, index, uri)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": result.tool,
                "version": result.tool_version,
                "semanticVersion": result.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "invocations": [_invocation(result)],
        "results": c.Items(results) if streamed else list(results),
        "properties": _run_properties(result),
    }
    if uri:
        run["artifacts"] = [{"location": {"uri": uri}, "roles": ["analysisTarget"]}]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def write(result: AuditResult, fp: IO[bytes], *, manifest_path: str | None = None) -> None:
    """`render`, written one result at a time."""
    c.write_json(build_log(result, manifest_path, streamed=True), fp.write)
    fp.write(b"\n")


def render(result: AuditResult, *, manifest_path: str | None = None) -> bytes:
    return c.dumps_sorted(build_log(result, manifest_path)) + b"\n"  # = json.dumps(sort_keys, indent=2)
