"""The `ollama` reference kind: a model tag in the local Ollama store, read from disk (no server).

The store is `$OLLAMA_MODELS`, by default `~/.ollama/models` (Ollama's `envconfig.Models`). A tag
`[host/][namespace/]model[:tag]` (defaults `registry.ollama.ai`, `library`, `latest`; `types/model/name.go`)
has its manifest at `manifests/<host>/<namespace>/<model>/<tag>`: JSON whose `layers` each name a
`mediaType` and a `digest` (`sha256:<64 hex>`), the blob being `blobs/sha256-<64 hex>`
(`server/modelpath.go`, `GetBlobsPath`, which refuses any other digest since CVE-2024-37032).

What a tag is read for:
- each license layer (`application/vnd.ollama.image.license`: the full text shipped with the model) is
  matched to a license rule by a fingerprint of its normalised text against the rules' bundled texts
  (`text_file`); a text no rule's text matches is declared as an unrecognised license (review, never a pass);
- each model layer (`application/vnd.ollama.image.model`: a GGUF file) is a parent of the tag, a copy
  (`quantized`), read as a node of the `gguf` kind: its header's license and its Hub lineage;
- the params and template layers are recorded as evidence.

Everything in the store is untrusted: names are checked by Ollama's rules before they touch a path, digests
must be sha256, a manifest or blob reached through a symbolic link leading out of the store is refused,
and manifests, layer counts and license texts are capped. Each problem is an unresolved node with its reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.errors import AuditorError
from auditor.model import (
    DeclaredLicense,
    Evidence,
    ModelFacts,
    ModelRef,
    ParentClaim,
    Unresolved,
    UnresolvedCode,
)
from auditor.sources.base import BaseKind, Source, SourceOptions, now_iso

PREFIX = "ollama:"
DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"
MEDIA_MODEL = "application/vnd.ollama.image.model"
MEDIA_LICENSE = "application/vnd.ollama.image.license"
MEDIA_PARAMS = "application/vnd.ollama.image.params"
MEDIA_TEMPLATE = "application/vnd.ollama.image.template"
MAX_MANIFEST_BYTES = 1024 * 1024
MAX_LICENSE_BYTES = 1_000_000
MAX_LAYERS = 256
MAX_TAGS = 10_000
_DIGEST = re.compile(r"^sha256[:-]([0-9a-fA-F]{64})$")
_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_HOST = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]*$")
_PART_MAX = {"host": 350, "namespace": 80, "model": 80, "tag": 80}
NAME_RULES = ("[host/][namespace/]model[:tag], each part starting with a letter, digit or '_', then letters, "
              "digits, '_', '-' or '.' (no '.' in the namespace), at most 80 characters (host 350)")


class OllamaError(AuditorError):
    """A bad Ollama name, store or manifest: one line, the problem and the fix."""


@dataclass(frozen=True)
class OllamaName:
    host: str
    namespace: str
    model: str
    tag: str

    @property
    def short(self) -> str:
        """The shortest form Ollama shows (`llama3.1:8b`, `ns/model:tag`, `host/ns/model:tag`)."""
        if self.host.lower() != DEFAULT_HOST:
            return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"
        if self.namespace.lower() != DEFAULT_NAMESPACE:
            return f"{self.namespace}/{self.model}:{self.tag}"
        return f"{self.model}:{self.tag}"

    def manifest(self, store: Path) -> Path:
        return store / "manifests" / self.host / self.namespace / self.model / self.tag


def _check_part(raw: str, kind: str, value: str) -> None:
    pattern = _HOST if kind == "host" else _PART
    bad = not value or len(value) > _PART_MAX[kind] or not pattern.match(value) or ".." in value
    if bad or (kind == "namespace" and "." in value):
        raise OllamaError(f"{raw!r}: {value!r} is not a valid {kind} in an Ollama name ({NAME_RULES})")


def parse_name(text: str) -> OllamaName:
    """An Ollama model name with Ollama's defaults filled in (raises `OllamaError`)."""
    raw = text.strip().removeprefix(PREFIX)
    if not raw:
        raise OllamaError(f"empty Ollama name; write it as {NAME_RULES.split(',')[0]}, e.g. llama3.1:8b")
    if "+" in raw or "@" in raw:
        raise OllamaError(f"{raw!r}: builds (+…) and digests (@…) are not supported; name the tag, e.g. llama3.1:8b")
    path, tag = raw, DEFAULT_TAG
    last = raw.rsplit("/", 1)[-1]
    if ":" in last:
        path, tag = raw[: len(raw) - len(last)] + last.split(":", 1)[0], last.split(":", 1)[1]
    parts = path.split("/")
    if len(parts) > 3:
        raise OllamaError(f"{raw!r} has {len(parts)} '/'-separated parts; an Ollama name has at most 3 ({NAME_RULES})")
    host, namespace, model = ([DEFAULT_HOST, DEFAULT_NAMESPACE][: 3 - len(parts)] + parts)
    for kind, value in (("host", host), ("namespace", namespace), ("model", model), ("tag", tag)):
        _check_part(raw, kind, value)
    return OllamaName(host, namespace, model, tag)


def store_dir() -> Path:
    """The store Ollama uses: `$OLLAMA_MODELS`, else `~/.ollama/models`."""
    configured = os.environ.get("OLLAMA_MODELS", "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".ollama" / "models"


def _inside(path: Path, store: Path) -> bool:
    """Is `path`, symbolic links followed, inside the store?"""
    try:
        path.resolve().relative_to(store.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def list_tags(store: Path) -> list[OllamaName]:
    """Every tag in the store (as Ollama lists them: `manifests/<host>/<ns>/<model>/<tag>` files with a
    valid name; others are skipped, as Ollama skips them). Raises `OllamaError` when there is no store."""
    manifests = store / "manifests"
    if not manifests.is_dir():
        raise OllamaError(f"{store}: no Ollama model store here (no manifests folder). Set OLLAMA_MODELS to the "
                          "store's folder (default ~/.ollama/models) or pull a model with `ollama pull NAME`")
    names: list[OllamaName] = []
    for path in sorted(manifests.glob("*/*/*/*")):
        if len(names) >= MAX_TAGS:
            raise OllamaError(f"{manifests}: more than {MAX_TAGS} tags; name the ones to audit in the manifest")
        if not path.is_file():
            continue
        host, namespace, model, tag = path.relative_to(manifests).parts
        try:
            names.append(parse_name(f"{host}/{namespace}/{model}:{tag}"))
        except OllamaError:
            continue
    return names


def text_fingerprint(text: str) -> str:
    """sha256 of a license text with case, quotes, punctuation and spacing folded (copies of a license
    differ in line breaks, curly quotes and markdown, not in words)."""
    folded = text.lower().replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    words = re.findall(r"[a-z0-9]+", folded)
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


def unmatched_license(fingerprint: str) -> str:
    """The value declared for a license text no rule's text matches (no rule recognises it)."""
    return f"license-text-sha256:{fingerprint[:16]}"


# --------------------------------------------------------------------------- reading a manifest


@dataclass(frozen=True)
class Layer:
    media_type: str
    digest: str  # the 64 hex digits

    def blob(self, store: Path) -> Path:
        return store / "blobs" / f"sha256-{self.digest}"


def _layers(data: Any) -> list[Layer]:
    """The manifest's layers, each checked (raises `OllamaError`)."""
    if not isinstance(data, dict) or not isinstance(data.get("layers"), list):
        raise OllamaError("not an Ollama manifest (no `layers` list)")
    raw = data["layers"]
    if len(raw) > MAX_LAYERS:
        raise OllamaError(f"{len(raw)} layers, over the cap of {MAX_LAYERS}")
    layers = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("mediaType"), str):
            raise OllamaError(f"layers[{index}]: no mediaType")
        match = _DIGEST.match(item.get("digest", "")) if isinstance(item.get("digest"), str) else None
        if match is None:
            raise OllamaError(f"layers[{index}].digest: {str(item.get('digest'))[:80]!r} is not sha256:<64 hex digits>")
        layers.append(Layer(item["mediaType"], match.group(1).lower()))
    return layers


def read_manifest(name: OllamaName, store: Path) -> tuple[list[Layer], str, Path]:
    """The layers of a tag, the manifest's sha256 and its path (raises `OllamaError`, or FileNotFoundError)."""
    path = name.manifest(store)
    if not path.is_file():  # stores written by some Ollama versions hold lower-cased paths
        path = OllamaName(*(p.lower() for p in (name.host, name.namespace, name.model, name.tag))).manifest(store)
    if not path.is_file():
        raise FileNotFoundError(str(path))
    if not _inside(path, store):
        raise OllamaError(f"{path}: a symbolic link leading out of the store; refused")
    size = path.stat().st_size
    if size > MAX_MANIFEST_BYTES:
        raise OllamaError(f"{path}: {size} bytes, over the cap of {MAX_MANIFEST_BYTES} for a manifest")
    raw = path.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise OllamaError(f"{path}: not valid JSON ({type(exc).__name__})") from None
    try:
        return _layers(data), hashlib.sha256(raw).hexdigest(), path
    except OllamaError as err:
        raise OllamaError(f"{path}: {err}") from None


def read_license(layer: Layer, store: Path) -> str:
    """A license layer's text (raises `OllamaError`)."""
    blob = layer.blob(store)
    if not blob.is_file():
        raise OllamaError(f"{blob}: the license blob is missing from the store")
    if not _inside(blob, store):
        raise OllamaError(f"{blob}: a symbolic link leading out of the store; refused")
    size = blob.stat().st_size
    if size > MAX_LICENSE_BYTES:
        raise OllamaError(f"{blob}: {size} bytes, over the cap of {MAX_LICENSE_BYTES} for a license text")
    return blob.read_bytes().decode("utf-8", "replace")


class TextIndex:
    """Fingerprint -> rule id of every rule that bundles its license text; built once, on first use."""

    def __init__(self, rule_dirs: tuple[Path, ...]) -> None:
        self.rule_dirs = rule_dirs
        self._index: dict[str, str] | None = None
        self._lock = threading.Lock()

    def match(self, text: str) -> str | None:
        with self._lock:
            if self._index is None:
                self._index = self._build()
        return self._index.get(text_fingerprint(text))

    def _build(self) -> dict[str, str]:
        from auditor.rules.loader import load_rules

        rules = load_rules(list(self.rule_dirs))
        index: dict[str, str] = {}
        for rule_id in rules.rules:
            text = rules.license_text(rule_id)
            if text:
                index.setdefault(text_fingerprint(text), rule_id)
        return index


def _first_line(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line[:120]


class OllamaSource:
    """Reads tags from the store on disk. Never raises for a tag it can't read: returns `Unresolved`."""

    name = "ollama"

    def __init__(self, store: Path, texts: TextIndex) -> None:
        self.requests = 0
        self.cache_hits = 0
        self.store = store
        self.texts = texts

    def _unresolved(self, ref: ModelRef, code: UnresolvedCode, reason: str) -> Unresolved:
        return Unresolved(id=ref.id, requested=ref.key, source="ollama", code=code, reason=reason,
                          retrieved_at=now_iso())

    def fetch(self, ref: ModelRef) -> ModelFacts | Unresolved:
        try:
            name = parse_name(ref.id)
            layers, digest, path = read_manifest(name, self.store)
        except FileNotFoundError:
            return self._unresolved(ref, "not-found", f"no tag {ref.id} in the Ollama store {self.store} (pull it "
                                    "with `ollama pull`, or set OLLAMA_MODELS to the store that has it)")
        except OllamaError as err:
            return self._unresolved(ref, "malformed", str(err))
        except OSError as err:
            return self._unresolved(ref, "malformed", f"{ref.id}: unreadable ({err.strerror or err})")
        return self._facts(ref, name, layers, digest, path)

    def _license(self, layer: Layer, revision: str) -> tuple[str | None, Evidence]:
        """(the value declared for a license layer, its evidence)."""
        location = str(layer.blob(self.store))
        try:
            text = read_license(layer, self.store)
        except (OllamaError, OSError) as err:
            return None, Evidence(source="ollama", field="license layer", value="(unreadable)", location=location,
                                  revision=revision, note=str(err))
        rule_id = self.texts.match(text)
        fingerprint = text_fingerprint(text)
        value = rule_id or unmatched_license(fingerprint)
        said = (f"matches the bundled text of {rule_id}" if rule_id else
                "matches no license rule's bundled text: its terms are unknown")
        return value, Evidence(source="ollama", field="license layer", value=f"{_first_line(text)} ({said})",
                               location=location, revision=revision, note=f"text sha256 (normalised) {fingerprint}")

    def _model_claim(self, layer: Layer, manifest: Path, revision: str) -> ParentClaim:
        blob = layer.blob(self.store)
        evidence = Evidence(source="ollama", field="model layer", value=f"sha256:{layer.digest}",
                            location=str(manifest), revision=revision)
        problem = None
        if not blob.is_file():
            problem = f"{blob}: the model blob is missing from the store"
        elif not _inside(blob, self.store):
            problem = f"{blob}: a symbolic link leading out of the store; refused"
        parent = blob.as_posix() if problem else blob.resolve().as_posix()
        return ParentClaim(parent=parent, relation="quantized", evidence=evidence, unreadable=problem)

    def _facts(self, ref: ModelRef, name: OllamaName, layers: list[Layer], digest: str, manifest: Path) -> ModelFacts:
        revision = digest[:40]
        licenses: list[str] = []
        evidence: list[Evidence] = []
        parents: list[ParentClaim] = []
        for layer in layers:
            if layer.media_type == MEDIA_LICENSE:
                value, ev = self._license(layer, revision)
                licenses += [value] if value and value not in licenses else []
                evidence.append(ev)
            elif layer.media_type == MEDIA_MODEL:
                parents.append(self._model_claim(layer, manifest, revision))
            elif layer.media_type in (MEDIA_PARAMS, MEDIA_TEMPLATE):
                evidence.append(Evidence(source="ollama", field=layer.media_type.rsplit(".", 1)[-1] + " layer",
                                         value=f"sha256:{layer.digest}", location=str(manifest), revision=revision,
                                         note="how the model is run; not a license term"))
        unreadable = [e for e in evidence if e.value == "(unreadable)"]
        notes = [f"{manifest}: no model layer; the weights this tag runs are unknown"] if not parents else []
        notes += [f"{e.location}: license layer not read ({e.note}); its terms are unknown" for e in unreadable]
        return ModelFacts(
            id=ref.id, requested=ref.key, source="ollama", sha=revision, retrieved_at=now_iso(), tags=["ollama"],
            declared=DeclaredLicense(license=licenses, evidence=evidence), parents=parents, lineage_notes=notes,
        )


class OllamaKind(BaseKind):
    """Ollama tags: `ollama:NAME[:TAG]` on the command line, `- ollama: NAME[:TAG]` in a manifest."""

    def parse_ref(self, text: str, base_dir: Path | None) -> ModelRef | None:
        if not text.strip().startswith(PREFIX):
            return None
        return ModelRef(kind=self.spec.kind, id=parse_name(text).short)  # a bad name: OllamaError, one line

    def manifest_problem(self, value: str) -> str | None:
        try:
            parse_name(value)
        except OllamaError as err:
            return str(err)
        return None

    def manifest_ref(self, value: str, revision: str | None, base_dir: Path | None) -> ModelRef:
        return ModelRef(kind=self.spec.kind, id=parse_name(value).short)

    def build(self, options: SourceOptions) -> Source:
        return OllamaSource(store_dir(), TextIndex(tuple(options.rule_dirs)))
