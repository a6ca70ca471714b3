"""Copy the team's real card fixtures into the project (run from the repo root, with ../shared present).

    python tests/hub/build_recorded.py
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"


def main() -> None:
    DATA.mkdir(exist_ok=True)
    rows = []
    for path in sorted((SHARED / "hub-cards").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        hub = doc.get("hub") or {}
        rows.append(
            {
                "id": doc["id"],
                "card": doc.get("card") or {},
                "gated": hub.get("gated"),
                "license_shown": hub.get("hub_license_shown") or hub.get("license_in_api_record"),
                "sources": [s.get("where") for s in doc.get("sources", [])],
                "confidence": doc.get("confidence"),
            }
        )
    (DATA / "hub-cards.json").write_text(json.dumps(rows, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    with (SHARED / "hub-corpus" / "cards.jsonl").open("rb") as src, gzip.GzipFile(
        DATA / "hub-corpus.jsonl.gz", "wb", mtime=0
    ) as dst:
        shutil.copyfileobj(src, dst)
    print(f"{len(rows)} hub cards, corpus copied to {DATA}")


if __name__ == "__main__":
    main()
