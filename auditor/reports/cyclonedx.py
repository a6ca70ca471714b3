"""`cyclonedx` format: a CycloneDX 1.6 JSON BOM of the audited lineage.

Every lineage node is a `machine-learning-model` component (bom-ref = model id). Licenses, as a
consumer reads them:

- `licenses` is ONE SPDX expression (`LicenseRef-… AND Apache-2.0`): for an audited model the terms
  the audit CONCLUDED bind it (every license that reaches it through its lineage), acknowledgement
  `concluded`; for an ancestor, which is not audited on its own, what its card declares, acknowledgement
  `declared`. Dependency-Track takes a component's `expression` when there is one, else the first license
  whose SPDX id it knows, and ignores `acknowledgement`: a list of licenses would show the card's
  apache-2.0 or MIT for a model bound by Llama or a non-commercial license.
- `evidence.licenses` is what the card declares (acknowledgement `declared`, with the license's URL).
  A `LicenseRef` license whose full text the result carries (`AuditResult.license_catalogue`) has it
  as `text.content`, once per BOM: in the first component (in BOM order) whose card declares it.
- `modelCard` (CycloneDX 1.6) says only what the card says: `modelParameters.task` from the pipeline
  tag, `modelParameters.datasets` from the card's datasets (`dataset:` tags), and the base models the
  lineage records as `properties` (the schema has no field for them).

Lineage is recorded as `pedigree.ancestors` (copies of the direct parents, without bom-ref so refs
stay unique) with the relation in `pedigree.notes`. The metadata component is the audited product; it
depends on the audited models. Serial number and timestamp derive from the result, never the clock.

What the BOM says is decided once, as plain data (`_Component`, `_bom_spec`); it is then written
two ways:

- `bom_data`, the JSON the render writes, straight from that data, in cyclonedx-python-lib's
  order (its sets are sorted: components and ancestors by name, licenses by acknowledgement then
  id or name, properties by name and value, dependencies by ref; what is absent is left out);
- `build_bom`, the same BOM as cyclonedx-python-lib model objects, which the tests serialise with
  the library and compare with `bom_data` (tests/test_reports_scale.py), and validate. The library
  has no model of `modelCard` (version 11 leaves it out), so `library_json` adds the same cards.

Why not the library in every render: its model keeps every list as a sorted set whose items
compare through tuples rebuilt at each comparison, and its output step registers every component
again through a scan; a lineage of a few thousand models took 12-15 s whatever was handed to it in
bulk (bench/bench_reports.py), the JSON written here takes a fraction of a second. The library's
normalisations are still used (SPDX license ids, `XsUri`, package URLs). The strict schema
validation runs in the tests (`validation_errors`), not on every render.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from auditor.model import AuditResult, ModelAudit, NodeRecord
from auditor.reports import _common as c
from auditor.vocab import RELATION_NATURE

PROPERTY_PREFIX = "model-license-auditor"
SUBJECT_REF = "audit-subject"
SCHEMA = "http://cyclonedx.org/schema/bom-1.6.schema.json"
SPEC_VERSION = "1.6"
ML_MODEL = "machine-learning-model"


@dataclass(frozen=True)
class _License:
    acknowledgement: str  # "declared" | "concluded"
    id: str | None
    name: str | None
    url: str | None  # as XsUri writes it
    text: str | None = None  # the full license text (`text.content`, text/plain)


@dataclass(frozen=True)
class _Expression:
    acknowledgement: str  # "declared" | "concluded"
    expression: str  # one SPDX license expression


@dataclass
class _Component:
    """One component as plain data: what both serialisations write."""

    name: str
    bom_ref: str | None
    type: str = ML_MODEL
    version: str | None = None
    supplier: str | None = None
    expression: _Expression | None = None  # `licenses`: one SPDX expression
    evidence: list[_License] = field(default_factory=list)  # `evidence.licenses`: the card's declaration
    model_card: dict[str, Any] | None = None  # `modelCard`, as JSON data
    purl: Any = None  # packageurl.PackageURL
    distribution: str | None = None  # external reference, as XsUri writes it
    properties: list[tuple[str, str]] | None = None
    description: str | None = None
    ancestors: list[_Component] = field(default_factory=list)
    notes: str | None = None


@dataclass
class _BomSpec:
    components: list[_Component]
    subject: _Component
    tool: _Component
    roots: list[str]  # refs the subject depends on
    metadata_properties: list[tuple[str, str]]
    timestamp: Any  # datetime
    serial: uuid.UUID


def _prop(name: str, value: str) -> tuple[str, str]:
    return (f"{PROPERTY_PREFIX}:{name}", value)


def _uri(url: str) -> str:
    from cyclonedx.model import XsUri

    return str(XsUri(url))


class _Texts:
    """Full license texts to embed, each once per BOM (a render's own state, never shared)."""

    def __init__(self, result: AuditResult) -> None:
        self.result = result
        self.done: set[str] = set()

    def take(self, rule_id: str) -> str | None:
        if rule_id in self.done:
            return None
        text = c.license_text(self.result, rule_id)
        if text and text.strip():
            self.done.add(rule_id)
            return text
        return None


def _license_entries(
    infos: list[c.LicenseInfo], acknowledgement: str, urls: dict[str, str], texts: _Texts | None = None
) -> list[_License]:
    """One license entry per license (`evidence.licenses`): an SPDX id the library knows, else the
    license's name with its full text when the result carries it (once per BOM)."""
    from cyclonedx.spdx import fixup_id, is_supported_id

    entries = []
    for info in infos:
        spdx = info.spdx.strip()
        url = urls.get(info.license)
        link = _uri(url) if url else None
        if spdx and is_supported_id(spdx):
            entries.append(_License(acknowledgement, spdx, None, link))
        elif spdx and fixup_id(spdx):
            entries.append(_License(acknowledgement, fixup_id(spdx), None, link))
        else:
            label = (
                info.name if not spdx or spdx.upper() in ("NOASSERTION", "NONE") else f"{info.name} ({spdx})"
            )
            text = texts.take(info.license) if texts is not None else None
            entries.append(_License(acknowledgement, None, label, link, text))
    return entries


def _expression(infos: list[c.LicenseInfo], acknowledgement: str) -> _Expression | None:
    """The licenses as ONE SPDX expression (`LicenseRef-… AND Apache-2.0`), as the SPDX report writes them."""
    from auditor.reports.spdx import conjunction

    expression, _refs = conjunction(infos)
    return _Expression(acknowledgement, expression) if expression else None


_MAX_DATASETS = 100  # a card naming more is cut (untrusted input)


def _model_card(node: NodeRecord, parents: list[tuple[str, str, bool]]) -> dict[str, Any] | None:
    """CycloneDX 1.6 `modelCard` with only what the card says: task, datasets, base models."""
    if node.facts is None:
        return None
    params: dict[str, Any] = {}
    if node.facts.pipeline_tag and c.plain(node.facts.pipeline_tag):
        params["task"] = c.plain(node.facts.pipeline_tag)
    named = sorted({c.plain(t.split(":", 1)[1]) for t in node.facts.tags if t.startswith("dataset:")} - {""})
    if named:
        params["datasets"] = [{"type": "dataset", "name": name} for name in named[:_MAX_DATASETS]]
    card: dict[str, Any] = {"modelParameters": params} if params else {}
    bases = sorted({(f"{PROPERTY_PREFIX}:base-model", f"{parent} ({relation})") for parent, relation, _ in parents})
    if bases:
        card["properties"] = [{"name": n, "value": v} for n, v in bases]
    return card or None


def _purl(node: NodeRecord) -> Any:
    from packageurl import PackageURL

    purl = c.purl_of(node)
    if purl is None:
        return None
    return PackageURL(type=purl.type, namespace=purl.namespace, name=purl.name, version=purl.version)


def _properties(node: NodeRecord, audit: ModelAudit | None) -> list[tuple[str, str]]:
    props = [_prop("source", c.node_source(node) or "unknown")]
    if audit is not None:
        props.append(_prop("verdict", audit.verdict))
        for el in audit.effective_licenses:
            how = "declared by the model" if el.own else "via " + " -> ".join(c.inherited_path(audit.id, el.via))
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
    return props


def _component(
    result: AuditResult,
    node: NodeRecord,
    own: list[c.LicenseInfo],
    audit: ModelAudit | None,
    urls: dict[str, str],
    *,
    texts: _Texts | None = None,
    parents: list[tuple[str, str, bool]] | None = None,
) -> _Component:
    """A node's component; without `texts` (a copy in a pedigree) no bom-ref, evidence, card or properties."""
    full = texts is not None
    if audit is not None:
        effective = [c.LicenseInfo(el.license, el.name, el.spdx, el.kind, el.url) for el in audit.effective_licenses]
        expression = _expression(effective, "concluded")
    else:
        expression = _expression(own, "declared")
    url = c.display_url(node)
    return _Component(
        name=node.id,
        bom_ref=node.id if full else None,
        version=c.node_version(node),
        supplier=c.supplier_of(result, node),
        expression=expression,
        evidence=_license_entries(own, "declared", urls, texts) if full else [],
        model_card=_model_card(node, parents or []) if full else None,
        purl=_purl(node),
        distribution=_uri(url) if url else None,
        properties=_properties(node, audit) if full else None,
        description=f"pipeline: {node.facts.pipeline_tag}" if node.facts and node.facts.pipeline_tag else None,
    )


def _bom_spec(result: AuditResult) -> _BomSpec:
    """What the BOM says, decided once (linear in the result)."""
    licenses = c.node_licenses(result)
    audits = {m.id: m for m in result.models}
    urls = {rule_id: found[0] for rule_id, found in c.license_urls(result).items()}
    nodes = {n.id: n for n in result.graph.nodes}
    parents: dict[str, list[tuple[str, str, bool]]] = {}
    for e in sorted(result.graph.edges, key=lambda e: (e.child, e.parent, e.relation)):
        parents.setdefault(e.child, []).append((e.parent, e.relation, e.weak))

    copies: dict[str, _Component] = {}  # parent id -> its copy in pedigrees (one, shared by its children)

    def ancestor(parent: str) -> _Component:
        if parent not in copies:
            copies[parent] = _component(result, nodes[parent], licenses.get(parent, []), None, urls)
        return copies[parent]

    texts = _Texts(result)
    data = {e.parent for e in result.graph.edges if RELATION_NATURE.get(e.relation) == "data"}
    components = []
    for node_id in sorted(nodes):
        links = [p for p in parents.get(node_id, []) if p[0] in nodes]
        component = _component(result, nodes[node_id], licenses.get(node_id, []), audits.get(node_id), urls,
                               texts=texts, parents=links)
        if node_id in data:
            component.type = "data"  # training data (a `trained-on` parent): a CycloneDX data component
        if links:
            # Training data is no ancestor of the model (pedigree); the notes still name it.
            component.ancestors = [ancestor(p) for p, rel, _ in links if RELATION_NATURE.get(rel) != "data"]
            component.notes = "; ".join(
                f"{c.relation_phrase(rel)} {p}{' (weak evidence only)' if weak else ''}" for p, rel, weak in links
            )
        components.append(component)

    subject = _Component(
        name=result.product or result.manifest or "audited models",
        bom_ref=SUBJECT_REF,
        type="application",
        description="The product whose models were audited",
    )
    tool = _Component(name=result.tool, bom_ref=None, type="application", version=result.tool_version)
    digest = c.content_digest(result)
    return _BomSpec(
        components=components,
        subject=subject,
        tool=tool,
        roots=[r for r in result.graph.roots if r in nodes],
        metadata_properties=_metadata_properties(result),
        timestamp=c.parse_time(result.generated_at).replace(microsecond=0),
        serial=uuid.UUID(bytes=bytes.fromhex(digest[:32]), version=5),
    )


def _metadata_properties(result: AuditResult) -> list[tuple[str, str]]:
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


# --------------------------------------------------------------------------- the JSON, directly


def _last_if_none(value: Any) -> tuple[int, Any]:
    """A sort key placing None after every value, as the library's comparisons do."""
    return (1, "") if value is None else (0, value)


def _license_data(lic: _License) -> dict[str, Any]:
    data: dict[str, Any] = {"acknowledgement": lic.acknowledgement, "id": lic.id, "name": lic.name, "url": lic.url}
    if lic.text is not None:
        data["text"] = {"content": lic.text, "contentType": "text/plain"}
    return {"license": {k: v for k, v in data.items() if v is not None}}


def _evidence_data(comp: _Component) -> dict[str, Any] | None:
    licenses = sorted(
        set(comp.evidence),
        key=lambda lic: (lic.acknowledgement, _last_if_none(lic.id), _last_if_none(lic.name), _last_if_none(lic.url),
                         _last_if_none(lic.text)),
    )
    return {"licenses": [_license_data(lic) for lic in licenses]} if licenses else None


def _component_data(comp: _Component) -> dict[str, Any]:
    ancestors = {a.name: a for a in comp.ancestors}  # one per parent (a set in the library)
    expression = comp.expression
    data: dict[str, Any] = {
        "type": comp.type,
        "name": comp.name,
        "bom-ref": comp.bom_ref,
        "version": comp.version,
        "supplier": {"name": comp.supplier} if comp.supplier else None,
        "licenses": (
            [{"expression": expression.expression, "acknowledgement": expression.acknowledgement}]
            if expression else None
        ),
        "evidence": _evidence_data(comp),
        "modelCard": comp.model_card,
        "purl": comp.purl.to_string() if comp.purl is not None else None,
        "externalReferences": [{"type": "distribution", "url": comp.distribution}] if comp.distribution else None,
        "properties": [{"name": n, "value": v} for n, v in sorted(set(comp.properties or []))] or None,
        "description": comp.description,
    }
    if ancestors or comp.notes:
        pedigree = {
            "ancestors": [_component_data(ancestors[name]) for name in sorted(ancestors)] or None,
            "notes": comp.notes,
        }
        data["pedigree"] = {k: v for k, v in pedigree.items() if v is not None}
    return {k: v for k, v in data.items() if v is not None}


def bom_data(result: AuditResult, *, streamed: bool = False) -> dict[str, Any]:
    """The BOM as CycloneDX 1.6 JSON data: what cyclonedx-python-lib writes for `build_bom(result)`.
    With `streamed`, the components are a `_common.Items` produced as they are written."""
    spec = _bom_spec(result)
    refs = sorted([SUBJECT_REF, *(comp.bom_ref for comp in spec.components if comp.bom_ref)])
    roots = sorted(set(spec.roots))
    dependencies = [
        {"ref": ref, "dependsOn": roots} if ref == SUBJECT_REF and roots else {"ref": ref} for ref in refs
    ]
    metadata = {
        "timestamp": spec.timestamp.isoformat(),
        "tools": {"components": [_component_data(spec.tool)]},
        "component": _component_data(spec.subject),
        "properties": [{"name": n, "value": v} for n, v in sorted(set(spec.metadata_properties))],
    }
    data: dict[str, Any] = {
        "$schema": SCHEMA,
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": spec.serial.urn,
        "version": 1,
        "metadata": metadata,
        "dependencies": dependencies,
    }
    if spec.components:
        ordered = sorted(spec.components, key=lambda comp: comp.name)
        components = (_component_data(comp) for comp in ordered)
        data["components"] = c.Items(components) if streamed else list(components)
    return data


# --------------------------------------------------------------------------- the library's model (tests)


def _library_component(comp: _Component) -> Any:
    from cyclonedx.model import ExternalReference, ExternalReferenceType, Property, XsUri
    from cyclonedx.model.component import Component, ComponentType, Pedigree
    from cyclonedx.model.component_evidence import ComponentEvidence
    from cyclonedx.model.contact import OrganizationalEntity
    from cyclonedx.model.license import LicenseAcknowledgement, LicenseExpression

    pedigree = None
    if comp.ancestors or comp.notes:
        pedigree = Pedigree(ancestors=[_library_component(a) for a in comp.ancestors], notes=comp.notes)
    expression = comp.expression
    licenses = (
        [LicenseExpression(expression.expression, acknowledgement=LicenseAcknowledgement(expression.acknowledgement))]
        if expression else []
    )
    evidence = (
        ComponentEvidence(licenses=[_library_license(lic) for lic in comp.evidence]) if comp.evidence else None
    )
    return Component(
        evidence=evidence,
        type=ComponentType(comp.type),
        name=comp.name,
        bom_ref=comp.bom_ref,
        version=comp.version,
        supplier=OrganizationalEntity(name=comp.supplier) if comp.supplier else None,
        licenses=licenses,
        purl=comp.purl,
        external_references=(
            [ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(comp.distribution))]
            if comp.distribution
            else None
        ),
        properties=[Property(name=n, value=v) for n, v in comp.properties] if comp.properties is not None else None,
        pedigree=pedigree,
        description=comp.description,
    )


def _library_license(lic: _License) -> Any:
    from cyclonedx.model import AttachedText, XsUri
    from cyclonedx.model.license import DisjunctiveLicense, LicenseAcknowledgement

    url = XsUri(lic.url) if lic.url else None
    text = AttachedText(content=lic.text) if lic.text is not None else None
    acknowledgement = LicenseAcknowledgement(lic.acknowledgement)
    if lic.id:
        return DisjunctiveLicense(id=lic.id, url=url, text=text, acknowledgement=acknowledgement)
    return DisjunctiveLicense(name=lic.name, url=url, text=text, acknowledgement=acknowledgement)


def build_bom(result: AuditResult) -> Any:
    """The same BOM as cyclonedx-python-lib model objects (the tests write it with the library and
    compare; renders use `bom_data`)."""
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.dependency import Dependency
    from cyclonedx.model.tool import ToolRepository

    spec = _bom_spec(result)
    components = [_library_component(comp) for comp in spec.components]
    subject = _library_component(spec.subject)
    metadata = BomMetaData(
        tools=ToolRepository(components=[_library_component(spec.tool)]),
        component=subject,
        timestamp=spec.timestamp,
        properties=[_library_property(n, v) for n, v in spec.metadata_properties],
    )
    by_ref = {comp.bom_ref.value: comp for comp in components}
    roots = [by_ref[r] for r in spec.roots if r in by_ref]
    # The subject depends on the audited models; every component has its (empty) entry, as
    # `Bom.validate` would register it.
    dependencies = [Dependency(ref=subject.bom_ref, dependencies=[Dependency(ref=r.bom_ref) for r in roots])]
    dependencies += [Dependency(ref=comp.bom_ref) for comp in components]
    bom = Bom(components=components, metadata=metadata, serial_number=spec.serial, dependencies=dependencies)
    _index_dependencies(bom)
    return bom


def _library_property(name: str, value: str) -> Any:
    from cyclonedx.model import Property

    return Property(name=name, value=value)


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


def library_json(result: AuditResult) -> dict[str, Any]:
    """`build_bom` written by cyclonedx-python-lib (JSON 1.6), as data: the reference `bom_data` is
    tested against."""
    import json

    from cyclonedx.output.json import JsonV1Dot6

    data: dict[str, Any] = json.loads(JsonV1Dot6(build_bom(result)).output_as_string())
    cards = {comp.bom_ref: comp.model_card for comp in _bom_spec(result).components if comp.model_card}
    for component in data.get("components", []):  # the library has no modelCard: the same cards added
        if component.get("bom-ref") in cards:
            component["modelCard"] = cards[component["bom-ref"]]
    return data


def to_json(result: AuditResult) -> str:
    return (c.dumps_sorted(bom_data(result)) + b"\n").decode("utf-8")


def validation_errors(text: str) -> list[str]:
    """Errors from CycloneDX's strict 1.6 JSON schema validator (used by the tests: it takes seconds,
    so it is not run on every audit)."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
    return [str(e) for e in errors] if errors else []


def render(result: AuditResult, *, manifest_path: str | None = None) -> bytes:
    result = c.whole(result)
    del manifest_path
    return c.dumps_sorted(bom_data(result)) + b"\n"


def write(result: AuditResult, fp: IO[bytes], *, manifest_path: str | None = None) -> None:
    """`render`, written one component at a time."""
    result = c.whole(result)
    del manifest_path
    c.write_json(bom_data(result, streamed=True), fp.write)
    fp.write(b"\n")
