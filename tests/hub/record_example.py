"""Re-record the bundled example's snapshot from the loopback Hub (recorded real cards + synthetic).

    python tests/hub/record_example.py

The recorded cards carry no real commit sha (`tests/hub/recorded.py` serves clearly fake `ffffffff…` ones) and
the loopback Hub's address is no evidence location: both are dropped from the snapshot, so the example's
reports say "revision unknown" instead of showing a fake.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.conftest import default_state  # noqa: E402
from tests.hub.server import HubServer  # noqa: E402

HUB_MODELS = [
    "Qwen/Qwen2.5-7B-Instruct",
    "bartowski/Qwen2.5-Coder-7B-Instruct-GGUF",
    "unsloth/Llama-3.2-11B-Vision-Instruct",
    "deepseek-ai/DeepSeek-R1-Distill-Llama-8B",
    "CohereForAI/c4ai-command-r-plus",
    "Qwen/Qwen2.5-7B",
    "meta-llama/Llama-3.1-8B",
    "meta-llama/Llama-3.2-11B-Vision-Instruct",
]


def main() -> None:
    with HubServer(default_state()) as hub:
        env = dict(os.environ, HF_ENDPOINT=hub.endpoint, SOURCE_DATE_EPOCH="1764806400")
        cmd = [sys.executable, "-m", "auditor", "snapshot", "record", *HUB_MODELS,
               "--out", str(ROOT / "examples" / "snapshot"), "--no-cache"]
        subprocess.run(cmd, check=True, env=env, cwd=ROOT)
        clean(ROOT / "examples" / "snapshot" / "snapshot.json", hub.endpoint)


def _scrub(value: object, endpoint: str) -> object:
    if isinstance(value, dict):
        return {k: _scrub_field(k, v, endpoint) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, endpoint) for v in value]
    return value


def _scrub_field(key: str, value: object, endpoint: str) -> object:
    if isinstance(value, str) and value.startswith(endpoint):
        return "" if key == "location" else None
    if key in ("sha", "revision") and isinstance(value, str) and value.startswith("ffffffff"):
        return None
    return _scrub(value, endpoint)


def clean(path: Path, endpoint: str) -> None:
    """Drop the loopback Hub's address and the recorded cards' fake shas from a written snapshot."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(_scrub(doc, endpoint), indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
