"""`cyclonedx` format: a CycloneDX 1.6 JSON BOM of the audited lineage.

Every lineage node is a `machine-learning-model` component (bom-ref = model id). Licenses carry
their acknowledgement: `declared` (what the model's card says) and, for audited models,
`concluded` (every license that applies through the lineage). Lineage is recorded as
`pedigree.ancestors` (copies of the direct parents, without bom-ref so refs stay unique) with
the relation in `pedigree.notes`. The metadata component is the audited product; it depends
on the audited models. Serial number and timestamp derive from the result, never the clock.

Built in bulk: the dependency graph is handed to the `Bom` whole (`Bom.register_dependency`
scans every registered dependency for each one added, as does the check `Bom.validate` runs
before every output, so a few thousand models took seconds). The strict schema validation runs in
the tests (`validation_errors`), not on every render.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

from auditor.model import AuditResult, ModelAudit, NodeRecord
from auditor.reports import _common as c

PROPERTY_PREFIX = "model-license-auditor"
SUBJECT_REF = "audit-subject"


def _prop(name: str, value: str) -> Any:
    from cyclonedx.model import Property

    return Property(name=f"{PROPERTY_PREFIX}:{name}", value=value)


def _license_entries(infos: list[c.LicenseInfo], acknowledgement: Any, urls: dict[str, str]) -> list[Any]:
    from cyclonedx.model import XsUri
    from cyclonedx.model.license import DisjunctiveLicense
    from cyclonedx.spdx import fixup_id, is_supported_id

    entries = []
    for info in infos:
        spdx = info.spdx.strip()
        url = urls.get(info.license)
        link = XsUri(url) if url else None
        if spdx and is_supported_id(spdx):
            entries.append(DisjunctiveLicense(id=spdx, url=link, acknowledgement=acknowledgement))
        elif spdx and fixup_id(spdx):
            entries.append(DisjunctiveLicense(id=fixup_id(spdx), url=link, acknowledgement=acknowledgement))
        else:
            label = (
                info.name if not spdx or spdx.upper() in ("NOASSERTION", "NONE") else f"{info.name} ({spdx})"
            )
            entries.append(
                DisjunctiveLicense(
                    name=label,
                    url=link,
                    acknowledgement=acknowledgement,
                )
            )
    return entries


def _purl(node: NodeRecord) -> Any:
    from packageurl import PackageURL

    purl = c.purl_of(node)
    if purl is None:
        return None
    return PackageURL(type=purl.type, namespace=purl.namespace, name=purl.name, version=purl.version)


def _component(
    result: AuditResult,
    node: NodeRecord,
    own: list[c.LicenseInfo],
    audit: ModelAudit | None,
    urls: dict[str, str],
    *,
    with_ref: bool = True,
    pedigree: Any = None,
) -> Any:
    from cyclonedx.model import ExternalReference, ExternalReferenceType, XsUri
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.contact import OrganizationalEntity
    from cyclonedx.model.license import LicenseAcknowledgement

    licenses = _license_entries(own, LicenseAcknowledgement.DECLARED, urls)
    props = [_prop("source", c.node_source(node) or "unknown")]
    if audit is not None:
        effective = [
            c.LicenseInfo(el.license, el.name, el.spdx, el.kind, el.url) for el in audit.effective_licenses
        ]
        licenses += _license_entries(effective, LicenseAcknowledgement.CONCLUDED, urls)
        props.append(_prop("verdict", audit.verdict))
        for el in audit.effective_licenses:
            how = (
                "declared by the model"
                if el.own
                else "via " + " -> ".join(c.inherited_path(audit.id, el.via))
            )
            props.append(_prop("effective-license", f"{el.name} [{el.spdx}] {how}"))
        for f in c.active_findings(audit):
            props.append(_prop(f"finding:{f.severity}", f"{f.code}: {f.message}"))
    if node.facts is not None:
        raw = c.raw_declared(node)
        props.append(_prop("card-license", raw or "none declared"))
        if node.facts.retrieved_at:
            props.append(_prop("retrieved-at", node.facts.retrieved_at))
    if node.unresolved is not None:
        props.append(_prop("unresolved", f"{node.unresolved.code}: {node.unresolved.reason}"))
        if node.unresolved.retrieved_at:
            props.append(_prop("retrieved-at", node.unresolved.retrieved_at))

    owner = c.supplier_of(result, node)
    url = c.display_url(node)
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=node.id,
        bom_ref=node.id if with_ref else None,
        version=c.node_version(node),
        supplier=OrganizationalEntity(name=owner) if owner else None,
        licenses=licenses,
        purl=_purl(node),
        external_references=(
            [ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(url))] if url else None
        ),
        properties=props if with_ref else None,
        pedigree=pedigree,
        description=(
            f"pipeline: {node.facts.pipeline_tag}" if node.facts and node.facts.pipeline_tag else None
        ),
    )


def build_bom(result: AuditResult) -> Any:
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentType, Pedigree
    from cyclonedx.model.dependency import Dependency
    from cyclonedx.model.tool import ToolRepository

    licenses = c.node_licenses(result)
    audits = {m.id: m for m in result.models}
    urls = {rule_id: found[0] for rule_id, found in c.license_urls(result).items()}
    nodes = {n.id: n for n in result.graph.nodes}
    parents: dict[str, list[tuple[str, str, bool]]] = {}
    for e in sorted(result.graph.edges, key=lambda e: (e.child, e.parent, e.relation)):
        parents.setdefault(e.child, []).append((e.parent, e.relation, e.weak))

    copies: dict[str, Any] = {}  # parent id -> its copy in pedigrees (one, shared by its children)

    def ancestor(parent: str) -> Any:
        if parent not in copies:
            copies[parent] = _component(result, nodes[parent], licenses.get(parent, []), None, urls, with_ref=False)
        return copies[parent]

    components = []
    for node_id in sorted(nodes):
        node = nodes[node_id]
        pedigree = None
        links = [p for p in parents.get(node_id, []) if p[0] in nodes]
        if links:
            ancestors = [ancestor(p) for p, _, _ in links]
            notes = "; ".join(
                f"{c.relation_phrase(rel)} {p}{' (weak evidence only)' if weak else ''}"
                for p, rel, weak in links
            )
            pedigree = Pedigree(ancestors=ancestors, notes=notes)
        components.append(
            _component(result, node, licenses.get(node_id, []), audits.get(node_id), urls, pedigree=pedigree)
        )

    subject = Component(
        type=ComponentType.APPLICATION,
        name=result.product or result.manifest or "audited models",
        bom_ref=SUBJECT_REF,
        description="The product whose models were audited",
    )
    tool = Component(type=ComponentType.APPLICATION, name=result.tool, version=result.tool_version)
    metadata = BomMetaData(
        tools=ToolRepository(components=[tool]),
        component=subject,
        timestamp=c.parse_time(result.generated_at).replace(microsecond=0),
        properties=_metadata_properties(result),
    )
    digest = c.content_digest(result)
    by_ref = {comp.bom_ref.value: comp for comp in components}
    roots = [by_ref[r] for r in result.graph.roots if r in by_ref]
    # The subject depends on the audited models; every component has its (empty) entry, as
    # `Bom.validate` would register it.
    dependencies = [Dependency(ref=subject.bom_ref, dependencies=[Dependency(ref=r.bom_ref) for r in roots])]
    dependencies += [Dependency(ref=comp.bom_ref) for comp in components]
    bom = Bom(
        components=components,
        metadata=metadata,
        serial_number=uuid.UUID(bytes=bytes.fromhex(digest[:32]), version=5),
        dependencies=dependencies,
    )
    _index_dependencies(bom)
    return bom


def _index_dependencies(bom: Any) -> None:
    """Give `bom` a `register_dependency` that finds a registered target through a dict, not by
    scanning every dependency: the library's own output runs `Bom.validate`, which registers each
    component in turn (quadratic in the components with the library's scan). Same semantics."""
    from cyclonedx.model.dependency import Dependency

    index = {dep.ref: dep for dep in bom.dependencies}

    def register_dependency(target: Any, depends_on: Iterable[Any] | None = None) -> None:
        depends_on = list(depends_on or [])
        found = index.get(target.bom_ref)
        if found is None:
            found = index[target.bom_ref] = Dependency(ref=target.bom_ref)
            bom.dependencies.add(found)
        if depends_on:
            found.dependencies.update(Dependency(ref=d.bom_ref) for d in depends_on)
            for dependency in depends_on:
                register_dependency(dependency)

    bom.register_dependency = register_dependency


def _metadata_properties(result: AuditResult) -> list[Any]:
    """The audit's verdict, completeness (with, when incomplete, a sentence naming each model that
    could not be read and why), rule set and finding counts."""
    counts = c.severity_counts(result)
    props = [
        _prop("verdict", result.verdict),
        _prop("complete", str(result.complete).lower()),
        _prop("rules-version", result.rules.version),
        _prop("rules-digest", result.rules.digest),
        _prop(
            "findings",
            f"{counts['error']} error, {counts['warning']} warning, {counts['info']} info, {counts['waived']} waived",
        ),
    ]
    if not result.complete:
        props.append(_prop("incomplete", c.incomplete_summary(result)))
    return props


def to_json(result: AuditResult) -> str:
    from cyclonedx.output.json import JsonV1Dot6

    text = JsonV1Dot6(build_bom(result)).output_as_string()  # compact: re-indented, keys sorted, below
    return (c.dumps_sorted(json.loads(text)) + b"\n").decode("utf-8")


def validation_errors(text: str) -> list[str]:
    """Errors from CycloneDX's strict 1.6 JSON schema validator (used by the tests: it takes seconds,
    so it is not run on every audit)."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
    return [str(e) for e in errors] if errors else []


def render(result: AuditResult, *, manifest_path: str | None = None) -> bytes:
    del manifest_path
    return to_json(result).encode("utf-8")
