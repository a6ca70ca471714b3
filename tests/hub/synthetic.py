"""Synthetic models (obviously synthetic `example-org/…` ids) that exercise lineage shapes.

Real bases come from recorded real cards (`recorded.py`); nothing here invents a license or a
base for a real repo id.
"""

from __future__ import annotations

from typing import Any

from tests.hub.recorded import api_body


def _card(license: str | list[str] | None = None, base: str | list[str] | None = None, relation: str | None = None,
          **extra: Any) -> dict[str, Any]:
    card: dict[str, Any] = dict(extra)
    if license is not None:
        card["license"] = license
    if base is not None:
        card["base_model"] = base
    if relation is not None:
        card["base_model_relation"] = relation
    return card


SYNTHETIC_CARDS: dict[str, dict[str, Any]] = {
    # 4-level chain: quantization of an adapter on a fine-tune of a real base.
    "example-org/chat-sft": _card("apache-2.0", "Qwen/Qwen2.5-7B", "finetune"),
    "example-org/chat-lora": _card("apache-2.0", "example-org/chat-sft", "adapter"),
    "example-org/chat-lora-q4": _card("apache-2.0", "example-org/chat-lora", "quantized"),
    # A merge with two parents (the Hub infers `merge` from a list).
    "example-org/merge-7b": _card("apache-2.0", ["Qwen/Qwen2.5-7B-Instruct", "example-org/chat-sft"]),
    # A cycle and a self-reference.
    "example-org/cycle-a": _card("mit", "example-org/cycle-b", "finetune"),
    "example-org/cycle-b": _card("mit", "example-org/cycle-a", "finetune"),
    "example-org/self-ref": _card("mit", "example-org/self-ref", "finetune"),
    # A missing parent; a parent behind a gate; a gated-but-visible parent.
    "example-org/orphan-ft": _card("apache-2.0", "example-org/deleted-base", "finetune"),
    "example-org/gated-child": _card("apache-2.0", "example-org/gated-base", "finetune"),
    "example-org/visible-gated-child": _card("apache-2.0", "example-org/visible-gated-base", "adapter"),
    "example-org/visible-gated-base": _card("cc-by-nc-4.0"),
    # Evidence that disagrees: the card says finetune, the tags say adapter.
    "example-org/mixed-evidence": _card("apache-2.0", "example-org/chat-sft", "finetune"),
    # A renamed repo: requests for the old id are redirected to the new one.
    "example-org/renamed-new": _card("apache-2.0", "Qwen/Qwen2.5-7B", "finetune"),
    "example-org/points-at-old-name": _card("apache-2.0", "example-org/renamed-old", "finetune"),
    # Fault injection targets.
    "example-org/flaky": _card("mit"),
    "example-org/throttled": _card("mit"),
    "example-org/slow": _card("mit"),
    "example-org/broken-json": _card("mit"),
    # Unusable base_model values.
    "example-org/local-path-base": _card("apache-2.0", "/content/drive/MyDrive/checkpoint-500"),
    "example-org/url-base": _card("apache-2.0", "https://huggingface.co/example-org/chat-sft"),
    # Scenario lineages on real recorded bases (tests/test_scenarios.py); only the example-org cards are made up.
    # A community quantization of Cohere's Command R+ that keeps the base's tag.
    "example-org/c4ai-command-r-plus-GGUF": _card("cc-by-nc-4.0", "CohereForAI/c4ai-command-r-plus", "quantized"),
    # Fine-tunes of licensed bases that declare Apache-2.0 instead of the base's terms.
    "example-org/Llama-3.1-8B-support-ft": _card("apache-2.0", "meta-llama/Llama-3.1-8B-Instruct", "finetune"),
    "example-org/gemma-3-4b-it-support": _card("apache-2.0", "google/gemma-3-4b-it", "finetune"),
    "example-org/mpt-7b-chat-support": _card("apache-2.0", "mosaicml/mpt-7b-chat", "finetune"),
    # Merges (the Hub infers `merge` from a list): Apache-2.0 + CC-BY-NC-4.0; CC-BY-SA-4.0 + Llama 2.
    "example-org/qwen-aya-merge": _card("apache-2.0", ["Qwen/Qwen2.5-7B-Instruct", "CohereForAI/aya-23-8B"]),
    "example-org/luna-codellama-merge": _card(
        "cc-by-sa-4.0", ["Tap-M/Luna-AI-Llama2-Uncensored", "codellama/CodeLlama-13b-Instruct-hf"]
    ),
    # Derivatives of a CC BY-NC-ND 4.0 model (issue 11 item 5): a fine-tune and a merge that keep its tag, a
    # quantization that keeps it, and a quantization relabelled MIT.
    "example-org/OpenDalleV1.1-ft": _card("cc-by-nc-nd-4.0", "dataautogpt3/OpenDalleV1.1", "finetune"),
    "example-org/opendalle-ssd-merge": _card("cc-by-nc-nd-4.0", ["dataautogpt3/OpenDalleV1.1", "segmind/SSD-1B"]),
    "example-org/OpenDalleV1.1-q8": _card("cc-by-nc-nd-4.0", "dataautogpt3/OpenDalleV1.1", "quantized"),
    "example-org/OpenDalleV1.1-q8-mit": _card("mit", "dataautogpt3/OpenDalleV1.1", "quantized"),
    # Relabelling under CC BY-NC 4.0 (issue 11, relabelling): a quantization (a copy) and a fine-tune (an
    # adaptation) of Cohere's Aya, both declared Apache-2.0.
    "example-org/aya-23-8B-GGUF": _card("apache-2.0", "CohereForAI/aya-23-8B", "quantized"),
    "example-org/aya-23-8B-support-ft": _card("apache-2.0", "CohereForAI/aya-23-8B", "finetune"),
    # A merge the texts do not decide (issue 11 item 9): Llama 3 + Llama 3.1, carrying both agreements or only one.
    "example-org/openbio-dolphin-merge": _card(
        ["llama3", "llama3.1"], ["aaditya/Llama3-OpenBioLLM-8B", "cognitivecomputations/dolphin-2.9.4-llama3.1-8b"]
    ),
    "example-org/openbio-dolphin-merge-31": _card(
        "llama3.1", ["aaditya/Llama3-OpenBioLLM-8B", "cognitivecomputations/dolphin-2.9.4-llama3.1-8b"]
    ),
    # A fine-tune of Falcon 180B that declares the Falcon 180B TII License (the recorded base's card shows only
    # its license gate, no license field).
    "example-org/falcon-180B-chat-support": _card("other", "tiiuae/falcon-180B", "finetune",
                                                  license_name="falcon-180b-tii-license-1.0"),
    # A Hunyuan-DiT release under the Tencent Hunyuan Community License (100M MAU on its release date, Section 4).
    "example-org/HunyuanDiT-support": _card("other", license_name="tencent-hunyuan-community",
                                            license_link="https://github.com/Tencent/HunyuanDiT/blob/main/LICENSE.txt"),
}


def synthetic_bodies() -> dict[str, dict[str, Any]]:
    bodies = {rid: api_body(rid, card) for rid, card in SYNTHETIC_CARDS.items()}
    bodies["example-org/visible-gated-base"]["gated"] = "manual"
    mixed = bodies["example-org/mixed-evidence"]
    mixed["tags"] = [*sorted(t for t in mixed["tags"] if not t.startswith("base_model:finetune:")), "base_model:adapter:example-org/chat-sft"]
    return bodies
