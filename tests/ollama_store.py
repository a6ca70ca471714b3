"""A fake Ollama model store on disk, in the layout Ollama itself writes (`manifests/<host>/<ns>/<model>/<tag>`
JSON naming layers by sha256 digest; `blobs/sha256-<hex>`), and an organisation rule folder whose rule bundles
its license text, for the license-text matching."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

RULES = Path(__file__).resolve().parent.parent / "license_rules"
ACME_TEXT = """ACME OPEN MODEL LICENSE, version 1

Permission is granted to use, copy, modify and share the Acme model, for any purpose,
provided that this notice is kept with every copy.
"""


def blob(store: Path, data: bytes) -> str:
    """Store `data` as a blob; its digest (`sha256:<hex>`)."""
    digest = hashlib.sha256(data).hexdigest()
    path = store / "blobs" / f"sha256-{digest}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return f"sha256:{digest}"


def layer(media: str, digest: str) -> dict[str, Any]:
    return {"mediaType": f"application/vnd.ollama.image.{media}", "digest": digest, "size": 0}


def write_manifest(store: Path, name: str, layers: list[dict[str, Any]] | str | bytes,
                   host: str = "registry.ollama.ai", namespace: str = "library") -> Path:
    """A tag's manifest (`name` as `model:tag`); a str/bytes body is written as given (broken manifests)."""
    model, _, tag = name.partition(":")
    path = store / "manifests" / host / namespace / model / (tag or "latest")
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(layers, bytes):
        path.write_bytes(layers)
    elif isinstance(layers, str):
        path.write_text(layers, encoding="utf-8")
    else:
        config = blob(store, b'{"model_format":"gguf"}')
        body = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": config, "size": 0},
                "layers": layers}
        path.write_text(json.dumps(body), encoding="utf-8")
    return path


def tag(store: Path, name: str, *, gguf: Path | None = None, license_text: str | None = None,
        extra: list[dict[str, Any]] | None = None) -> Path:
    """A complete tag: a model layer (the GGUF file's bytes), a license layer, params and template."""
    layers = []
    if gguf is not None:
        layers.append(layer("model", blob(store, gguf.read_bytes())))
    if license_text is not None:
        layers.append(layer("license", blob(store, license_text.encode("utf-8"))))
    layers.append(layer("template", blob(store, b"{{ .Prompt }}")))
    layers.append(layer("params", blob(store, b'{"temperature": 0.7}')))
    return write_manifest(store, name, layers + list(extra or []))


def acme_rules(folder: Path) -> Path:
    """An organisation rule folder with one rule, `acme`, bundling its full license text."""
    rule = yaml.safe_load((RULES / "isc.yaml").read_text(encoding="utf-8"))
    rule.update(id="acme", name="Acme Open Model License", spdx="LicenseRef-Acme", url="https://acme.example/license",
                aliases={"tags": ["acme"], "names": ["Acme Open Model License"], "links": [], "spdx": []},
                text_file="texts/acme.txt")
    (folder / "texts").mkdir(parents=True, exist_ok=True)
    (folder / "texts" / "acme.txt").write_text(ACME_TEXT, encoding="utf-8")
    (folder / "acme.yaml").write_text(yaml.safe_dump(rule, sort_keys=False), encoding="utf-8")
    return folder
