"""The `hub` reference kind: a Hugging Face Hub repo (`owner/name[@revision]`, or its Hub URL).

Fetching lives in `auditor.sources.hub` (`HubSource`); this module is what the registry declares for
the kind: how a reference names a Hub repo, how the source is built from the shared options, and how
reports show a Hub node (its page, its owner, its package URL).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from auditor.model import ModelRef, NodeRecord
from auditor.sources.base import BaseKind, PackageUrl, Source, SourceOptions
from auditor.sources.repo_id import is_repo_id, normalise_repo_ref, repo_id_problem

HUB_URL = "https://huggingface.co"
_SHA_RE = re.compile(r"[0-9a-fA-F]{7,64}")
_FULL_SHA_RE = re.compile(r"[0-9a-f]{40}")


class HubKind(BaseKind):
    """Hub repo ids; answered by `HubSource` (or by a recorded snapshot with `--snapshot`)."""

    def parse_ref(self, text: str, base_dir: Path | None) -> ModelRef | None:
        name, _, revision = text.strip().partition("@")
        repo_id, _ = normalise_repo_ref(name)
        if repo_id is None:
            return None
        return ModelRef(kind=self.spec.kind, id=repo_id, revision=revision or None)

    def parent_ref(self, parent: str) -> ModelRef | None:
        return ModelRef(kind=self.spec.kind, id=parent) if is_repo_id(parent) else None

    def manifest_problem(self, value: str) -> str | None:
        return repo_id_problem(value)

    def build(self, options: SourceOptions) -> Source:
        from auditor.sources.cache import DEFAULT_TTL_SECONDS, MetadataCache, default_cache_dir
        from auditor.sources.hub import HubSource

        cache = None
        if not options.no_cache:
            cache = MetadataCache(options.cache_dir or default_cache_dir(),
                                  options.ttl_seconds or DEFAULT_TTL_SECONDS)
        token = os.environ.get("HF_TOKEN") or None
        return HubSource(endpoint=options.endpoint, token=token, cache=cache, refresh=options.refresh)

    def display_url(self, node: NodeRecord) -> str | None:
        """`https://huggingface.co/<id>` (+ `/tree/<sha>` when the sha read is known)."""
        if not is_repo_id(node.id):
            return None
        url = f"{HUB_URL}/{node.id}"
        if node.facts is not None and node.facts.sha and _SHA_RE.fullmatch(node.facts.sha):
            url += f"/tree/{node.facts.sha}"
        return url

    def owner(self, node: NodeRecord) -> str | None:
        """The owner part of the repo id."""
        return node.id.split("/", 1)[0] if is_repo_id(node.id) else None

    def purl(self, node: NodeRecord) -> PackageUrl | None:
        """`pkg:huggingface/<owner>/<name>[@<commit sha>]`."""
        if not is_repo_id(node.id):
            return None
        owner, _, name = node.id.partition("/")
        sha = node.facts.sha if node.facts is not None else None
        return PackageUrl("huggingface", owner, name, sha if sha and _FULL_SHA_RE.fullmatch(sha) else None)
