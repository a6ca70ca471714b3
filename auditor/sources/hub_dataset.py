"""The `dataset` reference kind: a Hugging Face Hub dataset a model was trained on (`datasets/owner/name`).

A model card's `datasets:` list (and the `dataset:<id>` tags the Hub derives from it) names the data a model
was trained or fine-tuned on; `auditor.sources.card` turns each into a `trained-on` claim whose parent is
`datasets/<id>`, the way the Hub's own URLs name a dataset, so a dataset and a model with the same id are two
nodes. This source reads `GET /api/datasets/{id}?expand=…` exactly as `HubSource` reads a model (the same
huggingface_hub session, headers, error mapping, retries, `RateLimit` pacing and cache; the cache key holds
the `datasets/` prefix, so it never answers for the model of the same id) and turns the answer into facts:
the dataset's declared license, with evidence. A dataset has no parents: the crawl stops at it.
Failure is data: an unreadable dataset is an `Unresolved` node, audited like an unreadable model.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from auditor.model import ModelFacts, ModelRef, NodeRecord, Unresolved, UnresolvedCode
from auditor.sources.base import BaseKind, Source, SourceOptions, now_iso
from auditor.sources.card import DATASET_PREFIX, as_str_list, dataset_ref, declared_license
from auditor.sources.hub import HubSource

KIND = "dataset"
HUB_URL = "https://huggingface.co"
# The `expand` fields `/api/datasets/{id}` accepts that the audit reads (huggingface_hub's
# `ExpandDatasetProperty_T`); the model fields (`pipeline_tag`, `library_name`) are refused there.
DATASET_EXPAND = ("author", "cardData", "disabled", "gated", "lastModified", "private", "sha", "tags")


def bare_id(node_id: str) -> str:
    """`datasets/owner/name` -> `owner/name` (the id the Hub's API takes)."""
    return node_id.removeprefix(DATASET_PREFIX)


class DatasetSource(HubSource):
    """Reads dataset metadata from the Hub (`/api/datasets/{id}`); refs are `datasets/<id>` node ids."""

    name = KIND
    expand = DATASET_EXPAND

    def accepts(self, repo_id: str) -> bool:
        parsed, _ = dataset_ref(repo_id) if repo_id.startswith(DATASET_PREFIX) else (None, "")
        return parsed == repo_id

    def fetch(self, ref: ModelRef) -> ModelFacts | Unresolved:
        result = super().fetch(ref)
        if isinstance(result, Unresolved) and (result.source != KIND or result.id != ref.id):
            # Whatever path answered (a cached failure included) the node is this dataset, read by this kind.
            return result.model_copy(update={"source": KIND, "id": ref.id, "requested": ref.key})
        return result

    def _url(self, ref: ModelRef) -> str:
        base = f"{self.endpoint}/api/datasets/{bare_id(ref.id)}"
        return base if ref.revision is None else f"{base}/revision/{quote(ref.revision, safe='')}"

    def _parse(self, ref: ModelRef, body: str, retrieved_at: str) -> ModelFacts | Unresolved:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return self._unresolved(ref, "malformed", "the Hub answered with a body that is not JSON")
        if not isinstance(data, dict):
            return self._unresolved(ref, "malformed", "the Hub answered with JSON that is not an object")
        return dataset_facts(data, ref, retrieved_at=retrieved_at, endpoint=self.endpoint)

    def _unresolved(self, ref: ModelRef, code: UnresolvedCode, reason: str) -> Unresolved:
        reason = reason.replace("not a Hub repo id", "not a Hub dataset id").replace("repository", "dataset", 1)
        return Unresolved(id=ref.id, requested=ref.key, source=KIND, code=code, reason=reason, revision=ref.revision,
                          retrieved_at=now_iso())


def _str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def dataset_facts(data: dict[str, Any], ref: ModelRef, *, retrieved_at: str, endpoint: str) -> ModelFacts:
    """A Hub `/api/datasets` body (untrusted) to facts: the id (after a rename), the declared license and
    its evidence. No parents."""
    raw_id = _str(data, "id")
    answered, _ = dataset_ref(raw_id) if raw_id else (None, "")
    node_id = answered or ref.id
    card = data.get("cardData")
    card = card if isinstance(card, dict) else {}
    tags = as_str_list(data.get("tags"))
    sha = _str(data, "sha")
    bare = bare_id(node_id)
    location = f"{HUB_URL}/datasets/{bare}" if "huggingface.co" in endpoint else f"{endpoint}/datasets/{bare}"
    return ModelFacts(
        id=node_id,
        requested=ref.key,
        source=KIND,
        revision=ref.revision,
        sha=sha,
        author=_str(data, "author") or (bare.split("/")[0] if "/" in bare else None),
        last_modified=_str(data, "lastModified"),
        retrieved_at=retrieved_at,
        gated=_str(data, "gated"),
        private=data.get("private") if isinstance(data.get("private"), bool) else None,
        disabled=data.get("disabled") if isinstance(data.get("disabled"), bool) else None,
        tags=sorted(set(tags)),
        declared=declared_license(card, tags, source=KIND, location=location, revision=sha),
        url=location,
    )


class DatasetKind(BaseKind):
    """`datasets/<owner>/<name>` (or a Hub dataset URL); answered by `DatasetSource` or a recorded snapshot."""

    def parse_ref(self, text: str, base_dir: Path | None) -> ModelRef | None:
        raw = text.strip()
        if not (raw.startswith(DATASET_PREFIX) or "/datasets/" in raw):
            return None
        name, _, revision = raw.partition("@")
        node_id, _ = dataset_ref(name)
        return ModelRef(kind=self.spec.kind, id=node_id, revision=revision or None) if node_id else None

    def parent_ref(self, parent: str) -> ModelRef | None:
        node_id, _ = dataset_ref(parent) if parent.startswith(DATASET_PREFIX) else (None, "")
        return ModelRef(kind=self.spec.kind, id=node_id) if node_id == parent else None

    def manifest_problem(self, value: str) -> str | None:
        node_id, _ = dataset_ref(value)
        if node_id is None:
            return f"'{value}' is not a Hub dataset id. Write it as owner/name, e.g. example-org/example-data"
        return None

    def manifest_ref(self, value: str, revision: str | None, base_dir: Path | None) -> ModelRef:
        node_id, _ = dataset_ref(value)
        return ModelRef(kind=self.spec.kind, id=node_id or value, revision=revision)

    def build(self, options: SourceOptions) -> Source:
        from auditor.sources.cache import DEFAULT_TTL_SECONDS, MetadataCache, default_cache_dir

        cache = None
        if not options.no_cache:
            cache = MetadataCache(options.cache_dir or default_cache_dir(),
                                  options.ttl_seconds or DEFAULT_TTL_SECONDS)
        token = os.environ.get("HF_TOKEN") or None
        return DatasetSource(endpoint=options.endpoint, token=token, cache=cache, refresh=options.refresh)

    def display_url(self, node: NodeRecord) -> str | None:
        """`https://huggingface.co/datasets/<id>`."""
        node_id, _ = dataset_ref(node.id)
        return f"{HUB_URL}/{node_id}" if node_id == node.id else None

    def owner(self, node: NodeRecord) -> str | None:
        bare = bare_id(node.id)
        return bare.split("/", 1)[0] if "/" in bare else None
