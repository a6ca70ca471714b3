"""`sarif` format: SARIF 2.1.0 for code-scanning UIs (GitHub code scanning first).

One rule per finding code; one result per finding that is not waived (error -> error,
warning -> warning, info -> note), located at the manifest line that requested the model
(`ModelAudit.manifest_line`, 1 when unknown) and named logically by the model id.

What GitHub code scanning does with it, and how this report meets it:

- Alerts are matched across runs by ruleId, location and `partialFingerprints`: results with the
  same three are merged into one alert. Every finding of a model sits on the same manifest line, so
  the fingerprint hashes every field that tells two findings apart (model, code, license, clause
  section, lineage path, declared-use field, and, should two findings still agree on all of those,
  their message): two different findings never share one (`fingerprints`).
- The artifact uri is the manifest's path relative to the repository root: `$GITHUB_WORKSPACE` when
  set, else the git top level of the manifest's folder, else the current folder; never `../…` nor
  an absolute path (then the file name alone). See `artifact_uri`.
- Each rule has `help` (text and markdown: what the code means and how to fix it, from
  `auditor.vocab.CODES`, and the remedies its findings give), `tags`, and
  `properties.security-severity`, which GitHub shows as a severity level. The mapping, from the
  rule's most severe finding: error -> "8.0" (High), warning -> "5.0" (Medium), info -> "2.0" (Low)
  (GitHub: 9.0+ Critical, 7.0-8.9 High, 4.0-6.9 Medium, 0.1-3.9 Low). GitHub reads it only for
  rules tagged `security`, so every rule carries that tag besides `license` and `compliance`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from auditor.model import AuditResult, Finding, ModelAudit
from auditor.reports import _common as c
from auditor.vocab import SEVERITY_RANK

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/model-license-auditor/"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


# A rule's `security-severity` from its most severe finding (module docstring: the mapping).
SECURITY_SEVERITY = {"error": "8.0", "warning": "5.0", "info": "2.0"}
TAGS = ["license", "compliance", "security"]


def _rule_help(code: str, remedies: list[str]) -> dict[str, str]:
    """What the code means and how to fix it (the vocabulary's words), then the findings' own remedies."""
    from auditor.vocab import CODES

    info = CODES.get(code)
    meaning = info.meaning if info else c.humanize_code(code) + "."
    remedy = info.remedy if info else ""
    extra = [r for r in remedies if r != remedy]
    text = f"{meaning} Remedy: {remedy or 'see the finding message and the HTML report.'}"
    markdown = f"**What it means.** {meaning}\n\n**How to fix it.** {remedy or 'See the finding message.'}"
    if extra:
        text += " For these findings: " + " / ".join(extra)
        markdown += "\n\nFor these findings:\n\n" + "\n".join(f"- {r}" for r in extra)
    return {"text": c.plain(text), "markdown": c.plain(markdown, multiline=True)}


def _rules(result: AuditResult) -> list[dict[str, Any]]:
    by_code: dict[str, list[Finding]] = {}
    for model in result.models:
        for f in model.findings:
            if not f.waived:
                by_code.setdefault(f.code, []).append(f)
    rules = []
    for code in sorted(by_code):
        findings = by_code[code]
        worst = max((f.severity for f in findings), key=lambda sev: SEVERITY_RANK.get(sev, 1))
        remedies = sorted({f.remedy for f in findings if f.remedy})
        rules.append(
            {
                "id": code,
                "name": "".join(w.capitalize() for w in c.humanize_code(code).split()),
                "shortDescription": {"text": c.humanize_code(code)},
                "fullDescription": {"text": _rule_help(code, [])["text"].partition(" Remedy: ")[0]},
                "help": _rule_help(code, remedies),
                "defaultConfiguration": {"level": LEVELS.get(worst, "warning")},
                "properties": {"tags": list(TAGS), "security-severity": SECURITY_SEVERITY.get(worst, "5.0")},
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


def _fingerprint_key(model: ModelAudit, f: Finding) -> str:
    """The fields that tell two findings on one model apart (see `fingerprints`)."""
    section = f.clause.section if f.clause else ""
    return "\x1f".join([model.id, f.code, f.license or "", section, "/".join(f.via), f.field or ""])


def fingerprints(result: AuditResult) -> dict[tuple[int, int], str]:
    """(model index, finding index) -> a fingerprint no other unwaived finding of the result has.

    The key is `_fingerprint_key`; findings that agree on all of it (two conflicts worded for two
    clauses of the same section) add their message, and, if that agrees too, their rank among those
    equal findings, so no two results are merged into one alert."""
    keys: dict[tuple[int, int], str] = {}
    for mi, model in enumerate(result.models):
        for fi, f in enumerate(model.findings):
            if not f.waived:
                keys[(mi, fi)] = _fingerprint_key(model, f)
    seen: dict[str, int] = {}
    for k in keys.values():
        seen[k] = seen.get(k, 0) + 1
    out: dict[tuple[int, int], str] = {}
    taken: dict[str, int] = {}
    for (mi, fi), key in keys.items():
        if seen[key] > 1:
            key += "\x1f" + result.models[mi].findings[fi].message
            taken[key] = taken.get(key, 0) + 1
            if taken[key] > 1:
                key += f"\x1f{taken[key]}"
        out[(mi, fi)] = hashlib.sha256(key.encode()).hexdigest()[:32]
    return out


def _results(result: AuditResult, index: dict[str, int], uri: str | None) -> Iterator[dict[str, Any]]:
    """One SARIF result per finding that is not waived, produced as they are written; each names the
    source kind the model was read from (`hub`, `local`, `gguf`, …)."""
    sources = {node.id: c.node_source(node) for node in result.graph.nodes}
    prints = fingerprints(result)
    for mi, model in enumerate(result.models):
        for fi, f in enumerate(model.findings):
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
            entry: dict[str, Any] = {
                "ruleId": f.code,
                "ruleIndex": index[f.code],
                "level": LEVELS.get(f.severity, "warning"),
                "message": {"text": _message(model, f, c.license_name(result, f.license))},
                "locations": [location],
                "partialFingerprints": {"modelFinding/v2": prints[(mi, fi)]},
                "properties": {"model": model.id, "severity": f.severity, "source": sources.get(model.id, "")},
            }
            if f.license:
                entry["properties"]["license"] = f.license
            if f.clause:
                entry["properties"]["clause"] = {"section": f.clause.section, "quote": f.clause.quote}
            if f.via:
                entry["properties"]["via"] = list(f.via)
            yield entry


def _git_top_level(folder: Path) -> Path | None:
    """The git work tree `folder` is in, or None (no git, not a work tree, any failure)."""
    import subprocess

    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=folder, capture_output=True, text=True, timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    top = proc.stdout.strip()
    return Path(top) if proc.returncode == 0 and top else None


def _inside(path: Path, root: Path | None) -> str | None:
    """`path` relative to `root` as a POSIX path, or None when it is not below `root`."""
    if root is None:
        return None
    try:
        return path.relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return None


def artifact_uri(manifest: str) -> str:
    """The manifest as a uri relative to the repository root: `$GITHUB_WORKSPACE` when set, else the
    git top level of the manifest's folder, else the current folder. Never `../…` nor absolute: a
    manifest below none of them is named by its file name."""
    path = Path(os.path.abspath(manifest)).resolve()
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace:
        roots: list[Path | None] = [Path(workspace)]
    else:
        folder = path.parent
        roots = [_git_top_level(folder) if folder.is_dir() else None, Path.cwd()]
    for root in roots:
        rel = _inside(path, root)
        if rel and rel != ".":
            return rel
    return path.name


def build_log(result: AuditResult, manifest_path: str | None = None, *, streamed: bool = False) -> dict[str, Any]:
    """The SARIF log; with `streamed`, its results are a `_common.Items` produced as they are
    written (`write`), not a list held whole."""
    rules = _rules(result)
    index = {r["id"]: i for i, r in enumerate(rules)}
    manifest = (manifest_path or result.manifest or "").replace("\\", "/")
    uri = artifact_uri(manifest) if manifest else None
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
    result = c.whole(result)
    c.write_json(build_log(result, manifest_path, streamed=True), fp.write)
    fp.write(b"\n")


def render(result: AuditResult, *, manifest_path: str | None = None) -> bytes:
    result = c.whole(result)
    return c.dumps_sorted(build_log(result, manifest_path)) + b"\n"  # = json.dumps(sort_keys, indent=2)
