"""The `gguf` reference kind: a GGUF model file, read from its header metadata only.

A GGUF file is a small header (magic, version, tensor count, key/value metadata), a table of tensor
descriptions, then the tensor data (gigabytes). Only the key/value section is read, through a memory map,
so a 40 GB file costs what its header costs; the tensor table and data are never touched. Values of the
`general.*` keys are kept (`general.license`, `general.license.name|link`, `general.name`,
`general.organization`, `general.base_model.{i}.name|organization|repo_url`, `general.source.repo_url`,
`general.quantized_by`, `general.file_type`, …); every other value, a tokenizer's 250 000 strings
included, is stepped over without being decoded.

The header is untrusted input: the number of keys, each string's and array's length, array nesting and
the bytes walked are capped (`Limits`), and a header that breaks a cap, ends early, repeats a `general.*`
key or uses an unknown value type is a `GgufError` with a one-line reason. The source answers it as an
unresolved node (never a pass). The `gguf` package's `GGUFReader` is not used: it builds Python objects for
every array item and took 38 s on a header with a Llama 3 vocabulary (`bench/bench_gguf.py`).

Facts: the license fields become the node's declared license, the identifying fields its evidence, all of
source kind `gguf` with the header key as `field` and the file as `location`. Base models and the source
repo named by a Hub URL (`https://huggingface.co/ORG/NAME`) become parent claims, so the file is linked to
its Hub lineage: a `quantized` edge (the file is a copy, in another format, of what it names), `merge` when
the header names several base models, `adapter` when `general.type` says `adapter`. A base model named
without a Hub URL is a lineage note (a parent may be missing: never silently absent).
"""

from __future__ import annotations

import functools
import hashlib
import mmap
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from auditor.model import (
    DeclaredLicense,
    Evidence,
    ModelFacts,
    ModelRef,
    ParentClaim,
    Relation,
    Unresolved,
    UnresolvedCode,
)
from auditor.sources.base import BaseKind, Source, SourceOptions, now_iso
from auditor.sources.repo_id import normalise_repo_ref

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)  # version 1 (2023) used 32-bit lengths and is gone from the wild
PREFIX = "gguf:"
SUFFIX = ".gguf"

LICENSE_KEYS = ("general.license", "general.license.name", "general.license.link")
IDENTITY_KEYS = ("general.name", "general.organization", "general.quantized_by", "general.file_type")
_BASE_KEY = re.compile(r"^general\.base_model\.(\d{1,6})\.(name|organization|repo_url)$")
MAX_BASE_MODELS = 64


@dataclass(frozen=True)
class Limits:
    """Caps on an untrusted header (real files: ~50 keys, arrays of at most a few 100 000 items)."""

    max_keys: int = 65_536
    max_array: int = 16_000_000  # items in one array
    max_depth: int = 3  # arrays of arrays
    max_key_bytes: int = 65_535  # the format's own limit on a key
    max_kept_bytes: int = 65_536  # a `general.*` string that is kept (a license name, a URL)
    max_string_bytes: int = 64 * 1024 * 1024  # any string stepped over (a chat template)
    max_header_bytes: int = 1024 * 1024 * 1024  # the key/value section as a whole


LIMITS = Limits()


class GgufError(ValueError):
    """A header that cannot be read: the message is one line, the problem and where it is."""


@dataclass(frozen=True)
class GgufHeader:
    version: int
    tensor_count: int
    key_count: int
    values: dict[str, str]  # the `general.*` scalar values, as text
    header_bytes: int  # length of magic + counts + key/value section
    digest: str  # sha256 of those bytes


# The struct format of each scalar value type, by the name the `gguf` package gives the type.
_FORMATS = {"UINT8": "B", "INT8": "b", "UINT16": "H", "INT16": "h", "UINT32": "I", "INT32": "i", "FLOAT32": "f",
            "BOOL": "?", "UINT64": "Q", "INT64": "q", "FLOAT64": "d"}


@functools.cache
def value_types() -> tuple[dict[int, str], int, int]:
    """(scalar type number -> struct format, the string type, the array type), numbered as the `gguf`
    package's `GGUFValueType` declares them (imported on first use: it loads numpy)."""
    from gguf import GGUFValueType

    scalars = {int(t): _FORMATS[t.name] for t in GGUFValueType if t.name in _FORMATS}
    return scalars, int(GGUFValueType.STRING), int(GGUFValueType.ARRAY)


@dataclass
class _Cursor:
    buf: mmap.mmap | bytes
    limits: Limits
    order: str = "<"
    pos: int = 0
    kept: dict[str, str] = field(default_factory=dict)

    def take(self, size: int, what: str) -> int:
        start = self.pos
        end = start + size
        if size < 0 or end > len(self.buf):
            raise GgufError(f"truncated: {what} at byte {start} runs past the end of the file ({len(self.buf)} bytes)")
        if end > self.limits.max_header_bytes:
            raise GgufError(f"header larger than {self.limits.max_header_bytes} bytes (at {what})")
        self.pos = end
        return start

    def scalar(self, fmt: str, what: str) -> int | float | bool:
        size = struct.calcsize(fmt)
        start = self.take(size, what)
        value: int | float | bool = struct.unpack_from(self.order + fmt, self.buf, start)[0]
        return value

    def count(self, what: str, cap: int) -> int:
        value = int(self.scalar("Q", what))
        if value > cap:
            raise GgufError(f"{what} is {value}, over the cap of {cap}")
        return value

    def string(self, what: str, cap: int) -> str:
        size = self.count(f"length of {what}", cap)
        start = self.take(size, what)
        return bytes(self.buf[start:start + size]).decode("utf-8", "replace")

    def skip_strings(self, items: int, what: str) -> None:
        """Step over `items` strings without decoding them (a tokenizer's vocabulary)."""
        buf, unpack, cap = self.buf, struct.Struct(self.order + "Q").unpack_from, self.limits.max_string_bytes
        end = min(len(buf), self.limits.max_header_bytes)
        pos = self.pos
        for _ in range(items):
            if pos + 8 > end:
                self.overrun(pos + 8, f"the strings of {what}")
            (size,) = unpack(buf, pos)
            if size > cap:
                raise GgufError(f"a string in {what} is {size} bytes, over the cap of {cap}")
            pos += 8 + size
        if pos > end:
            self.overrun(pos, f"the strings of {what}")
        self.pos = pos

    def overrun(self, end: int, what: str) -> NoReturn:
        if end > self.limits.max_header_bytes and len(self.buf) >= self.limits.max_header_bytes:
            raise GgufError(f"header larger than {self.limits.max_header_bytes} bytes (at {what})")
        raise GgufError(f"truncated: {what} run past the end of the file ({len(self.buf)} bytes)")

    def value_type(self, what: str) -> int:
        kind = int(self.scalar("I", f"type of {what}"))
        scalars, string, array = value_types()
        if kind not in scalars and kind not in (string, array):
            raise GgufError(f"{what}: unknown value type {kind}")
        return kind

    def skip_array(self, what: str, depth: int) -> None:
        if depth > self.limits.max_depth:
            raise GgufError(f"{what}: arrays nested deeper than {self.limits.max_depth}")
        scalars, string, _ = value_types()
        item = self.value_type(f"items of {what}")
        items = self.count(f"item count of {what}", self.limits.max_array)
        if item in scalars:
            self.take(items * struct.calcsize(scalars[item]), what)
        elif item == string:
            self.skip_strings(items, what)
        else:
            for _ in range(items):
                self.skip_array(what, depth + 1)

    def key_value(self, index: int) -> None:
        scalars, string, array = value_types()
        key = self.string(f"key {index}", self.limits.max_key_bytes)
        kind = self.value_type(repr(key))
        keep = key.startswith("general.")
        if keep and key in self.kept:
            raise GgufError(f"{key!r} appears twice in the header")
        if kind == array:
            self.skip_array(repr(key), 1)
        elif kind == string:
            cap = self.limits.max_kept_bytes if keep else self.limits.max_string_bytes
            text = self.string(repr(key), cap)
            if keep:
                self.kept[key] = text
        else:
            value = self.scalar(scalars[kind], repr(key))
            if keep:
                self.kept[key] = str(value).lower() if isinstance(value, bool) else str(value)


def _byte_order(buf: mmap.mmap | bytes) -> tuple[str, int]:
    """The byte order and version (files written on big-endian machines say so only by their version)."""
    little, big = struct.unpack_from("<I", buf, 4)[0], struct.unpack_from(">I", buf, 4)[0]
    if little in SUPPORTED_VERSIONS:
        return "<", little
    if big in SUPPORTED_VERSIONS:
        return ">", big
    version = little if little < 0x10000 else big
    raise GgufError(f"GGUF version {version} is not supported (versions {', '.join(map(str, SUPPORTED_VERSIONS))})")


def parse_header(buf: mmap.mmap | bytes, limits: Limits = LIMITS) -> GgufHeader:
    """The header of a GGUF file held in `buf` (raises `GgufError`)."""
    if len(buf) < 24 or bytes(buf[:4]) != MAGIC:
        raise GgufError("not a GGUF file (it does not start with the GGUF magic and header)" if len(buf) >= 4
                        and bytes(buf[:4]) != MAGIC else "truncated: shorter than a GGUF header (24 bytes)")
    order, version = _byte_order(buf)
    cursor = _Cursor(buf, limits, order, pos=8)
    tensors = cursor.count("tensor count", 1 << 32)
    keys = cursor.count("key count", limits.max_keys)
    for index in range(keys):
        cursor.key_value(index)
    digest = hashlib.sha256(buf[:cursor.pos]).hexdigest()
    return GgufHeader(version=version, tensor_count=tensors, key_count=keys, values=dict(cursor.kept),
                      header_bytes=cursor.pos, digest=digest)


def read_header(path: Path, limits: Limits = LIMITS) -> GgufHeader:
    """Read the header of the GGUF file at `path` through a memory map (the tensors are never read).
    Raises `GgufError` (bad header) or `OSError` (unreadable file)."""
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        if size == 0:
            raise GgufError("empty file")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return parse_header(mapped, limits)


def has_magic(path: Path) -> bool:
    """Is `path` a regular file that starts like a GGUF file? (False for anything unreadable, a name too
    long or holding a NUL byte included: references and parent claims are untrusted text.)"""
    try:
        if not path.is_file():
            return False
        with path.open("rb") as handle:
            return handle.read(4) == MAGIC
    except (OSError, ValueError):
        return False


# --------------------------------------------------------------------------- header -> facts


def _evidence(key: str, value: str, location: str, revision: str, note: str = "") -> Evidence:
    return Evidence(source="gguf", field=key, value=value, location=location, revision=revision, note=note)


def _declared(values: dict[str, str], location: str, revision: str) -> DeclaredLicense:
    license_, name, link = (values.get(k, "").strip() or None for k in LICENSE_KEYS)
    evidence = [_evidence(k, values[k], location, revision) for k in LICENSE_KEYS if values.get(k, "").strip()]
    evidence += [_evidence(k, values[k], location, revision, note="identifies the model; not a license term")
                 for k in IDENTITY_KEYS if values.get(k, "").strip()]
    return DeclaredLicense(license=[license_] if license_ else [], license_name=name, license_link=link,
                           evidence=evidence)


def _base_indices(values: dict[str, str], location: str) -> tuple[list[int], list[str]]:
    """The base model indices the header describes (its count, and any key it has), with notes."""
    notes: list[str] = []
    raw = values.get("general.base_model.count", "0")
    count = int(raw) if raw.isdigit() else 0
    if not raw.isdigit():
        notes.append(f"{location}: general.base_model.count is {raw!r}, not a count; base models may be missing")
    described = {int(m.group(1)) for k in values if (m := _BASE_KEY.match(k))}
    indices = sorted(described | set(range(min(count, MAX_BASE_MODELS))))
    if count > MAX_BASE_MODELS or len(indices) > MAX_BASE_MODELS:
        notes.append(f"{location}: general.base_model.count is {count}: only the first {MAX_BASE_MODELS} are read")
    return indices[:MAX_BASE_MODELS], notes


def _base_relation(values: dict[str, str], hub_bases: int) -> Relation:
    if values.get("general.type", "").strip().lower() == "adapter":
        return "adapter"
    return "merge" if hub_bases > 1 else "quantized"


def _hub_claim(key: str, url: str, relation: Relation, location: str, revision: str,
               field_name: str) -> ParentClaim | None:
    repo_id, _ = normalise_repo_ref(url)
    if repo_id is None:
        return None
    return ParentClaim(parent=repo_id, relation=relation,
                       evidence=_evidence(field_name, url, location, revision, note=key))


def parent_claims(values: dict[str, str], location: str, revision: str) -> tuple[list[ParentClaim], list[str]]:
    """The parents the header names (Hub URLs only), and notes on those it names in a way that cannot be
    followed. Every base model claim has the field `general.base_model` (the key itself is its note), so
    the base models of a merge do not read as disagreeing evidence."""
    indices, notes = _base_indices(values, location)
    urls = {i: values.get(f"general.base_model.{i}.repo_url", "").strip() for i in indices}
    hub_bases = sum(1 for url in urls.values() if url and normalise_repo_ref(url)[0])
    relation = _base_relation(values, hub_bases)
    claims: list[ParentClaim] = []
    for index in indices:
        key = f"general.base_model.{index}.repo_url"
        claim = _hub_claim(key, urls[index], relation, location, revision, "general.base_model") if urls[index] else None
        if claim is not None:
            claims.append(claim)
            continue
        named = " / ".join(v for v in (values.get(f"general.base_model.{index}.organization", "").strip(),
                                       values.get(f"general.base_model.{index}.name", "").strip()) if v)
        what = f"{key} {urls[index]!r} names no Hub repo" if urls[index] else f"base model {index} ({named or 'unnamed'}) has no repo_url"
        notes.append(f"{location}: {what}; that parent cannot be followed")
    source = values.get("general.source.repo_url", "").strip()
    if source:
        claim = _hub_claim("general.source.repo_url", source, "quantized", location, revision, "general.source.repo_url")
        if claim is not None:
            claims.append(claim)
        else:
            notes.append(f"{location}: general.source.repo_url {source!r} names no Hub repo; that source cannot be followed")
    return claims, notes


def declared_in_files(paths: list[Path], limits: Limits = LIMITS) -> DeclaredLicense:
    """What the headers of some GGUF files declare, together (every license any of them names applies):
    the declaration of a model folder whose own card declares nothing. A file whose header cannot be read
    adds nothing here (its own node is unresolved and says why)."""
    licenses: list[str] = []
    evidence: list[Evidence] = []
    name = link = None
    for path in paths:
        try:
            header = read_header(path, limits)
        except (GgufError, OSError, ValueError):
            continue
        declared = _declared(header.values, str(path), header.digest[:40])
        licenses += [v for v in declared.license if v not in licenses]
        name, link = name or declared.license_name, link or declared.license_link
        evidence += [e for e in declared.evidence if e.field in LICENSE_KEYS]
    return DeclaredLicense(license=licenses, license_name=name, license_link=link, evidence=evidence)


def header_facts(header: GgufHeader, ref: ModelRef, location: str) -> ModelFacts:
    """The facts a header states about the model in the file at `location`."""
    revision = header.digest[:40]
    parents, notes = parent_claims(header.values, location, revision)
    return ModelFacts(
        id=ref.id, requested=ref.key, source="gguf", sha=revision, retrieved_at=now_iso(),
        declared=_declared(header.values, location, revision), parents=parents, lineage_notes=notes,
        tags=["gguf"],
    )


class GgufSource:
    """Reads GGUF headers from disk. Never raises for a file it can't read: returns `Unresolved`."""

    name = "gguf"

    def __init__(self, limits: Limits = LIMITS) -> None:
        self.requests = 0
        self.cache_hits = 0
        self.limits = limits

    def _unresolved(self, ref: ModelRef, code: UnresolvedCode, reason: str) -> Unresolved:
        return Unresolved(id=ref.id, requested=ref.key, source="gguf", code=code, reason=reason,
                          retrieved_at=now_iso())

    def fetch(self, ref: ModelRef) -> ModelFacts | Unresolved:
        path = Path(ref.id)
        try:
            if not path.is_file():
                what = "not a regular file" if path.exists() else "no such file"
                return self._unresolved(ref, "not-found", f"{ref.id}: {what}")
            header = read_header(path, self.limits)
        except GgufError as err:
            return self._unresolved(ref, "malformed", f"{ref.id}: GGUF header not read: {err}")
        except (OSError, ValueError) as err:
            return self._unresolved(ref, "malformed", f"{ref.id}: unreadable ({type(err).__name__}: {err})")
        return header_facts(header, ref, ref.id)


def _absolute(text: str, base_dir: Path | None) -> Path:
    path = Path(text).expanduser()
    return (path if path.is_absolute() else (base_dir or Path.cwd()) / path).resolve()


def gguf_ref(kind: str, value: str, base_dir: Path | None) -> ModelRef | None:
    """A GGUF file named by a path (`gguf:PATH`, `PATH.gguf`, or an existing file with the GGUF magic)."""
    raw = value.strip()
    try:
        if raw.startswith(PREFIX):
            return ModelRef(kind=kind, id=_absolute(raw.removeprefix(PREFIX), base_dir).as_posix())
        path = _absolute(raw, base_dir) if raw else None
    except (OSError, ValueError, RuntimeError):
        return None  # not a path this machine can name
    if path is not None and (raw.lower().endswith(SUFFIX) or has_magic(path)):
        return ModelRef(kind=kind, id=path.as_posix())
    return None


class GgufKind(BaseKind):
    """GGUF files on disk: `gguf:PATH`, `PATH.gguf`, a manifest `gguf:` or `path:` entry naming one, and
    the GGUF files a model folder or an Ollama tag holds (parents named by an absolute path)."""

    def parse_ref(self, text: str, base_dir: Path | None) -> ModelRef | None:
        return gguf_ref(self.spec.kind, text, base_dir)

    def parent_ref(self, parent: str) -> ModelRef | None:
        path = Path(parent)
        if path.is_absolute() and has_magic(path):
            return ModelRef(kind=self.spec.kind, id=parent)
        return None

    def manifest_ref(self, value: str, revision: str | None, base_dir: Path | None) -> ModelRef:
        return ModelRef(kind=self.spec.kind, id=_absolute(value.removeprefix(PREFIX), base_dir).as_posix())

    def stable_ref(self, ref: ModelRef) -> ModelRef:
        """A file inside the working directory is named by its relative path (stable across clones)."""
        try:
            return ref.model_copy(update={"id": Path(ref.id).relative_to(Path.cwd().resolve()).as_posix()})
        except ValueError:
            return ref

    def build(self, options: SourceOptions) -> Source:
        return GgufSource()
