"""`spdx-json` and `spdx-tv` formats: an SPDX 2.3 document of the audited lineage.

The document DESCRIBES one root Package, the audited product (the manifest's `product`, else the
manifest's file name), which DEPENDS_ON each audited model. One Package per lineage node (files not
analysed); the verdicts become REVIEW annotations. Built with spdx-tools model classes and written by
spdx-tools (its JSON converters, its tag-value writer).

Lineage relations (child -> parent, SPDX 2.3 §11.1 relationship types):

| relation       | SPDX relationship | why |
|----------------|-------------------|-----|
| `finetune`     | `DESCENDANT_OF`   | same lineage, post-dates the parent (training continued from its weights) |
| `adapter`      | `DESCENDANT_OF`   | trained on the parent; applied on top of its weights |
| `merge`        | `DESCENDANT_OF`   | made from each parent's weights, after them |
| `quantized`    | `GENERATED_FROM`  | converted from the parent's weights; not `VARIANT_OF` ("not clear which came first": here it is) |
| `distillation` | `OTHER`           | trained on the parent's outputs, not on its weights (the relation is in the comment) |
| `unknown`      | `DESCENDANT_OF`   | a card names the parent as its base; how it was derived is not known |
| `trained-on`   | `OTHER`           | a dataset the weights were trained on (SPDX 2.3 has no training relationship; the relation is in the comment) |

Every lineage edge is also a `DEPENDS_ON` (child on parent): none of the types above is one NTIA's
minimum-elements checker follows (DESCRIBES, CONTAINS, DEPENDS_ON…), so without it every ancestor is
a "disconnected floating element", and a derived model does depend on its parent, for its weights (or
its training signal) and for the license terms they carry. The whole lineage is then reachable from
the product.

Every `LicenseRef-` the document uses has its `hasExtractedLicensingInfos` entry (SPDX 2.3 §10): the
license's full text when the result's license catalogue carries it (`AuditResult.license_catalogue`),
otherwise a text saying plainly that the full text is not bundled and where it is published.

The document is not validated on every render: `validate_full_spdx_document` grows with the square of
the document (seconds for a few thousand models), so the tests validate it (tests/test_reports.py,
tests/test_example_reports.py). Rendering is linear in the result: license expressions are parsed once
per distinct expression and annotations are attached to their packages through an index (spdx-tools'
JSON converter scans every annotation for every package).
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
    "quantized": "GENERATED_FROM",
    "distillation": "OTHER",
    "unknown": "DESCENDANT_OF",
    "trained-on": "OTHER",  # a dataset the weights were trained on (the relation is in the comment)
}
PRODUCT_PREFIX = "SPDXRef-Product-"
NOT_BUNDLED = "The full text of this license is not bundled with this audit"


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
            # A LicenseRef the SPDX library knows (a ScanCode key) is still a LicenseRef: it needs its
            # extracted licensing info in the document.
            known_refs = sorted({str(s.key) for s in spdx_licensing.license_symbols(
                checked.normalized_expression) if _LICENSE_REF.match(str(s.key))})
            return str(checked.normalized_expression), tuple(known_refs)
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


def conjunction(infos: list[c.LicenseInfo]) -> tuple[str | None, dict[str, c.LicenseInfo]]:
    """One SPDX expression for licenses that all apply (their terms joined with AND, sorted), and the
    LicenseRef ids it uses with the license each stands for; None when there is no license."""
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

    declared_expr, used = conjunction(own)
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
        concluded_expr, used = conjunction(infos)
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


def product_label(result: AuditResult) -> str:
    """The audited product's name: the manifest's `product`, else the manifest's file name."""
    label = c.plain(result.product or "") or c.plain((result.manifest or "").replace("\\", "/").rsplit("/", 1)[-1])
    return label or "audited models"


def product_id(result: AuditResult) -> str:
    label = product_label(result)
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", label).strip("-.")[:64] or "product"
    return f"{PRODUCT_PREFIX}{slug}-{hashlib.sha256(label.encode('utf-8')).hexdigest()[:8]}"


def _product_package(result: AuditResult) -> Any:
    """The root package: the product whose models were audited (its version is not in the manifest)."""
    from spdx_tools.spdx.model import Actor, ActorType, Package, SpdxNoAssertion

    label = product_label(result)
    return Package(
        spdx_id=product_id(result),
        name=_line(label),
        download_location=SpdxNoAssertion(),
        version="unknown",  # the manifest names no product version; NOASSERTION is not valid tag-value here
        supplier=Actor(ActorType.ORGANIZATION, _line(f"Maintainers of {label}")),
        files_analyzed=False,
        license_concluded=SpdxNoAssertion(),
        license_declared=SpdxNoAssertion(),
        copyright_text=SpdxNoAssertion(),
        comment=_txt(f"The product whose models were audited ({result.manifest or 'models given on the command line'})"
                     "; it DEPENDS_ON each audited model. Its own version and license are not part of the audit."),
    )


def _relationships(result: AuditResult, product: str) -> list[Any]:
    """DOCUMENT DESCRIBES the product, which DEPENDS_ON each audited model; each lineage edge is its
    relation's type (`RELATIONSHIP_OF`) and a DEPENDS_ON, so the whole lineage hangs off the product."""
    from spdx_tools.spdx.model import Relationship, RelationshipType

    known = {n.id for n in result.graph.nodes}
    relationships = [Relationship(DOC_ID, RelationshipType.DESCRIBES, product)]
    relationships += [
        Relationship(product, RelationshipType.DEPENDS_ON, spdx_id_for(root),
                     comment="an audited model of the product")
        for root in sorted(set(result.graph.roots) & known)
    ]
    for edge in sorted(result.graph.edges, key=lambda e: (e.child, e.parent, e.relation)):
        if edge.child not in known or edge.parent not in known:
            continue
        child, parent = spdx_id_for(edge.child), spdx_id_for(edge.parent)
        kind = RelationshipType[RELATIONSHIP_OF.get(edge.relation, "DESCENDANT_OF")]
        relationships.append(Relationship(child, kind, parent, comment=_edge_comment(edge)))
        relationships.append(Relationship(child, RelationshipType.DEPENDS_ON, parent,
                                          comment=_txt(f"derived from it ({edge.relation})")))
    return relationships


def extracted_text(result: AuditResult, info: c.LicenseInfo, urls: list[str], *, tag_value: bool = False) -> str:
    """A LicenseRef's extracted text: the license's full text from the result's catalogue (control and
    bidi characters dropped), else a plain statement that it is not bundled and where it is published."""
    full = c.license_text(result, info.license)
    if full and full.strip():
        return _txt(full) if tag_value else c.plain(full, multiline=True)
    where = f"It is published at {urls[0]}" if urls else "No URL for it was recorded; see the model card"
    return _txt(f"{NOT_BUNDLED}: {info.name} (license rule `{info.license}`, "
                f"{c.KIND_LABELS.get(info.kind, info.kind)}). {where}.")


def build_document(result: AuditResult, *, tag_value: bool = False) -> Any:
    """The SPDX 2.3 `Document` (spdx-tools model) for `result`. With `tag_value`, a license text's own
    `<text>`/`</text>` are neutralised (they would end its field there); JSON keeps texts verbatim."""
    from spdx_tools.spdx.model import (
        Actor,
        ActorType,
        Annotation,
        AnnotationType,
        CreationInfo,
        Document,
        ExtractedLicensingInfo,
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
    product = _product_package(result)
    packages.insert(0, product)
    relationships = _relationships(result, product.spdx_id)
    urls = c.license_urls(result)
    extracted = [
        ExtractedLicensingInfo(
            license_id=ref,
            extracted_text=extracted_text(result, info, urls.get(info.license, []), tag_value=tag_value),
            license_name=_txt(info.name),
            cross_references=list(urls.get(info.license, [])),
        )
        for ref, info in sorted(refs.items())
    ]

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
    result = c.whole(result)
    del manifest_path
    return c.dumps_sorted(to_dict(build_document(result))) + b"\n"


def render_tag_value(result: AuditResult, *, manifest_path: str | None = None) -> bytes:
    result = c.whole(result)
    from spdx_tools.spdx.writer.tagvalue.tagvalue_writer import write_document

    del manifest_path
    stream = io.StringIO()
    write_document(build_document(result, tag_value=True), stream)  # the writer's own entry, less validation and deduplication
    return stream.getvalue().encode("utf-8")
