"""Manifest entries -> audit entries (declared-by-hand facts become `manifest` evidence)."""

from __future__ import annotations

from auditor.audit import AuditEntry
from auditor.manifest import Manifest, ModelEntry
from auditor.model import DeclaredLicense, Evidence, ModelFacts, ParentClaim
from auditor.sources.base import now_iso


def _evidence(entry: ModelEntry, manifest: Manifest, field: str, value: str) -> Evidence:
    location = f"{manifest.source}:{entry.line}" if manifest.source else ""
    return Evidence(source="manifest", field=f"manifest.{field}", value=value, location=location)


def _parents(entry: ModelEntry, manifest: Manifest) -> list[ParentClaim]:
    relation = entry.base_model_relation or ("merge" if len(entry.base_model) > 1 else "unknown")
    return [
        ParentClaim(parent=base, relation=relation, evidence=_evidence(entry, manifest, "base_model", base))
        for base in entry.base_model
    ]


def _declared(entry: ModelEntry, manifest: Manifest) -> DeclaredLicense:
    evidence = [_evidence(entry, manifest, "license", v) for v in entry.license]
    if entry.license_name:
        evidence.append(_evidence(entry, manifest, "license_name", entry.license_name))
    if entry.license_link:
        evidence.append(_evidence(entry, manifest, "license_link", entry.license_link))
    return DeclaredLicense(
        license=list(entry.license),
        license_name=entry.license_name,
        license_link=entry.license_link,
        evidence=evidence,
    )


def audit_entries(manifest: Manifest) -> list[AuditEntry]:
    """Private entries are recorded as given (never fetched); others may override curated lineage."""
    entries = []
    for entry in manifest.models:
        ref = entry.source_spec.handler().stable_ref(entry.ref)
        if entry.private:
            facts = ModelFacts(
                id=ref.id,
                requested=ref.key,
                source="manifest",
                revision=ref.revision,
                retrieved_at=now_iso(),
                private=True,
                declared=_declared(entry, manifest),
                parents=_parents(entry, manifest),
            )
            entries.append(AuditEntry(ref=ref, line=entry.line or None, given=facts))
        else:
            entries.append(AuditEntry(ref=ref, line=entry.line or None, parents=_parents(entry, manifest)))
    return entries
