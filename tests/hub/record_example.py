"""Re-record the bundled example's snapshot from the loopback Hub (recorded real cards + synthetic).

    python tests/hub/record_example.py
"""

from __future__ import annotations

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
]


def main() -> None:
    with HubServer(default_state()) as hub:
        env = dict(os.environ, HF_ENDPOINT=hub.endpoint, SOURCE_DATE_EPOCH="1764806400")
        cmd = [sys.executable, "-m", "auditor", "snapshot", "record", *HUB_MODELS,
               "--out", str(ROOT / "examples" / "snapshot"), "--no-cache"]
        subprocess.run(cmd, check=True, env=env, cwd=ROOT)


if __name__ == "__main__":
    main()
