"""What a found value names: a Hub repo, a local model file or folder, an Ollama model, or nothing we
can audit (an API model name such as `gpt-4o` or `openai/gpt-4o`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from auditor.sources.repo_id import is_repo_id

Target = Literal["hub", "path", "ollama"]
Confidence = Literal["high", "medium", "low"]

_HUB_PREFIXES = ("https://huggingface.co/", "http://huggingface.co/", "huggingface.co/", "hf.co/")
# Weight and data files: a value naming one is a file, not a repo id.
_FILE_SUFFIXES = (
    ".py", ".json", ".yaml", ".yml", ".txt", ".md", ".bin", ".safetensors", ".gguf", ".pt", ".pth", ".onnx",
    ".csv", ".parquet", ".ckpt", ".h5", ".pkl", ".tar", ".gz", ".zip",
)
# Hosted-API model names (`openai/gpt-4o`, `gpt-4o`): models behind someone's API, not weights we can
# audit; `--include-api` keeps them. The list is data: api_models.txt beside this module.
API_MODELS_FILE = Path(__file__).with_name("api_models.txt")


@cache
def api_names() -> tuple[frozenset[str], tuple[str, ...]]:
    """(providers written before a model name, as LiteLLM and LangChain do; bare model-name prefixes)."""
    providers: set[str] = set()
    prefixes: list[str] = []
    for raw in API_MODELS_FILE.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("provider "):
            providers.add(line.removeprefix("provider ").strip())
        elif line.startswith("prefix "):
            prefixes.append(line.removeprefix("prefix ").strip())
    return frozenset(providers), tuple(prefixes)


# LiteLLM's way of naming a local Ollama model: `ollama/llama3.1`, `ollama_chat/llama3.1`.
_OLLAMA_PROVIDERS = ("ollama/", "ollama_chat/")
_OLLAMA_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}(/[a-z0-9][a-z0-9._-]{0,99})?(:[A-Za-z0-9][\w.-]{0,127})?$")


@dataclass(frozen=True)
class Named:
    target: Target
    ref: str  # repo id, path (posix, relative to the scan root), or Ollama name[:tag]


def hub_ref(value: str) -> str | None:
    """The Hub repo id a value names, or None: `owner/name`, `hf.co/owner/name[:tag]`,
    `https://huggingface.co/owner/name[/…]`."""
    text = value.strip()
    hub_prefixed = False
    for prefix in _HUB_PREFIXES:
        if text.lower().startswith(prefix):
            text, hub_prefixed = text[len(prefix):], True
            break
    if hub_prefixed:
        text = text.split(":", 1)[0].rstrip("/")
        text = "/".join(text.split("/")[:2])
    if not is_repo_id(text) or text.lower().endswith(_FILE_SUFFIXES):
        return None
    return text


def is_api_model(value: str) -> bool:
    providers, prefixes = api_names()
    text = value.strip().lower()
    head, sep, _ = text.partition("/")
    return (bool(sep) and head in providers) or text.startswith(prefixes)


def ollama_name(value: str) -> str | None:
    """An Ollama model name (`llama3.1`, `llama3.1:8b`, `namespace/model:tag`), or None."""
    text = value.strip()
    for prefix in _OLLAMA_PROVIDERS:
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
    if text.lower().startswith("hf.co/") or not _OLLAMA_NAME.match(text) or is_api_model(text):
        return None
    return text


def local_path(value: str, here: Path, root: Path) -> Path | None:
    """The file or folder a value names on disk, looked up from the file's folder up to the scan root
    (code is often run from a folder below the root); None when it names nothing there."""
    text = value.strip()
    if not text or len(text) > 4096 or "\x00" in text or "://" in text:
        return None
    try:
        folder = here
        while True:
            candidate = folder / text
            if candidate.exists():
                return candidate
            if folder == root or not folder.is_relative_to(root) or folder.parent == folder:
                break
            folder = folder.parent
        candidate = root / text
        return candidate if candidate.exists() else None
    except (OSError, ValueError):
        return None


def classify(value: str, wanted: Target | None, here: Path, root: Path, *, include_api: bool) -> Named | None:
    """What `value` names, given what the pattern expects (`wanted`: an Ollama pattern expects an Ollama
    name; None: a Hub id or a local path)."""
    path = local_path(value, here, root)
    if path is not None:
        import os

        return Named("path", Path(os.path.relpath(path.resolve(), root.resolve())).as_posix())
    if wanted == "ollama":
        name = ollama_name(value)
        if name is not None:
            return Named("ollama", name)
    lowered = value.strip().lower()
    if lowered.startswith(_OLLAMA_PROVIDERS):
        name = ollama_name(value)
        return Named("ollama", name) if name else None
    if is_api_model(value) and not include_api:
        return None
    repo = hub_ref(value)
    return Named("hub", repo) if repo is not None else None
