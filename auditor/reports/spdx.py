"""`spdx-json` and `spdx-tv` formats: an SPDX 2.3 document of the audited lineage.

One Package per lineage node (files not analysed), the document DESCRIBES each audited model
(graph root), lineage edges become DESCENDANT_OF / VARIANT_OF relationships (the relation in the
comment), the verdicts become REVIEW annotations. Built with spdx-tools model classes and written
by spdx-tools (its JSON converters, its tag-value writer). The document is not validated on every
render: `validate_full_spdx_document` grows with the square of the document (seconds for a few
thousand models), so the tests validate it (tests/test_reports.py, tests/test_example_reports.py).
Rendering is linear in the result: license expressions are parsed once per distinct expression and
annotations are attached to their packages through an index (spdx-tools' JSON converter scans every
annotation for every package).

Mapping of lineage relations (SPDX 2.3 relationship types, child -> parent):
  finetune, adapter, merge, unknown -> DESCENDANT_OF (derived work); quantized -> VARIANT_OF;
  trained-on (a dataset) -> GENERATED_FROM.
"""

from __future__ import annotations

import hashlib
import io
import re
from functools import lru_cache
from typing import Any

from auditor.model import AuditResult, EdgeRecord, ModelAudit, NodeRecord
from auditor.reports import _common as c

SPDX_VERSION = "SPDX-2.3"
DOC_ID = "SPDXRef-DOCUMENT"
NAMESPACE_BASE = "https://spdx.org/spdxdocs"
_LICENSE_REF = re.compile(r"^LicenseRef-[A-Za-z0-9.\-]+$")
_NO_VALUE = {"", "NOASSERTION", "NONE"}

RELATIONSHIP_OF: dict[str, str] = {
    "finetune": "DESCENDANT_OF",
    "adapter": "DESCENDANT_OF",
    "merge": "DESCENDANT_OF",
    "unknown": "DESCENDANT_OF",
    "quantized": "VARIANT_OF",
    "trained-on": "GENERATED_FROM",  # the weights were generated (trained) from the dataset
}


def _txt(value: str) -> str:
    """Card text made safe for tag-value, where a literal `<text>`/`</text>` would end a field
    (control and bidi characters dropped; line breaks kept, as in a `<text>` field)."""
    return re.sub(r"(?i)<(/?)text>", r"[\1text]", c.plain(value, multiline=True))


def _line(value: str) -> str:
    """Card text for a single-line tag-value field (name, version, supplier)."""
    return _txt(c.plain(value))


def spdx_id_for(model_id: str) -> str:
    """A valid, collision-free SPDX element id for a model id (readable part + short hash)."""
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", model_id).strip("-.")[:64] or "model"
    digest = hashlib.sha256(model_id.encode("utf-8")).hexdigest()[:8]
    return f"SPDXRef-Model-{slug}-{digest}"


def license_ref_for(rule_id: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9.\-]+", "-", rule_id).strip("-") or "unknown"
    return f"LicenseRef-{slug}"


def license_expression(info: c.LicenseInfo) -> tuple[str, list[str]]:
    """The SPDX expression for a license and the LicenseRef ids it uses.

    A valid SPDX expression is used as normalised by the SPDX license list; LicenseRef-ids are
    kept; anything else (NOASSERTION, a non-SPDX key) becomes `LicenseRef-<rule id>`.
    """
    expr, refs = _license_expression(info.spdx, info.license)
    return expr, list(refs)


@lru_cache(maxsize=4096)
def _license_expression(spdx: str, rule_id: str) -> tuple[str, tuple[str, ...]]:
    """`license_expression`, once per distinct (SPDX expression, rule id): the SPDX license list
    check costs milliseconds, and every package of a large lineage names one of a few licenses."""
    from spdx_tools.common.spdx_licensing import spdx_licensing

    text = spdx.strip()
    if text.upper() not in _NO_VALUE:
        checked = spdx_licensing.validate(text)
        if not checked.errors and checked.normalized_expression:
            return str(checked.normalized_expression), ()
        invalid = [str(s) for s in checked.invalid_symbols]
        if invalid and all(_LICENSE_REF.match(s) for s in invalid):
            try:
                rendered = str(spdx_licensing.parse(text).render())
            except Exception:  # malformed expression: fall back to a LicenseRef
                rendered = ""
            if rendered:
                return rendered, tuple(sorted(set(invalid)))
    ref = license_ref_for(rule_id)
    return ref, (ref,)


@lru_cache(maxsize=4096)
def _parsed(expression: str) -> Any:
    """An SPDX expression parsed (spdx-tools' `LicenseExpression`), once per distinct text; the
    parsed expression is only read (written out as text), so packages share it."""
    from spdx_tools.common.spdx_licensing import spdx_licensing

    return spdx_licensing.parse(expression)


def _conjunction(infos: list[c.LicenseInfo]) -> tuple[str | None, dict[str, c.LicenseInfo]]:
    parts: list[str] = []
    refs: dict[str, c.LicenseInfo] = {}
    for info in infos:
        expr, used = license_expression(info)
        for ref in used:
            refs.setdefault(ref, info)
        term = f"({expr})" if " " in expr else expr
        if term not in parts:
            parts.append(term)
    if not parts:
        return None, refs
    return " AND ".join(sorted(parts)), refs


def _created(result: AuditResult) -> Any:
    return c.parse_time(result.generated_at).replace(microsecond=0, tzinfo=None)


def _doc_name(result: AuditResult) -> str:
    label = result.product or (result.manifest.rsplit("/", 1)[-1] if result.manifest else "") or "models"
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", label).strip("-").lower() or "models"
    return f"model-license-audit-{slug}"


def _edge_comment(edge: EdgeRecord) -> str:
    fields = "; ".join(f"{ev.field}={ev.value}" for ev in edge.evidence)
    weak = " (weak evidence only)" if edge.weak else ""
    text = f"lineage relation: {edge.relation}{weak}"
    return _txt(f"{text}; evidence: {fields}" if fields else text)


def _verdict_comment(result: AuditResult) -> str:
    counts = c.severity_counts(result)
    blocking = c.blocking_findings(result)
    # An incomplete audit says so first: the verdict after it rests on a partial lineage.
    text = "" if result.complete else c.incomplete_summary(result) + " "
    text += (
        f"Audit verdict: {c.VERDICT_WORDS.get(result.verdict, result.verdict)}. "
        f"Findings: {counts['error']} error, {counts['warning']} warning, {counts['info']} info, "
        f"{counts['waived']} waived. Rule set {result.rules.version} ({result.rules.digest})."
    )
    if blocking:
        text += " Blocking: " + "; ".join(f"{f.model}: {f.code}" for f in blocking) + "."
    return _txt(text)


def _model_comment(model: ModelAudit) -> str:
    active = c.active_findings(model)
    text = f"Model verdict: {c.VERDICT_WORDS.get(model.verdict, model.verdict)}."
    if active:
        text += " Findings: " + " | ".join(f"[{f.severity}] {f.code}: {f.message}" for f in active)
    return _txt(text)


def _package(
    result: AuditResult,
    node: NodeRecord,
    own: list[c.LicenseInfo],
    audit: ModelAudit | None,
    refs: dict[str, c.LicenseInfo],
) -> Any:
    from spdx_tools.spdx.model import (
        Actor,
        ActorType,
        ExternalPackageRef,
        ExternalPackageRefCategory,
        Package,
        SpdxNoAssertion,
        SpdxNone,
    )

    declared_expr, used = _conjunction(own)
    refs.update({k: v for k, v in used.items() if k not in refs})
    declared: Any
    if declared_expr:
        declared = _parsed(declared_expr)
    elif node.facts is not None and node.facts.declared.is_empty:
        declared = SpdxNone()
    else:
        declared = SpdxNoAssertion()

    concluded: Any = SpdxNoAssertion()
    license_comment = None
    if audit is not None:
        infos = [c.LicenseInfo(el.license, el.name, el.spdx, el.kind, el.url) for el in audit.effective_licenses]
        concluded_expr, used = _conjunction(infos)
        refs.update({k: v for k, v in used.items() if k not in refs})
        if concluded_expr:
            concluded = _parsed(concluded_expr)
        reasons = [
            "declared by the model" if el.own else "via " + " -> ".join(c.inherited_path(audit.id, el.via))
            for el in audit.effective_licenses
        ]
        license_comment = _txt(
            "Concluded = every license that applies to this model: "
            + "; ".join(
                f"{el.name} ({why})" for el, why in zip(audit.effective_licenses, reasons, strict=True)
            )
        )

    owner = c.supplier_of(result, node)
    url = c.display_url(node)
    purl = c.purl_of(node)
    external = []
    if purl is not None and purl.version:  # a purl pinned to the commit read
        external.append(ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", str(purl)))
    if node.unresolved is not None:
        comment = _txt(f"Unresolved ({node.unresolved.code}): {node.unresolved.reason}")
    else:
        comment = None
    source_info = None
    if node.facts is not None:
        bits = [f"read from {node.facts.source}"]
        if node.facts.retrieved_at:
            bits.append(f"retrieved {node.facts.retrieved_at}")
        raw = c.raw_declared(node)
        bits.append(f"card license: {raw}" if raw else "card declares no license")
        source_info = _txt("; ".join(bits))

    return Package(
        spdx_id=spdx_id_for(node.id),
        name=_line(node.id),
        download_location=url or SpdxNoAssertion(),
        version=_line(c.node_version(node) or "") or "unknown",  # NOASSERTION is not valid tag-value here
        supplier=Actor(ActorType.ORGANIZATION, _line(owner)) if owner and _line(owner) else SpdxNoAssertion(),
        files_analyzed=False,
        homepage=url.split("/tree/")[0] if url else None,
        source_info=source_info,
        license_concluded=concluded,
        license_declared=declared,
        license_comment=license_comment,
        copyright_text=SpdxNoAssertion(),
        summary=_txt(node.facts.pipeline_tag) if node.facts and node.facts.pipeline_tag else None,
        comment=comment,
        external_references=external,
    )


def build_document(result: AuditResult) -> Any:
    """The SPDX 2.3 `Document` (spdx-tools model) for `result`."""
    from spdx_tools.spdx.model import (
        Actor,
        ActorType,
        Annotation,
        AnnotationType,
        CreationInfo,
        Document,
        ExtractedLicensingInfo,
        Relationship,
        RelationshipType,
    )

    created = _created(result)
    tool = Actor(ActorType.TOOL, f"{result.tool}-{result.tool_version}")
    name = _doc_name(result)
    creation = CreationInfo(
        spdx_version=SPDX_VERSION,
        spdx_id=DOC_ID,
        name=name,
        document_namespace=f"{NAMESPACE_BASE}/{name}-{c.content_digest(result)[:32]}",
        creators=[tool],
        created=created,
        creator_comment=_txt(
            f"License and provenance audit of {result.manifest or 'the declared models'}"
            f"{' for ' + result.product if result.product else ''}; rule set {result.rules.version}."
        ),
        document_comment=_verdict_comment(result),
    )

    licenses = c.node_licenses(result)
    audits = {m.id: m for m in result.models}
    refs: dict[str, c.LicenseInfo] = {}
    packages = [
        _package(result, node, licenses.get(node.id, []), audits.get(node.id), refs)
        for node in sorted(result.graph.nodes, key=lambda n: n.id)
    ]
    known = {n.id for n in result.graph.nodes}

    relationships = [
        Relationship(DOC_ID, RelationshipType.DESCRIBES, spdx_id_for(root))
        for root in sorted(set(result.graph.roots) & known)
    ]
    for edge in sorted(result.graph.edges, key=lambda e: (e.child, e.parent, e.relation)):
        if edge.child not in known or edge.parent not in known:
            continue
        relationships.append(
            Relationship(
                spdx_id_for(edge.child),
                RelationshipType[RELATIONSHIP_OF.get(edge.relation, "DESCENDANT_OF")],
                spdx_id_for(edge.parent),
                comment=_edge_comment(edge),
            )
        )

    urls = c.license_urls(result)
    extracted = []
    for ref, info in sorted(refs.items()):
        seen = urls.get(info.license, [])
        text = f"{info.name} (license rule `{info.license}`, {c.KIND_LABELS.get(info.kind, info.kind)})."
        text += f" Full text: {seen[0]}" if seen else " The full text is published by the licensor with the model."
        extracted.append(
            ExtractedLicensingInfo(
                license_id=ref,
                extracted_text=_txt(text),
                license_name=_txt(info.name),
                cross_references=list(seen),
            )
        )

    annotations = [
        Annotation(DOC_ID, AnnotationType.REVIEW, tool, created, _verdict_comment(result)),
    ]
    for model in sorted(result.models, key=lambda m: m.id):
        if model.id in known:
            annotations.append(
                Annotation(spdx_id_for(model.id), AnnotationType.REVIEW, tool, created, _model_comment(model))
            )

    return Document(
        creation_info=creation,
        packages=packages,
        relationships=relationships,
        annotations=annotations,
        extracted_licensing_info=extracted,
    )


def validate(document: Any) -> list[str]:
    """The messages of spdx-tools' full validation (empty when valid); used by the tests, not by renders."""
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    return [m.validation_message for m in validate_full_spdx_document(document)]


def to_dict(document: Any) -> dict[str, Any]:
    """The document as SPDX 2.3 JSON data, by spdx-tools' `DocumentConverter`, with the annotations
    converted apart and attached to their packages through an index (the converter itself scans
    every annotation for every package and every element id for every annotation)."""
    from spdx_tools.spdx.jsonschema.annotation_converter import AnnotationConverter
    from spdx_tools.spdx.jsonschema.document_converter import DocumentConverter
    from spdx_tools.spdx.model import Document

    bare = Document(
        creation_info=document.creation_info,
        packages=document.packages,
        files=document.files,
        snippets=document.snippets,
        relationships=document.relationships,
        extracted_licensing_info=document.extracted_licensing_info,
    )
    data: dict[str, Any] = DocumentConverter().convert(bare)
    elements = {p.spdx_id for p in document.packages} | {f.spdx_id for f in document.files}
    elements |= {s.spdx_id for s in document.snippets}
    convert = AnnotationConverter().convert
    by_element: dict[str, list[dict[str, Any]]] = {}
    own: list[dict[str, Any]] = []
    for annotation in document.annotations:
        target = by_element.setdefault(annotation.spdx_id, []) if annotation.spdx_id in elements else own
        target.append(convert(annotation))
    for package in data.get("packages", []):
        if package["SPDXID"] in by_element:
            package["annotations"] = by_element[package["SPDXID"]]
    if own:
        data["annotations"] = own
    return data


def render_json(result: AuditResult, *, manifest_path: str | None = None) -> bytes:
    del manifest_path
    return c.dumps_sorted(to_dict(build_document(result))) + b"\n"


def render_tag_value(result: AuditResult, *, manifest_path: str | None = None) -> bytes:
    from spdx_tools.spdx.writer.tagvalue.tagvalue_writer import write_document

    del manifest_path
    stream = io.StringIO()
    write_document(build_document(result), stream)  # the writer's own entry, less validation and deduplication
    return stream.getvalue().encode("utf-8")
