"""Helpers shared by the renderers: per-node licenses, counts, ids, times. No heavy imports."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import unicodedata
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import IO, Any, TypeVar

from pydantic import BaseModel

from auditor.findings import resolved
from auditor.model import (
    LEGACY_SCHEMA_VERSIONS,
    AuditResult,
    CatalogueLicense,
    Clause,
    EffectiveLicense,
    Finding,
    ModelAudit,
    NodeRecord,
    Obligation,
)
from auditor.sources import registry
from auditor.sources.base import KindHandler, PackageUrl
from auditor.vocab import RELATION_NATURE, SEVERITIES

# Most restrictive first: a node declaring several licenses is coloured by the first kind found here.
KIND_ORDER: tuple[str, ...] = (
    "non-commercial",
    "proprietary",
    "copyleft",
    "weak-copyleft",
    "use-restricted",
    "community",
    "unknown",
    "permissive",
)

KIND_LABELS: dict[str, str] = {
    "permissive": "Permissive",
    "community": "Community license",
    "use-restricted": "Use-restricted",
    "non-commercial": "Non-commercial",
    "proprietary": "Proprietary",
    "copyleft": "Copyleft",
    "weak-copyleft": "Weak copyleft",
    "unknown": "Unknown",
}

RELATION_PHRASES: dict[str, str] = {
    "finetune": "is fine-tuned from",
    "adapter": "is an adapter on",
    "quantized": "is a quantization of",
    "merge": "is merged from",
    "trained-on": "is trained on the dataset",
    "unknown": "is derived (how is unknown) from",
}

VERDICT_WORDS: dict[str, str] = {"pass": "PASS", "review": "REVIEW", "fail": "FAIL"}

_T = TypeVar("_T")
_DERIVED: dict[int, dict[str, Any]] = {}


def per_result(result: AuditResult, name: str, build: Callable[[], _T]) -> _T:
    """`build()`, computed once per result object and kept while the result lives.

    Reporters look the same things up many times (a license's name for every finding, the unread
    models for every incomplete note): each catalogue is built once, so a render stays linear in
    the result. A result is frozen, so what is derived from it never goes stale; callers must not
    mutate what they get."""
    key = id(result)
    store = _DERIVED.get(key)
    if store is None:
        store = _DERIVED[key] = {}
        weakref.finalize(result, _DERIVED.pop, key, None)  # runs before the id can be reused
    if name not in store:
        store[name] = build()
    return store[name]


def whole(result: AuditResult) -> AuditResult:
    """The result with every model's findings whole (schema 1.3 keeps the findings about a lineage node and about a
    license's terms once, in `lineage_findings` and `license_findings`: `auditor.findings.resolved`), once per result:
    what every report but `audit.json` reads."""
    if not result.lineage_findings and not result.license_findings:
        return result
    return per_result(result, "whole", lambda: resolved(result))


@dataclass(frozen=True, order=True)
class LicenseInfo:
    """A normalised license as the result knows it (rule id, display name, SPDX id, kind, text URL)."""

    license: str
    name: str
    spdx: str
    kind: str
    url: str = ""


def kind_rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else KIND_ORDER.index("unknown")


def dominant_kind(licenses: Iterable[LicenseInfo]) -> str:
    kinds = [lic.kind if lic.kind in KIND_ORDER else "unknown" for lic in licenses]
    return min(kinds, key=kind_rank) if kinds else "unknown"


def _info(el: EffectiveLicense) -> LicenseInfo:
    return LicenseInfo(license=el.license, name=el.name, spdx=el.spdx, kind=el.kind, url=el.url)


def license_catalog(result: AuditResult) -> dict[str, LicenseInfo]:
    """Every license the result mentions, by rule id: the result's own catalogue
    (`AuditResult.license_catalogue`, what the rules said at audit time), then, for a result saved
    before it existed, the effective licenses (first occurrence in model order wins).
    Built once per result (`per_result`): do not mutate it."""

    def build() -> dict[str, LicenseInfo]:
        catalog: dict[str, LicenseInfo] = {
            rid: LicenseInfo(license=rid, name=e.name, spdx=e.spdx, kind=e.kind, url=e.url)
            for rid, e in result.license_catalogue.items()
        }
        for model in result.models:
            for el in model.effective_licenses:
                if el.license not in catalog:
                    catalog[el.license] = _info(el)
        return catalog

    return per_result(result, "license_catalog", build)


@lru_cache(maxsize=1)
def bundled_rule_infos() -> dict[str, LicenseInfo]:
    """Name, SPDX id, kind and URL of every bundled rule, read straight from the YAML (fast, no
    validation). Used only for a node license that no audited model carries (an ancestor's
    license that does not flow down); empty when the rule files cannot be read."""
    import yaml

    from auditor.paths import bundled_rules_dir

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    infos: dict[str, LicenseInfo] = {}
    try:
        paths = sorted(bundled_rules_dir().glob("*.yaml"))
        for path in paths:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # a safe loader
            if isinstance(data, dict) and isinstance(data.get("id"), str):
                rid = data["id"]
                infos[rid] = LicenseInfo(
                    license=rid,
                    name=str(data.get("name") or rid),
                    spdx=str(data.get("spdx") or "NOASSERTION"),
                    kind=str(data.get("kind") or "unknown"),
                    url=str(data.get("url") or ""),
                )
    except (OSError, yaml.YAMLError):
        return {}
    return infos


def license_info(result: AuditResult, rule_id: str, catalog: dict[str, LicenseInfo] | None = None) -> LicenseInfo:
    """What the result says of a rule id; the bare id, kind unknown, if nothing. Only a result saved
    before the license catalogue existed (schema 1.0) falls back to the bundled rule files: a newer
    result renders the same bytes whatever rules are installed."""
    catalog = license_catalog(result) if catalog is None else catalog
    if rule_id in catalog:
        return catalog[rule_id]
    bundled = bundled_rule_infos().get(rule_id) if is_legacy(result) else None
    if bundled is not None:
        return bundled
    return LicenseInfo(license=rule_id, name=rule_id, spdx="NOASSERTION", kind="unknown")


def is_legacy(result: AuditResult) -> bool:
    """A result saved before `AuditResult.license_catalogue` existed (reports fall back as they did)."""
    return result.schema_version in LEGACY_SCHEMA_VERSIONS


def license_entry(result: AuditResult, rule_id: str) -> CatalogueLicense | None:
    """The result's catalogue entry of a rule id (name, URL, full text…), None when it has none."""
    return result.license_catalogue.get(rule_id)


def license_text(result: AuditResult, rule_id: str) -> str | None:
    """The full text of a license, when the rule that encodes it bundled one at audit time."""
    entry = result.license_catalogue.get(rule_id)
    return entry.text if entry is not None else None


def holder_of(model: ModelAudit, el: EffectiveLicense) -> str:
    """The model that itself declares `el` (the end of its `via` path)."""
    if el.own or not el.via:
        return model.id
    return el.via[-1]


def node_licenses(result: AuditResult) -> dict[str, list[LicenseInfo]]:
    """Each graph node's own declared licenses, normalised: `AuditResult.node_licenses`.

    A result saved before that field existed has it empty; for such a result the licenses are
    reconstructed from the effective licenses' `via` paths (`_reconstructed_node_licenses`).
    Built once per result: do not mutate it.
    """
    return per_result(result, "node_licenses", lambda: _node_licenses(result))


def _node_licenses(result: AuditResult) -> dict[str, list[LicenseInfo]]:
    if not result.node_licenses:
        return _reconstructed_node_licenses(result)
    catalog = license_catalog(result)
    known: dict[str, LicenseInfo] = {}  # rule id -> info, looked up once per distinct id
    for rule_ids in result.node_licenses.values():
        for rid in rule_ids:
            if rid not in known:
                known[rid] = license_info(result, rid, catalog)
    return {
        node_id: sorted({known[rid] for rid in rule_ids}) for node_id, rule_ids in sorted(result.node_licenses.items())
    }


def _reconstructed_node_licenses(result: AuditResult) -> dict[str, list[LicenseInfo]]:
    """Best effort for results without `node_licenses`: own licenses, `via` holders, and raw
    declared strings matched against the licenses the result mentions."""
    catalog = license_catalog(result)
    by_key: dict[str, LicenseInfo] = {}
    for info in catalog.values():
        for key in (info.license, info.spdx, info.name):
            if key:
                by_key.setdefault(_fold(key), info)
    found: dict[str, set[LicenseInfo]] = {}
    for model in result.models:
        for el in model.effective_licenses:
            found.setdefault(holder_of(model, el), set()).add(_info(el))
        for rule_id in model.declared:
            if rule_id in catalog:
                found.setdefault(model.id, set()).add(catalog[rule_id])
    for node in result.graph.nodes:
        for match in _declared_matches(node, by_key):
            found.setdefault(node.id, set()).add(match)
    return {node_id: sorted(infos) for node_id, infos in sorted(found.items())}


def _declared_matches(node: NodeRecord, by_key: dict[str, LicenseInfo]) -> list[LicenseInfo]:
    """The licenses a node's card declares (license, tags, license_name) that `by_key` knows."""
    if node.facts is None:
        return []
    declared = node.facts.declared
    raw = [*declared.license, *declared.tag_licenses]
    if declared.license_name:
        raw.append(declared.license_name)
    return [by_key[_fold(value)] for value in raw if _fold(value) in by_key]


def _fold(value: str) -> str:
    return re.sub(r"[\s_]+", "-", value.strip().lower())


_HTTP_URL = re.compile(r"^https?://[^\s<>\"'`]+$", re.IGNORECASE)


def http_url(value: str | None) -> str | None:
    """`value` if it is a plain http(s) URL (safe in an href or a license URL field), else None."""
    if value and _HTTP_URL.match(value.strip()):
        return value.strip()
    return None


def license_urls(result: AuditResult) -> dict[str, list[str]]:
    """Rule id -> where its text is: the rule's own URL (`EffectiveLicense.url`), then the
    license link on the card of a model that declares it. http(s) URLs only, no duplicates.
    Built once per result: do not mutate it."""
    return per_result(result, "license_urls", lambda: _license_urls(result))


def _license_urls(result: AuditResult) -> dict[str, list[str]]:
    links: dict[str, str] = {}
    for n in result.graph.nodes:
        link = http_url(n.facts.declared.license_link) if n.facts is not None else None
        if link:
            links[n.id] = link
    catalog = license_catalog(result)
    urls: dict[str, dict[str, None]] = {}  # rule id -> its URLs, in order, each once

    def add(rule_id: str, url: str | None) -> None:
        if url:
            urls.setdefault(rule_id, {})[url] = None

    for infos in node_licenses(result).values():
        for info in infos:
            add(info.license, http_url(info.url))
    for rule_id, info in catalog.items():
        add(rule_id, http_url(info.url))
    for model in result.models:
        for el in model.effective_licenses:
            add(el.license, links.get(holder_of(model, el)))
    for node_id, infos in node_licenses(result).items():
        for info in infos:
            add(info.license, links.get(node_id))
    return {k: list(v) for k, v in sorted(urls.items()) if v}


def raw_declared(node: NodeRecord) -> str:
    """The node's declared license as written on its card (for display when not normalised)."""
    if node.facts is None:
        return ""
    d = node.facts.declared
    parts = [*d.license]
    if d.license_name:
        parts.append(d.license_name)
    parts += [t for t in d.tag_licenses if t not in parts]
    if d.license_link and not parts:
        parts.append(d.license_link)
    return ", ".join(dict.fromkeys(parts))


def relation_phrase(relation: str) -> str:
    return RELATION_PHRASES.get(relation, f"is derived ({relation}) from")


def inherited_path(model_id: str, via: list[str]) -> list[str]:
    """`via` without the model itself at its head: the ancestors a license comes through."""
    return list(via[1:]) if via and via[0] == model_id else list(via)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _handlers(node: NodeRecord, *, read: bool) -> list[KindHandler]:
    """The handlers of the kinds that may have produced `node` (by its evidence source). With `read`,
    only a node whose facts a source read: a model declared by hand in the manifest has no page."""
    source = node_source(node)
    if read and (node.facts is None or source == registry.MANIFEST_SOURCE):
        return []
    return [spec.handler() for spec in registry.kinds_of_source(source)]


def display_url(node: NodeRecord) -> str | None:
    """Where a reader can see a node that was read, as its kind says (a Hub node's page, pinned to
    the sha read: `https://huggingface.co/<id>/tree/<sha>`); None when its kind has no page."""
    for handler in _handlers(node, read=True):
        url = handler.display_url(node)
        if url:
            return url
    return None


def purl_of(node: NodeRecord) -> PackageUrl | None:
    """The package URL of a node that was read, as its kind says (`pkg:huggingface/owner/name@sha`)."""
    for handler in _handlers(node, read=True):
        purl = handler.purl(node)
        if purl is not None:
            return purl
    return None


def owner_of(node: NodeRecord) -> str | None:
    """Owner of a node: the card's author, else what its kind reads from its id (a Hub repo's owner)."""
    if node.facts is not None and node.facts.author:
        return node.facts.author
    for handler in _handlers(node, read=False):
        owner = handler.owner(node)
        if owner:
            return owner
    return None


def supplier_of(result: AuditResult, node: NodeRecord) -> str | None:
    """Supplier of a node for an SBOM: `owner_of`, else, for a model read from the product's own files
    (a kind registered with `product_files`, such as a local folder), the maintainers of the audited
    product (the manifest lists it as their own model). None when nothing can be said."""
    owner = owner_of(node)
    if owner:
        return owner
    spec = registry.registered().get(node_source(node))
    if spec is not None and spec.product_files:
        subject = plain(result.product or "") or plain(result.manifest or "")
        if subject:
            return f"Maintainers of {subject}"
    return None


def node_source(node: NodeRecord) -> str:
    if node.facts is not None:
        return node.facts.source
    if node.unresolved is not None:
        return node.unresolved.source
    return ""


def node_version(node: NodeRecord) -> str | None:
    if node.facts is not None:
        return node.facts.sha or node.facts.revision
    if node.unresolved is not None:
        return node.unresolved.revision
    return None


def active_findings(model: ModelAudit) -> list[Finding]:
    return [f for f in model.findings if not f.waived]


def severity_counts(result: AuditResult) -> dict[str, int]:
    result = whole(result)
    counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    counts["waived"] = 0
    for model in result.models:
        for finding in model.findings:
            if finding.waived:
                counts["waived"] += 1
            else:
                counts[finding.severity] = counts.get(finding.severity, 0) + 1
    return counts


def blocking_findings(result: AuditResult) -> list[Finding]:
    """Error findings that are not waived: what blocks release (built once per result: do not mutate it)."""
    result = whole(result)
    return per_result(
        result,
        "blocking_findings",
        lambda: [f for m in result.models for f in m.findings if f.severity == "error" and not f.waived],
    )


@dataclass(frozen=True)
class UnreadModel:
    """A lineage node that could not be read (`NodeRecord.unresolved`): why, and which audited
    models have it in their lineage."""

    id: str
    code: str
    reason: str
    needed_by: tuple[str, ...] = ()


def unread_models(result: AuditResult) -> list[UnreadModel]:
    """Every graph node that could not be read, sorted by id. While any is left, release cannot
    be cleared: what it would add to the verdict is unknown. Built once per result: do not mutate it."""
    return per_result(result, "unread_models", lambda: _unread_models(result))


def _unread_models(result: AuditResult) -> list[UnreadModel]:
    unread = sorted((n for n in result.graph.nodes if n.unresolved is not None), key=lambda n: n.id)
    needed: dict[str, list[str]] = {n.id: [] for n in unread}
    for model in result.models:
        for node_id in dict.fromkeys([model.id, *model.lineage]):
            if node_id in needed:
                needed[node_id].append(model.id)
    return [
        UnreadModel(n.id, n.unresolved.code, n.unresolved.reason, tuple(needed[n.id]))
        for n in unread
        if n.unresolved is not None
    ]


def incomplete_headline(result: AuditResult) -> str:
    """The sentence every human-facing report opens with when the audit is incomplete:
    `INCOMPLETE: release cannot be cleared until 2 models are read.`"""
    n = len(unread_models(result))
    if n == 0:  # `complete` is false, yet no node says why: still no clearance
        return "INCOMPLETE: release cannot be cleared until the whole lineage is read."
    return f"INCOMPLETE: release cannot be cleared until {plural(n, 'model')} {'is' if n == 1 else 'are'} read."


def unread_line(model: UnreadModel) -> str:
    """`id: code (reason)` as plain one-line text."""
    return plain(f"{model.id}: {model.code} ({model.reason})")


def incomplete_summary(result: AuditResult) -> str:
    """The headline and, on the same line, each unread model and why (for one-line fields:
    SPDX comments, CycloneDX properties, SARIF notifications)."""
    unread = unread_models(result)
    text = incomplete_headline(result)
    if unread:
        text += " Not read: " + "; ".join(unread_line(u) for u in unread) + "."
    return text


def undecided_findings(result: AuditResult) -> list[Finding]:
    """Unwaived findings saying a term that decides the verdict depends on a use field the manifest does not
    declare (an info-level `needs-input` only says which duties would apply: it decides nothing)."""
    result = whole(result)
    return [f for m in result.models for f in m.findings
            if f.code == "needs-input" and not f.waived and f.severity != "info"]


def undecided_fields(result: AuditResult) -> list[str]:
    """The use fields the undecided terms wait on, sorted."""
    return sorted({f.field or "use" for f in undecided_findings(result)})


def release_cleared(result: AuditResult) -> bool:
    """True only when nothing blocks release: the audit is complete, no error stands unwaived and no term waits
    on an undeclared use field. Only then may a report say "Nothing blocks release"."""
    return result.complete and not blocking_findings(result) and not undecided_findings(result)


@dataclass
class ObligationView:
    """Obligations with the same text, shown once: every license and clause that asks for it and
    every model it applies to (two Llama versions both ask for "Built with Llama")."""

    id: str
    text: str
    sources: list[tuple[str, Clause | None]] = field(default_factory=list)  # (rule id, clause)
    models: list[str] = field(default_factory=list)

    @property
    def license(self) -> str:
        return self.sources[0][0] if self.sources else ""


def dedupe_obligations(obligations: Iterable[Obligation]) -> list[ObligationView]:
    """Obligations with the same text (whitespace folded) merged into one, in first-seen order."""
    views: dict[str, ObligationView] = {}
    models: dict[str, dict[str, None]] = {}  # text -> its models, in order, each once
    for ob in obligations:
        key = " ".join(ob.text.split())
        view = views.get(key)
        if view is None:
            view = views[key] = ObligationView(id=ob.id, text=ob.text)
            models[key] = {}
        if (ob.license, ob.clause) not in view.sources:
            view.sources.append((ob.license, ob.clause))
        models[key].update(dict.fromkeys(ob.models))
    for key, view in views.items():
        view.models = list(models[key])
    return list(views.values())


def model_obligations(result: AuditResult, model: ModelAudit) -> list[Obligation]:
    """The obligations that bind one model, each as the result lists it but naming only this model (the model's
    `obligations` are ids of the result's obligations, schema 1.2)."""
    by_id = per_result(result, "obligations_by_id", lambda: {ob.id: ob for ob in result.obligations})
    return [Obligation.of({**by_id[oid].__dict__, "models": [model.id]}) for oid in model.obligations]


def license_name(result: AuditResult, rule_id: str | None) -> str:
    if not rule_id:
        return ""
    info = license_catalog(result).get(rule_id)
    return info.name if info else rule_id


def canonical_json(result: AuditResult) -> str:
    """The result as sorted, indented JSON (the `json` format's text; see `write_canonical_json`)."""
    buffer = io.BytesIO()
    write_canonical_json(result, buffer.write)
    return buffer.getvalue().decode("utf-8")


def write_canonical_json(value: BaseModel, write: Callable[[bytes], object]) -> None:
    """Write a model as sorted, indented JSON (UTF-8, a trailing newline) piece by piece.

    The same bytes as `json.dumps(value.model_dump(mode="json"), sort_keys=True, indent=2,
    ensure_ascii=False) + "\\n"`, written by pydantic's Rust encoder (the standard library's
    indenting encoder is pure Python and was the slowest step of a warm 200-model audit), and
    never whole: each item of a list of models (every audited model, graph node and edge…) is
    dumped and written on its own, so writing holds one item's copy at a time, not several copies
    of the whole result (tests/test_reports.py checks the bytes). The pieces reach `write` about a
    megabyte at a time (a large audit's file is written in a thousand calls, not several per model)."""
    chunks = _Chunks(write)
    _write_model(value, chunks.add, 0)
    chunks.add(b"\n")
    chunks.flush()


@contextmanager
def background_writes(fp: IO[bytes]) -> Iterator[Callable[[bytes], object]]:
    """A `write` for `fp` whose bytes a second thread hands to the file while the caller encodes the next ones.

    Writing a large report to a file spends about as long in the kernel (copying into the page cache) as encoding
    it; the file's `write` releases the interpreter lock, so the two overlap. At most `_QUEUED` chunks wait (the
    writer's `_Chunks` hands on about a megabyte at a time). An error of the file (a full disk, a closed pipe) is
    raised in the caller at its next write, or on leaving; an error of the caller stops the thread. A stream with
    no file descriptor (an in-memory buffer) is written directly: a thread would gain nothing."""
    try:
        fp.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both an OSError and a ValueError
        yield fp.write
        return
    import queue
    import threading

    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=_QUEUED)
    failed: list[BaseException] = []

    def drain() -> None:
        while (chunk := chunks.get()) is not None:
            if not failed:
                try:
                    fp.write(chunk)
                except BaseException as error:  # handed to the caller, which raises it
                    failed.append(error)

    def put(chunk: bytes) -> None:
        if failed:
            raise failed[0]
        chunks.put(chunk)

    thread = threading.Thread(target=drain, name="auditor-report-writer", daemon=True)
    thread.start()
    try:
        yield put
    finally:
        chunks.put(None)
        thread.join()
    if failed:
        raise failed[0]


_QUEUED = 8  # chunks waiting for the writer thread


class _Chunks:
    """Small pieces of bytes handed on to `write` in chunks of about `size` bytes, in order."""

    def __init__(self, write: Callable[[bytes], object], size: int = 1 << 20) -> None:
        self.write, self.size = write, size
        self.pieces: list[bytes] = []
        self.held = 0

    def add(self, piece: bytes) -> None:
        self.pieces.append(piece)
        self.held += len(piece)
        if self.held >= self.size:
            self.flush()

    def flush(self) -> None:
        if self.pieces:
            self.write(b"".join(self.pieces))
            self.pieces, self.held = [], 0


def dumps_sorted(value: Any, depth: int = 0) -> bytes:
    """One JSON-ready value as `json.dumps(sort_keys=True, indent=2, ensure_ascii=False)` writes it
    when it sits `depth` levels deep (its lines after the first indented to that depth).

    Encoded by orjson (its output is those bytes for the strings, integers, booleans, nulls, lists and
    string-keyed mappings a report holds; tests/test_json_writer.py compares them; a float is written as its
    shortest round-trip form, as pydantic's encoder wrote it, but NaN and infinities as null), else (a value orjson
    refuses: a non-string key, an integer beyond 64 bits, a lone surrogate) by pydantic's encoder."""
    import orjson

    try:
        text = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError
        from pydantic_core import to_json

        text = to_json(_sorted_keys(value), indent=2)
    return text.replace(b"\n", b"\n" + b"  " * depth) if depth and b"\n" in text else text


def _sorted_json(items: object) -> bytes:
    """A `KEYS_SORTED` model, or a list of them, as pydantic's encoder writes it with a 2-space indent, by orjson
    (several times faster on the graph's records): each model as its attributes (`vars`), which are sorted and
    hold only plain values and other such models (auditor.model._Sorted; tests/test_model_parts.py checks every
    such class). Pydantic's encoder where orjson refuses a value."""
    import orjson

    try:
        return orjson.dumps(items, default=vars, option=orjson.OPT_INDENT_2)
    except TypeError:  # orjson.JSONEncodeError
        from pydantic_core import to_json

        text: bytes = to_json(items, indent=2)
        return text


def _write_model(model: BaseModel, write: Callable[[bytes], object], depth: int) -> None:
    """A model's object: its nested models and lists of models written piece by piece, the rest
    (small fields) dumped at once."""
    streamed = {
        name: value
        for name in type(model).model_fields
        if isinstance(value := getattr(model, name), BaseModel) or _models(value)
        or (isinstance(value, dict) and value and all(_models(item) for item in value.values()))
    }
    small: dict[str, Any] = model.model_dump(mode="json", exclude=set(streamed))
    keys = sorted([*small, *streamed])
    if not keys:
        write(b"{}")
        return
    pad = b"\n" + b"  " * (depth + 1)
    for i, key in enumerate(keys):
        write((b"{" if i == 0 else b",") + pad + dumps_sorted(key) + b": ")
        value = streamed.get(key)
        if isinstance(value, BaseModel):
            _write_model(value, write, depth + 1)
        elif isinstance(value, list):
            _write_items(value, write, depth + 1)
        elif isinstance(value, dict):
            _write_lists(value, write, depth + 1)
        else:
            write(dumps_sorted(small[key], depth + 1))
    write(b"\n" + b"  " * depth + b"}")


def _models(value: object) -> bool:
    """A non-empty list of models (written item by item)."""
    return isinstance(value, list) and bool(value) and all(isinstance(item, BaseModel) for item in value)


def _write_lists(value: dict[str, list[BaseModel]], write: Callable[[bytes], object], depth: int) -> None:
    """A mapping of keys to lists of models (e.g. the result's `lineage_findings`), each list item by item."""
    pad = b"\n" + b"  " * (depth + 1)
    for i, key in enumerate(sorted(value)):
        write((b"{" if i == 0 else b",") + pad + dumps_sorted(key) + b": ")
        _write_items(value[key], write, depth + 1)
    write(b"\n" + b"  " * depth + b"}")


def _write_items(items: list[BaseModel], write: Callable[[bytes], object], depth: int) -> None:
    if len(items) > _BATCH and all(getattr(type(item), "KEYS_SORTED", False) for item in items):
        _write_batched(items, write, depth)
        return
    _write_array(items, write, depth, lambda item: write(_item_json(item, depth + 1)))


_BATCH = 128  # items of a long list encoded per encoder call


def _write_batched(items: list[BaseModel], write: Callable[[bytes], object], depth: int) -> None:
    """A long array of sorted-key models, `_BATCH` at a time: one encoder call and one re-indent per batch (the
    same bytes as item by item; a graph of 100,000 nodes has 200,000 small records)."""
    indent = b"\n" + b"  " * depth
    for start in range(0, len(items), _BATCH):
        text = _sorted_json(items[start:start + _BATCH])
        if depth:
            text = text.replace(b"\n", indent)
        last = start + _BATCH >= len(items)
        # the batch's own brackets: "[" + newline opens it, newline + "]" closes it
        write((b"[" if start == 0 else b",") + text[1:len(text) - (0 if last else len(indent) + 1)])


def _item_json(item: BaseModel, depth: int) -> bytes:
    """One model as `dumps_sorted` writes its dump. A model whose JSON keys come out sorted as serialised
    (`KEYS_SORTED`: graph records and result parts, auditor.model._Sorted) is encoded directly, without a Python copy."""
    if not getattr(type(item), "KEYS_SORTED", False):
        return dumps_sorted(item.model_dump(mode="json"), depth)
    text = _sorted_json(item)
    return text.replace(b"\n", b"\n" + b"  " * depth) if depth else text


def _write_array(
    items: Iterable[Any], write: Callable[[bytes], object], depth: int, write_item: Callable[[Any], object]
) -> None:
    """A JSON array at `depth`, each item written by `write_item` (at depth + 1), as json.dumps indents it."""
    pad = b"\n" + b"  " * (depth + 1)
    empty = True
    for item in items:
        write((b"[" if empty else b",") + pad)
        write_item(item)
        empty = False
    write(b"[]" if empty else b"\n" + b"  " * depth + b"]")


class Items:
    """A JSON array that `write_json` writes one item at a time, as they are produced."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items


def write_json(value: Any, write: Callable[[bytes], object], depth: int = 0) -> None:
    """`value` as `dumps_sorted` writes it (sorted keys, 2-space indent), with every `Items` in it
    written item by item: the dicts and lists around an `Items` are walked, the rest is dumped whole."""
    if isinstance(value, Items):
        _write_array(value.items, write, depth, lambda item: write(dumps_sorted(item, depth + 1)))
    elif isinstance(value, dict) and _has_items(value):
        pad = b"\n" + b"  " * (depth + 1)
        for i, key in enumerate(sorted(value)):
            write((b"{" if i == 0 else b",") + pad + dumps_sorted(key) + b": ")
            write_json(value[key], write, depth + 1)
        write(b"\n" + b"  " * depth + b"}")
    elif isinstance(value, list) and _has_items(value):
        _write_array(value, write, depth, lambda item: write_json(item, write, depth + 1))
    else:
        write(dumps_sorted(value, depth))


def _has_items(value: Any) -> bool:
    if isinstance(value, Items):
        return True
    if isinstance(value, dict):
        return any(_has_items(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_items(v) for v in value)
    return False


def _sorted_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def content_digest(result: AuditResult) -> str:
    """SHA-256 (hex) of the result's canonical JSON: a stable content id (computed once per
    result, without holding the JSON text)."""

    def build() -> str:
        digest = hashlib.sha256()
        write_canonical_json(result, digest.update)
        return digest.hexdigest()

    return per_result(result, "content_digest", build)



def parse_time(value: str) -> dt.datetime:
    """`generated_at` as an aware UTC datetime (naive input is taken as UTC)."""
    moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def iso_utc(value: str) -> str:
    """`generated_at` normalised to `YYYY-MM-DDTHH:MM:SSZ`."""
    return parse_time(value).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def section_label(section: str) -> str:
    """`§ 4.a` for a bare clause number; a section already named (`Section 3(a)`) as written."""
    section = section.strip()
    if re.match(r"^([0-9]|[ivxIVX]+([.()]|$))", section):
        return f"§ {section}"
    return section


_UNSAFE_CHARS = {"Cc", "Cf", "Co", "Cs", "Zl", "Zp"}


class _PlainTable(dict[int, "str | None"]):
    """`str.translate` table of `plain`, filled in as characters are first seen (each character's
    Unicode category is looked up once, not once per occurrence)."""

    def __init__(self, multiline: bool) -> None:
        super().__init__()
        self.multiline = multiline

    def __missing__(self, code: int) -> str | None:
        ch = chr(code)
        out: str | None
        if ch == "\n" and self.multiline:
            out = ch
        elif ch in "\t\n\r\u2028\u2029\x0b\x0c\x85":
            out = " "
        elif unicodedata.category(ch) in _UNSAFE_CHARS:
            out = None
        else:
            out = ch
        self[code] = out
        return out


_PLAIN = {False: _PlainTable(multiline=False), True: _PlainTable(multiline=True)}


def plain(value: str, *, multiline: bool = False) -> str:
    """Card text made plain for a text file or a terminal: control, format (bidi overrides,
    zero-width) and private-use characters removed; line breaks folded to spaces unless
    `multiline` (then only \\n is kept)."""
    if value.isprintable():  # the common case (no control, format, separator or private-use character)
        return value if multiline else " ".join(value.split())
    text = value.replace("\r\n", "\n").translate(_PLAIN[multiline])
    return text if multiline else " ".join(text.split())


def short_location(location: str, manifest: str | None) -> str:
    """A file location shown without the machine-specific folder it was read in.

    `/home/ci/repo/examples/auditor.yaml:29` with the manifest `examples/auditor.yaml` becomes
    `examples/auditor.yaml:29`; any other absolute path keeps its last three parts after `…/`.
    URLs and relative paths are unchanged.
    """
    loc = location.strip()
    if not re.match(r"^(/|[A-Za-z]:[\\/]|\\\\)", loc):
        return loc
    norm = loc.replace("\\", "/")
    if manifest:
        rel = re.sub(r"^(\./)+", "", manifest.replace("\\", "/")) if not manifest.startswith("/") else ""
        if rel:
            path, sep, line = norm.rpartition(":") if re.search(r":\d+$", norm) else (norm, "", "")
            if path == rel or path.endswith("/" + rel):
                return rel + (sep + line if sep else "")
            folder = rel.rpartition("/")[0]
            marker = f"/{folder}/" if folder else ""
            if marker and marker in norm:
                return norm[norm.rindex(marker) + 1 :]
    parts = [p for p in norm.split("/") if p]
    return norm if len(parts) <= 3 else "…/" + "/".join(parts[-3:])


def humanize_code(code: str) -> str:
    words = re.split(r"[-_.\s]+", code.strip())
    text = " ".join(w for w in words if w)
    return text[:1].upper() + text[1:] if text else code


@dataclass(frozen=True)
class TrainingData:
    """One dataset a model was trained on (a `trained-on` edge), its declared licenses and the findings on it."""

    model: str
    dataset: str
    licenses: list[str]
    findings: list[Finding]


def training_data(result: AuditResult) -> list[TrainingData]:
    """Every `trained-on` edge of the graph, with the dataset's licenses and the findings whose path ends at it."""
    result = whole(result)
    licenses = node_licenses(result)
    findings = [f for m in result.models for f in m.findings]
    out = []
    for edge in sorted(result.graph.edges, key=lambda e: (e.child, e.parent)):
        if RELATION_NATURE.get(edge.relation) != "data":
            continue
        about = [f for f in findings if f.via and f.via[-1] == edge.parent and edge.child in f.via]
        out.append(TrainingData(edge.child, edge.parent, [info.name for info in licenses.get(edge.parent, [])],
                                about))
    return out
