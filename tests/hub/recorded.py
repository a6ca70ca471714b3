"""Recorded Hub responses, built from real model-card metadata.

- `data/hub-cards.json`: the card metadata of licensors' own repos (copied from the team's
  `shared/hub-cards/`, each with its sources); regenerate with `python tests/hub/build_recorded.py`.
- `data/hub-corpus.jsonl.gz`: front matter of 3,405 real model cards (late 2024).
- Synthetic models use obviously synthetic ids (`example-org/…`).

Where only a Hub page (or an API record) was seen, the license it showed is served as the
`license:<x>` tag the Hub derives from the card; `X (other)` becomes `license:other` with
`license_name: X` (that is how the Hub displays such a card). Nothing else is reconstructed.

A body is what `GET /api/models/{id}` returns: `cardData` = the card, `tags` = the card's tags plus
the tags the Hub derives (`license:<x>`, `base_model:<id>`, `base_model:<relation>:<id>`), and a
clearly fake `sha` (`ffffffff` + 32 hex digits from the id) since the real one was not recorded.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
_SUMMARY_SUFFIXES = ("_present", "_starts", "_keys")


def fake_sha(repo_id: str) -> str:
    return "ffffffff" + hashlib.sha1(repo_id.encode()).hexdigest()[:32]


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def derived_tags(card: dict[str, Any]) -> list[str]:
    """The tags the Hub derives from a card."""
    tags = [t for t in _as_list(card.get("tags"))]
    for lic in _as_list(card.get("license")):
        tags.append(f"license:{lic}")
    relation = card.get("base_model_relation") if isinstance(card.get("base_model_relation"), str) else None
    bases = [b for b in _as_list(card.get("base_model")) if "/" in b and "://" not in b and not b.startswith("/")]
    if relation is None and len(bases) > 1:
        relation = "merge"
    for base in bases:
        tags.append(f"base_model:{base}")
        if relation:
            tags.append(f"base_model:{relation}:{base}")
    return sorted(dict.fromkeys(tags))


def api_body(repo_id: str, card: dict[str, Any] | None, *, gated: Any = False, **extra: Any) -> dict[str, Any]:
    card = dict(card or {})
    body: dict[str, Any] = {
        "_id": hashlib.md5(repo_id.encode()).hexdigest()[:24],
        "id": repo_id,
        "author": repo_id.split("/")[0],
        "sha": fake_sha(repo_id),
        "lastModified": "2024-12-01T00:00:00.000Z",
        "private": False,
        "disabled": False,
        "gated": gated if gated in ("auto", "manual") else False,
        "tags": derived_tags(card),
        "cardData": card,
    }
    for key in ("pipeline_tag", "library_name"):
        if isinstance(card.get(key), str):
            body[key] = card[key]
    body.update(extra)
    return body


@cache
def hub_cards() -> dict[str, dict[str, Any]]:
    """Bodies for the licensors' repos in `data/hub-cards.json`."""
    rows = json.loads((DATA / "hub-cards.json").read_text(encoding="utf-8"))
    bodies = {}
    for row in rows:
        card = _front_matter(row["card"])
        shown = row.get("license_shown")
        extra_tags: list[str] = []
        if shown and "license" not in card:
            name, _, kind = shown.partition(" (")
            if kind.startswith("other"):
                card.setdefault("license_name", name)
                extra_tags.append("license:other")
            else:
                extra_tags.append(f"license:{name}")
        body = api_body(row["id"], card, gated=row.get("gated"))
        body["tags"] = sorted({*body["tags"], *extra_tags})
        bodies[row["id"]] = body
    return bodies


def _front_matter(card: dict[str, Any]) -> dict[str, Any]:
    """Drop the fixture's summary keys (not front-matter keys, see shared/hub-cards/README.md)."""
    return {
        k: v
        for k, v in card.items()
        if not k.endswith(_SUMMARY_SUFFIXES) and k != "extra_gated_eu_disallowed"
    }


@cache
def corpus_rows() -> tuple[dict[str, Any], ...]:
    with gzip.open(DATA / "hub-corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        return tuple(json.loads(line) for line in fh if line.strip())


def corpus_bodies() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in corpus_rows():
        card = row.get("card")
        out[row["id"]] = api_body(row["id"], card if isinstance(card, dict) else {})
    return out


def all_real_bodies() -> dict[str, dict[str, Any]]:
    """Corpus bodies, overridden by the licensors' own cards where both exist."""
    bodies = corpus_bodies()
    bodies.update(hub_cards())
    return bodies
